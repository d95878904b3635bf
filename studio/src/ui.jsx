// ui.jsx — small shared pieces: labelled fields with their error, status badges, the confirm
// dialog, the JSON view and formatting helpers.
import { useEffect, useRef, useState } from 'preact/hooks';

let uid = 0;
export function useId(prefix = 'f') {
  const r = useRef(null);
  if (r.current === null) r.current = `${prefix}-${++uid}`;
  return r.current;
}

// A label, the control (render prop gets id and aria props) and its error messages.
export function Field({ label, error, hint, children, class: cls }) {
  const id = useId();
  const errId = id + '-err';
  const hintId = id + '-hint';
  const described = [error ? errId : null, hint ? hintId : null].filter(Boolean).join(' ') || undefined;
  return (
    <div class={'field ' + (cls || '') + (error ? ' has-error' : '')}>
      <label for={id}>{label}</label>
      {children({ id, 'aria-invalid': error ? 'true' : undefined, 'aria-describedby': described })}
      {hint && <div class="hint" id={hintId}>{hint}</div>}
      {error && <div class="error" id={errId} role="alert">{Array.isArray(error) ? error.join(' ') : error}</div>}
    </div>
  );
}

export function Badge({ status }) {
  const s = String(status || '').toLowerCase();
  return <span class={'badge badge-' + s}>{label(s)}</span>;
}
function label(s) {
  return ({ succeeded: 'Succeeded', failed: 'Failed', running: 'Running', queued: 'Queued', waiting: 'Waiting',
    cancelled: 'Cancelled', success: 'Success', failure: 'Failed', retry: 'Retrying', skipped: 'Skipped',
    draft: 'Draft', active: 'Active', archived: 'Archived', inactive: 'Inactive', pending: 'Not run yet' })[s] || s;
}

// A modal confirmation (<dialog>, so focus is trapped and Escape cancels).
export function Confirm({ title, children, confirmLabel = 'Delete', danger = true, onConfirm, onCancel }) {
  const ref = useRef(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    const cancel = (e) => { e.preventDefault(); onCancel(); };
    d.addEventListener('cancel', cancel);
    return () => d.removeEventListener('cancel', cancel);
  }, []);
  return (
    <dialog ref={ref} class="dialog" aria-labelledby="confirm-title">
      <h2 id="confirm-title">{title}</h2>
      <div>{children}</div>
      <div class="actions">
        <button type="button" class="btn" onClick={onCancel} autofocus>Cancel</button>
        <button type="button" class={'btn ' + (danger ? 'btn-danger' : 'btn-primary')} onClick={onConfirm}>{confirmLabel}</button>
      </div>
    </dialog>
  );
}

export function JsonView({ value, summary = 'Show details', open = false }) {
  if (value === null || value === undefined) return <span class="muted">—</span>;
  return (
    <details class="json" open={open}>
      <summary>{summary}</summary>
      <pre>{JSON.stringify(value, null, 2)}</pre>
    </details>
  );
}

export function Notice({ kind = 'error', children }) {
  if (!children) return null;
  return <div class={'notice notice-' + kind} role={kind === 'error' ? 'alert' : 'status'}>{children}</div>;
}

export function Loading() { return <p class="muted" role="status">Loading…</p>; }

export const fmtCost = (c) => (c === null || c === undefined ? '—' : '$' + Number(c).toFixed(6).replace(/0{1,4}$/, ''));
export const fmtTokens = (t) => (t === null || t === undefined ? '—' : Number(t).toLocaleString('en-US'));
export function fmtMs(ms) {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60000)} min ${Math.round((ms % 60000) / 1000)} s`;
}
export function fmtDate(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return d.toLocaleString('en-GB', { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}
export function runDuration(run) {
  if (!run.started_at) return null;
  const end = run.finished_at ? new Date(run.finished_at) : new Date();
  return Math.max(0, end - new Date(run.started_at));
}

// Re-run `fn` every `ms` while mounted (and once at once); the latest fn is used.
export function usePoll(fn, ms, deps) {
  const saved = useRef(fn);
  saved.current = fn;
  useEffect(() => {
    let alive = true;
    let t;
    const tick = async () => {
      try { await saved.current(); } catch { /* shown by fn */ }
      if (alive) t = setTimeout(tick, ms);
    };
    tick();
    return () => { alive = false; clearTimeout(t); };
  }, deps);
}

export function useAsync(fn, deps) {
  const [state, set] = useState({ loading: true, data: null, error: null });
  const reload = async () => {
    try { set({ loading: false, data: await fn(), error: null }); }
    catch (e) { set({ loading: false, data: null, error: e }); }
  };
  useEffect(() => { set((s) => ({ ...s, loading: true })); reload(); }, deps);
  return [state, reload];
}
