// The bridge from listr2 to Ink: a listr2 renderer that writes nothing to the terminal and only
// feeds an external store, which React components read with useSyncExternalStore.
import { ListrTaskEventType, ListrTaskState } from 'listr2';
import type { ListrRenderer, ListrTaskMessage, ListrTaskObject } from 'listr2';

export type TaskNodeState = 'pending' | 'running' | 'completed' | 'failed' | 'skipped' | 'retry' | 'rollback';

export interface TaskNode {
  id: string;
  /** Empty for a listr task without a title; the tree then shows only its subtasks. */
  title: string;
  state: TaskNodeState;
  /** Last line of the task's output. */
  output?: string;
  /** Error or skip message (or the retry reason while retrying). */
  message?: string;
  durationMs?: number;
  children: TaskNode[];
}

export type TaskNodePatch = Partial<Omit<TaskNode, 'id' | 'children'>>;

interface Entry {
  node: Omit<TaskNode, 'children'>;
  childIds: string[];
  /** listr2 reports `enabled: false` tasks but never runs them; like its own renderers we hide them. */
  enabled: boolean;
}

/**
 * A tree of task nodes with subscribe/getSnapshot for React's useSyncExternalStore. Mutations mark
 * the tree dirty; the immutable snapshot is rebuilt on the next read, so a burst of listr events
 * costs one rebuild and (thanks to microtask-coalesced notifications) one React render.
 */
export class TaskStore {
  private readonly entries = new Map<string, Entry>();
  private rootIds: string[] = [];
  private readonly listeners = new Set<() => void>();
  private snapshot: readonly TaskNode[] = [];
  private dirty = false;
  private notifyQueued = false;

  // Arrow properties so `useSyncExternalStore(store.subscribe, store.getSnapshot)` works unbound.
  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  };

  readonly getSnapshot = (): readonly TaskNode[] => {
    if (this.dirty) {
      this.snapshot = this.build(this.rootIds);
      this.dirty = false;
    }
    return this.snapshot;
  };

  /** Appends top-level tasks (several listr runs may share one store). */
  addRoots(nodes: Array<Pick<TaskNode, 'id' | 'title' | 'state'>>): void {
    for (const node of nodes) this.register(node);
    this.rootIds = [...this.rootIds, ...nodes.map((n) => n.id)];
    this.changed();
  }

  /** Replaces a task's children: a retried task gets a fresh list of subtasks from listr2. */
  setChildren(parentId: string, nodes: Array<Pick<TaskNode, 'id' | 'title' | 'state'>>): void {
    const parent = this.entries.get(parentId);
    if (!parent) return;
    for (const node of nodes) this.register(node);
    parent.childIds = nodes.map((n) => n.id);
    this.changed();
  }

  update(id: string, patch: TaskNodePatch): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    entry.node = { ...entry.node, ...patch };
    this.changed();
  }

  setEnabled(id: string, enabled: boolean): void {
    const entry = this.entries.get(id);
    if (!entry || entry.enabled === enabled) return;
    entry.enabled = enabled;
    this.changed();
  }

  /** A node of the current snapshot by id, for tests and for callers that want one task's figures. */
  find(id: string): TaskNode | undefined {
    const walk = (nodes: readonly TaskNode[]): TaskNode | undefined => {
      for (const node of nodes) {
        if (node.id === id) return node;
        const hit = walk(node.children);
        if (hit) return hit;
      }
      return undefined;
    };
    return walk(this.getSnapshot());
  }

  private register(node: Pick<TaskNode, 'id' | 'title' | 'state'>): void {
    this.entries.set(node.id, { node: { id: node.id, title: node.title, state: node.state }, childIds: [], enabled: true });
  }

  private build(ids: readonly string[]): TaskNode[] {
    const nodes: TaskNode[] = [];
    for (const id of ids) {
      const entry = this.entries.get(id);
      if (!entry || !entry.enabled) continue;
      nodes.push({ ...entry.node, children: this.build(entry.childIds) });
    }
    return nodes;
  }

  private changed(): void {
    this.dirty = true;
    if (this.notifyQueued) return;
    this.notifyQueued = true;
    // One notification per burst: a finishing task emits MESSAGE, STATE and CLOSED in one tick.
    queueMicrotask(() => {
      this.notifyQueued = false;
      for (const listener of [...this.listeners]) listener();
    });
  }
}

/** What the wizard hands to a step runner; spread it into `new Listr(tasks, { ...it, ctx })`. */
export interface InkListrOptions {
  renderer: typeof InkStoreRenderer;
  rendererOptions: { store: TaskStore };
}

// listr2 types its task objects loosely for custom renderers; this is the part we read.
type AnyTask = ListrTaskObject<any, typeof InkStoreRenderer, typeof InkStoreRenderer>;

export function nodeStateOf(state: ListrTaskState | string): TaskNodeState {
  switch (state) {
    case ListrTaskState.STARTED:
    case ListrTaskState.PROMPT:
    case ListrTaskState.PROMPT_COMPLETED:
      return 'running';
    case ListrTaskState.COMPLETED:
      return 'completed';
    case ListrTaskState.FAILED:
    case ListrTaskState.PROMPT_FAILED:
    case ListrTaskState.ROLLED_BACK:
      return 'failed';
    case ListrTaskState.SKIPPED:
      return 'skipped';
    case ListrTaskState.RETRY:
    case ListrTaskState.PAUSED:
      return 'retry';
    case ListrTaskState.ROLLING_BACK:
      return 'rollback';
    default:
      return 'pending';
  }
}

/** The last non-blank line of a task's output; `\r` progress redraws keep only their newest frame. */
export function lastLine(output: string): string | undefined {
  const lines = output.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const frames = (lines[i] ?? '').split('\r');
    const line = (frames[frames.length - 1] ?? '').trimEnd();
    if (line.trim()) return line;
  }
  return undefined;
}

/**
 * listr2 9 custom renderer that feeds a TaskStore and never writes to stdout or stderr.
 *
 * `nonTTY` is true on purpose: listr2 replaces a renderer whose `nonTTY` is false with its
 * fallback renderer ("simple", which prints lines) whenever `process.stdout.isTTY` is not true.
 * That would print over Ink (Ink on a TTY stdin while stdout is redirected, vitest workers) and
 * leave the store empty. This renderer draws nothing itself, so it works the same everywhere.
 */
export class InkStoreRenderer implements ListrRenderer {
  static nonTTY = true;
  declare static rendererOptions: { store: TaskStore };
  static rendererTaskOptions: Record<PropertyKey, never> = {};

  private readonly store: TaskStore;

  constructor(
    private readonly tasks: AnyTask[],
    options: { store: TaskStore },
  ) {
    if (!options?.store) throw new Error('InkStoreRenderer needs rendererOptions.store (a TaskStore).');
    this.store = options.store;
  }

  render(): void {
    this.store.addRoots(this.tasks.map(describe));
    this.follow(this.tasks);
  }

  // Listeners are deliberately left attached: with concurrent tasks listr2 calls end() on the first
  // failure while sibling tasks still finish, and their last events must still reach the store.
  // Each task drops its own listeners when it closes.
  end(): void {}

  private follow(tasks: AnyTask[]): void {
    for (const task of tasks) {
      const { id } = task;
      task.on(ListrTaskEventType.ENABLED, (enabled) => this.store.setEnabled(id, enabled !== false));
      task.on(ListrTaskEventType.TITLE, (title) => this.store.update(id, { title: title ?? '' }));
      task.on(ListrTaskEventType.OUTPUT, (output) => {
        const line = typeof output === 'string' ? lastLine(output) : undefined;
        if (line !== undefined) this.store.update(id, { output: line });
      });
      task.on(ListrTaskEventType.SUBTASK, (subtasks) => {
        const children = subtasks as AnyTask[];
        this.store.setChildren(id, children.map(describe));
        this.follow(children);
      });
      task.on(ListrTaskEventType.STATE, (state) => {
        const next = nodeStateOf(state);
        const patch: TaskNodePatch = { state: next };
        // listr2 clears the output silently before a retry; a fresh attempt starts with a clean line.
        if (next === 'retry') patch.output = undefined;
        if (next === 'running' && state === ListrTaskState.STARTED) patch.message = undefined;
        if (state === ListrTaskState.ROLLED_BACK) {
          const error = task.message?.error;
          patch.message = error ? `${error} (rolled back)` : 'Rolled back.';
        }
        this.store.update(id, patch);
      });
      task.on(ListrTaskEventType.MESSAGE, (message) => this.onMessage(id, message));
    }
  }

  private onMessage(id: string, message: ListrTaskMessage): void {
    if (message.error !== undefined) this.store.update(id, { message: message.error });
    else if (message.skip !== undefined) this.store.update(id, { message: message.skip });
    else if (message.retry) {
      const reason = message.retry.error?.message;
      this.store.update(id, { message: `Retry ${message.retry.count}${reason ? `: ${reason}` : ''}` });
    }
    if (typeof message.duration === 'number') this.store.update(id, { durationMs: message.duration });
  }
}

function describe(task: AnyTask): Pick<TaskNode, 'id' | 'title' | 'state'> {
  return { id: task.id, title: typeof task.title === 'string' ? task.title : '', state: nodeStateOf(task.state) };
}
