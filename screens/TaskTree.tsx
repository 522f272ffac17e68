// Live view of one listr2 run, read from a TaskStore that InkStoreRenderer feeds.
import { useSyncExternalStore } from 'react';
import { Box, Text } from 'ink';
import Spinner from 'ink-spinner';
import { listWindow } from './fit.js';
import { formatDuration } from './format.js';
import type { TaskNode, TaskNodeState, TaskStore } from './task-store.js';

export interface TaskTreeProps {
  store: TaskStore;
  /**
   * Spinners for running tasks (default true). The wizard turns them off once the run settled, so
   * a task listr2 left "running" (an aborted sibling) cannot keep a timer alive while idle.
   */
  animate?: boolean;
  /** At most this many lines (the wizard's room for the tree); unset: the whole tree. */
  maxLines?: number | undefined;
}

const LOOK: Record<Exclude<TaskNodeState, 'running'>, { symbol: string; color?: string; dim?: boolean }> = {
  pending: { symbol: '◻', dim: true },
  completed: { symbol: '✔', color: 'green' },
  failed: { symbol: '✖', color: 'red' },
  skipped: { symbol: '↓', color: 'yellow' },
  retry: { symbol: '↻', color: 'yellow' },
  rollback: { symbol: '↺', color: 'yellow' },
};

export function TaskTree({ store, animate = true, maxLines }: TaskTreeProps) {
  const tasks = useSyncExternalStore(store.subscribe, store.getSnapshot);
  return <TaskTreeView tasks={tasks} animate={animate} maxLines={maxLines} />;
}

const failedBelow = (task: TaskNode): boolean => task.children.some((c) => c.state === 'failed' || failedBelow(c));

/** One line of the tree: a task, its live output, or its error/skip message. */
interface Row {
  key: string;
  depth: number;
  task: TaskNode;
  kind: 'task' | 'output' | 'message';
}

/** The tree as lines, in screen order (listr2 tasks without a title are grouping only: their subtasks keep the depth). */
function flatten(tasks: readonly TaskNode[], depth = 0, out: Row[] = []): Row[] {
  for (const task of tasks) {
    if (!task.title) {
      flatten(task.children, depth, out);
      continue;
    }
    out.push({ key: task.id, depth, task, kind: 'task' });
    const live = task.state === 'running' || task.state === 'retry' || task.state === 'rollback';
    if (live && task.output) out.push({ key: `${task.id}:out`, depth, task, kind: 'output' });
    if ((task.state === 'failed' || task.state === 'retry' || task.state === 'rollback') && task.message) out.push({ key: `${task.id}:msg`, depth, task, kind: 'message' });
    flatten(task.children, depth + 1, out);
  }
  return out;
}

/**
 * The same tree from plain data. With `maxLines`, every row is one truncated line and a long tree
 * shows only the slice around the running task (else the first failed one, else the end), with
 * "… N above" / "… N more" marks, so it never pushes the rest of the screen away.
 */
export function TaskTreeView({ tasks, animate = true, maxLines }: { tasks: readonly TaskNode[]; animate?: boolean; maxLines?: number | undefined }) {
  if (tasks.length === 0) return <Text dimColor>No tasks yet.</Text>;
  const rows = flatten(tasks);
  if (maxLines === undefined) {
    return (
      <Box flexDirection="column">
        {rows.map((row) => (
          <RowView key={row.key} row={row} animate={animate} />
        ))}
      </Box>
    );
  }
  const running = rows.findIndex((r) => r.kind === 'task' && r.task.state === 'running');
  const failed = rows.findIndex((r) => r.kind === 'task' && r.task.state === 'failed');
  const focus = running >= 0 ? running : failed >= 0 ? failed : rows.length - 1;
  const w = listWindow(rows.length, Math.max(1, maxLines), focus);
  return (
    <Box flexDirection="column">
      {w.above ? <Text dimColor>{`… ${w.above} above`}</Text> : null}
      {rows.slice(w.start, w.end).map((row) => (
        <RowView key={row.key} row={row} animate={animate} oneLine />
      ))}
      {w.below ? <Text dimColor>{`… ${w.below} more`}</Text> : null}
    </Box>
  );
}

function RowView({ row, animate, oneLine = false }: { row: Row; animate: boolean; oneLine?: boolean }) {
  const { task } = row;
  const wrap = oneLine ? 'truncate-end' : 'wrap';
  // A row is one line in a window: a multi-line title or message (an error with a stack) shows its first line.
  const line = (text: string | undefined) => (oneLine ? (text ?? '').split('\n')[0]!.trimEnd() : (text ?? ''));
  if (row.kind === 'output') {
    return (
      <Box paddingLeft={row.depth * 2 + 2}>
        <Text dimColor wrap="truncate-end">
          {`› ${task.output}`}
        </Text>
      </Box>
    );
  }
  if (row.kind === 'message') {
    return (
      <Box paddingLeft={row.depth * 2 + 2}>
        <Text color={task.state === 'failed' ? 'red' : 'yellow'} wrap={wrap}>{`→ ${line(task.message)}`}</Text>
      </Box>
    );
  }
  // listr2 marks a parent completed when subtasks that may fail (exitOnError: false) did: it shows ✖ all the same.
  const look = task.state === 'running' ? undefined : task.state === 'completed' && failedBelow(task) ? LOOK.failed : LOOK[task.state];
  const skipped = task.state === 'skipped' ? (task.message && task.message !== task.title ? ` [skipped: ${task.message}]` : ' [skipped]') : '';
  const duration = task.state === 'completed' && task.durationMs !== undefined ? ` (${formatDuration(task.durationMs)})` : '';
  return (
    <Box paddingLeft={row.depth * 2}>
      {/* flexShrink 0: a long, wrapping title must never squeeze the status symbol away. */}
      <Box flexShrink={0}>
        {/* Only running tasks get a spinner: each one is a timer. */}
        {look ? (
          <Text color={look.color} dimColor={look.dim}>
            {look.symbol}
          </Text>
        ) : animate ? (
          <Text color="cyan">
            <Spinner type="dots" />
          </Text>
        ) : (
          <Text color="cyan">●</Text>
        )}
      </Box>
      <Text dimColor={task.state === 'pending'} wrap={wrap}>
        {` ${line(task.title)}`}
        <Text dimColor>{duration}{line(skipped)}</Text>
      </Text>
    </Box>
  );
}
