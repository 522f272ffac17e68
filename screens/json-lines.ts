// `--json`: a listr2 renderer that prints one JSON object per task event on stdout (the command's
// result line follows them).
import { ListrTaskEventType, ListrTaskState, type ListrRenderer, type ListrTaskObject } from 'listr2';

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
