/** Help: the concepts in a few lines, and where the guide and the API reference are. */
export function HelpPage() {
  return (
    <section aria-labelledby="help-title">
      <h1 id="help-title" tabIndex={-1}>Help</h1>
      <dl class="details concepts">
        <dt>Agent</dt><dd>The identity of one AI system: a name (unique among agents that are not revoked), scopes, metadata, and keys or federated credentials (at least one of either).</dd>
        <dt>Keys</dt><dd>Ed25519 key pairs; each authenticates the agent. A generated key's secret is shown once. Rotate by adding a key, then removing the old one.</dd>
        <dt>Federated credentials</dt><dd>A workload (GitHub Actions, Kubernetes, SPIFFE, a cloud) whose platform token authenticates the agent instead of a key. An agent with only these is secretless: no key, no secret to store anywhere.</dd>
        <dt>Scopes</dt><dd><code>resource:action</code> names of what the agent may do; its tokens carry at most these.</dd>
        <dt>Lifecycle</dt><dd>Active, suspended (no token with any key until activated) or revoked (for good; the name is free again).</dd>
        <dt>Sessions</dt><dd>A bounded piece of an agent's work: some of its scopes, a lifetime and an operation budget, with its own token.</dd>
        <dt>Audit</dt><dd>Every change, authentication and refusal, in a hash chain that verification checks; newest first here, the chain order a click away.</dd>
      </dl>
      <p>
        The guide to managing agents, each step in Python and TypeScript: <code>docs/guide.md</code> in the CertusOrdo repository.
        Every endpoint: the <a href="/docs">API reference</a> (and <a href="/v1/openapi.json">its OpenAPI document</a>).
      </p>
    </section>
  );
}
