import { Listr, type ListrTask } from 'listr2';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InkStoreRenderer, lastLine, TaskStore, type TaskNode } from '../../screens/task-store.js';
import { tick } from './helpers.js';

const byTitle = (nodes: readonly TaskNode[], title: string): TaskNode => {
  const found = nodes.find((n) => n.title === title);
  if (!found) throw new Error(`no task "${title}" in ${JSON.stringify(nodes.map((n) => n.title))}`);
  return found;
};

function run(tasks: ListrTask[], store: TaskStore, options: { exitOnError?: boolean } = {}) {
  return new Listr(tasks, {
    renderer: InkStoreRenderer,
    rendererOptions: { store },
    registerSignalListeners: false,
    exitOnError: options.exitOnError ?? true,
  }).run();
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('TaskStore', () => {
  it('returns the same snapshot until something changes', () => {
    const store = new TaskStore();
    store.addRoots([{ id: 'a', title: 'A', state: 'pending' }]);
    const first = store.getSnapshot();
    expect(store.getSnapshot()).toBe(first);
    store.update('a', { state: 'running' });
    expect(store.getSnapshot()).not.toBe(first);
    expect(store.getSnapshot()[0]?.state).toBe('running');
  });

  it('notifies subscribers once per burst of changes', async () => {
    const store = new TaskStore();
    const listener = vi.fn();
    store.subscribe(listener);
    store.addRoots([{ id: 'a', title: 'A', state: 'pending' }]);
    store.update('a', { state: 'running' });
    store.update('a', { output: 'hello' });
    expect(listener).not.toHaveBeenCalled();
    await tick();
    expect(listener).toHaveBeenCalledTimes(1);
  });

  it('stops notifying after unsubscribe', async () => {
    const store = new TaskStore();
    const listener = vi.fn();
    const unsubscribe = store.subscribe(listener);
    unsubscribe();
    store.addRoots([{ id: 'a', title: 'A', state: 'pending' }]);
    await tick();
    expect(listener).not.toHaveBeenCalled();
  });
});

describe('lastLine', () => {
  it('keeps the last non-blank line and the newest frame of a \\r progress line', () => {
    expect(lastLine('one\ntwo\n\n')).toBe('two');
    expect(lastLine('copy 10%\rcopy 55%\rcopy 90%')).toBe('copy 90%');
    expect(lastLine('  \n')).toBeUndefined();
  });
});

describe('InkStoreRenderer fed by a real listr2 run', () => {
  it('records a completed task with its last output line and duration', async () => {
    const store = new TaskStore();
    await run(
      [
        {
          title: 'Pull images',
          task: async (_ctx, task) => {
            task.output = 'pulling postgres';
            task.output = 'pulled redis\n';
          },
        },
      ],
      store,
    );
    const node = byTitle(store.getSnapshot(), 'Pull images');
    expect(node.state).toBe('completed');
    expect(node.output).toBe('pulled redis');
    expect(node.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('records a failed task with its error message and leaves later tasks pending', async () => {
    const store = new TaskStore();
    await expect(
      run(
        [
          { title: 'Start stack', task: () => Promise.reject(new Error('port 5434 is in use')) },
          { title: 'Check health', task: () => undefined },
        ],
        store,
      ),
    ).rejects.toThrow('port 5434 is in use');
    const tasks = store.getSnapshot();
    expect(byTitle(tasks, 'Start stack')).toMatchObject({ state: 'failed', message: 'port 5434 is in use' });
    expect(byTitle(tasks, 'Check health').state).toBe('pending');
  });

  it('records skipped tasks with their skip message, from skip() and from task.skip()', async () => {
    const store = new TaskStore();
    await run(
      [
        { title: 'Monitoring', skip: () => 'not requested (--monitoring)', task: () => undefined },
        { title: 'TLS certificate', task: (_ctx, task) => task.skip('certificate still valid') },
      ],
      store,
    );
    const tasks = store.getSnapshot();
    expect(byTitle(tasks, 'Monitoring')).toMatchObject({ state: 'skipped', message: 'not requested (--monitoring)' });
    expect(byTitle(tasks, 'TLS certificate')).toMatchObject({ state: 'skipped', message: 'certificate still valid' });
  });

  it('nests subtasks under their parent and follows their states', async () => {
    const store = new TaskStore();
    await expect(
      run(
        [
          {
            title: 'Preflight',
            task: (_ctx, task) =>
              task.newListr(
                [
                  { title: 'Docker', task: () => undefined },
                  { title: 'Disk', skip: true, task: () => undefined },
                  { title: 'Ports', task: () => Promise.reject(new Error('port 8080 is taken')) },
                ],
                { exitOnError: true },
              ),
          },
        ],
        store,
      ),
    ).rejects.toThrow('port 8080 is taken');
    const preflight = byTitle(store.getSnapshot(), 'Preflight');
    expect(preflight.state).toBe('failed');
    expect(preflight.children.map((c) => [c.title, c.state])).toEqual([
      ['Docker', 'completed'],
      ['Disk', 'skipped'],
      ['Ports', 'failed'],
    ]);
    expect(byTitle(preflight.children, 'Ports').message).toBe('port 8080 is taken');
  });

  it('shows a task as retrying, then completed after a successful retry', async () => {
    const store = new TaskStore();
    const seen: string[] = [];
    store.subscribe(() => {
      const state = store.getSnapshot()[0]?.state;
      if (state && seen.at(-1) !== state) seen.push(state);
    });
    let attempts = 0;
    await run(
      [
        {
          title: 'Wait for postgres',
          retry: 1,
          task: async () => {
            attempts += 1;
            await tick();
            if (attempts === 1) throw new Error('connection refused');
          },
        },
      ],
      store,
    );
    await tick();
    expect(seen).toContain('retry');
    expect(store.getSnapshot()[0]?.state).toBe('completed');
  });

  it('hides tasks that are not enabled', async () => {
    const store = new TaskStore();
    await run(
      [
        { title: 'Always', task: () => undefined },
        { title: 'Admin tools', enabled: false, task: () => undefined },
      ],
      store,
    );
    expect(store.getSnapshot().map((t) => t.title)).toEqual(['Always']);
  });

  it('marks a rolled-back task failed and says it was rolled back', async () => {
    const store = new TaskStore();
    await expect(
      run(
        [
          {
            title: 'Load data',
            task: () => Promise.reject(new Error('FK violation')),
            rollback: () => undefined,
          },
        ],
        store,
      ),
    ).rejects.toThrow('FK violation');
    expect(store.getSnapshot()[0]).toMatchObject({ state: 'failed', message: 'FK violation (rolled back)' });
  });

  it('writes nothing to stdout or stderr, even though stdout is not a TTY here', async () => {
    expect(process.stdout.isTTY).not.toBe(true);
    const out = vi.spyOn(process.stdout, 'write');
    const err = vi.spyOn(process.stderr, 'write');
    const store = new TaskStore();
    await run(
      [
        { title: 'Quiet', task: (_ctx, task) => void (task.output = 'some output') },
        { title: 'Skipped', skip: true, task: () => undefined },
      ],
      store,
    );
    expect(out).not.toHaveBeenCalled();
    expect(err).not.toHaveBeenCalled();
    expect(store.getSnapshot()).toHaveLength(2);
  });

  it('refuses to start without a store', () => {
    expect(() => new InkStoreRenderer([], undefined as never)).toThrow(/rendererOptions\.store/);
  });
});
