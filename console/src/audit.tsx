/**
 * The organization's audit log: newest first (the chain order a click away), actors and targets by
 * name with their ids a click away, event data wrapped and expandable, filters (an agent by its
 * name), and the chain verification result.
 */
import { useState } from 'preact/hooks';
import { isUuid } from '../../model/ids';
import { AUDIT_PAGE_DEFAULT } from '../../model/limits';
import { isManagedAgentStatus } from '../../model/statuses';
import { Agent, api, AuditEvent, describeError } from './api';
import { IdToggle, NamedKind, NamedRef, Ref, useNames } from './names';
import { ErrorBanner, inputValue, Time, usePoll } from './ui';

type AuditFilters = { agent_id?: string; action?: string; since?: string; until?: string };
type Order = 'desc' | 'asc';

/** Data longer than this is shown folded: its beginning, and the whole of it on a click. */
const DATA_FOLD = 80;

function dataText(data: unknown): string {
  if (data === null || data === undefined) return '';
  const s = JSON.stringify(data);
  return s === '{}' ? '' : s;
}

function DataCell({ data }: { data: unknown }) {
  const text = dataText(data);
  if (text.length <= DATA_FOLD) return <code class="data">{text}</code>;
  return (
    <details class="data">
      <summary><code>{text.slice(0, DATA_FOLD)}…</code></summary>
      <pre>{JSON.stringify(data, null, 2)}</pre>
    </details>
  );
}

const NAMED_KINDS: readonly string[] = ['agent', 'api_key'] satisfies NamedKind[];
const isNamed = (type: string | null): type is NamedKind => type !== null && NAMED_KINDS.includes(type);
const TYPE_LABEL: Record<string, string> = { api_key: 'API key', agent: 'agent', system: 'system', organization: 'organization', session: 'session', signing_key: 'signing key' };

/** Who or what an event names, by name where there is one. */
function Party({ type, id, names }: { type: string | null; id: string | null; names: ReturnType<typeof useNames> }) {
  if (!type) return null;
  const label = TYPE_LABEL[type] ?? type;
  if (!id) return <span>{label}</span>;
  return (
    <span class="party">
      <span class="muted small">{label}</span>{' '}
      {isNamed(type) ? <NamedRef kind={type} id={id} named={names(type, id)} /> : <IdToggle id={id} of={`the ${label}`} />}
    </span>
  );
}

function refsOf(events: readonly AuditEvent[]): Ref[] {
  const refs: Ref[] = [];
  for (const e of events) {
    if (isNamed(e.actor_type) && e.actor_id) refs.push({ kind: e.actor_type, id: e.actor_id });
    if (isNamed(e.target_type) && e.target_id) refs.push({ kind: e.target_type, id: e.target_id });
  }
  return refs;
}

/** A page of events, newest first unless the chain order is chosen, with keyset pagination; polled so new events appear. */
export function AuditTable({ filters }: { filters: AuditFilters }) {
  const [order, setOrder] = useState<Order>('desc');
  const [cursor, setCursor] = useState<string | undefined>(undefined);
  const [previous, setPrevious] = useState<(string | undefined)[]>([]);
  const key = JSON.stringify(filters);
  const { data, error } = usePoll(() => api.audit({ ...filters, order, limit: AUDIT_PAGE_DEFAULT, cursor }), [key, order, cursor]);
  const names = useNames(refsOf(data?.data ?? []));
  const page = previous.length + 1;
  const switchOrder = () => {
    setOrder(order === 'desc' ? 'asc' : 'desc');
    setCursor(undefined);
    setPrevious([]);
  };
  return (
    <>
      <div class="title-row">
        <p class="muted small" data-order={order}>{order === 'desc' ? 'Newest first.' : 'Chain order: oldest first, by sequence number.'}</p>
        <button type="button" onClick={switchOrder}>{order === 'desc' ? 'Show in chain order' : 'Show newest first'}</button>
      </div>
      <ErrorBanner error={error} />
      <div class="table-wrap" role="region" aria-label="Audit events table" tabIndex={0}>
        <table class="audit">
          <caption class="sr-only">Audit events, page {page}, {order === 'desc' ? 'newest first' : 'oldest first'}</caption>
          <thead><tr><th scope="col">Seq</th><th scope="col">Time</th><th scope="col">Action</th><th scope="col">Outcome</th><th scope="col">Actor</th><th scope="col">Target</th><th scope="col">Reason</th><th scope="col">Data</th></tr></thead>
          <tbody>
            {data?.data.map((e) => (
              <tr key={e.id} data-seq={e.seq}>
                <td>{e.seq}</td>
                <td><Time iso={e.created_at} /></td>
                <td class="mono">{e.action}</td>
                <td>{e.outcome}</td>
                <td class="actor"><Party type={e.actor_type} id={e.actor_id} names={names} /></td>
                <td class="target"><Party type={e.target_type} id={e.target_id} names={names} /></td>
                <td class="reason">{e.reason ?? ''}</td>
                <td class="data-cell"><DataCell data={e.data} /></td>
              </tr>
            ))}
          </tbody>
        </table>
        {data && data.data.length === 0 && <p class="empty">No events.</p>}
      </div>
      <nav class="pager" aria-label="Audit pages">
        <button type="button" disabled={page === 1} onClick={() => { setCursor(previous[previous.length - 1]); setPrevious(previous.slice(0, -1)); }}>Previous page</button>
        <span>Page {page}</span>
        <button type="button" disabled={!data?.next_cursor} onClick={() => { setPrevious([...previous, cursor]); setCursor(data!.next_cursor!); }}>Next page</button>
      </nav>
    </>
  );
}

function Verification() {
  const [run, setRun] = useState(0);
  const { data, error, loading } = usePoll(() => api.verify(), [run], 30000);
  return (
    <section class="verify" aria-labelledby="verify-title" aria-live="polite">
      <h2 id="verify-title">Chain verification</h2>
      <ErrorBanner error={error} />
      {data && (data.valid
        ? <p class="ok" data-verify="valid"><strong>Valid:</strong> the chain is intact through event {data.seq ?? 0} ({data.events_checked} checked in this run, from {data.from_seq}).</p>
        : <p class="bad" data-verify="broken" role="alert"><strong>Broken</strong> at event {data.first_broken_seq}: {data.reason}</p>)}
      <button type="button" disabled={loading} onClick={() => setRun(run + 1)}>Verify again</button>
    </section>
  );
}

/**
 * The agent a filter names: an id as it stands; otherwise the agent with that name, the live one
 * when there is one (names are unique among non-revoked agents), else the newest revoked one.
 */
async function agentNamed(text: string): Promise<{ id: string; agent: Agent | null }> {
  if (isUuid(text)) return { id: text, agent: null };
  const { data } = await api.agents({ name: text });
  const agent = data.find((a) => isManagedAgentStatus(a.status)) ?? data[data.length - 1];
  if (!agent) throw new Error(`No agent is named "${text}".`);
  return { id: agent.id, agent };
}

const toIso = (v: string): string | undefined => (v ? new Date(v).toISOString() : undefined);

export function AuditPage() {
  const [draft, setDraft] = useState({ action: '', agent: '', since: '', until: '' });
  const [filters, setFilters] = useState<AuditFilters>({});
  const [shown, setShown] = useState<Agent | null>(null);
  const [error, setError] = useState<string | null>(null);
  const apply = async (e: Event) => {
    e.preventDefault();
    let since: string | undefined;
    let until: string | undefined;
    try {
      since = toIso(draft.since);
      until = toIso(draft.until);
    } catch {
      return setError('A date is not valid.');
    }
    try {
      const agent = draft.agent.trim() ? await agentNamed(draft.agent.trim()) : null;
      setShown(agent?.agent ?? null);
      setFilters({ action: draft.action.trim() || undefined, agent_id: agent?.id, since, until });
      setError(null);
    } catch (err) {
      setError(describeError(err));
    }
  };
  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title" tabIndex={-1}>Audit log</h1>
      <Verification />
      <form class="filters" role="search" aria-label="Filter audit events" onSubmit={(e) => void apply(e)}>
        <div class="field">
          <label for="a-action">Action</label>
          <input id="a-action" list="audit-actions" autoComplete="off" value={draft.action} onInput={(e) => setDraft({ ...draft, action: inputValue(e) })} />
          <datalist id="audit-actions">
            {['agent.created', 'agent.updated', 'agent.suspended', 'agent.activated', 'agent.revoked', 'agent_key.created', 'agent_key.revoked', 'api_key.created', 'api_key.revoked', 'agent.authenticated', 'agent.authentication_failed'].map((a) => <option key={a} value={a} />)}
          </datalist>
        </div>
        <div class="field">
          <label for="a-agent">Agent (name or id)</label>
          <input id="a-agent" autoComplete="off" spellcheck={false} value={draft.agent} onInput={(e) => setDraft({ ...draft, agent: inputValue(e) })} />
        </div>
        <div class="field">
          <label for="a-since">Since</label>
          <input id="a-since" type="datetime-local" value={draft.since} onInput={(e) => setDraft({ ...draft, since: inputValue(e) })} />
        </div>
        <div class="field">
          <label for="a-until">Until</label>
          <input id="a-until" type="datetime-local" value={draft.until} onInput={(e) => setDraft({ ...draft, until: inputValue(e) })} />
        </div>
        <div class="buttons"><button type="submit" class="primary">Filter</button></div>
      </form>
      {error && <p class="banner error" role="alert">{error}</p>}
      {shown && <p class="muted" data-filter-agent={shown.name}>Events about <a href={`#/agents/${shown.id}`}>{shown.name}</a> ({shown.status}).</p>}
      <AuditTable key={JSON.stringify(filters)} filters={filters} />
    </section>
  );
}
