// The success checklist: each criterion with its status, evidence and (when not met) the fix.
import { Box, Text } from 'ink';
import type { Checklist, ItemStatus } from '../src/checklist.js';

const LOOK: Record<ItemStatus, { symbol: string; color: string }> = {
  met: { symbol: '✔', color: 'green' },
  'not met': { symbol: '✖', color: 'red' },
  unknown: { symbol: '?', color: 'yellow' },
  'n/a': { symbol: '–', color: 'gray' },
};

export function ChecklistView({ checklist, note }: { checklist: Checklist; note?: string }) {
  const groups = [...new Set(checklist.items.map((i) => i.group))];
  const met = checklist.items.filter((i) => i.status === 'met').length;
  return (
    <Box flexDirection="column">
      <Text bold>
        {checklist.ready ? <Text color="green">GO</Text> : <Text color="red">NOT READY</Text>}
        {` · ${met}/${checklist.items.length} criteria met · ${checklist.generatedAt}`}
      </Text>
      {groups.map((group) => (
        <Box key={group} flexDirection="column" marginTop={1}>
          <Text bold underline>
            {group}
          </Text>
          {checklist.items
            .filter((i) => i.group === group)
            .map((item) => (
              <Box key={item.criterion} flexDirection="column">
                <Text>
                  <Text color={LOOK[item.status].color}>{LOOK[item.status].symbol}</Text>
                  {` ${item.criterion} `}
                  <Text dimColor>{`[${item.status}]`}</Text>
                </Text>
                <Box paddingLeft={2}>
                  <Text dimColor wrap="truncate-end">
                    {item.evidence}
                  </Text>
                </Box>
                {item.status !== 'met' && item.status !== 'n/a' ? (
                  <Box paddingLeft={2}>
                    <Text color="cyan">{`→ ${item.fix}`}</Text>
                  </Box>
                ) : null}
              </Box>
            ))}
        </Box>
      ))}
      {note ? (
        <Box marginTop={1}>
          <Text dimColor>{note}</Text>
        </Box>
      ) : null}
    </Box>
  );
}
