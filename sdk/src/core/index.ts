/**
 * The client core shared by the SDK, the CLI (through the SDK) and the Terraform provider:
 * transport, retry policy, errors, the `path` tag and the wire types. Browser-safe.
 */
export * from './errors';
export * from './fetch';
export * from './path';
export * from './retry';
export * from './transport';
export type * from './wire';
