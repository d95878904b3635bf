// workflows.jsx — the workflows list: search, filter by trigger and state, create, rename,
// activate/deactivate and delete (with a confirmation).
import { useState } from 'preact/hooks';
import { getAll, patch, post, del } from './api.js';
import { Badge, Confirm, Field, Loading, Notice, useAsync } from './ui.jsx';
import { navigate } from './nav.js';

function CreateForm({ onCancel }) {
  const [f, setF] = useState({ name: '', trigger_event: '', description: '' });
  const [err, setErr] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    try {
      const r = await post('/api/workflows', { ...f, is_active: false });
      navigate('#/workflows/' + r.data.id);
    } catch (x) { setErr(x); }
  };
  const fe = (k) => err && err.errors[k];
  return (
    <form class="card" onSubmit={submit} aria-labelledby="new-wf">
      <h2 id="new-wf">New workflow</h2>
      {err && !Object.keys(err.errors).length && <Notice>{err.message}</Notice>}
      <div class="grid2">
        <Field label="Name" error={fe('name')}>{(p) => <input {...p} value={f.name} onInput={(e) => setF({ ...f, name: e.target.value })} />}</Field>
        <Field label="Starts when this event happens" error={fe('trigger_event')} hint="For example lead.created">
          {(p) => <input {...p} value={f.trigger_event} onInput={(e) => setF({ ...f, trigger_event: e.target.value })} />}
        </Field>
      </div>
      <Field label="Description (optional)" error={fe('description')}>{(p) => <textarea {...p} rows={2} value={f.description} onInput={(e) => setF({ ...f, description: e.target.value })} />}</Field>
      <div class="actions">
        <button type="button" class="btn" onClick={onCancel}>Cancel</button>
        <button type="submit" class="btn btn-primary">Create and open</button>
      </div>
    </form>
  );
}

function Row({ wf, onChanged, onDelete }) {
  const [renaming, setRenaming] = useState(false);
  const [name, setName] = useState(wf.name);
  const [err, setErr] = useState(null);
  const save = async (e) => {
    e.preventDefault();
    try { await patch('/api/workflows/' + wf.id, { name }); setRenaming(false); setErr(null); onChanged(); }
    catch (x) { setErr(x); }
  };
  const toggle = async () => {
    try { await patch('/api/workflows/' + wf.id, { is_active: !wf.is_active }); onChanged(); }
    catch (x) { setErr(x); }
  };
  return (
    <li class="row card">
      <div class="row-main">
        {renaming ? (
          <form class="inline" onSubmit={save}>
            <Field label={`New name for ${wf.name}`} error={err && (err.errors.name || err.message)}>
              {(p) => <input {...p} value={name} onInput={(e) => setName(e.target.value)} autofocus />}
            </Field>
            <button class="btn btn-primary btn-small" type="submit">Save name</button>
            <button class="btn btn-small" type="button" onClick={() => { setRenaming(false); setName(wf.name); setErr(null); }}>Cancel</button>
          </form>
        ) : (
          <>
            <a class="row-title" href={'#/workflows/' + wf.id}>{wf.name}</a>
            <div class="muted small">Starts on <code>{wf.trigger_event}</code>{wf.description ? ' · ' + wf.description : ''}</div>
          </>
        )}
      </div>
      <div class="row-side">
        <Badge status={wf.is_active ? 'active' : 'inactive'} />
        <button class="btn btn-small" onClick={toggle} aria-label={(wf.is_active ? 'Deactivate ' : 'Activate ') + wf.name}>{wf.is_active ? 'Deactivate' : 'Activate'}</button>
        {!renaming && <button class="btn btn-small" onClick={() => setRenaming(true)} aria-label={'Rename ' + wf.name}>Rename</button>}
        <button class="btn btn-small btn-danger-outline" onClick={() => onDelete(wf)} aria-label={'Delete ' + wf.name}>Delete</button>
      </div>
      {!renaming && err && <Notice>{err.message}</Notice>}
    </li>
  );
}

export function Workflows() {
  const [state, reload] = useAsync(() => getAll('/api/workflows?sort=-updated_at'), []);
  const [q, setQ] = useState('');
  const [trigger, setTrigger] = useState('');
  const [active, setActive] = useState('');
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState(null);
  const [msg, setMsg] = useState(null);
  const all = state.data || [];
  const triggers = [...new Set(all.map((w) => w.trigger_event))].sort();
  const shown = all.filter((w) =>
    (!q || (w.name + ' ' + (w.description || '')).toLowerCase().includes(q.toLowerCase())) &&
    (!trigger || w.trigger_event === trigger) &&
    (active === '' || String(w.is_active) === active));
  const doDelete = async () => {
    const w = deleting;
    setDeleting(null);
    try { await del('/api/workflows/' + w.id); await reload(); setMsg({ kind: 'ok', text: `“${w.name}” was deleted.` }); }
    catch (x) { setMsg({ kind: 'error', text: x.message }); }
  };
  return (
    <section aria-labelledby="wf-h">
      <div class="page-head">
        <h1 id="wf-h">Workflows</h1>
        {!creating && <button class="btn btn-primary" onClick={() => setCreating(true)}>New workflow</button>}
      </div>
      {creating && <CreateForm onCancel={() => setCreating(false)} />}
      {msg && <Notice kind={msg.kind}>{msg.text}</Notice>}
      <div class="filters" role="search">
        <Field label="Search">{(p) => <input {...p} type="search" value={q} onInput={(e) => setQ(e.target.value)} placeholder="Name or description" />}</Field>
        <Field label="Trigger">{(p) => (
          <select {...p} value={trigger} onChange={(e) => setTrigger(e.target.value)}>
            <option value="">All triggers</option>
            {triggers.map((t) => <option value={t}>{t}</option>)}
          </select>)}</Field>
        <Field label="State">{(p) => (
          <select {...p} value={active} onChange={(e) => setActive(e.target.value)}>
            <option value="">Active and inactive</option>
            <option value="true">Active</option>
            <option value="false">Inactive</option>
          </select>)}</Field>
      </div>
      {state.loading && !state.data ? <Loading /> : state.error ? <Notice>{state.error.message}</Notice> : (
        shown.length ? (
          <ul class="list">{shown.map((w) => <Row key={w.id} wf={w} onChanged={reload} onDelete={setDeleting} />)}</ul>
        ) : <p class="empty">{all.length ? 'No workflow matches these filters.' : 'No workflows yet. Create the first one.'}</p>
      )}
      {deleting && (
        <Confirm title={`Delete “${deleting.name}”?`} onCancel={() => setDeleting(null)} onConfirm={doDelete}>
          <p>Its steps and its run history are deleted too. This cannot be undone.</p>
        </Confirm>
      )}
    </section>
  );
}
