// The guided wizard: walks the steps in order, asks before each one, shows the running step's task
// tree next to live container stats, and reports how it ended. It never runs anything by itself:
// the step runners do, through listr2 and InkStoreRenderer.
import { useCallback, useEffect, useRef, useState } from 'react';
import { Box, Text, useInput } from 'ink';
import { CancelledError, SubprocessError, UserError } from '../src/errors.js';
import type { ContainerStat } from '../src/stack/container-stats.js';
import { STEPS } from '../src/run/steps.js';
import type { StepId, StepInfo, StepState } from '../src/run/steps.js';
import { ConfirmPrompt } from './ConfirmPrompt.js';
import { formatBytes, formatPercent } from './format.js';
import { DangerousConfirmPrompt } from './DangerousConfirmPrompt.js';
import { StatsPane, STATS_PANE_WIDTH } from './StatsPane.js';
import { StepList } from './StepList.js';
import { useTerminalSize, wrappedHeight } from './fit.js';
import type { StepEvidence, StepPlan, StepQuestion } from '../tasks/steps.js';
import { TaskTree } from './TaskTree.js';
import { InkStoreRenderer, TaskStore } from './task-store.js';
import type { InkListrOptions } from './task-store.js';

export interface WizardStepRunner {
  id: StepId;
  /**
   * Read-only: the step's preview and its own question, from the step contract (tasks/steps.ts),
   * so a step can only ever ask its own question. `progress` shows what a long wait is waiting for.
   * Without it, Enter runs the step at once.
   */
  plan?(signal: AbortSignal, progress: (line: string) => void): Promise<StepPlan>;
  /** Builds and runs the step's listr tasks with the given renderer options; resolves on success, rejects on failure. */
  run(listrRendererOptions: InkListrOptions, signal: AbortSignal): Promise<void>;
  /** After a failure or a cancel: what the step had already changed (`ran` false: it stopped before running). */
  stateAfterStop?(ran: boolean): Promise<string>;
}

export interface WizardOutcome {
  status: 'completed' | 'quit' | 'cancelled' | 'failed';
  states: Record<StepId, StepState>;
  error?: unknown;
  /** What had changed and what is still running, printed once with the ending. */
  note?: string;
}

export type SubscribeStats = (signal: AbortSignal, onUpdate: (stats: ContainerStat[]) => void) => void;

export interface WizardProps {
  runners: Record<StepId, WizardStepRunner>;
  /** Feeds the stats pane until the signal aborts (the wizard unmounting). */
  subscribeStats?: SubscribeStats;
  /** Shared with every task: Ctrl-C aborts it, and so may the CLI's SIGINT/SIGTERM handlers. */
  abortController: AbortController;
  /** Called once, after the final frame is on screen. */
  onExit: (outcome: WizardOutcome) => void;
  steps?: readonly StepInfo[];
  /** Minimum time between two stats-pane renders; the default keeps an idle wizard near 0 % CPU. */
  statsIntervalMs?: number;
  /** Each step's evidence (reports, live stack): done steps show why, and the wizard opens on the first one not done. */
  evidence?: Partial<Record<StepId, StepEvidence>>;
  /** What is still running (the stack, the demo production), read when the wizard is cancelled. */
  stillRunning?: () => Promise<string>;
}

type Phase = 'idle' | 'preparing' | 'confirming' | 'running' | 'cancelling' | 'failed' | 'ended';

interface Model {
  index: number;
  phase: Phase;
  states: Record<StepId, StepState>;
  /** Why a step is done (or not), from its evidence or this session. */
  notes: Partial<Record<StepId, string>>;
  error?: unknown;
  /** After a failure: what the step had already changed. */
  stopNote?: string;
  /** The question on screen. It carries the step that built it, and is shown for that step only. */
  asking?: StepPlan;
  /** While a plan is worked out: its latest progress line and when it started. */
  progress?: string;
  preparingSince?: number;
  /** The current or most recent run; its tree stays visible after the step finished. */
  run?: { stepId: StepId; store: TaskStore };
  outcome?: WizardOutcome;
}

const KEY_HINTS: Record<Exclude<Phase, 'ended'>, string> = {
  idle: 'Enter run step · ↑↓ other step · s skip · q quit · Ctrl-C cancel',
  preparing: 'Ctrl-C cancel',
  confirming: 'Esc back · Ctrl-C cancel',
  running: 'Ctrl-C cancel',
  cancelling: 'Cancelling…',
  failed: 'r retry · c continue · s skip · q quit · Ctrl-C cancel',
};

function initialModel(steps: readonly StepInfo[], evidence: WizardProps['evidence'] = {}): Model {
  const states = Object.fromEntries(steps.map((s) => [s.id, evidence[s.id]?.done ? 'done' : 'pending'])) as Record<StepId, StepState>;
  const notes = Object.fromEntries(steps.flatMap((s) => (evidence[s.id] ? [[s.id, evidence[s.id]!.why]] : []))) as Partial<Record<StepId, string>>;
  // Resume: the first step whose evidence is missing or stale (the last one when all are there).
  const first = steps.findIndex((s) => states[s.id] !== 'done');
  return { index: first >= 0 ? first : Math.max(0, steps.length - 1), phase: 'idle', states, notes };
}

export function Wizard({ runners, subscribeStats, abortController, onExit, steps = STEPS, statsIntervalMs = 1000, evidence, stillRunning }: WizardProps) {
  // The model lives in a ref and a counter forces renders: key handlers can run several times
  // before React re-renders (one stdin chunk can hold several keys), and must see the newest state.
  const model = useRef<Model>(initialModel(steps, evidence));
  const [, setVersion] = useState(0);
  const props = useRef({ runners, steps, abortController, stillRunning });
  props.current = { runners, steps, abortController, stillRunning };

  const commit = useCallback((patch: Partial<Model>) => {
    model.current = { ...model.current, ...patch };
    setVersion((v) => v + 1);
  }, []);

  const setStepState = (id: StepId, state: StepState): Record<StepId, StepState> => ({ ...model.current.states, [id]: state });

  const end = useCallback(
    (status: WizardOutcome['status'], error?: unknown, note?: string) => {
      if (model.current.phase === 'ended') return;
      const outcome: WizardOutcome = { status, states: { ...model.current.states } };
      if (error !== undefined) outcome.error = error;
      if (note) outcome.note = note;
      commit({ phase: 'ended', outcome });
    },
    [commit],
  );

  /** Ends as cancelled once the step says what it had changed and the engine what still runs. */
  const finishCancel = useCallback(
    (runner: WizardStepRunner | undefined, ran: boolean) => {
      if (model.current.phase === 'ended') return;
      commit({ phase: 'cancelling' });
      const ask = async (f: (() => Promise<string>) | undefined) => (f ? f().catch(() => undefined) : undefined);
      void (async () => {
        const changed = runner?.stateAfterStop ? await ask(() => runner.stateAfterStop!(ran)) : ran ? undefined : 'Nothing was running.';
        const running = await ask(props.current.stillRunning);
        end('cancelled', undefined, [changed, running].filter(Boolean).join(' '));
      })();
    },
    [commit, end],
  );

  const advance = useCallback(() => {
    const next = model.current.index + 1;
    if (next >= props.current.steps.length) {
      model.current = { ...model.current, index: props.current.steps.length };
      end(Object.values(model.current.states).includes('failed') ? 'failed' : 'completed');
      return;
    }
    commit({ index: next, phase: 'idle', error: undefined, stopNote: undefined, asking: undefined });
  }, [commit, end]);

  const currentStep = (): StepInfo | undefined => props.current.steps[model.current.index];

  const runCurrent = useCallback(() => {
    const step = currentStep();
    const runner = step && props.current.runners[step.id];
    if (!step || !runner) return;
    const { signal } = props.current.abortController;
    const store = new TaskStore();
    // The old evidence no longer describes this step once it runs again.
    commit({ phase: 'running', error: undefined, stopNote: undefined, asking: undefined, run: { stepId: step.id, store }, states: setStepState(step.id, 'running'), notes: { ...model.current.notes, [step.id]: undefined } });
    const settle = (error: unknown, ok: boolean) => {
      if (model.current.phase === 'ended') return;
      if (signal.aborted) {
        // Cancel was asked for while the step ran; it has now stopped, so say what it left and leave.
        commit({ states: setStepState(step.id, 'cancelled') });
        finishCancel(runner, true);
      } else if (ok) {
        commit({ states: setStepState(step.id, 'done'), notes: { ...model.current.notes, [step.id]: 'this session' } });
        advance();
      } else {
        commit({ states: setStepState(step.id, 'failed'), phase: 'failed', error, notes: { ...model.current.notes, [step.id]: undefined } });
        runner.stateAfterStop?.(true).then(
          (note) => {
            if (model.current.phase === 'failed' && currentStep()?.id === step.id) commit({ stopNote: note });
          },
          () => undefined,
        );
      }
    };
    // Promise.resolve().then: a runner that throws synchronously is a failed step, not a crash.
    Promise.resolve()
      .then(() => runner.run({ renderer: InkStoreRenderer, rendererOptions: { store } }, signal))
      .then(
        () => settle(undefined, true),
        (error: unknown) => settle(error, false),
      );
  }, [advance, commit, finishCancel]);

  const startCurrent = useCallback(() => {
    const step = currentStep();
    if (!step) return;
    const runner = props.current.runners[step.id];
    if (!runner.plan) return runCurrent();
    const { signal } = props.current.abortController;
    commit({ phase: 'preparing', asking: undefined, error: undefined, stopNote: undefined, progress: undefined, preparingSince: Date.now() });
    Promise.resolve()
      .then(() =>
        runner.plan!(signal, (line) => {
          if (model.current.phase === 'preparing') commit({ progress: line });
        }),
      )
      .then(
        (plan) => {
          if (model.current.phase === 'ended') return;
          if (signal.aborted) return finishCancel(runner, false);
          if (model.current.phase !== 'preparing') return;
          commit({ phase: 'confirming', asking: plan });
        },
        (error: unknown) => {
          if (model.current.phase === 'ended') return;
          if (signal.aborted) {
            commit({ states: setStepState(step.id, 'cancelled') });
            finishCancel(runner, false);
          } else commit({ phase: 'failed', error, states: setStepState(step.id, 'failed') });
        },
      );
  }, [advance, commit, finishCancel, runCurrent]);

  const skipCurrent = useCallback(() => {
    const step = currentStep();
    if (!step) return;
    commit({ states: setStepState(step.id, 'skipped') });
    advance();
  }, [advance, commit]);

  // Ctrl-C only aborts the shared controller; this listener decides what that means, so an abort
  // from elsewhere (SIGINT, SIGTERM) ends the wizard the same way.
  useEffect(() => {
    const { signal } = abortController;
    const onAbort = () => {
      const { phase } = model.current;
      // A running or preparing step reports its own end (settle / the plan's rejection).
      if (phase === 'running' || phase === 'preparing') commit({ phase: 'cancelling' });
      else if (phase !== 'cancelling' && phase !== 'ended') finishCancel(undefined, false);
    };
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort);
    return () => signal.removeEventListener('abort', onAbort);
  }, [abortController, commit, finishCancel]);

  const onKey = useCallback(
    (input: string, key: { return: boolean; ctrl: boolean; upArrow: boolean; downArrow: boolean }) => {
      const { phase } = model.current;
      if (phase === 'ended') return;
      if (key.ctrl && input === 'c') {
        props.current.abortController.abort(new CancelledError());
        return;
      }
      if (phase === 'idle') {
        if (key.return) startCurrent();
        else if (input === 's') skipCurrent();
        else if (input === 'q') end('quit');
        else if (key.upArrow || key.downArrow) {
          // Any step can be run again (or first): done ones say why they count as done.
          const index = Math.min(props.current.steps.length - 1, Math.max(0, model.current.index + (key.upArrow ? -1 : 1)));
          commit({ index });
        }
      } else if (phase === 'failed') {
        // A retry plans and asks again: what the step would replace may have changed since.
        if (input === 'r') startCurrent();
        else if (input === 'c') advance();
        else if (input === 's') skipCurrent();
        else if (input === 'q') end('failed', model.current.error);
      }
      // confirming: the prompt owns the keys; running/cancelling: only Ctrl-C counts.
    },
    [advance, commit, end, skipCurrent, startCurrent],
  );
  // Always active (toggling isActive flips raw mode off and on), so Ctrl-C works in every phase.
  useInput(onKey);

  const onConfirm = useCallback(
    (yes: boolean) => {
      if (model.current.phase !== 'confirming') return;
      if (yes) runCurrent();
      else skipCurrent();
    },
    [runCurrent, skipCurrent],
  );
  const onConfirmCancel = useCallback(() => {
    // Esc goes back to the step; Ctrl-C also reaches onKey, which cancels the wizard.
    if (model.current.phase === 'confirming') commit({ phase: 'idle', asking: undefined });
  }, [commit]);

  // A long read-only wait shows its elapsed time, so a silent minute never looks like a hang.
  const preparing = model.current.phase === 'preparing';
  useEffect(() => {
    if (!preparing) return;
    const timer = setInterval(() => setVersion((v) => v + 1), 1000);
    return () => clearInterval(timer);
  }, [preparing]);

  const { columns, rows } = useTerminalSize();

  const { outcome } = model.current;
  const reported = useRef(false);
  useEffect(() => {
    if (outcome && !reported.current) {
      reported.current = true;
      onExit(outcome);
    }
  });

  const m = model.current;
  const step = steps[m.index];
  const runner = step ? runners[step.id] : undefined;
  const runStep = m.run ? steps.find((s) => s.id === m.run?.stepId) : undefined;
  const sideBySide = columns >= STATS_PANE_WIDTH + 40;
  const layout = planLayout({ m, step, runner, steps, columns, rows, sideBySide });

  return (
    <Box flexDirection="column">
      <StepList states={m.states} current={step?.id} steps={steps} notes={m.notes} compact={layout.compactList} />
      <Box marginTop={1} flexDirection={sideBySide ? 'row' : 'column'}>
        <Box flexDirection="column" flexGrow={1} flexShrink={1} marginRight={sideBySide ? 2 : 0}>
          {step && m.phase !== 'ended' ? (
            <StepAction
              phase={m.phase}
              step={step}
              model={m}
              layout={layout}
              onConfirm={onConfirm}
              onConfirmCancel={onConfirmCancel}
            />
          ) : null}
          {m.run && runStep && layout.treeLines !== 0 ? (
            <Box flexDirection="column" marginTop={m.phase === 'ended' ? 0 : 1}>
              <Text bold>{`Tasks · ${runStep.title}`}</Text>
              {/* Spinners only while a step runs: an idle wizard must not keep timers alive. */}
              <TaskTree store={m.run.store} animate={m.phase === 'running' || m.phase === 'cancelling'} maxLines={layout.treeLines} />
            </Box>
          ) : null}
        </Box>
        {layout.statsLines !== 0 ? (
          <Box flexDirection="column" flexShrink={0} width={STATS_PANE_WIDTH} marginTop={sideBySide ? 0 : 1}>
            <LiveStatsPane subscribe={subscribeStats} intervalMs={statsIntervalMs} maxLines={layout.statsLines} />
          </Box>
        ) : null}
      </Box>
      <Box marginTop={1}>
        {m.phase === 'ended' && m.outcome ? (
          <Text bold>{endingText(m.outcome)}</Text>
        ) : (
          <Text dimColor wrap="truncate-end">{KEY_HINTS[m.phase as Exclude<Phase, 'ended'>]}</Text>
        )}
      </Box>
    </Box>
  );
}

const ENDINGS: Record<WizardOutcome['status'], string> = {
  completed: 'All steps finished.',
  quit: 'Quit. Run `rehearse` again to continue.',
  cancelled: 'Cancelled.',
  failed: 'Stopped after a failed step.',
};

const endingText = (o: WizardOutcome) => (o.note ? `${ENDINGS[o.status]} ${o.note}` : ENDINGS[o.status]);

/** Lines of each part of the screen; `undefined` means "as many as it needs" (terminal height unknown). */
interface Layout {
  /** Columns of the left column (the action and the tree). */
  width: number;
  compactList: boolean;
  /** Lines for the preview above the question (confirming). */
  previewLines: number | undefined;
  /** Lines for the error block (failed). */
  errorLines: number | undefined;
  /** 0 hides the tree. */
  treeLines: number | undefined;
  /** 0 hides the stats pane. */
  statsLines: number | undefined;
}

/**
 * Shares the terminal's height out so the frame never grows past it (Ink then scrolls the top
 * away): the keys line and the question first, then the step list (folded to one line when short),
 * then the preview, the error, the task tree and the stats pane, each clipped to what is left.
 */
function planLayout(a: { m: Model; step: StepInfo | undefined; runner: WizardStepRunner | undefined; steps: readonly StepInfo[]; columns: number; rows: number; sideBySide: boolean }): Layout {
  const { m, columns, sideBySide } = a;
  const width = sideBySide ? columns - STATS_PANE_WIDTH - 2 : columns;
  if (!a.rows) return { width: columns, compactList: false, previewLines: undefined, errorLines: undefined, treeLines: undefined, statsLines: undefined };
  const H = a.rows - 1;
  const keys = m.phase === 'ended' && m.outcome ? 1 + wrappedHeight(endingText(m.outcome), columns) : 2;
  const fullList = a.steps.length + 1;
  // The margin under the step list.
  const gap = 1;
  if (m.phase === 'confirming' && m.asking) {
    const question = questionHeight(m.asking.confirm, width);
    const preview = m.asking.preview ? m.asking.preview.replace(/\n+$/, '').split('\n').length : 0;
    const compactList = H - keys - gap - question - fullList < Math.min(preview, 8);
    const room = H - keys - gap - question - (compactList ? 1 : fullList);
    return { width, compactList, previewLines: Math.max(0, room), errorLines: 0, treeLines: 0, statsLines: sideBySide ? Math.max(0, H - keys - gap - (compactList ? 1 : fullList)) : 0 };
  }
  let action = 0;
  if (m.phase === 'failed') action = Math.min(errorHeight(m, a.step, width), Math.max(3, H - keys - gap - 1 - 4));
  else if (m.phase === 'preparing') action = 2;
  else if (m.phase === 'idle' && a.step) action = wrappedHeight(idleText(a.step, m), width);
  else if (m.phase !== 'ended') action = 1;
  const compactList = H - keys - gap - action - fullList < 8;
  let rest = H - keys - gap - action - (compactList ? 1 : fullList);
  let statsLines: number | undefined = 0;
  if (sideBySide) statsLines = Math.max(0, H - keys - gap - (compactList ? 1 : fullList));
  else {
    // Below the tree on a narrow terminal: the full table when there is room, else one line.
    statsLines = rest >= 20 ? 10 : rest >= 10 ? 2 : 0;
    rest -= statsLines ? statsLines + 1 : 0;
  }
  // "Tasks · <step>" and the margin above it (none once the wizard ended: the action is gone).
  const treeLines = Math.max(0, rest - (m.phase === 'ended' ? 1 : 2));
  return { width, compactList, previewLines: 0, errorLines: m.phase === 'failed' ? action : 0, treeLines, statsLines };
}

function questionHeight(q: StepQuestion, width: number): number {
  if (q.kind === 'yes-no') return wrappedHeight(`? ${q.message} (Y/n) `, width);
  const label = Math.max(0, ...q.rows.map(([l]) => l.length)) + 2;
  const rows = q.rows.reduce((sum, [, detail]) => sum + wrappedHeight(detail, width - 2 - label), 0);
  // Title, margin, rows, margin, "Type … to confirm", the input line, and room for "does not match".
  return wrappedHeight(`⚠ ${q.action}`, width) + 1 + rows + 1 + wrappedHeight(`Type ${q.resourceName} to confirm, or press Esc to cancel:`, width) + 1 + 1;
}

const idleText = (step: StepInfo, m: Model) =>
  m.states[step.id] === 'done' ? `${step.title} is done${m.notes[step.id] ? ` (${m.notes[step.id]})` : ''} · Enter runs it again, ↓ moves on.` : `${step.title} · press Enter to run it.`;

function StepAction(props: {
  phase: Exclude<Phase, 'ended'>;
  step: StepInfo;
  model: Model;
  layout: Layout;
  onConfirm: (yes: boolean) => void;
  onConfirmCancel: () => void;
}) {
  const { phase, step, model: m, layout } = props;
  switch (phase) {
    case 'idle':
      return m.states[step.id] === 'done' ? (
        <Text>
          <Text bold>{step.title}</Text>
          {idleText(step, m).slice(step.title.length)}
        </Text>
      ) : (
        <Text>
          <Text bold>{step.title}</Text>
          {' · press Enter to run it.'}
        </Text>
      );
    case 'preparing': {
      const seconds = Math.round((Date.now() - (m.preparingSince ?? Date.now())) / 1000);
      return (
        <Box flexDirection="column">
          <Text wrap="truncate-end">
            {'Preparing '}
            <Text bold>{step.title}</Text>
            {` (read-only)… ${seconds} s`}
          </Text>
          <Text dimColor wrap="truncate-end">{`› ${m.progress ?? 'working out what the step would do'}`}</Text>
        </Box>
      );
    }
    case 'confirming': {
      // Only the question this step's own plan built: a question is never carried to another step.
      const asking = m.asking?.step === step.id ? m.asking : undefined;
      if (!asking) return null;
      const confirm = asking.confirm;
      const preview = asking.preview ? <Preview text={asking.preview} maxLines={layout.previewLines} /> : null;
      if (confirm.kind === 'dangerous') {
        return (
          <Box flexDirection="column">
            {preview}
            <DangerousConfirmPrompt title={confirm.action} rows={confirm.rows} resourceName={confirm.resourceName} onAnswer={props.onConfirm} onCancel={props.onConfirmCancel} />
          </Box>
        );
      }
      return (
        <Box flexDirection="column">
          {preview}
          <ConfirmPrompt message={confirm.message} defaultValue onAnswer={props.onConfirm} onCancel={props.onConfirmCancel} />
        </Box>
      );
    }
    case 'running':
      return (
        <Text>
          {'Running '}
          <Text bold>{step.title}</Text>
          {'…'}
        </Text>
      );
    case 'cancelling':
      return <Text color="yellow">Cancelling… waiting for the step to stop, then checking what it left.</Text>;
    case 'failed':
      return <StepError title={step.title} error={m.error} note={m.stopNote} maxLines={layout.errorLines} width={layout.width} />;
  }
}

/** The preview above a question, clipped to its lines with a note on where to read all of it. */
function Preview({ text, maxLines }: { text: string; maxLines: number | undefined }) {
  const lines = text.replace(/\n+$/, '').split('\n');
  if (maxLines !== undefined && maxLines < 2) return null;
  const shown = maxLines === undefined || lines.length <= maxLines ? lines : lines.slice(0, maxLines - 1);
  const hidden = lines.length - shown.length;
  return (
    <Box flexDirection="column">
      {shown.map((line, i) => (
        <Text key={i} wrap="truncate-end">
          {line || ' '}
        </Text>
      ))}
      {hidden ? <Text dimColor wrap="truncate-end">{`… ${hidden} more line(s) of the plan: \`rehearse data --dry-run\` prints it all`}</Text> : null}
    </Box>
  );
}

interface Line {
  text: string;
  color?: string;
  bold?: boolean;
  dim?: boolean;
}

/** A failed step as lines: what went wrong, the failing items, how to fix it, and what it had changed. */
function errorLines(title: string, error: unknown, note: string | undefined): { head: Line[]; details: Line[]; tail: Line[] } {
  const message = error instanceof Error ? error.message : String(error);
  const head: Line[] = [{ text: `✖ ${title} failed: ${message}`, color: 'red', bold: true }];
  const details: Line[] = [];
  if (error instanceof UserError && error.details) details.push(...error.details.split('\n').map((l) => ({ text: `  ${l}` })));
  if (error instanceof SubprocessError) {
    details.push({ text: `  $ ${error.command}`, dim: true });
    details.push(...error.stderr.trim().split('\n').slice(-5).filter(Boolean).map((l) => ({ text: `  ${l}`, dim: true })));
  }
  if (error instanceof UserError && error.causes.length) details.push({ text: '  Common causes:' }, ...error.causes.map((c) => ({ text: `    • ${c}` })));
  const tail: Line[] = [];
  if (error instanceof UserError && error.tryThis) tail.push({ text: `  Try: ${error.tryThis}`, color: 'cyan' });
  if (note) tail.push({ text: `  ${note}`, color: 'yellow' });
  return { head, details, tail };
}

function errorHeight(m: Model, step: StepInfo | undefined, width: number): number {
  const { head, details, tail } = errorLines(step?.title ?? '', m.error, m.stopNote);
  return [...head, ...details, ...tail].reduce((sum, l) => sum + wrappedHeight(l.text, width), 0);
}

function StepError({ title, error, note, maxLines, width }: { title: string; error: unknown; note: string | undefined; maxLines: number | undefined; width: number }) {
  const { head, details, tail } = errorLines(title, error, note);
  let shown = details;
  if (maxLines !== undefined) {
    // The message, the fix and the state note stay; the list in between gives way.
    const height = (ls: Line[]) => ls.reduce((sum, l) => sum + wrappedHeight(l.text, width), 0);
    const room = maxLines - height(head) - height(tail);
    while (shown.length && height(shown) > room - (shown.length < details.length ? 0 : 1)) shown = shown.slice(0, -1);
    if (shown.length < details.length) shown = [...shown, { text: `  … ${details.length - shown.length} more line(s)`, dim: true }];
  }
  return (
    <Box flexDirection="column">
      {[...head, ...shown, ...tail].map((l, i) => (
        <Text key={i} color={l.color} bold={l.bold} dimColor={l.dim}>
          {l.text}
        </Text>
      ))}
    </Box>
  );
}

/** The stats pane with its own subscription, so a stats update re-renders only this subtree. */
function LiveStatsPane({ subscribe, intervalMs, maxLines }: { subscribe: SubscribeStats | undefined; intervalMs: number; maxLines: number | undefined }) {
  const stats = useThrottledStats(subscribe, intervalMs);
  return (
    <>
      <StatsPane stats={stats.rows} maxLines={maxLines} />
      {stats.error ? <Text dimColor>{`stats unavailable: ${stats.error}`}</Text> : null}
    </>
  );
}

/**
 * Subscribes to the stats feed and renders at most once per interval, and only when the table as
 * printed changes: docker sends one frame per container per second, and every Ink render redraws
 * the whole screen, so re-rendering on each frame would keep an idle wizard busy.
 */
function useThrottledStats(subscribe: SubscribeStats | undefined, intervalMs: number): { rows: ContainerStat[]; error?: string } {
  const [state, setState] = useState<{ rows: ContainerStat[]; error?: string }>({ rows: [] });
  useEffect(() => {
    if (!subscribe) return;
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    let latest: ContainerStat[] = [];
    let shown: ContainerStat[] = [];
    let lastRender = 0;
    const flush = () => {
      timer = undefined;
      lastRender = Date.now();
      if (sameStats(shown, latest)) return;
      shown = latest;
      setState({ rows: latest });
    };
    const onUpdate = (rows: ContainerStat[]) => {
      if (controller.signal.aborted) return;
      latest = rows;
      if (timer) return;
      const wait = lastRender + intervalMs - Date.now();
      if (wait <= 0) flush();
      else timer = setTimeout(flush, wait);
    };
    const fail = (error: unknown) => {
      // The stats pane is a nicety; a broken feed must not take the wizard down.
      if (!controller.signal.aborted) setState((s) => ({ ...s, error: error instanceof Error ? error.message : String(error) }));
    };
    try {
      const result: unknown = subscribe(controller.signal, onUpdate);
      if (result instanceof Promise) result.catch(fail);
    } catch (error) {
      fail(error);
    }
    return () => {
      controller.abort();
      if (timer) clearTimeout(timer);
    };
  }, [subscribe, intervalMs]);
  return state;
}

function sameStats(a: readonly ContainerStat[], b: readonly ContainerStat[]): boolean {
  return a.length === b.length && a.every((row, i) => printed(row) === printed(b[i]));
}

/** A row as the pane prints it: byte counts that move below the printed precision change nothing. */
function printed(row: ContainerStat | undefined): string {
  if (!row) return '';
  return [
    row.name,
    row.service,
    row.state,
    row.health,
    formatPercent(row.cpuPercent),
    formatBytes(row.memoryBytes),
    formatBytes(row.memoryLimitBytes),
    formatBytes(row.netRxBytes),
    formatBytes(row.netTxBytes),
  ].join('\u0000');
}
