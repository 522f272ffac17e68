// Live view of one listr2 run, read from a TaskStore that InkStoreRenderer feeds.
import { useSyncExternalStore } from 'react';
import { Box, Text } from 'ink';
import Spinner from 'ink-spinner';
import { formatDuration } from './format.js';
import type { TaskNode, TaskNodeState, TaskStore } from './task-store.js';

export interface TaskTreeProps {
  store: TaskStore;
  /**
   * Spinners for running tasks (default true). The wizard turns them off once the run settled, so
   * a task listr2 left "running" (an aborted sibling) cannot keep a timer alive while idle.
   */
  animate?: boolean;
}

const LOOK: Record<Exclude<TaskNodeState, 'running'>, { symbol: string; color?: string; dim?: boolean }> = {
  pending: { symbol: '◻', dim: true },
  completed: { symbol: '✔', color: 'green' },
  failed: { symbol: '✖', color: 'red' },
  skipped: { symbol: '↓', color: 'yellow' },
  retry: { symbol: '↻', color: 'yellow' },
  rollback: { symbol: '↺', color: 'yellow' },
};

export function TaskTree({ store, animate = true }: TaskTreeProps) {
  const tasks = useSyncExternalStore(store.subscribe, store.getSnapshot);
  return <TaskTreeView tasks={tasks} animate={animate} />;
}

/** The same tree from plain data, for callers that hold a snapshot rather than a store. */
export function TaskTreeView({ tasks, animate = true }: { tasks: readonly TaskNode[]; animate?: boolean }) {
  if (tasks.length === 0) return <Text dimColor>No tasks yet.</Text>;
  return (
    <Box flexDirection="column">
      {tasks.map((task) => (
        <TaskRow key={task.id} task={task} depth={0} animate={animate} />
      ))}
    </Box>
  );
}

function TaskRow({ task, depth, animate }: { task: TaskNode; depth: number; animate: boolean }) {
  // listr2 tasks without a title are grouping only: show their subtasks at the same depth.
  if (!task.title) {
    return (
      <>
        {task.children.map((child) => (
          <TaskRow key={child.id} task={child} depth={depth} animate={animate} />
        ))}
      </>
    );
  }
  const live = task.state === 'running' || task.state === 'retry' || task.state === 'rollback';
  const look = task.state === 'running' ? undefined : LOOK[task.state];
  return (
    <Box flexDirection="column" paddingLeft={depth * 2}>
      <Box>
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
        <Text dimColor={task.state === 'pending'}>{` ${task.title}`}</Text>
        {task.state === 'completed' && task.durationMs !== undefined ? (
          <Box flexShrink={0}>
            <Text dimColor>{` (${formatDuration(task.durationMs)})`}</Text>
          </Box>
        ) : null}
        {task.state === 'skipped' && task.message && task.message !== task.title ? <Text dimColor>{` [skipped: ${task.message}]`}</Text> : null}
        {task.state === 'skipped' && (!task.message || task.message === task.title) ? <Text dimColor> [skipped]</Text> : null}
      </Box>
      {live && task.output ? (
        <Box paddingLeft={2}>
          <Text dimColor wrap="truncate-end">
            {`› ${task.output}`}
          </Text>
        </Box>
      ) : null}
      {(task.state === 'failed' || task.state === 'retry' || task.state === 'rollback') && task.message ? (
        <Box paddingLeft={2}>
          <Text color={task.state === 'failed' ? 'red' : 'yellow'}>{`→ ${task.message}`}</Text>
        </Box>
      ) : null}
      {task.children.map((child) => (
        <TaskRow key={child.id} task={child} depth={depth + 1} animate={animate} />
      ))}
    </Box>
  );
}
