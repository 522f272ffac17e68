// The wizard's spine: every step with its state, the current one highlighted, and "Step N of M".
// On a short terminal it folds into one line, so the question below it keeps its room.
import { Box, Text } from 'ink';
import { STEPS } from '../src/run/steps.js';
import type { StepId, StepInfo, StepState } from '../src/run/steps.js';

export interface StepListProps {
  states: Record<StepId, StepState>;
  /** The step the wizard is on; undefined once it has walked past the last one. */
  current?: StepId | undefined;
  steps?: readonly StepInfo[];
  /** Why a step counts as done (or not) from its evidence, e.g. "data summary 12 min ago". */
  notes?: Partial<Record<StepId, string>>;
  /** One line: "Step 2 of 5 · Production data subset · ✔ ● ○ ○ ○". */
  compact?: boolean;
}

// Colours alone do not survive NO_COLOR or a screen reader, so every state also has words.
export const STEP_STATE_LOOK: Record<StepState, { symbol: string; words: string; color?: string; dim?: boolean }> = {
  pending: { symbol: '○', words: 'to do', dim: true },
  running: { symbol: '●', words: 'running', color: 'cyan' },
  done: { symbol: '✔', words: 'done', color: 'green' },
  failed: { symbol: '✖', words: 'failed', color: 'red' },
  cancelled: { symbol: '⊘', words: 'cancelled', color: 'yellow' },
  skipped: { symbol: '↓', words: 'skipped', color: 'yellow' },
};

export function StepList({ states, current, steps = STEPS, notes = {}, compact = false }: StepListProps) {
  const index = current === undefined ? -1 : steps.findIndex((s) => s.id === current);
  const heading = index >= 0 ? `Step ${index + 1} of ${steps.length}` : `${steps.length} steps`;
  if (compact) {
    return (
      <Text wrap="truncate-end">
        <Text bold>{heading}</Text>
        {index >= 0 ? <Text bold color="cyan">{` · ${steps[index]!.title}`}</Text> : null}
        {' · '}
        {steps.map((step) => {
          const look = STEP_STATE_LOOK[states[step.id]];
          return (
            <Text key={step.id} color={look.color} dimColor={look.dim}>
              {`${look.symbol} `}
            </Text>
          );
        })}
      </Text>
    );
  }
  return (
    <Box flexDirection="column">
      <Text bold>{heading}</Text>
      {steps.map((step, i) => {
        const state = states[step.id];
        const look = STEP_STATE_LOOK[state];
        const isCurrent = step.id === current;
        const note = notes[step.id];
        return (
          <Box key={step.id}>
            <Text wrap="truncate-end">
              <Text color="cyan">{isCurrent ? '› ' : '  '}</Text>
              <Text color={look.color} dimColor={look.dim && !isCurrent}>
                {look.symbol}
              </Text>
              <Text bold={isCurrent} color={isCurrent ? 'cyan' : undefined}>
                {` ${i + 1}. ${step.title}`}
              </Text>
              <Text color={look.color} dimColor={look.dim}>{`  ${look.words}`}</Text>
              {note ? <Text dimColor>{` · ${note}`}</Text> : null}
            </Text>
          </Box>
        );
      })}
    </Box>
  );
}
