/**
 * The client core's wire types (sdk/src/core/wire.ts) are the server's schemas, checked by the
 * compiler: each line below is a type-level equality between a wire type and `z.output` (responses)
 * or `z.input` (request bodies) of the schema the control plane validates or documents with. A
 * field added, removed, renamed or retyped on one side only makes this file fail to compile, and
 * ts-jest fails the suite. The runtime part only keeps jest from reporting an empty suite.
 */
import type { z } from 'zod';
import type { AgentCreate, AgentDelegationView, AgentKeyCreate, AgentKeyView, AgentUpdate, AgentView, FederatedCredentialCreate, FederatedCredentialView } from '../../api/src/schemas/agents';
import type { AuditCheckpoint, AuditVerification } from '../../api/src/schemas/audit';
import type {
  ApiKeyCreated,
  ApiKeyPage,
  ApiKeyView,
  AuditEventPage,
  AuditEventView,
  Introspection,
  TokenResponse,
} from '../../api/src/schemas/responses';
import type { SessionCreate, SessionOperation, SessionPage, SessionView } from '../../api/src/sessions/schemas';
import type {
  WireAgent,
  WireAgentCreate,
  WireAgentDelegation,
  WireAgentKey,
  WireAgentKeyCreate,
  WireAgentUpdate,
  WireApiKey,
  WireAuditCheckpoint,
  WireAuditEvent,
  WireAuditVerification,
  WireCreatedApiKey,
  WireFederatedCredential,
  WireFederatedCredentialCreate,
  WireIntrospection,
  WireList,
  WirePage,
  WireSession,
  WireSessionCreate,
  WireSessionOperation,
  WireTokenResponse,
} from '../../sdk/src/core/wire';

/** Exact equality (not mere assignability): optional and readonly-ness must match too. */
type Equal<A, B> = (<T>() => T extends Flat<A> ? 1 : 2) extends <T>() => T extends Flat<B> ? 1 : 2 ? true : false;
/** Interfaces and intersections compared by their members, not their names. */
type Flat<T> = T extends (infer E)[] ? Flat<E>[] : T extends object ? { [K in keyof T]: Flat<T[K]> } : T;
/** Compiles only for `true`: `expectEqual<Equal<A, B>>()` fails `tsc` when A and B differ. */
function expectEqual<T extends true>(): T | undefined {
  return undefined;
}

// Responses: exactly what the server sends.
expectEqual<Equal<WireAgent, z.output<typeof AgentView>>>();
expectEqual<Equal<WireAgentKey, z.output<typeof AgentKeyView>>>();
expectEqual<Equal<WireAgentDelegation, z.output<typeof AgentDelegationView>>>();
expectEqual<Equal<WireFederatedCredential, z.output<typeof FederatedCredentialView>>>();
expectEqual<Equal<WireApiKey, z.output<typeof ApiKeyView>>>();
expectEqual<Equal<WireCreatedApiKey, z.output<typeof ApiKeyCreated>>>();
expectEqual<Equal<WireList<WireApiKey>, z.output<typeof ApiKeyPage>>>();
expectEqual<Equal<WireAuditEvent, z.output<typeof AuditEventView>>>();
expectEqual<Equal<WirePage<WireAuditEvent>, z.output<typeof AuditEventPage>>>();
expectEqual<Equal<WireAuditVerification, z.output<typeof AuditVerification>>>();
expectEqual<Equal<WireAuditCheckpoint, z.output<typeof AuditCheckpoint>>>();
expectEqual<Equal<WireTokenResponse, z.output<typeof TokenResponse>>>();
expectEqual<Equal<WireIntrospection, z.output<typeof Introspection>>>();
expectEqual<Equal<WireSession, z.output<typeof SessionView>>>();
expectEqual<Equal<WirePage<WireSession>, z.output<typeof SessionPage>>>();

// Request bodies: exactly what the server accepts (before its defaults apply).
expectEqual<Equal<WireAgentCreate, z.input<typeof AgentCreate>>>();
expectEqual<Equal<WireAgentUpdate, z.input<typeof AgentUpdate>>>();
expectEqual<Equal<WireAgentKeyCreate, z.input<typeof AgentKeyCreate>>>();
expectEqual<Equal<WireFederatedCredentialCreate, z.input<typeof FederatedCredentialCreate>>>();
expectEqual<Equal<WireSessionCreate, z.input<typeof SessionCreate>>>();
expectEqual<Equal<WireSessionOperation, z.input<typeof SessionOperation>>>();

// The helper itself: a difference must not compile (each line would fail without its directive).
// @ts-expect-error a missing field
expectEqual<Equal<{ a: string }, { a: string; b: string }>>();
// @ts-expect-error an optional field against a required one
expectEqual<Equal<{ a?: string }, { a: string }>>();
// @ts-expect-error a wider field type
expectEqual<Equal<{ a: string | null }, { a: string }>>();
// @ts-expect-error an extra optional field
expectEqual<Equal<{ a: string; b?: string }, { a: string }>>();

test('the wire types compile against the server schemas', () => {
  expect(expectEqual<true>()).toBeUndefined();
});
