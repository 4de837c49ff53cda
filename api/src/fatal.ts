/**
 * Errors that stop a process before it serves (or before a command touches data): each names
 * what went wrong and what to do about it, because an operator reads it in a crash-loop log.
 */
export class FatalStartError extends Error {
  constructor(
    /** What is wrong. */
    readonly problem: string,
    /** What to do about it. */
    readonly fix: string,
  ) {
    super(`${problem}. ${fix}`);
    this.name = 'FatalStartError';
  }
}
