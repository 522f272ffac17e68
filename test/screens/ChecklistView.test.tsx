import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { ChecklistView } from '../../screens/ChecklistView.js';
import type { Checklist, ChecklistItem } from '../../src/evidence/checklist.js';
import { plain } from './helpers.js';

const item = (group: ChecklistItem['group'], n: number, status: ChecklistItem['status']): ChecklistItem => ({ group, criterion: `${group} criterion ${n}`, status, evidence: `report › check ${n} (3 min ago)`, fix: `rehearse fix-${group.toLowerCase()}-${n}`, required: true });
const checklist: Checklist = {
  generatedAt: '2026-12-02T04:00:00.000Z',
  ready: false,
  items: [
    ...[0, 1, 2, 3].map((n) => item('Infrastructure', n, 'met')),
    ...[0, 1, 2, 3].map((n) => item('Data', n, n === 3 ? 'not met' : 'met')),
    ...[0, 1, 2, 3, 4].map((n) => item('Migration', n, 'unknown')),
    ...[0, 1, 2, 3].map((n) => item('Environment', n, 'met')),
    ...[0, 1, 2, 3].map((n) => item('Targets', n, n < 2 ? 'met' : 'not met')),
  ],
};

describe('ChecklistView', () => {
  it('shows every criterion with evidence when there is room', () => {
    const { lastFrame, unmount } = render(<ChecklistView checklist={checklist} />);
    const frame = plain(lastFrame());
    unmount();
    expect(frame).toContain('Infrastructure criterion 0 [met]');
    expect(frame).toContain('report › check 0 (3 min ago)');
  });

  it('folds into 23 lines: a count per group, then what is not met with its fix', () => {
    const { lastFrame, unmount } = render(<ChecklistView checklist={checklist} maxLines={23} note="q to quit" />);
    const frame = plain(lastFrame());
    unmount();
    expect(frame.replace(/\n+$/, '').split('\n').length).toBeLessThanOrEqual(23);
    expect(frame).toContain('NOT READY · 13/21 criteria met');
    expect(frame).toContain('Data 3/4 met or n/a');
    expect(frame).toContain('✖ Data criterion 3 → rehearse fix-data-3');
    expect(frame).toContain('? Migration criterion 4 → rehearse fix-migration-4');
    expect(frame).not.toContain('Infrastructure criterion 0');
    expect(frame).toContain('q to quit');
  });
});
