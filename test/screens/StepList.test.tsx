import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { StepList } from '../../screens/StepList.js';
import type { StepId, StepState } from '../../src/run/steps.js';
import { plain } from './helpers.js';

const states: Record<StepId, StepState> = {
  setup: 'done',
  data: 'failed',
  migrate: 'skipped',
  validate: 'pending',
  checklist: 'cancelled',
};

const lineOf = (frame: string, title: string) => frame.split('\n').find((l) => l.includes(title)) ?? '';

describe('StepList', () => {
  it('shows "Step N of 5" for the current step', () => {
    const { lastFrame, unmount } = render(<StepList states={states} current="data" />);
    const frame = plain(lastFrame());
    unmount();
    expect(frame).toContain('Step 2 of 5');
  });

  it('shows every state with a symbol and words', () => {
    const { lastFrame, unmount } = render(<StepList states={states} current="data" />);
    const frame = plain(lastFrame());
    unmount();
    expect(lineOf(frame, 'Staging stack')).toMatch(/✔ 1\. Staging stack\s+done/);
    expect(lineOf(frame, 'Production data subset')).toMatch(/✖ 2\. Production data subset\s+failed/);
    expect(lineOf(frame, 'Migration rehearsal')).toMatch(/↓ 3\. Migration rehearsal\s+skipped/);
    expect(lineOf(frame, 'Validation')).toMatch(/○ 4\. Validation\s+to do/);
    expect(lineOf(frame, 'Success checklist')).toMatch(/⊘ 5\. Success checklist\s+cancelled/);
  });

  it('points at the current step only', () => {
    const { lastFrame, unmount } = render(<StepList states={states} current="migrate" />);
    const frame = plain(lastFrame());
    unmount();
    const marked = frame.split('\n').filter((l) => l.startsWith('›'));
    expect(marked).toHaveLength(1);
    expect(marked[0]).toContain('Migration rehearsal');
  });
});
