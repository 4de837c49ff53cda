/**
 * Ids as requests carry them: path parameters and query filters. A UUID is case-insensitive (RFC
 * 9562), but the control plane names each thing by its lowercase spelling alone: tokens carry it,
 * caches are keyed by it, seals and audit events record it. A request that spelled an id otherwise
 * would reach the right row (PostgreSQL's uuid type ignores case) and then hand its own spelling to
 * everything else, so ids are canonicalized here, where they enter, before any handler sees them.
 *
 * Anything that is not a UUID passes unchanged: it names nothing, and the service answers as for any
 * unknown id (404, or an empty list), as it did before.
 */
import { z } from 'zod';
import { canonicalUuid } from '../../../model/ids';

/** A UUID in its canonical (lowercase) spelling; any other text unchanged. */
export function canonicalIdText(value: string): string {
  return canonicalUuid(value) ?? value;
}

/**
 * An id a request names in its path: build every such parameter on this (and query filters on
 * RequestIdFilter), so a route gets the canonical spelling without having to think of it.
 * `overwrite` keeps the field a plain string in the OpenAPI document.
 */
export const RequestId = z.string().overwrite(canonicalIdText);

/** An id in a query filter: the bound only hardens input (a UUID is far shorter), no client states it. */
export const RequestIdFilter = z.string().max(64).overwrite(canonicalIdText);
