/** The organization's audit log, with filters, and the chain verification result. */
import { useState } from 'preact/hooks';
import { AUDIT_PAGE_DEFAULT } from '../../model/limits';
import { api, AuditEvent } from './api';
import { ErrorBanner, inputValue, Time, usePoll } from './ui';

type AuditFilters = { agent_id?: string; action?: string; since?: string; until?: string };

function summary(e: AuditEvent): string {
  if (e.data === null || e.data === undefined) return '';
  const s = JSON.stringify(e.data);
  return s === '{}' ? '' : s;
}

/** A page of events (ordered by seq), with keyset pagination; polled so new events appear. */
export function AuditTable({ filters }: { filters: AuditFilters }) {
  const [cursor, setCursor] = useState<string | undefined>(undefined);
  const [previous, setPrevious] = useState<(string | undefined)[]>([]);
  const key = JSON.stringify(filters);
  const { data, error } = usePoll(() => api.audit({ ...filters, limit: AUDIT_PAGE_DEFAULT, cursor }), [key, cursor]);
  const page = previous.length + 1;
  return (
    <>
      <ErrorBanner error={error} />
      <div class="table-wrap" role="region" aria-label="Audit events table" tabIndex={0}>
        <table class="audit">
          <thead><tr><th scope="col">Seq</th><th scope="col">Time</th><th scope="col">Action</th><th scope="col">Outcome</th><th scope="col">Actor</th><th scope="col">Target</th><th scope="col">Reason</th><th scope="col">Data</th></tr></thead>
          <tbody>
            {data?.data.map((e) => (
              <tr key={e.id}>
                <td>{e.seq}</td>
                <td><Time iso={e.created_at} /></td>
                <td class="mono">{e.action}</td>
                <td>{e.outcome}</td>
                <td>{e.actor_type}{e.actor_id ? <span class="mono muted"> {e.actor_id}</span> : null}</td>
                <td>{e.target_type ?? ''}{e.target_id ? <span class="mono muted"> {e.target_id}</span> : null}</td>
                <td>{e.reason ?? ''}</td>
                <td class="mono small">{summary(e)}</td>
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

const toIso = (v: string): string | undefined => (v ? new Date(v).toISOString() : undefined);

export function AuditPage() {
  const [draft, setDraft] = useState({ action: '', agent_id: '', since: '', until: '' });
  const [filters, setFilters] = useState<AuditFilters>({});
  const [error, setError] = useState<string | null>(null);
  const apply = (e: Event) => {
    e.preventDefault();
    try {
      setFilters({ action: draft.action.trim() || undefined, agent_id: draft.agent_id.trim() || undefined, since: toIso(draft.since), until: toIso(draft.until) });
      setError(null);
    } catch {
      setError('A date is not valid.');
    }
  };
  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title" tabIndex={-1}>Audit log</h1>
      <Verification />
      <form class="filters" role="search" aria-label="Filter audit events" onSubmit={apply}>
        <div class="field">
          <label for="a-action">Action</label>
          <input id="a-action" list="audit-actions" autoComplete="off" value={draft.action} onInput={(e) => setDraft({ ...draft, action: inputValue(e) })} />
          <datalist id="audit-actions">
            {['agent.created', 'agent.updated', 'agent.suspended', 'agent.activated', 'agent.revoked', 'agent_key.created', 'agent_key.revoked', 'api_key.created', 'api_key.revoked', 'agent.authenticated', 'agent.authentication_failed'].map((a) => <option key={a} value={a} />)}
          </datalist>
        </div>
        <div class="field">
          <label for="a-agent">Agent id</label>
          <input id="a-agent" class="mono" autoComplete="off" value={draft.agent_id} onInput={(e) => setDraft({ ...draft, agent_id: inputValue(e) })} />
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
      <AuditTable key={JSON.stringify(filters)} filters={filters} />
    </section>
  );
}
