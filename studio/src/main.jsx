// main.jsx — the Studio's shell: sign-in, the navigation and a hash router over the screens.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { session, setSignedOutHandler, signIn, signOut } from './api.js';
import { Field, Notice } from './ui.jsx';
import { Workflows } from './workflows.jsx';
import { Editor } from './editor.jsx';
import { Prompts } from './prompts.jsx';
import { Runs, RunDetail } from './runs.jsx';
import { Overview } from './overview.jsx';
import './style.css';

import { clearGuard, isBlocked } from './nav.js';

let currentHash = location.hash;

function useRoute() {
  const [hash, setHash] = useState(location.hash || '#/workflows');
  useEffect(() => {
    const on = () => {
      if (location.hash === currentHash) return;
      if (isBlocked() && !window.confirm('You have unsaved changes. Leave this page and lose them?')) {
        history.replaceState(null, '', currentHash); // stay
        return;
      }
      clearGuard();
      currentHash = location.hash;
      setHash(location.hash || '#/workflows');
    };
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return hash;
}

function SignIn({ onDone }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [err, setErr] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setErr(null);
    try { await signIn(email, password); onDone(); }
    catch (x) { setErr(x); }
    finally { setBusy(false); }
  };
  const fieldErr = (f) => err && err.errors && err.errors[f];
  return (
    <main class="signin" id="main">
      <form class="card signin-card" onSubmit={submit} noValidate>
        <h1>AI Automation Studio</h1>
        <p class="muted">Sign in to build and watch your automations.</p>
        {err && !Object.keys(err.errors || {}).length && <Notice>{err.message}</Notice>}
        <Field label="Email" error={fieldErr('email')}>
          {(p) => <input {...p} type="email" autocomplete="username" value={email} onInput={(e) => setEmail(e.target.value)} required />}
        </Field>
        <Field label="Password" error={fieldErr('password')}>
          {(p) => <input {...p} type="password" autocomplete="current-password" value={password} onInput={(e) => setPassword(e.target.value)} required />}
        </Field>
        <button class="btn btn-primary btn-block" type="submit" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
      </form>
    </main>
  );
}

const NAV = [
  ['#/overview', 'Overview'],
  ['#/workflows', 'Workflows'],
  ['#/prompts', 'Prompts'],
  ['#/runs', 'Runs'],
];

function Shell({ hash, user }) {
  const [menuOpen, setMenuOpen] = useState(false);
  const parts = hash.replace(/^#\/?/, '').split(/[/?]/);
  let screen;
  if (parts[0] === 'workflows' && parts[1]) screen = <Editor id={parts[1]} key={parts[1]} />;
  else if (parts[0] === 'prompts') screen = <Prompts name={parts[1] ? decodeURIComponent(parts[1]) : null} />;
  else if (parts[0] === 'runs' && parts[1]) screen = <RunDetail id={parts[1]} key={parts[1]} />;
  else if (parts[0] === 'runs') screen = <Runs query={hash.split('?')[1] || ''} />;
  else if (parts[0] === 'overview') screen = <Overview />;
  else screen = <Workflows />;
  useEffect(() => { setMenuOpen(false); const m = document.getElementById('main'); if (m) m.focus({ preventScroll: true }); }, [hash]);
  return (
    <div class="shell">
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById('main').focus(); }}>Skip to content</a>
      <header class="topbar">
        <span class="brand">AI Automation Studio</span>
        <button class="btn menu-btn" aria-expanded={menuOpen ? 'true' : 'false'} aria-controls="nav" onClick={() => setMenuOpen(!menuOpen)}>Menu</button>
        <nav id="nav" class={menuOpen ? 'open' : ''} aria-label="Main">
          {NAV.map(([h, l]) => (
            <a href={h} class={hash.startsWith(h) ? 'active' : ''} aria-current={hash.startsWith(h) ? 'page' : undefined}>{l}</a>
          ))}
        </nav>
        <div class="user">
          <span class="muted user-email">{user && user.email}</span>
          <button class="btn btn-small" onClick={() => signOut()}>Sign out</button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>{screen}</main>
    </div>
  );
}

function App() {
  const [s, setS] = useState(session());
  const hash = useRoute();
  useEffect(() => { setSignedOutHandler(() => setS(null)); }, []);
  if (!s) return <SignIn onDone={() => setS(session())} />;
  return <Shell hash={hash} user={s.user} />;
}

window.addEventListener('beforeunload', (e) => {
  if (isBlocked()) { e.preventDefault(); e.returnValue = ''; }
});
render(<App />, document.getElementById('app'));
