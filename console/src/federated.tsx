/**
 * The agent page's federated credentials: the workloads whose platform tokens authenticate the
 * agent instead of a key. Listing is for every role; adding and removing are an admin's, as for
 * keys. Remove is offered while the agent keeps another key or credential; the server decides, and
 * its 409 (another change made this one the last) is shown as it says it.
 */
import { useState } from 'preact/hooks';
import { FEDERATED_CREDENTIALS_MAX } from '../../model/federation';
import { Agent, api, FederatedCredential } from './api';
import { EMPTY_DRAFT, FederatedDraft, FederatedFields, readDraft } from './federated-form';
import { ErrorBanner, Modal, Polled, StatusBadge, Time } from './ui';

/** Who may change the agent's credentials, and how many it holds: what the two sections share. */
export interface CredentialControls {
  /** An admin, and the agent not revoked. */
  admin: boolean;
  /** Active keys plus active federated credentials: the server refuses to remove the last. */
  activeTotal: number;
  /** After a change: the agent (its public_key), its keys and its credentials are read again. */
  onChanged: () => void;
  onNotice: (s: string) => void;
}

/** The help under a section whose one active entry is the agent's last credential of any kind. */
export function LastCredentialHelp() {
  return <p class="help" data-last-credential>The agent's last active key or federated credential cannot be removed: add another key or a federated credential first.</p>;
}

function AddForm({ agent, onAdded }: { agent: Agent; onAdded: (f: FederatedCredential) => void }) {
  const [draft, setDraft] = useState<FederatedDraft>(EMPTY_DRAFT);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      onAdded(await api.addFederatedCredential(agent.id, readDraft(draft)));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="inline-form" onSubmit={submit} aria-label="Add a federated credential">
      <FederatedFields prefix="fed" draft={draft} onChange={setDraft} />
      <ErrorBanner error={error} />
      <div class="buttons"><button type="submit" class="primary" disabled={busy}>Add this federated credential</button></div>
    </form>
  );
}

function RemoveDialog({ agent, credential, onRemoved, onCancel }: { agent: Agent; credential: FederatedCredential; onRemoved: () => void; onCancel: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const remove = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      await api.removeFederatedCredential(agent.id, credential.id);
      onRemoved();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return (
    <Modal title="Remove a federated credential" onClose={onCancel}>
      <form onSubmit={remove}>
        <p>
          Tokens of <code>{credential.issuer}</code> for <code>{credential.subject}</code> stop authenticating {agent.name} at once; its
          access tokens already issued stay valid until they expire, as with a removed key.
        </p>
        <ErrorBanner error={error} />
        <div class="buttons">
          <button type="submit" class="danger" disabled={busy}>Remove</button>
          <button type="button" onClick={onCancel}>Cancel</button>
        </div>
      </form>
    </Modal>
  );
}

const claimsText = (claims: Record<string, unknown>): string => (Object.keys(claims).length ? JSON.stringify(claims) : '');

export function FederatedCredentials({ agent, credentials, controls }: { agent: Agent; credentials: Polled<{ data: FederatedCredential[] }>; controls: CredentialControls }) {
  const { data, error } = credentials;
  const { admin, activeTotal, onChanged, onNotice } = controls;
  const [adding, setAdding] = useState(false);
  const [removing, setRemoving] = useState<FederatedCredential | null>(null);
  const active = data?.data.filter((f) => f.status === 'active').length ?? 0;
  return (
    <section aria-labelledby="federated-title">
      <div class="title-row">
        <h2 id="federated-title">Federated credentials</h2>
        {admin && active < FEDERATED_CREDENTIALS_MAX && (
          <button type="button" onClick={() => setAdding(!adding)} aria-expanded={adding}>Add federated credential</button>
        )}
      </div>
      <p class="help">Workloads (GitHub Actions, Kubernetes, SPIFFE, a cloud) whose platform token authenticates the agent instead of a key: no secret to store anywhere.</p>
      {adding && (
        <AddForm agent={agent} onAdded={(f) => { setAdding(false); onNotice(`Federated credential for ${f.subject} added.`); onChanged(); }} />
      )}
      <ErrorBanner error={error} />
      {data && data.data.length === 0 ? <p class="empty">No federated credentials.</p> : (
        <div class="table-wrap" role="region" aria-label="Federated credentials table" tabIndex={0}>
          <table class="federated">
            <thead>
              <tr>
                <th scope="col">Issuer</th><th scope="col">Subject</th><th scope="col">Audience</th><th scope="col">Claims</th><th scope="col">Issuer keys</th>
                <th scope="col">Status</th><th scope="col">Added</th><th scope="col">Removed</th>{admin && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody>
              {data?.data.map((f) => (
                <tr key={f.id} data-credential={f.subject}>
                  <td class="mono">{f.issuer}</td>
                  <td class="mono">{f.subject}</td>
                  <td class="mono">{f.audience}</td>
                  <td class="mono">{claimsText(f.claims) || <span class="muted">none</span>}</td>
                  <td>{f.jwks ? `inline JWKS (${f.jwks.keys.length})` : 'OpenID discovery'}</td>
                  <td><StatusBadge status={f.status} /></td>
                  <td><Time iso={f.created_at} /></td>
                  <td><Time iso={f.revoked_at} never="—" /></td>
                  {admin && (
                    <td>
                      {f.status === 'active' && activeTotal > 1 && (
                        <button type="button" class="danger ghost" aria-label={`Remove federated credential ${f.subject}`} onClick={() => setRemoving(f)}>Remove</button>
                      )}
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {admin && active === 1 && activeTotal === 1 && <LastCredentialHelp />}
      {removing && (
        <RemoveDialog
          agent={agent}
          credential={removing}
          onCancel={() => setRemoving(null)}
          onRemoved={() => { onNotice(`Federated credential for ${removing.subject} removed: its tokens no longer authenticate the agent.`); setRemoving(null); onChanged(); }}
        />
      )}
    </section>
  );
}
