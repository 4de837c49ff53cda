/** Hand-written sections appended to generated pages (behaviour the schema cannot express). */
import { ACCESS_TOKEN_TTL_RULE } from '../../../model/limits';

export const resourceNotes: Record<string, string> = {
  certusordo_agent: `## Lifecycle and drift

- **Destroy revokes.** \`terraform destroy\` (or removing the block) calls \`POST /v1/agents/{id}/revoke\`. Revocation is **permanent**: the agent can never authenticate again and cannot be reactivated. Use \`status = "suspended"\` for a reversible stop.
- **Runtime suspension is respected.** When \`status\` is not set, a suspension made outside Terraform (for example by an operator during an incident) is kept: the plan shows no change and apply never reactivates the agent. When \`status\` is set, Terraform enforces it.
- **Revoked outside Terraform → replaced.** If the agent was revoked over the API, the next plan replaces it with a new agent (new id, new key).
- **Gone → removed from state.** If the control plane no longer knows the id (404), the agent is dropped from state and the next plan creates it.
- **In place:** \`name\`, \`scopes\`, \`metadata\`, \`status\`. **Replacement:** \`public_key\`, and a change of a previously set \`rotation_trigger\`.
- **Secret.** \`secret\` is returned once, by the create call, when the control plane generates the key. It is stored in state (sensitive); it is null for brought keys, for secretless agents and after import. Expose it only through an output with \`sensitive = true\`.
- **Suspended at runtime → warning.** When \`status\` is not set and the agent is suspended, the plan has no change for it but carries a warning \`Agent "<name>" is suspended\`, so a reviewer sees it.

## Keys: the initial key and certusordo_agent_key

Unless it declares \`federated_credential\` blocks, this resource creates the agent with a key (\`POST /v1/agents\`), and the control plane never lets an agent drop to zero active keys and federated credentials. This resource therefore owns the agent's **initial key**: \`public_key\` and \`secret\` are that key. Further keys are managed with [\`certusordo_agent_key\`](agent_key.md):

- \`public_key\` stays the initial key while that key is active, although the API reports the agent's newest key; keys added by \`certusordo_agent_key\` therefore never show up as a change (or, for a brought key, a replacement) of the agent. Once the initial key is removed, \`public_key\` follows the agent's newest active key and \`secret\` becomes null.
- To rotate in code, give the workload the secret of a \`certusordo_agent_key\` with \`lifecycle { create_before_destroy = true }\` and change its \`rotation_trigger\`: the agent keeps its id and always has a key.
- The initial key stays valid until it is removed. To retire it, import it into a \`certusordo_agent_key\` (\`terraform import <address> <agent_id>/<kid>\`, kids from \`GET /v1/agents/{id}/keys\`) and rotate that resource once, or remove it over the API (\`DELETE /v1/agents/{id}/keys/{kid}\`). With a brought \`public_key\`, add \`lifecycle { ignore_changes = [public_key] }\` before retiring the initial key, or the agent is planned for replacement.
- There is no \`generate_key = false\`: an agent without a key is one that declares federated credentials (below); a placeholder key that nobody holds would still count as the agent's active key and defeat the control plane's last-key guard.

## Secretless agents: federated credentials

An agent with at least one \`federated_credential\` block and no \`public_key\` is created **without any key** (\`POST /v1/agents\` with \`federated_credentials\`): its workload authenticates with its platform token (GitHub Actions OIDC, a Kubernetes service-account token, a SPIFFE JWT-SVID) and no secret exists anywhere. The plan shows \`secret\` and \`public_key\` as null, never as "(known after apply)", and the state holds no secret.

- **Nesting: a set.** A credential has no order and no update, so the blocks are a set: a changed block is shown and applied as the old credential removed and the new one added (the new one first, so an agent whose only credential changes never drops to none), and the agent is never replaced for it. An unchanged block never plans a change: blocks are matched to the credentials in state by their fields, \`claims_json\` and \`jwks\` compared as JSON values, an unset \`audience\` matching the default the control plane chose.
- **\`claims_json\`, not a map.** The API's \`claims\` are JSON values of any type (a Kubernetes token's \`kubernetes.io\` claim is an object); a \`map(string)\` could only say strings. Write it with \`jsonencode({ repository = "acme/api" })\`; formatting never shows as a change.
- **Removed outside Terraform → added again.** A credential of the blocks that was removed over the API is dropped on refresh; the next plan adds it again.
- **Removing the last one.** Removing every block of an agent with no key is refused by the control plane (409, the agent would have no way to authenticate); add a key (\`public_key\` replaces the agent; a \`certusordo_agent_key\` does not) or destroy the agent.

## Inline blocks or certusordo_agent_federated_credential

Like the AWS provider's inline and separate security group rules, use **either** the agent's \`federated_credential\` blocks **or** [\`certusordo_agent_federated_credential\`](agent_federated_credential.md) resources for a given credential, not both:

- The blocks manage exactly the credentials they created (their ids are in the agent's state). Credentials added by \`certusordo_agent_federated_credential\` or over the API never appear in the agent's state: they cause no drift and the blocks never remove them. An agent that declares no block at all leaves every credential alone.
- A secretless agent needs at least one block: an agent is created with a key or with credentials, and \`certusordo_agent_federated_credential\` can only add to an agent that exists. Use the separate resource for agents that also have keys, for agents managed in another configuration, or to give a module's consumers a way to add workloads.
- **Import** reads **all** the agent's active credentials into its blocks (the state has no list to go by yet). If some of them are managed by \`certusordo_agent_federated_credential\`, the next plan would remove them from the agent: declare those as blocks instead, or import the agent before adding them.
`,
  certusordo_agent_key: `## Lifecycle

- **Create** adds a key (\`POST /v1/agents/{id}/keys\`): generated by the control plane (then \`secret\` holds it, once, in state) or brought with \`public_key\`. The agent's other keys keep working.
- **Rotation without a new agent.** A change of \`rotation_trigger\` (or of \`public_key\`) replaces the key. With \`lifecycle { create_before_destroy = true }\` Terraform adds the new key first and removes the old one after, so the agent keeps its id and is never without a key. Old and new keys both authenticate in between; after the apply the token endpoint refuses the old key (\`invalid_client\`). Tokens issued earlier stay valid until they expire.
- **The last key is never removed.** The control plane refuses to remove an agent's last active key; Terraform then stops with \`Cannot remove the agent's last active key\` and keeps the key in state. Add another key first (\`create_before_destroy\`), or revoke the agent by destroying its \`certusordo_agent\`. The agent's initial key (owned by \`certusordo_agent\`) normally remains, so this only happens once every key of the agent is managed here.
- **Removed outside Terraform → dropped.** A key removed over the API (status \`revoked\`), or whose agent no longer exists, is dropped from state; the next plan adds a new one.
- **Destroying the agent too.** When the agent's \`certusordo_agent\` is destroyed in the same run, its keys are removed first (they depend on it). If they are all of the agent's keys, the last removal is refused: remove that key from state (\`terraform state rm\`) and destroy the agent, whose revocation ends all its keys.
- **Import** by \`<agent_id>/<kid>\`; \`secret\` is null afterwards. A \`rotation_trigger\` set for the first time after an import is only recorded.
`,
  certusordo_agent_federated_credential: `## Lifecycle

- **Create** adds a credential (\`POST /v1/agents/{id}/federated-credentials\`); the agent and its keys and other credentials are untouched. At most 20 active credentials per agent; the same issuer, subject, audience and claims twice is refused (409).
- **Every field replaces.** The API has no update, so a change of any field removes the credential and adds a new one (with \`lifecycle { create_before_destroy = true }\` the new one first, which an agent whose only credential it is needs). \`claims_json\` and \`jwks\` are compared as JSON values: reformatting replaces nothing.
- **The last credential of an agent without a key is never removed.** The control plane refuses (409); destroy the agent instead, which revokes it and everything it holds.
- **Removed outside Terraform → dropped.** A credential removed over the API, or whose agent no longer exists, is dropped from state; the next plan adds it again.
- **Not with the agent's blocks.** Manage a credential here or as a \`federated_credential\` block of its \`certusordo_agent\`, not both (see that resource's notes): credentials added here never show up in the agent's state.
- **Import** by \`<agent_id>/<credential_id>\` (ids from \`GET /v1/agents/{id}/federated-credentials\`); \`claims_json\` and \`jwks\` then read as \`jsonencode\` would write them.
`,
  certusordo_agent_delegation: `## Lifecycle

- **One grant per resource.** Each resource is one entry of the subject agent's \`may_act\` (\`PUT /v1/agents/{subject}/delegations/{actor}\`), so "A may act for B" and "B may act for A" are two resources that depend only on the agents: no dependency cycle. The subject's \`may_act\` (on \`certusordo_agent\` and the data sources) shows the result after the next refresh.
- **What the actor may do.** Exchange the subject's access token at the token endpoint (\`grant_type=urn:ietf:params:oauth:grant-type:token-exchange\`, RFC 8693) for a token with \`sub\` = the subject and \`act.sub\` = the actor, scoped within both agents' scopes, expiring no later than the exchanged token. Chains (C acting on a token B got for A) need a grant from B to C.
- **Destroy ends the tokens at once.** Removing the grant (\`DELETE\`) makes every token the actor holds for the subject, and every token derived from those, inactive on every replica at once; granting again later does not revive them.
- **Removed outside Terraform → dropped.** A grant removed over the API, or whose subject agent no longer exists, is dropped from state; the next plan creates it again. A revoked actor or subject cannot be granted: the apply fails with the control plane's 400 or 409.
- **Replacement:** both attributes. **Import** by \`<subject_agent_id>/<actor_agent_id>\`.
`,
};

/** Appended to data source pages. */
export const dataSourceNotes: Record<string, string> = {
  certusordo_agents: `## Filters

All filters combine (AND) and are passed to \`GET /v1/agents\`; \`status\` and \`inactive_since\` are checked at plan time. \`inactive_since\` includes agents that never authenticated, so \`status = "active"\` with \`inactive_since = timeadd(plantimestamp(), "-720h")\` lists active identities unused for 30 days. \`never_authenticated = false\` is the same as leaving it unset.
`,
};

/** Appended to ephemeral resource pages. */
export const ephemeralResourceNotes: Record<string, string> = {
  certusordo_access_token: `## Behaviour

- **Terraform 1.10 or later.** Ephemeral resources are a Terraform 1.10 feature. Older versions reject the configuration before any provider starts (\`Blocks of type "ephemeral" are not expected here\`), so the provider cannot add a message of its own; put \`required_version = ">= 1.10"\` in the \`terraform\` block to get a clear version error instead.
- **Never stored.** The token, and the \`secret\` you pass in, are not written to the plan file or the state file. Pass the secret from an ephemeral variable (\`ephemeral = true\`) or another ephemeral source: a secret read from a managed resource's attribute is already in that resource's state.
- **Minted per run, revoked at the end.** Terraform opens the resource during \`plan\` and again during \`apply\`, each time minting a new token with the agent's own key (an Ed25519 \`private_key_jwt\` client assertion to \`POST /v1/oauth/token\`), and closes it when the run no longer needs it: the provider then revokes the token (\`POST /v1/oauth/revoke\`), and introspection reports it inactive at once. The token is not renewed; it expires after the control plane's token lifetime, ${ACCESS_TOKEN_TTL_RULE}.
- **Errors.** A refused request is reported as \`Access token refused\` with the OAuth error: \`invalid_client\` (unknown or removed key), \`invalid_grant\` (agent suspended or revoked), \`invalid_scope\` (a scope the agent does not hold), \`invalid_target\` (a bad \`resource\`).
- **Key file.** \`private_key_file\` is a PEM PKCS#8 Ed25519 private key (\`openssl genpkey -algorithm ed25519 -out agent.pem\`); register its public key with the agent (\`public_key\` of \`certusordo_agent\` or \`certusordo_agent_key\`) and set \`agent_id\`.
`,
};


/** Appended to the provider's index page. */
export const providerNotes = `## Transport security

- **https, or loopback.** Every request carries the API key, so the provider sends it over plain \`http://\` only to loopback: \`127.0.0.0/8\`, \`::1\` and \`localhost\` (which must then resolve to a loopback address). Any other \`http://\` endpoint, from \`endpoint\` or \`CERTUSORDO_ENDPOINT\`, fails with an \`Insecure endpoint\` error on \`endpoint\` before any request is made. To accept plain http on a network you trust, set \`insecure = true\` in the provider block or \`CERTUSORDO_INSECURE=1\` in the environment (the block wins when it sets \`insecure\`, true or false). \`https://\` is always accepted.
- **No credentials in the URL.** An endpoint with \`user:password@\`, a query string or a fragment is refused; authenticate with \`api_key\`. Diagnostics and logs show the endpoint as scheme, host, port and path only.
- **Bounded responses.** A response body larger than 4 MiB is not read to the end: the request fails with \`Response from the control plane too large\`, and is not retried. Lists of agents with large metadata are fetched in smaller pages instead.
- **Nothing echoed.** Text from a failed response (error messages, request ids) is shown without the API key or anything shaped like a key, an agent secret or an \`Authorization\` value, and cut to 500 characters.
`;
