import { render } from 'ink-testing-library';
import { Listr, type ListrTask } from 'listr2';
import { describe, expect, it } from 'vitest';
import { TaskTree } from '../../screens/TaskTree.js';
import { InkStoreRenderer, TaskStore } from '../../screens/task-store.js';
import { plain, tick, waitFor } from './helpers.js';

const SPINNER_FRAMES = /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/;

function listr(tasks: ListrTask[], store: TaskStore) {
  return new Listr(tasks, { renderer: InkStoreRenderer, rendererOptions: { store }, registerSignalListeners: false, exitOnError: true });
}

/** A promise and the function that resolves it, to hold a task in "running". */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

const lineOf = (frame: string, text: string) => frame.split('\n').find((l) => l.includes(text)) ?? '';

describe('TaskTree', () => {
  it('says there is nothing yet for an empty store', () => {
    const { lastFrame, unmount } = render(<TaskTree store={new TaskStore()} />);
    const frame = plain(lastFrame());
    unmount();
    expect(frame).toContain('No tasks yet.');
  });

  it('shows a spinner and the dimmed last output line while a task runs', async () => {
    const store = new TaskStore();
    const hold = gate();
    const { lastFrame, unmount } = render(<TaskTree store={store} />);
    const running = listr(
      [
        {
          title: 'Dump schema',
          task: async (_ctx, task) => {
            task.output = 'pg_dump: reading tables\npg_dump: dumping users';
            await hold.opened;
          },
        },
        { title: 'Load schema', task: () => undefined },
      ],
      store,
    ).run();
    await waitFor(() => expect(plain(lastFrame())).toContain('pg_dump: dumping users'));
    const frame = plain(lastFrame());
    hold.open();
    await running;
    unmount();
    expect(lineOf(frame, 'Dump schema')).toMatch(SPINNER_FRAMES);
    expect(frame).toContain('› pg_dump: dumping users');
    expect(frame).not.toContain('pg_dump: reading tables');
    // Pending tasks get no spinner: only running ones.
    expect(lineOf(frame, 'Load schema')).toMatch(/^◻ Load schema/);
  });

  it('shows finished tasks with ✔ and duration, ✖ with the error, ↓ with the skip reason', async () => {
    const store = new TaskStore();
    const { lastFrame, unmount } = render(<TaskTree store={store} />);
    await listr(
      [
        {
          title: 'Preflight',
          task: (_ctx, task) =>
            task.newListr([
              { title: 'Docker engine', task: (_c, t) => void (t.output = 'Docker 27.1') },
              { title: 'Monitoring ports', skip: () => 'not requested', task: () => undefined },
            ]),
        },
        { title: 'Start stack', task: () => Promise.reject(new Error('port 5434 is already in use')) },
      ],
      store,
    )
      .run()
      .catch(() => undefined);
    await tick();
    const frame = plain(lastFrame());
    unmount();
    expect(lineOf(frame, 'Preflight')).toMatch(/^✔ Preflight \(\d+ms\)/);
    // Subtasks are indented under their parent.
    expect(lineOf(frame, 'Docker engine')).toMatch(/^ {2}✔ Docker engine \(\d+ms\)/);
    expect(lineOf(frame, 'Monitoring ports')).toMatch(/^ {2}↓ Monitoring ports \[skipped: not requested\]/);
    expect(lineOf(frame, 'Start stack')).toMatch(/^✖ Start stack/);
    expect(frame).toMatch(/Start stack\n {2}→ port 5434 is already in use/);
    // Output belongs to live tasks; a finished task does not keep its output line.
    expect(frame).not.toContain('Docker 27.1');
    expect(frame).not.toMatch(SPINNER_FRAMES);
  });

  it('shows a still-running task without a spinner when animation is off', async () => {
    const store = new TaskStore();
    store.addRoots([{ id: 'a', title: 'Interrupted task', state: 'running' }]);
    const { lastFrame, unmount } = render(<TaskTree store={store} animate={false} />);
    await tick();
    const frame = plain(lastFrame());
    unmount();
    expect(lineOf(frame, 'Interrupted task')).toMatch(/^● Interrupted task/);
    expect(frame).not.toMatch(SPINNER_FRAMES);
  });
});
