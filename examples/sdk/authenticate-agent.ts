/**
 * Next step of the guide — authenticating an agent: the agent turns its secret into short-lived
 * access tokens; a relying service checks them locally (JWKS) or asks the control plane
 * (introspection). Usage: authenticate-agent [<agent secret> [<organization id>]] (default: creates
 * a demo agent; the organization id defaults to CERTUSORDO_ORGANIZATION_ID).
 */
import { AgentCredentials, CertusOrdoClient, verifyAccessToken } from '@certusordo/sdk';
import { runStandalone } from './run';

export async function main(client: CertusOrdoClient, secret?: string, organizationId = process.env.CERTUSORDO_ORGANIZATION_ID) {
  const agentSecret = secret ?? (await client.agents.create({ name: 'invoice-reader', scopes: ['invoices:read'] })).secret!;

  // In the agent: authenticate with the secret (tokens are cached and refreshed before expiry)
  const credentials = AgentCredentials.fromSecret(agentSecret, { baseUrl: client.baseUrl });
  const token = await credentials.getToken({ scope: 'invoices:read' });

  // In a relying service, option 1: ask the control plane (also sees suspensions and revocations
  // made since issue). Only tokens of the API key's own organization are ever active.
  const info = await client.introspect(token);
  console.log(`Active: ${info.active}`);

  // Option 2: verify locally with the issuer and signing keys of YOUR organization, so that other
  // organizations' tokens are refused. A service is configured with its organization id (printed by
  // `certusordo orgs create`); without one, this demo takes it from the introspection above.
  const claims = await verifyAccessToken(token, {
    baseUrl: client.baseUrl,
    organizationId: organizationId ?? info.organizationId!,
  });
  console.log(`Token of agent ${claims.sub}, scopes: ${claims.scopes.join(' ')}, expires ${claims.expiresAt.toISOString()}`);

  // A bounded session: a subset of the scopes, a lifetime and an operation budget
  const session = await credentials.openSession({ scopes: ['invoices:read'], ttlSeconds: 300, maxOperations: 10, purpose: 'monthly report' });
  console.log(`Session ${session.id} until ${session.expiresAt.toISOString()}`);

  return { agentId: credentials.agentId, claims, active: info.active, session };
}

if (require.main === module) runStandalone(main);
