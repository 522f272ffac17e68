// An ordinary y/n question. Dangerous ones use DangerousConfirmPrompt, which makes the user type a name.
import { useRef, useState } from 'react';
import { Box, Text, useInput } from 'ink';

export interface ConfirmPromptProps {
  message: string;
  /** What Enter answers. */
  defaultValue?: boolean;
  onAnswer: (value: boolean) => void;
  /** Esc or Ctrl-C. */
  onCancel?: () => void;
}

export function ConfirmPrompt({ message, defaultValue = false, onAnswer, onCancel }: ConfirmPromptProps) {
  const [answer, setAnswer] = useState<boolean | 'cancelled' | undefined>(undefined);
  // A ref, not the state: two keys in one chunk (a paste, a fast typist) must not answer twice.
  const settled = useRef(false);

  useInput((input, key) => {
    if (settled.current) return;
    const settle = (value: boolean | 'cancelled') => {
      settled.current = true;
      setAnswer(value);
      if (value === 'cancelled') onCancel?.();
      else onAnswer(value);
    };
    if (key.escape || (key.ctrl && input === 'c')) settle('cancelled');
    else if (key.return) settle(defaultValue);
    else if (input === 'y' || input === 'Y') settle(true);
    else if (input === 'n' || input === 'N') settle(false);
  });

  return (
    <Box>
      <Text color="cyan">? </Text>
      <Text bold>{message}</Text>
      {answer === undefined ? (
        <Text dimColor>{defaultValue ? ' (Y/n) ' : ' (y/N) '}</Text>
      ) : (
        <Text color={answer === true ? 'green' : answer === false ? 'yellow' : 'gray'}>
          {answer === 'cancelled' ? ' · cancelled' : answer ? ' · Yes' : ' · No'}
        </Text>
      )}
    </Box>
  );
}
