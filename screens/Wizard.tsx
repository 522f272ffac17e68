// The guided wizard: walks the steps in order, asks before each one, shows the running step's task
// tree next to live container stats, and reports how it ended. It never runs anything by itself:
// the step runners do, through listr2 and InkStoreRenderer.
import { useCallback, useEffect, useRef, useState } from 'react';
import { Box, Text, useInput, useStdout } from 'ink';
import { CancelledError, SubprocessError, UserError } from '../src/errors.js';
import type { ContainerStat } from '../src/container-stats.js';
import { STEPS } from '../src/steps.js';
import type { StepId, StepInfo, StepState } from '../src/steps.js';
import { ConfirmPrompt } from './ConfirmPrompt.js';
import { formatBytes, formatPercent } from './format.js';
import { DangerousConfirmPrompt } from './DangerousConfirmPrompt.js';
import { StatsPane, STATS_PANE_WIDTH } from './StatsPane.js';
import { StepList } from './StepList.js';
import { TaskTree } from './TaskTree.js';
import { InkStoreRenderer, TaskStore } from './task-store.js';
import type { InkListrOptions } from './task-store.js';

export type WizardConfirm =
  | { kind: 'yes-no'; message: string }
  | { kind: 'dangerous'; title: string; rows: Array<[string, string]>; resourceName: string };

/** What a runner works out before asking: a preview (e.g. a dry-run plan) and the question itself. */
export interface WizardPrepared {
  preview?: string;
  confirm?: WizardConfirm;
}

export interface WizardStepRunner {
  id: StepId;
  /** Ask before running (may be undefined). Answering no skips the step. */
  confirm?: WizardConfirm;
  /** Runs before the question (never writes): its preview is shown and its confirm replaces `confirm`. */
  prepare?(signal: AbortSignal): Promise<WizardPrepared>;
  /** Builds and runs the step's listr tasks with the given renderer options; resolves on success, rejects on failure. */
  run(listrRendererOptions: InkListrOptions, signal: AbortSignal): Promise<void>;
}

export interface WizardOutcome {
  status: 'completed' | 'quit' | 'cancelled' | 'failed';
  states: Record<StepId, StepState>;
  error?: unknown;
}

export type SubscribeStats = (signal: AbortSignal, onUpdate: (stats: ContainerStat[]) => void) => void;

export interface WizardProps {
  /** Steps without a runner are 'not-built'. */
  runners: Partial<Record<StepId, WizardStepRunner>>;
  /** Feeds the stats pane until the signal aborts (the wizard unmounting). */
  subscribeStats?: SubscribeStats;
  /** Shared with every task: Ctrl-C aborts it, and so may the CLI's SIGINT/SIGTERM handlers. */
  abortController: AbortController;
  /** Called once, after the final frame is on screen. */
  onExit: (outcome: WizardOutcome) => void;
  steps?: readonly StepInfo[];
  /** Minimum time between two stats-pane renders; the default keeps an idle wizard near 0 % CPU. */
  statsIntervalMs?: number;
}

type Phase = 'idle' | 'preparing' | 'confirming' | 'running' | 'cancelling' | 'failed' | 'ended';

interface Model {
  index: number;
  phase: Phase;
  states: Record<StepId, StepState>;
  error?: unknown;
  /** What the current step's prepare() found, until the step runs or is left. */
  prepared?: WizardPrepared;
  /** The current or most recent run; its tree stays visible after the step finished. */
  run?: { stepId: StepId; store: TaskStore };
  outcome?: WizardOutcome;
}

const KEY_HINTS: Record<Exclude<Phase, 'ended'>, string> = {
  idle: 'Enter run step · s skip · q quit · Ctrl-C cancel',
  preparing: 'Ctrl-C cancel',
  confirming: 'Esc back · Ctrl-C cancel',
  running: 'Ctrl-C cancel',
  cancelling: 'Cancelling…',
  failed: 'r retry · s skip · q quit · Ctrl-C cancel',
};

export function Wizard({ runners, subscribeStats, abortController, onExit, steps = STEPS, statsIntervalMs = 1000 }: WizardProps) {
  // The model lives in a ref and a counter forces renders: key handlers can run several times
  // before React re-renders (one stdin chunk can hold several keys), and must see the newest state.
  const model = useRef<Model>({
    index: 0,
    phase: 'idle',
    states: Object.fromEntries(steps.map((s) => [s.id, runners[s.id] ? 'pending' : 'not-built'])) as Record<StepId, StepState>,
  });
  const [, setVersion] = useState(0);
  const props = useRef({ runners, steps, abortController });
  props.current = { runners, steps, abortController };

  const commit = useCallback((patch: Partial<Model>) => {
    model.current = { ...model.current, ...patch };
    setVersion((v) => v + 1);
  }, []);

  const setStepState = (id: StepId, state: StepState): Record<StepId, StepState> => ({ ...model.current.states, [id]: state });

  const end = useCallback(
    (status: WizardOutcome['status'], error?: unknown) => {
      if (model.current.phase === 'ended') return;
      const outcome: WizardOutcome = { status, states: { ...model.current.states } };
      if (error !== undefined) outcome.error = error;
      commit({ phase: 'ended', outcome });
    },
    [commit],
  );

  const advance = useCallback(() => {
    const next = model.current.index + 1;
    if (next >= props.current.steps.length) {
      // Every step behind us is done, skipped or not built: a failed step can only be left by s or q.
      model.current = { ...model.current, index: props.current.steps.length };
      end('completed');
      return;
    }
    commit({ index: next, phase: 'idle', error: undefined });
  }, [commit, end]);

  const currentStep = (): StepInfo | undefined => props.current.steps[model.current.index];

  const runCurrent = useCallback(() => {
    const step = currentStep();
    const runner = step && props.current.runners[step.id];
    if (!step || !runner) return;
    const { signal } = props.current.abortController;
    const store = new TaskStore();
    commit({ phase: 'running', error: undefined, run: { stepId: step.id, store }, states: setStepState(step.id, 'running') });
    const settle = (error: unknown, ok: boolean) => {
      if (model.current.phase === 'ended') return;
      const states = setStepState(step.id, ok ? 'done' : 'failed');
      if (signal.aborted) {
        // Cancel was asked for while the step ran; it has now stopped, so we can leave.
        commit({ states });
        end('cancelled');
      } else if (ok) {
        commit({ states });
        advance();
      } else {
        commit({ states, phase: 'failed', error });
      }
    };
    // Promise.resolve().then: a runner that throws synchronously is a failed step, not a crash.
    Promise.resolve()
      .then(() => runner.run({ renderer: InkStoreRenderer, rendererOptions: { store } }, signal))
      .then(
        () => settle(undefined, true),
        (error: unknown) => settle(error, false),
      );
  }, [advance, commit, end]);

  const startCurrent = useCallback(() => {
    const step = currentStep();
    if (!step) return;
    const runner = props.current.runners[step.id];
    if (!runner) return advance();
    if (runner.prepare) {
      commit({ phase: 'preparing', prepared: undefined, error: undefined });
      Promise.resolve()
        .then(() => runner.prepare!(props.current.abortController.signal))
        .then(
          (prepared) => {
            if (model.current.phase !== 'preparing') return;
            if (prepared.confirm ?? runner.confirm) commit({ phase: 'confirming', prepared });
            else runCurrent();
          },
          (error: unknown) => {
            if (model.current.phase === 'ended') return;
            if (props.current.abortController.signal.aborted) end('cancelled');
            else commit({ phase: 'failed', error, states: setStepState(step.id, 'failed') });
          },
        );
    } else if (runner.confirm) commit({ phase: 'confirming' });
    else runCurrent();
  }, [advance, commit, end, runCurrent]);

  const skipCurrent = useCallback(() => {
    const step = currentStep();
    if (!step) return;
    if (props.current.runners[step.id]) commit({ states: setStepState(step.id, 'skipped') });
    advance();
  }, [advance, commit]);

  // Ctrl-C only aborts the shared controller; this listener decides what that means, so an abort
  // from elsewhere (SIGINT, SIGTERM) ends the wizard the same way.
  useEffect(() => {
    const { signal } = abortController;
    const onAbort = () => {
      const { phase } = model.current;
      if (phase === 'running') commit({ phase: 'cancelling' });
      else if (phase !== 'cancelling' && phase !== 'preparing') end('cancelled');
    };
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort);
    return () => signal.removeEventListener('abort', onAbort);
  }, [abortController, commit, end]);

  const onKey = useCallback(
    (input: string, key: { return: boolean; ctrl: boolean }) => {
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
      } else if (phase === 'failed') {
        if (input === 'r') runCurrent();
        else if (input === 's') skipCurrent();
        else if (input === 'q') end('failed', model.current.error);
      }
      // confirming: the prompt owns the keys; running/cancelling: only Ctrl-C counts.
    },
    [end, runCurrent, skipCurrent, startCurrent],
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
    if (model.current.phase === 'confirming') commit({ phase: 'idle' });
  }, [commit]);

  const columns = useColumns();

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

  return (
    <Box flexDirection="column">
      <StepList states={m.states} current={step?.id} steps={steps} />
      <Box marginTop={1} flexDirection={sideBySide ? 'row' : 'column'}>
        <Box flexDirection="column" flexGrow={1} flexShrink={1} marginRight={sideBySide ? 2 : 0}>
          {step && m.phase !== 'ended' ? (
            <StepAction
              phase={m.phase}
              step={step}
              runner={runner}
              prepared={m.prepared}
              error={m.error}
              onConfirm={onConfirm}
              onConfirmCancel={onConfirmCancel}
            />
          ) : null}
          {m.run && runStep ? (
            <Box flexDirection="column" marginTop={1}>
              <Text bold>{`Tasks · ${runStep.title}`}</Text>
              {/* Spinners only while a step runs: an idle wizard must not keep timers alive. */}
              <TaskTree store={m.run.store} animate={m.phase === 'running' || m.phase === 'cancelling'} />
            </Box>
          ) : null}
        </Box>
        <Box flexDirection="column" flexShrink={0} width={STATS_PANE_WIDTH} marginTop={sideBySide ? 0 : 1}>
          <LiveStatsPane subscribe={subscribeStats} intervalMs={statsIntervalMs} />
        </Box>
      </Box>
      <Box marginTop={1}>
        {m.phase === 'ended' && m.outcome ? (
          <Text bold>{ENDINGS[m.outcome.status]}</Text>
        ) : (
          <Text dimColor>{step && !runner && m.phase === 'idle' ? 'Enter/s next step · q quit · Ctrl-C cancel' : KEY_HINTS[m.phase as Exclude<Phase, 'ended'>]}</Text>
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

function StepAction(props: {
  phase: Exclude<Phase, 'ended'>;
  step: StepInfo;
  runner: WizardStepRunner | undefined;
  prepared: WizardPrepared | undefined;
  error: unknown;
  onConfirm: (yes: boolean) => void;
  onConfirmCancel: () => void;
}) {
  const { phase, step, runner, error } = props;
  if (!runner) {
    return (
      <Box flexDirection="column">
        <Text bold>{step.title}</Text>
        <Text dimColor>This step is not built yet. Press Enter or s to move on.</Text>
      </Box>
    );
  }
  switch (phase) {
    case 'idle':
      return (
        <Text>
          <Text bold>{step.title}</Text>
          {' · press Enter to run it.'}
        </Text>
      );
    case 'preparing':
      return (
        <Text>
          {'Preparing '}
          <Text bold>{step.title}</Text>
          {' (read-only)…'}
        </Text>
      );
    case 'confirming': {
      const confirm = props.prepared?.confirm ?? runner.confirm;
      const preview = props.prepared?.preview ? <Text>{props.prepared.preview}</Text> : null;
      if (confirm?.kind === 'dangerous') {
        return (
          <Box flexDirection="column">
            {preview}
            <DangerousConfirmPrompt
              title={confirm.title}
              rows={confirm.rows}
              resourceName={confirm.resourceName}
              onAnswer={props.onConfirm}
              onCancel={props.onConfirmCancel}
            />
          </Box>
        );
      }
      return (
        <Box flexDirection="column">
          {preview}
          <ConfirmPrompt message={confirm?.message ?? `Run ${step.title}?`} defaultValue onAnswer={props.onConfirm} onCancel={props.onConfirmCancel} />
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
      return <Text color="yellow">Cancelling… waiting for the step to stop and clean up.</Text>;
    case 'failed':
      return <StepError title={step.title} error={error} />;
  }
}

/** A failed step: what went wrong and, for errors that know it, how to fix it. */
function StepError({ title, error }: { title: string; error: unknown }) {
  const message = error instanceof Error ? error.message : String(error);
  const stderrTail = error instanceof SubprocessError ? error.stderr.trim().split('\n').slice(-5) : [];
  return (
    <Box flexDirection="column">
      <Text color="red" bold>{`✖ ${title} failed: ${message}`}</Text>
      {error instanceof SubprocessError ? <Text dimColor>{`  $ ${error.command}`}</Text> : null}
      {stderrTail.filter(Boolean).map((line, i) => (
        <Text key={i} dimColor>{`  ${line}`}</Text>
      ))}
      {error instanceof UserError && error.causes.length > 0 ? (
        <Box flexDirection="column">
          <Text>  Common causes:</Text>
          {error.causes.map((cause, i) => (
            <Text key={i}>{`    • ${cause}`}</Text>
          ))}
        </Box>
      ) : null}
      {error instanceof UserError && error.tryThis ? <Text color="cyan">{`  Try: ${error.tryThis}`}</Text> : null}
    </Box>
  );
}

/** The stats pane with its own subscription, so a stats update re-renders only this subtree. */
function LiveStatsPane({ subscribe, intervalMs }: { subscribe: SubscribeStats | undefined; intervalMs: number }) {
  const stats = useThrottledStats(subscribe, intervalMs);
  return (
    <>
      <StatsPane stats={stats.rows} />
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

/** Terminal width, refreshed on resize (Ink re-lays out on resize but does not re-render React). */
function useColumns(): number {
  const { stdout } = useStdout();
  const [columns, setColumns] = useState(stdout.columns || 80);
  useEffect(() => {
    const onResize = () => setColumns(stdout.columns || 80);
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout]);
  return columns;
}
