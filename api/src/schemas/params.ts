/** Path parameters of the routes. Ids are not checked for form: a malformed id matches nothing (404). */
import { z } from 'zod';

export const IdParams = z.object({ id: z.string().meta({ description: 'The resource id' }) });

export const AgentKeyParams = z.object({
  id: z.string().meta({ description: 'The agent id' }),
  kid: z.string().meta({ description: 'The key id' }),
});

export const OrgParams = z.object({ org_id: z.string().meta({ description: 'The organization id (its issuer is `<public url>/orgs/<org_id>`)' }) });

export const FederatedCredentialParams = z.object({
  id: z.string().meta({ description: 'The agent id' }),
  credential_id: z.string().meta({ description: 'The federated credential id' }),
});
