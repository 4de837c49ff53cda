/** A database time as it appears in API views: RFC 3339 in UTC, or null. */
export const iso = (d: Date | string | null): string | null => (d ? new Date(d).toISOString() : null);
