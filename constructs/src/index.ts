/**
 * Public surface of the CertusOrdo CDKTF constructs: curated L2 constructs, and the generated L1
 * bindings (`l1`, and the provider construct) for anything the L2s do not cover.
 */
export { CertusOrdoAgent, MANAGED_AGENT_STATUSES } from './agent';
export type { CertusOrdoAgentProps, FederatedCredentialProps, IAgent, ManagedAgentStatus, SecretOutputOptions } from './agent';
export { ServiceAgents, readOnlyScopes } from './service-agents';
export type { EnvironmentAccess, EnvironmentDefinition, ServiceAgentsProps, ServiceDefinition } from './service-agents';
export { AgentBestPractices, VAGUE_AGENT_NAMES, WARNING_IDS, isVagueAgentName } from './naming-aspect';
export type { AgentBestPracticesProps } from './naming-aspect';
export { ValidationError } from './errors';
export { CertusordoProvider } from '../.gen/providers/certusordo/provider';
export type { CertusordoProviderConfig } from '../.gen/providers/certusordo/provider';
export * as l1 from '../.gen/providers/certusordo';
