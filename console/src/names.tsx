/**
 * Names for the ids that audit events carry, so an operator reads "billing-bot" and "ci-pipeline"
 * rather than UUIDs, with the id a click away. Agents come from GET /v1/agents?id=…, API keys from
 * GET /v1/api-keys/names (any role may read both; neither shows a secret).
 */
import { useEffect, useState } from 'preact/hooks';
import { LIST_IDS_MAX } from '../../model/limits';
import { api } from './api';

export type NamedKind = 'agent' | 'api_key';
export interface Named { readonly name: string; /** The agent's status or the key's role (and "revoked"). */ readonly detail: string }
export interface Ref { readonly kind: NamedKind; readonly id: string }

/** Looked-up names for this tab: a name that is not there yet is fetched once; null: no such object (for this organization). */
const known = new Map<string, Named | null>();
const cacheKey = (kind: NamedKind, id: string) => `${kind}:${id}`;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

async function fetchNames(kind: NamedKind, ids: readonly string[]): Promise<void> {
  for (const part of chunks(ids, LIST_IDS_MAX)) {
    const found = new Map<string, Named>();
    if (kind === 'agent') {
      for (const a of (await api.agents({ id: part, limit: LIST_IDS_MAX })).data) found.set(a.id, { name: a.name, detail: a.status });
    } else {
      for (const k of (await api.apiKeyNames(part)).data) found.set(k.id, { name: k.name, detail: k.revoked ? `${k.role}, revoked` : k.role });
    }
    for (const id of part) known.set(cacheKey(kind, id), found.get(id) ?? null);
  }
}

/**
 * The names of `refs`, fetched for those not known yet. Agents are asked again whenever the refs
 * change (a page of events polled), so a rename or a suspension shows; keys' names never change.
 */
export function useNames(refs: readonly Ref[]): (kind: NamedKind, id: string) => Named | null | undefined {
  const [, setVersion] = useState(0);
  const signature = refs.map((r) => cacheKey(r.kind, r.id)).sort().join(',');
  useEffect(() => {
    let live = true;
    const wanted = (kind: NamedKind, fresh: boolean) => [...new Set(refs.filter((r) => r.kind === kind && (fresh || !known.has(cacheKey(kind, r.id)))).map((r) => r.id))];
    const agents = wanted('agent', true);
    const keys = wanted('api_key', false);
    if (agents.length === 0 && keys.length === 0) return undefined;
    Promise.all([agents.length ? fetchNames('agent', agents) : null, keys.length ? fetchNames('api_key', keys) : null]).then(
      () => live && setVersion((v) => v + 1),
      () => undefined, // names are a convenience: without them the ids stay readable
    );
    return () => {
      live = false;
    };
  }, [signature]);
  return (kind, id) => known.get(cacheKey(kind, id));
}

/** An id behind a small toggle: shown on a click, selectable for copying. */
export function IdToggle({ id, of }: { id: string; of: string }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button type="button" class="id-toggle" aria-expanded={open} aria-label={`${open ? 'Hide' : 'Show'} the id of ${of}`} onClick={() => setOpen(!open)}>id</button>
      {open && <span class="mono small id-value">{id}</span>}
    </>
  );
}

const shortId = (id: string) => `${id.slice(0, 8)}…`;

/** An agent or API key by name (an agent's name links to its page), its id a click away. */
export function NamedRef({ kind, id, named }: { kind: NamedKind; id: string; named: Named | null | undefined }) {
  const label = named ? named.name : shortId(id);
  return (
    <span class="ref" data-ref={kind}>
      {kind === 'agent' && named ? <a href={`#/agents/${id}`}>{named.name}</a> : <span class={named ? '' : 'mono'}>{label}</span>}
      {named && <span class="muted small"> ({named.detail})</span>}{' '}
      <IdToggle id={id} of={label} />
    </span>
  );
}
