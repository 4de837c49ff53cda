/** Small shared pieces: times, errors, dialogs, the polling hook. */
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useId, useRef, useState } from 'preact/hooks';
import { describeError } from './api';

export const POLL_MS = 3000;

export const inputValue = (e: Event): string => (e.currentTarget as HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement).value;
export const inputChecked = (e: Event): boolean => (e.currentTarget as HTMLInputElement).checked;

const rtf = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [['year', 31536000], ['month', 2592000], ['week', 604800], ['day', 86400], ['hour', 3600], ['minute', 60], ['second', 1]];

export function relative(iso: string, now = Date.now()): string {
  const s = (new Date(iso).getTime() - now) / 1000;
  for (const [unit, secs] of UNITS) if (Math.abs(s) >= secs || unit === 'second') return rtf.format(Math.round(s / secs), unit);
  return iso;
}

export function exact(iso: string): string {
  return new Date(iso).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

/** A time shown relative ("3 minutes ago") and exact (UTC), machine-readable in datetime. */
export function Time({ iso, never = 'never' }: { iso: string | null; never?: string }) {
  if (!iso) return <span class="muted">{never}</span>;
  return (
    <span class="time">
      <time dateTime={iso} title={exact(iso)}>{relative(iso)}</time>
      <span class="exact">{exact(iso)}</span>
    </span>
  );
}

export function ErrorBanner({ error }: { error: unknown }) {
  if (!error) return null;
  return <p class="banner error" role="alert">{describeError(error)}</p>;
}

export function Notice({ text }: { text: string | null }) {
  return <p class="banner notice" role="status" aria-live="polite">{text ?? ''}</p>;
}

/** A rule text from model/ (Markdown code spans in backticks), its code spans shown as <code>. */
export function RuleText({ text }: { text: string }) {
  return <>{text.split('`').map((part, i) => (i % 2 ? <code key={i}>{part}</code> : part))}</>;
}

export function StatusBadge({ status }: { status: string }) {
  return <span class={`badge status-${status}`}>{status}</span>;
}

/** A modal on the native <dialog>: focus moves in, Escape closes, focus returns to the opener. */
export function Modal({ title, onClose, children }: { title: string; onClose: () => void; children: ComponentChildren }) {
  const ref = useRef<HTMLDialogElement>(null);
  const closeRef = useRef(onClose);
  closeRef.current = onClose;
  const id = useId();
  useEffect(() => {
    const d = ref.current!;
    const opener = document.activeElement as HTMLElement | null;
    const onCloseEvent = () => closeRef.current();
    d.addEventListener('close', onCloseEvent);
    if (!d.open) d.showModal();
    return () => {
      d.removeEventListener('close', onCloseEvent);
      if (d.open) d.close();
      if (opener && document.contains(opener)) opener.focus();
    };
  }, []);
  return (
    <dialog ref={ref} aria-labelledby={id} class="modal">
      <h2 id={id}>{title}</h2>
      {children}
    </dialog>
  );
}

/**
 * Loads now and every POLL_MS while the tab is visible (the live status): another operator's or
 * Terraform's change shows within a few seconds. `reload` refreshes at once (after a mutation).
 */
export interface Polled<T> { data: T | null; error: unknown; loading: boolean; reload: () => Promise<void> }

export function usePoll<T>(load: () => Promise<T>, deps: unknown[], intervalMs = POLL_MS): Polled<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const gen = useRef(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  const run = useCallback(async (reset: boolean) => {
    const mine = ++gen.current;
    if (reset) setLoading(true);
    try {
      const d = await loadRef.current();
      if (mine === gen.current) {
        setData(d);
        setError(null);
      }
    } catch (e) {
      if (mine === gen.current) setError(e);
    } finally {
      if (mine === gen.current) setLoading(false);
    }
  }, []);
  useEffect(() => {
    setData(null);
    void run(true);
    const t = setInterval(() => {
      if (!document.hidden) void run(false);
    }, intervalMs);
    return () => {
      clearInterval(t);
      gen.current++;
    };
  }, deps);
  return { data, error, loading, reload: () => run(false) };
}

/** The one-time secret: shown once, with a copy button and a clear warning. */
export function SecretOnce({ secret, label }: { secret: string; label: string }) {
  const [copied, setCopied] = useState<string | null>(null);
  const inputRef = useRef<HTMLInputElement>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied('Copied to the clipboard.');
    } catch {
      inputRef.current?.select();
      setCopied('Selected: press Ctrl+C (⌘C) to copy.');
    }
  };
  return (
    <div class="secret">
      <p class="warning" role="alert"><strong>Store this secret now: you will not see it again.</strong> The control plane keeps only the public key.</p>
      <label for="one-time-secret">{label}</label>
      <div class="row">
        <input id="one-time-secret" ref={inputRef} class="mono" readOnly value={secret} data-secret onFocus={(e) => (e.currentTarget as HTMLInputElement).select()} />
        <button type="button" onClick={copy}>Copy</button>
      </div>
      <p role="status" class="muted">{copied ?? ''}</p>
    </div>
  );
}

/** "a:b c:d, e" → ["a:b", "c:d", "e"] */
export const parseScopes = (s: string): string[] => s.split(/[\s,]+/).map((x) => x.trim()).filter(Boolean);

/** "team=payments\nowner=ops" → {team: "payments", owner: "ops"}; throws on a line without "=". */
export function parseMetadata(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [i, raw] of s.split('\n').entries()) {
    const line = raw.trim();
    if (!line) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new Error(`Metadata line ${i + 1}: use key=value`);
    out[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return out;
}
export const formatMetadata = (m: Record<string, string>): string => Object.entries(m).map(([k, v]) => `${k}=${v}`).join('\n');
