/** One agent: details, scopes and metadata, keys, sessions, its audit events. */
import { useState } from 'preact/hooks';
import { Agent, AgentKey, api, can, Role } from './api';
import { ActionButtons, ActionDialog } from './agents';
import { AuditTable } from './audit';
import { CredentialControls, FederatedCredentials, LastCredentialHelp } from './federated';
import { ErrorBanner, formatMetadata, inputValue, Modal, Notice, parseMetadata, parseScopes, Polled, SecretOnce, StatusBadge, Time, usePoll } from './ui';

/** Whether the key=value lines give back exactly this map (no line breaks, `=` in keys or edge spaces). */
function editableAsLines(m: Record<string, string>): boolean {
  try {
    const back = parseMetadata(formatMetadata(m));
    return Object.keys(back).length === Object.keys(m).length && Object.entries(m).every(([k, v]) => back[k] === v);
  } catch {
    return false;
  }
}

function EditForm({ agent, onSaved }: { agent: Agent; onSaved: (a: Agent) => void }) {
  const original = formatMetadata(agent.metadata);
  // Metadata that the lines cannot show exactly stays as it is: saving the scopes must not rewrite it.
  const metadataEditable = editableAsLines(agent.metadata);
  const [scopes, setScopes] = useState(agent.scopes.join(' '));
  const [metadata, setMetadata] = useState(original);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const save = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const changed = metadataEditable && metadata !== original;
      onSaved(await api.updateAgent(agent.id, { scopes: parseScopes(scopes), ...(changed ? { metadata: parseMetadata(metadata) } : {}) }));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="edit" onSubmit={save} aria-label="Edit scopes and metadata">
      <label for="edit-scopes">Scopes (space or comma separated)</label>
      <input id="edit-scopes" spellcheck={false} autoComplete="off" value={scopes} onInput={(e) => setScopes(inputValue(e))} />
      <label for="edit-metadata">Metadata (one <code>key=value</code> per line; replaces the whole map)</label>
      <textarea id="edit-metadata" rows={4} spellcheck={false} value={metadata} readOnly={!metadataEditable} aria-describedby={metadataEditable ? undefined : 'edit-metadata-note'} onInput={(e) => setMetadata(inputValue(e))} />
      {!metadataEditable && (
        <p id="edit-metadata-note" class="help">This metadata has line breaks, <code>=</code> in a key or spaces at an edge, which <code>key=value</code> lines cannot show exactly: it is kept as it is here; change it with the API, the CLI or Terraform.</p>
      )}
      <ErrorBanner error={error} />
      <div class="buttons"><button type="submit" class="primary" disabled={busy}>Save scopes and metadata</button></div>
    </form>
  );
}

function Keys({ agent, keys, controls }: { agent: Agent; keys: Polled<{ data: AgentKey[] }>; controls: CredentialControls }) {
  const { data, error } = keys;
  const { admin, activeTotal, onChanged, onNotice } = controls;
  const [adding, setAdding] = useState(false);
  const [publicKey, setPublicKey] = useState('');
  const [added, setAdded] = useState<AgentKey | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const active = data?.data.filter((k) => k.status === 'active').length ?? 0;
  // A key is only as usable as its agent: a suspended or revoked agent obtains no token with any key.
  const unusable = agent.status !== 'active';
  const add = async (e: Event) => {
    e.preventDefault();
    setActionError(null);
    try {
      const k = await api.addKey(agent.id, publicKey.trim() || undefined);
      setPublicKey('');
      setAdding(false);
      setAdded(k);
      onNotice(`Key ${k.kid} added.`);
      onChanged();
    } catch (err) {
      setActionError(err);
    }
  };
  const remove = async (k: AgentKey) => {
    setActionError(null);
    try {
      await api.removeKey(agent.id, k.kid);
      onNotice(`Key ${k.kid} removed: no token is issued with it any more.`);
      onChanged();
    } catch (err) {
      setActionError(err);
    }
  };
  return (
    <section aria-labelledby="keys-title">
      <div class="title-row">
        <h2 id="keys-title">Keys</h2>
        {admin && <button type="button" onClick={() => setAdding(!adding)} aria-expanded={adding}>Add key</button>}
      </div>
      {adding && (
        <form class="inline-form" onSubmit={add}>
          <label for="key-public">Public key to bring (optional; empty: generate one and show its secret once)</label>
          <input id="key-public" class="mono" spellcheck={false} autoComplete="off" value={publicKey} onInput={(e) => setPublicKey(inputValue(e))} />
          <div class="buttons"><button type="submit" class="primary">Add this key</button></div>
        </form>
      )}
      {unusable && <p class="warning" data-keys-unusable>{agent.status === 'suspended' ? 'The agent is suspended: none of its keys can obtain a token until it is activated.' : 'The agent is revoked: none of its keys can obtain a token, ever again.'}</p>}
      <ErrorBanner error={error ?? actionError} />
      <div class="table-wrap" role="region" aria-label="Keys table" tabIndex={0}>
        <table>
          <thead><tr><th scope="col">Key id</th><th scope="col">Public key</th><th scope="col">Status</th><th scope="col">Added</th><th scope="col">Removed</th>{admin && <th scope="col">Actions</th>}</tr></thead>
          <tbody>
            {data?.data.map((k) => (
              <tr key={k.kid}>
                <td class="mono">{k.kid}</td>
                <td class="mono truncate" title={k.public_key}>{k.public_key}</td>
                <td>{unusable && k.status === 'active' ? <span class="badge status-unusable" data-key-status="unusable">unusable: agent {agent.status}</span> : <StatusBadge status={k.status} />}</td>
                <td><Time iso={k.created_at} /></td>
                <td><Time iso={k.revoked_at} never="—" /></td>
                {admin && <td>{k.status === 'active' && activeTotal > 1 && <button type="button" class="danger ghost" aria-label={`Remove key ${k.kid}`} onClick={() => void remove(k)}>Remove</button>}</td>}
              </tr>
            ))}
          </tbody>
        </table>
        {data && data.data.length === 0 && <p class="empty">No keys: the agent authenticates with its federated credentials only.</p>}
      </div>
      {admin && active === 1 && activeTotal === 1 && <LastCredentialHelp />}
      {added?.secret && (
        <Modal title="Key added" onClose={() => setAdded(null)}>
          <SecretOnce secret={added.secret} label={`Secret of key ${added.kid}`} />
          <div class="buttons"><button type="button" class="primary" onClick={() => setAdded(null)}>Done</button></div>
        </Modal>
      )}
    </section>
  );
}

function Sessions({ agent, role, onNotice }: { agent: Agent; role: Role; onNotice: (s: string) => void }) {
  const { data, error, reload } = usePoll(() => api.sessions(agent.id), [agent.id]);
  const [actionError, setActionError] = useState<unknown>(null);
  const operator = can(role, 'operator');
  const end = async (id: string) => {
    setActionError(null);
    try {
      await api.endSession(id);
      onNotice('Session ended.');
      void reload();
    } catch (err) {
      setActionError(err);
    }
  };
  return (
    <section aria-labelledby="sessions-title">
      <h2 id="sessions-title">Sessions</h2>
      <ErrorBanner error={error ?? actionError} />
      {data && data.data.length === 0 ? <p class="empty">No sessions.</p> : (
        <div class="table-wrap" role="region" aria-label="Sessions table" tabIndex={0}>
          <table>
            <thead><tr><th scope="col">Status</th><th scope="col">Scopes</th><th scope="col">Operations</th><th scope="col">Purpose</th><th scope="col">Opened</th><th scope="col">Expires</th><th scope="col">Ended</th>{operator && <th scope="col">Actions</th>}</tr></thead>
            <tbody>
              {data?.data.map((s) => (
                <tr key={s.id}>
                  <td><StatusBadge status={s.status} /></td>
                  <td class="scopes">{s.scopes.join(' ')}</td>
                  <td>{s.operations_used} / {s.max_operations ?? '∞'}</td>
                  <td>{s.purpose ?? ''}</td>
                  <td><Time iso={s.created_at} /></td>
                  <td><Time iso={s.expires_at} /></td>
                  <td>{s.ended_at ? <><Time iso={s.ended_at} /> <span class="muted">{s.end_reason ?? ''}</span></> : '—'}</td>
                  {operator && <td>{s.status === 'active' && <button type="button" class="danger ghost" onClick={() => void end(s.id)}>End session</button>}</td>}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** How the agent authenticates: "secretless" when it holds no key (federated credentials only). */
function Authentication({ agent, federated }: { agent: Agent; federated: number }) {
  if (agent.public_key === null) {
    return <dd><span class="tag" data-secretless>secretless</span> no key and no secret: its workloads authenticate with their platform tokens (federated credentials below)</dd>;
  }
  return <dd>keys{federated > 0 ? ' and federated credentials' : ''} (below)</dd>;
}

export function AgentPage({ id, role }: { id: string; role: Role }) {
  const { data: agent, error, reload } = usePoll(() => api.agent(id), [id]);
  // Keys and federated credentials are read here: each section's Remove depends on both counts.
  const keys = usePoll(() => api.keys(id), [id]);
  const credentials = usePoll(() => api.federatedCredentials(id), [id]);
  const [action, setAction] = useState<'suspend' | 'activate' | 'revoke' | null>(null);
  const [editing, setEditing] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const activeKeys = keys.data?.data.filter((k) => k.status === 'active').length ?? 0;
  const activeCredentials = credentials.data?.data.filter((f) => f.status === 'active').length ?? 0;
  const controls: CredentialControls = {
    admin: can(role, 'admin') && agent?.status !== 'revoked',
    activeTotal: activeKeys + activeCredentials,
    onChanged: () => void Promise.all([reload(), keys.reload(), credentials.reload()]),
    onNotice: setNotice,
  };
  return (
    <section aria-labelledby="agent-title">
      <p><a href="#/agents">← All agents</a></p>
      <div class="title-row">
        <h1 id="agent-title" tabIndex={-1}>{agent ? agent.name : 'Agent'}</h1>
        {agent && <StatusBadge status={agent.status} />}
        {agent && <ActionButtons agent={agent} role={role} onAction={(a) => setAction(a.kind)} />}
      </div>
      <Notice text={notice} />
      <ErrorBanner error={error} />
      {agent && (
        <>
          <dl class="details">
            <dt>Id</dt><dd class="mono">{agent.id}</dd>
            <dt>Created</dt><dd><Time iso={agent.created_at} /></dd>
            <dt>Updated</dt><dd><Time iso={agent.updated_at} /></dd>
            <dt>Last authentication</dt><dd><Time iso={agent.last_auth_at} /></dd>
            <dt>Authentication</dt><Authentication agent={agent} federated={activeCredentials} />
            <dt>Scopes</dt><dd class="scopes">{agent.scopes.join(' ') || <span class="muted">none</span>}</dd>
            <dt>May act for it</dt>
            <dd>
              {agent.may_act.length === 0 ? <span class="muted">no agent</span> : (
                <ul class="may-act">{agent.may_act.map((id) => <li key={id}><a class="mono" href={`#/agents/${id}`}>{id}</a></li>)}</ul>
              )}
            </dd>
            <dt>Metadata</dt>
            <dd>
              {Object.keys(agent.metadata).length === 0 ? <span class="muted">none</span> : (
                <ul class="metadata">{Object.entries(agent.metadata).map(([k, v]) => <li key={k}><span class="key">{k}</span> = <span class="value">{v}</span></li>)}</ul>
              )}
            </dd>
          </dl>
          {can(role, 'admin') && agent.status !== 'revoked' && (
            editing
              ? <EditForm agent={agent} onSaved={() => { setEditing(false); setNotice('Scopes and metadata saved.'); void reload(); }} />
              : <button type="button" onClick={() => setEditing(true)}>Edit scopes and metadata</button>
          )}
          <Keys agent={agent} keys={keys} controls={controls} />
          <FederatedCredentials agent={agent} credentials={credentials} controls={controls} />
          <Sessions agent={agent} role={role} onNotice={setNotice} />
          <section aria-labelledby="agent-audit-title">
            <h2 id="agent-audit-title">Audit events</h2>
            <AuditTable filters={{ agent_id: agent.id }} />
          </section>
          {action && <ActionDialog action={{ kind: action, agent }} onCancel={() => setAction(null)} onDone={(_a, msg) => { setAction(null); setNotice(msg); void reload(); }} />}
        </>
      )}
    </section>
  );
}
