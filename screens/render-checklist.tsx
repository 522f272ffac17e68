// `rehearse checklist --watch` on a terminal: re-reads the evidence and re-probes the stack every
// few seconds until q or Ctrl-C.
import { render, useApp, useInput } from 'ink';
import { useEffect, useState } from 'react';
import type { Checklist } from '../src/evidence/checklist.js';
import { ChecklistView } from './ChecklistView.js';
import { useTerminalSize } from './fit.js';

function LiveChecklist({ compute, intervalMs, first }: { compute: () => Promise<Checklist>; intervalMs: number; first: Checklist }) {
  const [checklist, setChecklist] = useState(first);
  const { exit } = useApp();
  // One line spare: a frame as tall as the terminal makes Ink scroll the top away.
  const { rows } = useTerminalSize();
  useInput((input, key) => {
    if (input === 'q' || key.escape || (key.ctrl && input === 'c')) exit();
  });
  useEffect(() => {
    let alive = true;
    const timer = setInterval(() => {
      compute().then((c) => alive && setChecklist(c), () => undefined);
    }, intervalMs);
    return () => {
      alive = false;
      clearInterval(timer);
    };
  }, [compute, intervalMs]);
  return <ChecklistView checklist={checklist} maxLines={rows ? rows - 1 : undefined} note={`Refreshing every ${Math.round(intervalMs / 1000)} s from the reports and live probes · q to quit`} />;
}

export async function renderLiveChecklist(compute: () => Promise<Checklist>, intervalMs = 3000): Promise<Checklist> {
  let last = await compute();
  const app = render(<LiveChecklist compute={async () => (last = await compute())} intervalMs={intervalMs} first={last} />, { exitOnCtrlC: false });
  await app.waitUntilExit();
  return last;
}
