// Typed errors, rendered by one top-level handler in cli.ts. A user-fixable error says what is
// wrong and the exact command or flag that fixes it; anything else is treated as a bug.

export const ExitCode = { ok: 0, checkFailed: 1, usage: 2, cancelled: 130 } as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** Something the operator can fix: bad input, missing prerequisite, refused confirmation. */
export class UserError extends Error {
  readonly tryThis: string | undefined;
  readonly causes: string[];
  /** Lines shown under the one-line message (lists, snippets); task trees show only the message. */
  readonly details: string | undefined;
  readonly exitCode: ExitCodeValue;
  constructor(message: string, opts: { tryThis?: string; causes?: string[]; details?: string; exitCode?: ExitCodeValue } = {}) {
    super(message);
    this.name = 'UserError';
    this.tryThis = opts.tryThis;
    this.details = opts.details;
    this.causes = opts.causes ?? [];
    this.exitCode = opts.exitCode ?? ExitCode.usage;
  }
}

/** A check ran and did not pass (exit 1): the work itself was fine, the result is not. */
export class CheckFailedError extends UserError {
  constructor(message: string, opts: { tryThis?: string; causes?: string[]; details?: string } = {}) {
    super(message, { ...opts, exitCode: ExitCode.checkFailed });
    this.name = 'CheckFailedError';
  }
}

/** A subprocess failed: keeps its command line and the tail of its stderr. */
export class SubprocessError extends UserError {
  readonly command: string;
  readonly stderr: string;
  constructor(message: string, command: string, stderr: string, opts: { tryThis?: string; exitCode?: ExitCodeValue } = {}) {
    super(message, { ...opts, exitCode: opts.exitCode ?? ExitCode.checkFailed });
    this.name = 'SubprocessError';
    this.command = command;
    this.stderr = stderr;
  }
}

/** The operator cancelled (Ctrl-C, a declined prompt): quiet, exit 130. */
export class CancelledError extends Error {
  readonly stateNote: string | undefined;
  constructor(stateNote?: string) {
    super('Cancelled.');
    this.name = 'CancelledError';
    this.stateNote = stateNote;
  }
}

export function isAbortError(error: unknown): boolean {
  if (error instanceof CancelledError) return true;
  const e = error as { name?: string; code?: string; isCanceled?: boolean } | null;
  return !!e && (e.name === 'AbortError' || e.code === 'ABORT_ERR' || e.isCanceled === true);
}
