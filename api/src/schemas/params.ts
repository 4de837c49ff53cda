/**
 * Path parameters of the routes. Ids are not checked for form: a malformed id matches nothing
 * (404). A UUID comes out in its canonical spelling (schemas/ids.ts).
 */
import { z } from 'zod';
import { RequestId } from './ids';

export const IdParams = z.object({ id: RequestId.meta({ description: 'The resource id' }) });

export const AgentKeyParams = z.object({
  id: RequestId.meta({ description: 'The agent id' }),
  kid: z.string().meta({ description: 'The key id' }),
});

/**
 * Not canonicalized: an organization's issuer has exactly one spelling (RFC 8414 §3.3: the metadata
 * names the issuer it was fetched from), so another spelling is no issuer (404), not the same one.
 */
export const OrgParams = z.object({ org_id: z.string().meta({ description: 'The organization id (its issuer is `<public url>/orgs/<org_id>`)' }) });

export const FederatedCredentialParams = z.object({
  id: RequestId.meta({ description: 'The agent id' }),
  credential_id: RequestId.meta({ description: 'The federated credential id' }),
});
