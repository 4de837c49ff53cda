/** Reads an environment variable where there is one (Node, Bun, Deno with --allow-env); undefined elsewhere. */
export function readEnv(name: string): string | undefined {
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  const value = proc?.env?.[name]?.trim();
  return value ? value : undefined;
}

export const DEFAULT_BASE_URL = 'http://127.0.0.1:8080';

/** An explicit base URL, else `CERTUSORDO_ENDPOINT`, else the local default. */
export function resolveBaseUrl(explicit: string | undefined): string {
  return explicit ?? readEnv('CERTUSORDO_ENDPOINT') ?? DEFAULT_BASE_URL;
}
