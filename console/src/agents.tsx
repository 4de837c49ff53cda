/** The agents table (search, filters, keyset pagination, row actions) and the create dialog. */
import { useState } from 'preact/hooks';
import { NAME_MAX, NAME_PATTERN, NAME_RULE, PUBLIC_KEY_RULE } from '../../model/agent';
import { LIST_PAGE_DEFAULT, REASON_MAX } from '../../model/limits';
import { AGENT_TRANSITION_ROLES, type AgentTransition } from '../../model/roles';
import { AGENT_STATUSES } from '../../model/statuses';
import { Agent, AgentCreate, api, can, Role } from './api';
import { EMPTY_DRAFT, FederatedDraft, FederatedFields, readDraft } from './federated-form';
import { ErrorBanner, inputChecked, inputValue, Modal, Notice, parseMetadata, parseScopes, RuleText, SecretOnce, StatusBadge, Time, usePoll } from './ui';

type Action = { kind: AgentTransition; agent: Agent };

/** Suspend (reason), activate, revoke (typed name): one dialog per action. */
export function ActionDialog({ action, onDone, onCancel }: { action: Action; onDone: (a: Agent, msg: string) => void; onCancel: () => void }) {
  const { kind, agent } = action;
  const [reason, setReason] = useState('');
  const [typed, setTyped] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const verb = { suspend: 'Suspend', activate: 'Activate', revoke: 'Revoke' }[kind];
  const ready = kind !== 'revoke' || typed === agent.name;
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!ready) return;
    setBusy(true);
    setError(null);
    try {
      const a = await api.transition(agent.id, kind, reason.trim() || undefined);
      onDone(a, `${agent.name} is now ${a.status}.`);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return (
    <Modal title={`${verb} ${agent.name}`} onClose={onCancel}>
      <form onSubmit={submit}>
        {kind === 'suspend' && <p>Its tokens stop working at once and it cannot get new ones until it is activated.</p>}
        {kind === 'revoke' && <p class="warning"><strong>Revocation is permanent.</strong> The agent can never authenticate again.</p>}
        <label for="transition-reason">Reason (recorded in the audit log{kind === 'suspend' ? '' : ', optional'})</label>
        <textarea id="transition-reason" rows={2} maxLength={REASON_MAX} value={reason} onInput={(e) => setReason(inputValue(e))} />
        {kind === 'revoke' && (
          <>
            <label for="revoke-confirm">Type the agent's name, <code>{agent.name}</code>, to confirm</label>
            <input id="revoke-confirm" autoComplete="off" spellcheck={false} value={typed} onInput={(e) => setTyped(inputValue(e))} />
          </>
        )}
        <ErrorBanner error={error} />
        <div class="buttons">
          <button type="submit" class={kind === 'activate' ? 'primary' : 'danger'} disabled={busy || !ready}>{verb}</button>
          <button type="button" onClick={onCancel}>Cancel</button>
        </div>
      </form>
    </Modal>
  );
}

/** The lowest role with a row action (suspension): below it the table has no actions column. */
export const ACTIONS_ROLE = AGENT_TRANSITION_ROLES.suspend;

/** The status changes the role may make on the agent, each button only where the server would allow it. */
export function ActionButtons({ agent, role, onAction }: { agent: Agent; role: Role; onAction: (a: Action) => void }) {
  const may = (kind: AgentTransition) => can(role, AGENT_TRANSITION_ROLES[kind]);
  if (!can(role, ACTIONS_ROLE) || agent.status === 'revoked') return null;
  return (
    <div class="actions">
      {agent.status === 'active' && may('suspend') && <button type="button" class="danger" aria-label={`Suspend ${agent.name}`} onClick={() => onAction({ kind: 'suspend', agent })}>Suspend</button>}
      {agent.status === 'suspended' && may('activate') && <button type="button" class="primary" aria-label={`Activate ${agent.name}`} onClick={() => onAction({ kind: 'activate', agent })}>Activate</button>}
      {may('revoke') && <button type="button" class="danger ghost" aria-label={`Revoke ${agent.name}`} onClick={() => onAction({ kind: 'revoke', agent })}>Revoke</button>}
    </div>
  );
}

/** How a new agent authenticates: a key made here, a key brought, or a workload's platform token (no key at all). */
type CredentialKind = 'generated' | 'own' | 'secretless';
const KIND_LABEL: Record<CredentialKind, string> = { generated: 'Generated key', own: 'Bring your own public key', secretless: 'Secretless (workload identity)' };
const KIND_HELP: Record<CredentialKind, string> = {
  generated: 'A key pair is made for the agent: its secret is shown once, and only the public key is kept.',
  own: 'The agent signs with the private key of the public key you paste: there is no secret to show.',
  secretless: 'No key and no secret at all: the workload below authenticates with the token its platform gives it.',
};

/** The create request for the chosen kind; throws (before anything is sent) on a form mistake. */
function createBody(base: Pick<AgentCreate, 'name' | 'scopes' | 'metadata'>, kind: CredentialKind, publicKey: string, federated: FederatedDraft): AgentCreate {
  if (kind === 'own') return { ...base, public_key: publicKey.trim() };
  if (kind === 'secretless') return { ...base, federated_credentials: [readDraft(federated)] };
  return base;
}

function CreatedBody({ agent }: { agent: Agent }) {
  if (agent.secret) return <SecretOnce secret={agent.secret} label={`Secret of ${agent.name}`} />;
  if (agent.public_key === null) {
    return (
      <p data-secretless-created>
        The agent is <strong>secretless</strong>: it has no key and no secret, so there is nothing to store. Its workload authenticates
        with its platform token as the client assertion, and <code>client_id</code> {agent.id}.
      </p>
    );
  }
  return <p>The agent authenticates with the private key of the public key you brought; there is no secret to show.</p>;
}

function CreateDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (a: Agent) => void }) {
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState('');
  const [metadata, setMetadata] = useState('');
  const [kind, setKind] = useState<CredentialKind>('generated');
  const [publicKey, setPublicKey] = useState('');
  const [federated, setFederated] = useState<FederatedDraft>(EMPTY_DRAFT);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [created, setCreated] = useState<Agent | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    let body: AgentCreate;
    try {
      body = createBody({ name: name.trim(), scopes: parseScopes(scopes), metadata: parseMetadata(metadata) }, kind, publicKey, federated);
    } catch (err) {
      return setError(err);
    }
    setBusy(true);
    try {
      const a = await api.createAgent(body);
      setCreated(a);
      onCreated(a);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  if (created) {
    return (
      <Modal title={`Agent ${created.name} created`} onClose={onClose}>
        <CreatedBody agent={created} />
        <div class="buttons"><button type="button" class="primary" onClick={onClose}>Done</button></div>
      </Modal>
    );
  }
  return (
    <Modal title="Create an agent" onClose={onClose}>
      <form onSubmit={submit}>
        <label for="create-name">Name</label>
        <input id="create-name" required maxLength={NAME_MAX} pattern={NAME_PATTERN.source} autoComplete="off" spellcheck={false} value={name} onInput={(e) => setName(inputValue(e))} aria-describedby="create-name-help" />
        <p id="create-name-help" class="help"><RuleText text={NAME_RULE} />.</p>
        <label for="create-scopes">Scopes (space or comma separated)</label>
        <input id="create-scopes" autoComplete="off" spellcheck={false} placeholder="payments:read reports:*" value={scopes} onInput={(e) => setScopes(inputValue(e))} />
        <label for="create-metadata">Metadata (one <code>key=value</code> per line)</label>
        <textarea id="create-metadata" rows={3} spellcheck={false} value={metadata} onInput={(e) => setMetadata(inputValue(e))} />
        <fieldset class="kind" aria-describedby="create-kind-help">
          <legend>Credential</legend>
          {(Object.keys(KIND_LABEL) as CredentialKind[]).map((k) => (
            <div class="choice" key={k}>
              <input type="radio" id={`create-kind-${k}`} name="create-kind" value={k} checked={kind === k} onChange={() => setKind(k)} />
              <label for={`create-kind-${k}`}>{KIND_LABEL[k]}</label>
            </div>
          ))}
          <p id="create-kind-help" class="help">{KIND_HELP[kind]}</p>
        </fieldset>
        {kind === 'own' && (
          <>
            <label for="create-public-key">Public key ({PUBLIC_KEY_RULE})</label>
            <input id="create-public-key" required class="mono" autoComplete="off" spellcheck={false} value={publicKey} onInput={(e) => setPublicKey(inputValue(e))} />
          </>
        )}
        {kind === 'secretless' && <FederatedFields prefix="create-fed" draft={federated} onChange={setFederated} />}
        <ErrorBanner error={error} />
        <div class="buttons">
          <button type="submit" class="primary" disabled={busy}>Create agent</button>
          <button type="button" onClick={onClose}>Cancel</button>
        </div>
      </form>
    </Modal>
  );
}

type SortKey = 'name' | 'status' | 'created' | 'last_auth';
interface Sort { key: SortKey; dir: 'asc' | 'desc' }
const BY_CREATION: Sort = { key: 'created', dir: 'asc' };
const SORT_LABEL: Record<SortKey, string> = { name: 'name', status: 'status', created: 'creation', last_auth: 'last authentication' };
const time = (iso: string | null): number => (iso ? Date.parse(iso) : -Infinity); // never: before any time
const COMPARE: Record<SortKey, (a: Agent, b: Agent) => number> = {
  name: (a, b) => a.name.localeCompare(b.name),
  status: (a, b) => AGENT_STATUSES.indexOf(a.status) - AGENT_STATUSES.indexOf(b.status),
  created: (a, b) => time(a.created_at) - time(b.created_at) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  last_auth: (a, b) => time(a.last_auth_at) - time(b.last_auth_at),
};

/**
 * The page's rows in the chosen order. The server pages in creation order (keyset pagination on an
 * index: a page costs the same at any size of the organization); sorting by another column orders
 * the page at hand, ties broken by creation.
 */
function sorted(agents: readonly Agent[], sort: Sort): Agent[] {
  const sign = sort.dir === 'asc' ? 1 : -1;
  return [...agents].sort((a, b) => sign * COMPARE[sort.key](a, b) || COMPARE.created(a, b));
}

function SortHeader({ label, sortKey, sort, onSort, class: className }: { label: string; sortKey: SortKey; sort: Sort; onSort: (s: Sort) => void; class?: string }) {
  const current = sort.key === sortKey;
  const next: Sort = { key: sortKey, dir: current && sort.dir === 'asc' ? 'desc' : 'asc' };
  return (
    <th scope="col" class={className} aria-sort={current ? (sort.dir === 'asc' ? 'ascending' : 'descending') : 'none'}>
      <button type="button" class="sort" title={`Sort by ${SORT_LABEL[sortKey]}, ${next.dir === 'asc' ? 'ascending' : 'descending'}`} onClick={() => onSort(next)}>
        {label}<span aria-hidden="true" class="arrow">{current ? (sort.dir === 'asc' ? ' ▲' : ' ▼') : ''}</span>
      </button>
    </th>
  );
}

interface Filters { prefix: string; status: string; never: boolean; inactiveSince: string }
const NO_FILTERS: Filters = { prefix: '', status: '', never: false, inactiveSince: '' };

export function AgentsPage({ role }: { role: Role }) {
  const [draft, setDraft] = useState<Filters>(NO_FILTERS);
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  // Keyset pagination: the cursor of the page shown, and those of the pages before it.
  const [cursor, setCursor] = useState<string | undefined>(undefined);
  const [previous, setPrevious] = useState<(string | undefined)[]>([]);
  const [action, setAction] = useState<Action | null>(null);
  const [creating, setCreating] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const [filterError, setFilterError] = useState<string | null>(null);
  const [sort, setSort] = useState<Sort>(BY_CREATION);
  const { data, error, loading, reload } = usePoll(
    () => api.agents({
      name_prefix: filters.prefix.trim() || undefined,
      status: filters.status || undefined,
      never_authenticated: filters.never || undefined,
      inactive_since: filters.inactiveSince ? new Date(filters.inactiveSince).toISOString() : undefined,
      limit: LIST_PAGE_DEFAULT,
      cursor,
    }),
    [filters, cursor],
  );
  const apply = (e: Event) => {
    e.preventDefault();
    if (draft.inactiveSince && Number.isNaN(new Date(draft.inactiveSince).getTime())) return setFilterError('"Inactive since" is not a valid date and time.');
    setFilterError(null);
    setFilters({ ...draft });
    setCursor(undefined);
    setPrevious([]);
  };
  const reset = () => {
    setDraft(NO_FILTERS);
    setFilters(NO_FILTERS);
    setCursor(undefined);
    setPrevious([]);
  };
  const page = previous.length + 1;
  return (
    <section aria-labelledby="agents-title">
      <div class="title-row">
        <h1 id="agents-title" tabIndex={-1}>Agents</h1>
        {can(role, 'admin') && <button type="button" class="primary" onClick={() => setCreating(true)}>Create agent</button>}
      </div>
      <form class="filters" role="search" aria-label="Filter agents" onSubmit={apply}>
        <div class="field">
          <label for="f-prefix">Name or prefix</label>
          <input id="f-prefix" type="search" autoComplete="off" spellcheck={false} value={draft.prefix} onInput={(e) => setDraft({ ...draft, prefix: inputValue(e) })} />
        </div>
        <div class="field">
          <label for="f-status">Status</label>
          <select id="f-status" value={draft.status} onChange={(e) => setDraft({ ...draft, status: inputValue(e) })}>
            <option value="">Any</option>
            {AGENT_STATUSES.map((s) => <option key={s} value={s}>{s.charAt(0).toUpperCase() + s.slice(1)}</option>)}
          </select>
        </div>
        <div class="field">
          <label for="f-inactive">Inactive since (no authentication since, or never)</label>
          <input id="f-inactive" type="datetime-local" value={draft.inactiveSince} onInput={(e) => setDraft({ ...draft, inactiveSince: inputValue(e) })} />
        </div>
        <div class="field check">
          <input id="f-never" type="checkbox" checked={draft.never} onChange={(e) => setDraft({ ...draft, never: inputChecked(e) })} />
          <label for="f-never">Never used</label>
        </div>
        <div class="buttons">
          <button type="submit" class="primary">Search</button>
          <button type="button" onClick={reset}>Clear</button>
        </div>
      </form>
      {filterError && <p class="banner error" role="alert">{filterError}</p>}
      <Notice text={notice} />
      <ErrorBanner error={error} />
      <div class="table-wrap" role="region" aria-label="Agents table" tabIndex={0}>
        <table class="agents" aria-busy={loading}>
          <caption class="sr-only">Agents, page {page}, {sort === BY_CREATION ? 'oldest first' : `sorted by ${SORT_LABEL[sort.key]}, ${sort.dir === 'asc' ? 'ascending' : 'descending'}, within the page`}</caption>
          <thead>
            <tr>
              <SortHeader label="Name" sortKey="name" sort={sort} onSort={setSort} />
              <SortHeader label="Status" sortKey="status" sort={sort} onSort={setSort} />
              <th scope="col" class="col-scopes">Scopes</th>
              <SortHeader label="Created" sortKey="created" sort={sort} onSort={setSort} />
              <SortHeader label="Last authentication" sortKey="last_auth" sort={sort} onSort={setSort} />
              {can(role, ACTIONS_ROLE) && <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {data && sorted(data.data, sort).map((a) => (
              <tr key={a.id} data-agent={a.name}>
                <th scope="row"><a href={`#/agents/${a.id}`}>{a.name}</a>{a.public_key === null && <> <span class="tag">secretless</span></>}</th>
                <td><StatusBadge status={a.status} /></td>
                <td class="scopes col-scopes">{a.scopes.join(' ') || <span class="muted">none</span>}</td>
                <td><Time iso={a.created_at} /></td>
                <td><Time iso={a.last_auth_at} /></td>
                {can(role, ACTIONS_ROLE) && <td><ActionButtons agent={a} role={role} onAction={setAction} /></td>}
              </tr>
            ))}
          </tbody>
        </table>
        {data && data.data.length === 0 && <p class="empty">No agents match.</p>}
        {!data && loading && <p class="empty">Loading…</p>}
      </div>
      {sort !== BY_CREATION && (page > 1 || data?.next_cursor) && <p class="help" data-sort-note>Sorted within this page; the pages follow creation order. Narrow the list with the filters to sort all of it.</p>}
      <nav class="pager" aria-label="Pages">
        <button type="button" disabled={page === 1} onClick={() => { setCursor(previous[previous.length - 1]); setPrevious(previous.slice(0, -1)); }}>Previous page</button>
        <span>Page {page}</span>
        <button type="button" disabled={!data?.next_cursor} onClick={() => { setPrevious([...previous, cursor]); setCursor(data!.next_cursor!); }}>Next page</button>
      </nav>
      {action && (
        <ActionDialog action={action} onCancel={() => setAction(null)} onDone={(_a, msg) => { setAction(null); setNotice(msg); void reload(); }} />
      )}
      {creating && <CreateDialog onClose={() => setCreating(false)} onCreated={(a) => { setNotice(`Created ${a.name}.`); void reload(); }} />}
    </section>
  );
}

