// Shared test plumbing for the Ink screens: waiting for renders, reading frames, fake terminals.
import { EventEmitter } from 'node:events';
import { STEPS, type StepId } from '../../src/run/steps.js';

/** The wizard has a runner for every step; the steps a test does not care about get `make(id)`. */
export function everyStep<R>(given: Partial<Record<StepId, R>>, make: (id: StepId) => R): Record<StepId, R> {
  return Object.fromEntries(STEPS.map((s) => [s.id, given[s.id] ?? make(s.id)])) as Record<StepId, R>;
}

/** One turn of the event loop: Ink flushes a pending Esc on setImmediate, React renders after. */
export async function tick(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * Ticks until `check` passes (or throws its last failure after `timeoutMs`), then two more ticks:
 * Ink renders on a LegacyRoot, where React runs passive effects (and so registers a newly mounted
 * component's useInput listener) on a later turn than the commit that drew it. Without these,
 * a key written right after a prompt appears reaches nobody.
 */
export async function waitFor(check: () => void, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      check();
      await tick();
      await tick();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await tick();
    }
  }
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001B\[[0-9;?]*[ -/]*[@-~]|\u001B\][^\u0007]*\u0007/g;

/** The frame without colours, so assertions read like the screen. */
export function plain(frame: string | undefined): string {
  return (frame ?? '').replace(ANSI, '');
}

export const ENTER = '\r';
export const ESC = '\u001B';
export const CTRL_C = '\u0003';
export const BACKSPACE = '\u007F';

/** A terminal stdin for renderWizard/prompt tests (the shape ink-testing-library uses). */
export class FakeStdin extends EventEmitter {
  isTTY: boolean;
  private data: string | null = null;
  constructor(isTTY = true) {
    super();
    this.isTTY = isTTY;
  }
  write(data: string): void {
    this.data = data;
    this.emit('readable');
    this.emit('data', data);
  }
  read(): string | null {
    const { data } = this;
    this.data = null;
    return data;
  }
  setEncoding(): void {}
  setRawMode(): void {}
  resume(): void {}
  pause(): void {}
  ref(): void {}
  unref(): void {}
}

export class FakeStdout extends EventEmitter {
  readonly columns = 120;
  readonly rows = 40;
  readonly chunks: string[] = [];
  write(chunk: string): boolean {
    this.chunks.push(chunk);
    return true;
  }
  /** Everything written so far, colours stripped. */
  text(): string {
    return plain(this.chunks.join(''));
  }
}

export const asStdin = (s: FakeStdin) => s as unknown as NodeJS.ReadStream;
export const asStdout = (s: FakeStdout) => s as unknown as NodeJS.WriteStream;
