// Confirmation for destructive steps: shows what will be destroyed and makes the user type the
// resource's name, so a reflexive Enter or "y" can never drop data.
import { useRef, useState } from 'react';
import { Box, Text, useInput } from 'ink';

export interface DangerousConfirmPromptProps {
  title: string;
  /** What will be destroyed, as label/value pairs, e.g. ["database", "rehearse_staging"]. */
  rows: Array<[string, string]>;
  /** The exact text the user must type. */
  resourceName: string;
  /** Called with true once the name was typed; a wrong name never answers, it asks again. */
  onAnswer: (value: boolean) => void;
  /** Esc or Ctrl-C. */
  onCancel?: () => void;
}

export function DangerousConfirmPrompt({ title, rows, resourceName, onAnswer, onCancel }: DangerousConfirmPromptProps) {
  const [value, setValue] = useState('');
  const [wrong, setWrong] = useState(false);
  const [done, setDone] = useState<'confirmed' | 'cancelled' | undefined>(undefined);
  // Keystrokes can arrive faster than React re-renders; the ref is the source of truth.
  const typed = useRef('');
  const settled = useRef(false);

  useInput((input, key) => {
    if (settled.current) return;
    if (key.escape || (key.ctrl && input === 'c')) {
      settled.current = true;
      setDone('cancelled');
      onCancel?.();
      return;
    }
    if (key.return) {
      if (typed.current === resourceName) {
        settled.current = true;
        setDone('confirmed');
        onAnswer(true);
      } else {
        setWrong(true);
      }
      return;
    }
    if (key.backspace || key.delete) {
      typed.current = typed.current.slice(0, -1);
    } else if (!key.ctrl && !key.meta && input) {
      // Drop control characters a paste may carry (newlines, tabs).
      typed.current += input.replace(/[\u0000-\u001F\u007F]/g, '');
    } else {
      return;
    }
    setValue(typed.current);
  });

  const labelWidth = Math.max(0, ...rows.map(([label]) => label.length)) + 2;
  return (
    <Box flexDirection="column">
      <Text bold color="red">{`⚠ ${title}`}</Text>
      <Box flexDirection="column" paddingLeft={2} marginY={1}>
        {rows.map(([label, detail]) => (
          <Box key={label}>
            {/* flexShrink 0: a value that wraps must not narrow its label's column. */}
            <Box width={labelWidth} flexShrink={0}>
              <Text dimColor>{label}</Text>
            </Box>
            <Text>{detail}</Text>
          </Box>
        ))}
      </Box>
      <Text>
        {'Type '}
        <Text bold>{resourceName}</Text>
        {' to confirm, or press Esc to cancel:'}
      </Text>
      <Box>
        <Text color="cyan">{'> '}</Text>
        <Text>{value}</Text>
        {done === undefined ? <Text inverse> </Text> : <Text dimColor>{done === 'confirmed' ? ' · confirmed' : ' · cancelled'}</Text>}
      </Box>
      {wrong && done === undefined ? <Text color="red">{`✖ That does not match. Type ${resourceName} to confirm.`}</Text> : null}
    </Box>
  );
}
