import type { IConstruct } from 'constructs';

/**
 * Thrown when a construct is given invalid props. The message names the construct path and lists
 * every violation found, one per line, so a single synth shows everything to fix.
 */
export class ValidationError extends Error {
  /** The violations, without the heading. */
  public readonly violations: readonly string[];
  /** Path of the construct whose props were rejected. */
  public readonly constructPath: string;

  constructor(heading: string, violations: readonly string[], scope: IConstruct) {
    super(`${heading} at ${scope.node.path}:\n${violations.map((v) => `  - ${v}`).join('\n')}`);
    this.name = 'ValidationError';
    this.violations = violations;
    this.constructPath = scope.node.path;
  }
}
