// Runs a step's task tree with the renderer picked once at start-up: listr2's default renderer on
// a TTY, its simple renderer (plain lines, stderr) without one or with --yes, JSON lines with --json.
// The Ink wizard passes its own renderer instead (listr2's default one never runs under Ink).
import {
  Listr,
  ListrLogger,
  ListrLogLevels,
  ListrTaskEventType,
  ListrTaskState,
  type ListrRenderer,
  type ListrTask,
  type ListrTaskObject,
} from 'listr2';

export type OutputMode = 'fancy' | 'plain' | 'json';

/** One JSON object per task event on stdout, for `--json`. */
export class JsonLinesRenderer implements ListrRenderer {
  static nonTTY = true;
  static rendererOptions: { write?: (line: string) => void } = {};
  static rendererTaskOptions: never;
  private readonly write: (line: string) => void;

  constructor(
    private readonly tasks: ListrTaskObject<any, any, any>[],
    options: { write?: (line: string) => void } = {},
  ) {
    this.write = options.write ?? ((line) => process.stdout.write(line + '\n'));
  }

  render(): void {
    this.follow(this.tasks, []);
  }

  end(): void {}

  private follow(tasks: ListrTaskObject<any, any, any>[], parents: string[]): void {
    for (const task of tasks) {
      const path = [...parents, task.id];
      const emit = (event: Record<string, unknown>) =>
        this.write(JSON.stringify({ type: 'task', id: task.id, parent: parents[parents.length - 1] ?? null, title: task.title, time: new Date().toISOString(), ...event }));
      task.on(ListrTaskEventType.SUBTASK, (subtasks) => this.follow(subtasks, path));
      task.on(ListrTaskEventType.STATE, (state) => {
        const event: Record<string, unknown> = { state: state.toLowerCase() };
        if (state === ListrTaskState.FAILED && task.message.error) event.error = task.message.error;
        if (state === ListrTaskState.SKIPPED && task.message.skip) event.skip = task.message.skip;
        emit(event);
      });
      task.on(ListrTaskEventType.OUTPUT, (output) => emit({ output: String(output).trim() }));
    }
  }
}

const stderrLogger = () => new ListrLogger({ useIcons: true, toStderr: Object.values(ListrLogLevels) as string[] });

export async function runTasks<Ctx extends object>(tasks: ListrTask<Ctx>[], ctx: Ctx, mode: OutputMode): Promise<Ctx> {
  const common = { ctx, exitOnError: true, registerSignalListeners: false, collectErrors: false as const };
  let list: Listr<Ctx, any, any>;
  if (mode === 'json') list = new Listr<Ctx, any, any>(tasks, { ...common, renderer: JsonLinesRenderer });
  else if (mode === 'plain') list = new Listr<Ctx, any, any>(tasks, { ...common, renderer: 'simple', rendererOptions: { logger: stderrLogger() } });
  else
    list = new Listr<Ctx, any, any>(tasks, {
      ...common,
      renderer: 'default',
      fallbackRenderer: 'simple',
      rendererOptions: { collapseSubtasks: false, showErrorMessage: true, logger: stderrLogger() },
      fallbackRendererOptions: { logger: stderrLogger() },
    });
  return list.run();
}

/** Runs one phase of a step and records its wall time in `ctx.timings[name]` (ms), however it ends. */
export async function timePhase<T>(ctx: { timings: Record<string, number> }, name: string, fn: () => Promise<T>): Promise<T> {
  const start = performance.now();
  try {
    return await fn();
  } finally {
    ctx.timings[name] = Math.round(performance.now() - start);
  }
}

/** Plain-mode progress lines for one-off messages (stderr). */
export const note = (line: string) => process.stderr.write(line + '\n');
