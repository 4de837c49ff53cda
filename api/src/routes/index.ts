/**
 * Every area's route manifest, in mounting order, and the dependencies their handlers need: the
 * composition root (compose.ts) mounts them, and openapi.ts documents them.
 */
import { agentRoutes, AgentRouteDeps } from './agents';
import { apiKeyRoutes, ApiKeyRouteDeps } from './api-keys';
import { auditRoutes, AuditRouteDeps } from './audit';
import { healthRoutes, HealthRouteDeps } from './health';
import type { RouteManifest } from './manifest';
import { oauthRoutes, OAuthRouteDeps } from './oauth';
import { sessionRoutes, SessionRouteDeps } from './sessions';
import { signingKeyRoutes, SigningKeyRouteDeps } from './signing-keys';
import { wellKnownRoutes, WellKnownRouteDeps } from './well-known';

export type ControlPlaneRouteDeps = HealthRouteDeps & WellKnownRouteDeps & OAuthRouteDeps & AgentRouteDeps & ApiKeyRouteDeps & AuditRouteDeps & SessionRouteDeps & SigningKeyRouteDeps;

export const controlPlaneRoutes: readonly RouteManifest<ControlPlaneRouteDeps>[] = [
  healthRoutes,
  wellKnownRoutes,
  oauthRoutes,
  agentRoutes,
  apiKeyRoutes,
  auditRoutes,
  sessionRoutes,
  signingKeyRoutes,
];
