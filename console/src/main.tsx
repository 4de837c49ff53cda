/** The CertusOrdo admin console: sign-in with an organization API key, hash routes, role-aware pages. */
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import './styles.css';
import { API_KEY_ROLE_RIGHTS } from '../../model/roles';
import { api, can, clearKey, describeError, Me, onUnauthorized, storedKey, storeKey } from './api';
import { AgentsPage } from './agents';
import { AgentPage } from './agent';
import { AuditPage } from './audit';
import { HelpPage } from './help';
import { inputValue } from './ui';
import { IdToggle } from './names';

/** The console reads the organization: a key below reader (an introspector's) cannot sign in. */
function consoleRefusal(me: Me): string | null {
  return can(me.role, 'reader') ? null : `This key has the ${me.role} role (${API_KEY_ROLE_RIGHTS[me.role]}): it is for a resource server, not the console. Sign in with a reader key or higher.`;
}

type Route = { page: 'agents' } | { page: 'agent'; id: string } | { page: 'audit' } | { page: 'help' };


function parseRoute(hash: string): Route {
  const m = /^#\/agents\/([0-9A-Za-z-]{1,64})$/.exec(hash);
  if (m) return { page: 'agent', id: m[1]! };
  if (hash === '#/audit') return { page: 'audit' };
  if (hash === '#/help') return { page: 'help' };
  return { page: 'agents' };
}

function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const f = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', f);
    return () => removeEventListener('hashchange', f);
  }, []);
  return route;
}

function SignIn({ onSignedIn, reason }: { onSignedIn: (me: Me) => void; reason: string | null }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(reason);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const me = await api.me(key.trim());
      const refusal = consoleRefusal(me);
      if (refusal) {
        setError(refusal);
        return;
      }
      storeKey(key.trim());
      setKey('');
      onSignedIn(me);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main id="main" class="signin">
      <h1>CertusOrdo console</h1>
      <form onSubmit={submit} aria-label="Sign in">
        <label for="api-key">Organization API key</label>
        <input id="api-key" type="password" required autoComplete="off" spellcheck={false} placeholder="aa_…" value={key} onInput={(e) => setKey(inputValue(e))} aria-describedby="api-key-help" />
        <p id="api-key-help" class="help">Kept in this tab's session storage only, and sent to this control plane as a Bearer token. Closing the tab or signing out forgets it.</p>
        {error && <p class="banner error" role="alert">{error}</p>}
        <button type="submit" class="primary" disabled={busy || !key.trim()}>Sign in</button>
      </form>
    </main>
  );
}

function App() {
  const [me, setMe] = useState<Me | null>(null);
  const [checking, setChecking] = useState(() => storedKey() !== null);
  const [reason, setReason] = useState<string | null>(null);
  const route = useRoute();
  const mainRef = useRef<HTMLElement>(null);

  useEffect(() => {
    if (storedKey()) {
      api.me().then((m) => {
        const refusal = consoleRefusal(m);
        if (!refusal) return setMe(m);
        clearKey();
        setReason(refusal);
      }, (e) => {
        clearKey();
        setReason(describeError(e));
      }).finally(() => setChecking(false));
    }
    return onUnauthorized(() => {
      clearKey();
      setMe(null);
      setReason('The API key was rejected (revoked?): sign in again.');
    });
  }, []);

  // Move focus to the page's heading on navigation (screen readers announce the new page).
  useEffect(() => {
    mainRef.current?.querySelector<HTMLElement>('h1')?.focus();
  }, [route.page, route.page === 'agent' ? route.id : '']);

  const signOut = () => {
    clearKey();
    setMe(null);
    setReason(null);
    location.hash = '';
  };

  if (checking) return <main id="main" class="signin"><p>Loading…</p></main>;
  if (!me) return <SignIn onSignedIn={(m) => { setReason(null); setMe(m); }} reason={reason} />;
  const current = route.page === 'agent' ? 'agents' : route.page;
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); mainRef.current?.focus(); }}>Skip to content</a>
      <header class="top">
        <span class="brand">CertusOrdo</span>
        <nav aria-label="Main">
          <a href="#/agents" aria-current={current === 'agents' ? 'page' : undefined}>Agents</a>
          <a href="#/audit" aria-current={current === 'audit' ? 'page' : undefined}>Audit</a>
          <a href="#/help" aria-current={current === 'help' ? 'page' : undefined}>Help</a>
        </nav>
        <span class="who">
          <span class="org" data-organization={me.organization_name}><span class="sr-only">Organization </span>{me.organization_name}</span>{' '}
          <IdToggle id={me.organization_id} of={`organization ${me.organization_name}`} />{' '}
          <span class={`badge role-${me.role}`} data-role={me.role}>{me.role}</span>
        </span>
        <button type="button" onClick={signOut}>Sign out</button>
      </header>
      {me.role === 'reader' && <p class="banner info">Read-only: this key has the reader role.</p>}
      <main id="main" ref={mainRef} tabIndex={-1}>
        {route.page === 'agents' && <AgentsPage role={me.role} />}
        {route.page === 'agent' && <AgentPage key={route.id} id={route.id} role={me.role} />}
        {route.page === 'audit' && <AuditPage />}
        {route.page === 'help' && <HelpPage />}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
