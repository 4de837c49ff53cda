/** Hand-written sections appended to generated pages (behaviour the schema cannot express). */
export const resourceNotes: Record<string, string> = {
  certusordo_agent: `## Lifecycle and drift

- **Destroy revokes.** \`terraform destroy\` (or removing the block) calls \`POST /v1/agents/{id}/revoke\`. Revocation is **permanent**: the agent can never authenticate again and cannot be reactivated. Use \`status = "suspended"\` for a reversible stop.
- **Runtime suspension is respected.** When \`status\` is not set, a suspension made outside Terraform (for example by an operator during an incident) is kept: the plan shows no change and apply never reactivates the agent. When \`status\` is set, Terraform enforces it.
- **Revoked outside Terraform → replaced.** If the agent was revoked over the API, the next plan replaces it with a new agent (new id, new key).
- **Gone → removed from state.** If the control plane no longer knows the id (404), the agent is dropped from state and the next plan creates it.
- **In place:** \`name\`, \`scopes\`, \`metadata\`, \`status\`. **Replacement:** \`public_key\`, and a change of a previously set \`rotation_trigger\`.
- **Secret.** \`secret\` is returned once, by the create call, when the control plane generates the key. It is stored in state (sensitive); it is null for brought keys and after import. Expose it only through an output with \`sensitive = true\`.
`,
};

/** Appended to the provider's index page. */
export const providerNotes = `## Transport security

- **https, or loopback.** Every request carries the API key, so the provider sends it over plain \`http://\` only to loopback: \`127.0.0.0/8\`, \`::1\` and \`localhost\` (which must then resolve to a loopback address). Any other \`http://\` endpoint, from \`endpoint\` or \`CERTUSORDO_ENDPOINT\`, fails with an \`Insecure endpoint\` error on \`endpoint\` before any request is made. To accept plain http on a network you trust, set \`insecure = true\` in the provider block or \`CERTUSORDO_INSECURE=1\` in the environment (the block wins when it sets \`insecure\`, true or false). \`https://\` is always accepted.
- **No credentials in the URL.** An endpoint with \`user:password@\`, a query string or a fragment is refused; authenticate with \`api_key\`. Diagnostics and logs show the endpoint as scheme, host, port and path only.
- **Bounded responses.** A response body larger than 4 MiB is not read to the end: the request fails with \`Response from the control plane too large\`, and is not retried. Lists of agents with large metadata are fetched in smaller pages instead.
- **Nothing echoed.** Text from a failed response (error messages, request ids) is shown without the API key or anything shaped like a key, an agent secret or an \`Authorization\` value, and cut to 500 characters.
`;
