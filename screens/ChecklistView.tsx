// The success checklist: each criterion with its status, evidence and (when not met) the fix.
// Given a line budget (a terminal's height) it folds: met criteria become one count per group and
// the rest one line each, so what still needs doing is what stays on screen.
import { Box, Text } from 'ink';
import type { Checklist, ChecklistItem, ItemStatus } from '../src/evidence/checklist.js';

const LOOK: Record<ItemStatus, { symbol: string; color: string }> = {
  met: { symbol: '✔', color: 'green' },
  'not met': { symbol: '✖', color: 'red' },
  unknown: { symbol: '?', color: 'yellow' },
  'n/a': { symbol: '–', color: 'gray' },
};

const needsWork = (i: ChecklistItem) => i.status !== 'met' && i.status !== 'n/a';

/** Lines the full view takes: the heading, each group's margin and title, each item's 2 or 3 lines, the note. */
function fullHeight(checklist: Checklist, groups: string[], note: string | undefined): number {
  return 1 + groups.length * 2 + checklist.items.reduce((sum, i) => sum + (needsWork(i) ? 3 : 2), 0) + (note ? 2 : 0);
}

export function ChecklistView({ checklist, note, maxLines }: { checklist: Checklist; note?: string; maxLines?: number | undefined }) {
  const groups = [...new Set(checklist.items.map((i) => i.group))];
  const met = checklist.items.filter((i) => i.status === 'met').length;
  const heading = (
    <Text bold wrap="truncate-end">
      {checklist.ready ? <Text color="green">GO</Text> : <Text color="red">NOT READY</Text>}
      {` · ${met}/${checklist.items.length} criteria met · ${checklist.generatedAt}`}
    </Text>
  );
  const footer = note ? (
    <Box marginTop={1}>
      <Text dimColor wrap="truncate-end">
        {note}
      </Text>
    </Box>
  ) : null;
  if (maxLines !== undefined && fullHeight(checklist, groups, note) > maxLines) {
    // Folded: a line per group ("Data 3/4 met"), then one line per criterion still to do, with its fix.
    const todo = checklist.items.filter(needsWork);
    const room = Math.max(0, maxLines - 1 - 1 - groups.length - (note ? 2 : 0));
    const shown = todo.length <= room ? todo : todo.slice(0, Math.max(0, room - 1));
    return (
      <Box flexDirection="column">
        {heading}
        <Box flexDirection="column" marginTop={1}>
          {groups.map((group) => {
            const items = checklist.items.filter((i) => i.group === group);
            const done = items.filter((i) => i.status === 'met' || i.status === 'n/a').length;
            return (
              <Text key={group} wrap="truncate-end">
                <Text bold>{group}</Text>
                {` ${done}/${items.length} met or n/a`}
              </Text>
            );
          })}
          {shown.map((item) => (
            <Text key={item.criterion} wrap="truncate-end">
              <Text color={LOOK[item.status].color}>{LOOK[item.status].symbol}</Text>
              {` ${item.criterion} `}
              <Text color="cyan">{`→ ${item.fix}`}</Text>
            </Text>
          ))}
          {shown.length < todo.length ? <Text dimColor>{`… ${todo.length - shown.length} more not met (\`rehearse checklist\` prints them all)`}</Text> : null}
        </Box>
        {footer}
      </Box>
    );
  }
  return (
    <Box flexDirection="column">
      {heading}
      {groups.map((group) => (
        <Box key={group} flexDirection="column" marginTop={1}>
          <Text bold underline>
            {group}
          </Text>
          {checklist.items
            .filter((i) => i.group === group)
            .map((item) => (
              <Box key={item.criterion} flexDirection="column">
                <Text wrap="truncate-end">
                  <Text color={LOOK[item.status].color}>{LOOK[item.status].symbol}</Text>
                  {` ${item.criterion} `}
                  <Text dimColor>{`[${item.status}]`}</Text>
                </Text>
                <Box paddingLeft={2}>
                  <Text dimColor wrap="truncate-end">
                    {item.evidence}
                  </Text>
                </Box>
                {needsWork(item) ? (
                  <Box paddingLeft={2}>
                    <Text color="cyan" wrap="truncate-end">{`→ ${item.fix}`}</Text>
                  </Box>
                ) : null}
              </Box>
            ))}
        </Box>
      ))}
      {footer}
    </Box>
  );
}
