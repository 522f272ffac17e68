// The wizard's spine: every step with its state, the current one highlighted, and "Step N of M".
import { Box, Text } from 'ink';
import { STEPS } from '../src/steps.js';
import type { StepId, StepInfo, StepState } from '../src/steps.js';

export interface StepListProps {
  states: Record<StepId, StepState>;
  /** The step the wizard is on; undefined once it has walked past the last one. */
  current?: StepId | undefined;
  steps?: readonly StepInfo[];
}

// Colours alone do not survive NO_COLOR or a screen reader, so every state also has words.
export const STEP_STATE_LOOK: Record<StepState, { symbol: string; words: string; color?: string; dim?: boolean }> = {
  pending: { symbol: '○', words: 'to do', dim: true },
  running: { symbol: '●', words: 'running', color: 'cyan' },
  done: { symbol: '✔', words: 'done', color: 'green' },
  failed: { symbol: '✖', words: 'failed', color: 'red' },
  skipped: { symbol: '↓', words: 'skipped', color: 'yellow' },
  'not-built': { symbol: '–', words: 'not built yet', dim: true },
};

export function StepList({ states, current, steps = STEPS }: StepListProps) {
  const index = current === undefined ? -1 : steps.findIndex((s) => s.id === current);
  return (
    <Box flexDirection="column">
      <Text bold>{index >= 0 ? `Step ${index + 1} of ${steps.length}` : `${steps.length} steps`}</Text>
      {steps.map((step, i) => {
        const state = states[step.id];
        const look = STEP_STATE_LOOK[state];
        const isCurrent = step.id === current;
        return (
          <Box key={step.id}>
            <Text color="cyan">{isCurrent ? '› ' : '  '}</Text>
            <Text color={look.color} dimColor={look.dim && !isCurrent}>
              {look.symbol}
            </Text>
            <Text bold={isCurrent} color={isCurrent ? 'cyan' : undefined}>
              {` ${i + 1}. ${step.title}`}
            </Text>
            <Text color={look.color} dimColor={look.dim}>{`  ${look.words}`}</Text>
          </Box>
        );
      })}
    </Box>
  );
}
