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
