// prompts.jsx — the prompt library: prompts grouped by name with their versions, editing a
// version, "new version" (a copy of the latest), a side-by-side diff of two versions, and
// the {{ }} variables of the text checked against template_variables.
import { useEffect, useState } from 'preact/hooks';
import { getAll, patch, post } from './api.js';
import { Badge, Field, Loading, Notice, useAsync } from './ui.jsx';
import { templateVars } from './cond.js';
import { lineDiff } from './diff.js';
import { navigate } from './nav.js';

const STATUSES = [['draft', 'Draft'], ['active', 'Active'], ['archived', 'Archived']];

function VarCheck({ text, declared }) {
  const used = templateVars(text);
  const decl = (declared || []).map(String);
  const undeclared = used.filter((v) => !decl.includes(v));
  const unused = decl.filter((v) => !used.includes(v));
  return (
    <div class="varcheck" aria-live="polite">
      <strong>Variables in the text:</strong>{' '}
      {used.length ? used.map((v) => <code class={decl.includes(v) ? 'ok' : 'warn'}>{`{{${v}}}`}</code>) : <span class="muted">none</span>}
      {undeclared.length > 0 && <div class="warn-text">Not in the declared variables: {undeclared.join(', ')}. A run fails if its data lacks them; declare them so a run is checked before the AI is called.</div>}
      {unused.length > 0 && <div class="warn-text">Declared but not used in the text: {unused.join(', ')}.</div>}
      {!undeclared.length && !unused.length && used.length > 0 && <div class="ok-text">All variables are declared.</div>}
    </div>
  );
}

function VersionForm({ prompt, onSaved }) {
  const init = (p) => ({ system_prompt_text: p.system_prompt_text || '', model_name: p.model_name || '', category: p.category || '',
    status: p.status || 'draft', vars: (p.template_variables || []).join(', '), gen: p.generation_config ? JSON.stringify(p.generation_config, null, 2) : '' });
  const [f, setF] = useState(init(prompt));
  const [err, setErr] = useState(null);
  const [ok, setOk] = useState(false);
  useEffect(() => { setF(init(prompt)); }, [prompt.id, prompt.updated_at]);
  useEffect(() => { setErr(null); setOk(false); }, [prompt.id]);
  const varsList = f.vars.split(',').map((s) => s.trim()).filter(Boolean);
  const save = async (e) => {
    e.preventDefault();
    setOk(false);
    let gen = null;
    if (f.gen.trim()) { try { gen = JSON.parse(f.gen); } catch { setErr({ message: '', errors: { generation_config: ['This is not valid JSON.'] } }); return; } }
    try {
      await patch('/api/prompts/' + prompt.id, { system_prompt_text: f.system_prompt_text, model_name: f.model_name, category: f.category || null,
        status: f.status, template_variables: varsList, generation_config: gen });
      setErr(null); setOk(true); onSaved();
    } catch (x) { setErr(x); }
  };
  const fe = (k) => err && err.errors[k];
  return (
    <form onSubmit={save} class="card" aria-labelledby="vf-h">
      <h3 id="vf-h">Version {prompt.version}</h3>
      {err && err.message && !Object.keys(err.errors).length && <Notice>{err.message}</Notice>}
      {ok && <Notice kind="ok">Saved.</Notice>}
      <Field label="Instructions for the AI" error={fe('system_prompt_text')} hint="Write {{name}} where a value from the run's data goes.">
        {(p) => <textarea {...p} rows={8} value={f.system_prompt_text} onInput={(e) => setF({ ...f, system_prompt_text: e.target.value })} />}
      </Field>
      <VarCheck text={f.system_prompt_text} declared={varsList} />
      <div class="grid3">
        <Field label="Declared variables" error={fe('template_variables')} hint="Comma-separated, e.g. lead_name, company">{(p) => <input {...p} value={f.vars} onInput={(e) => setF({ ...f, vars: e.target.value })} />}</Field>
        <Field label="Model" error={fe('model_name')}>{(p) => <input {...p} value={f.model_name} onInput={(e) => setF({ ...f, model_name: e.target.value })} />}</Field>
        <Field label="Status" error={fe('status')}>{(p) => (
          <select {...p} value={f.status} onChange={(e) => setF({ ...f, status: e.target.value })}>
            {STATUSES.map(([v, l]) => <option value={v}>{l}</option>)}
          </select>)}</Field>
      </div>
      <div class="grid2">
        <Field label="Category (optional)" error={fe('category')}>{(p) => <input {...p} value={f.category} onInput={(e) => setF({ ...f, category: e.target.value })} />}</Field>
        <Field label="Generation settings (JSON, optional)" error={fe('generation_config')} hint='e.g. {"temperature": 0.2}'>{(p) => <textarea {...p} class="mono" rows={2} value={f.gen} onInput={(e) => setF({ ...f, gen: e.target.value })} />}</Field>
      </div>
      <div class="actions"><button class="btn btn-primary" type="submit">Save version {prompt.version}</button></div>
    </form>
  );
}

function Diff({ versions }) {
  const sorted = versions.slice().sort((a, b) => a.version - b.version);
  const [a, setA] = useState(sorted.length > 1 ? sorted[sorted.length - 2].id : sorted[0].id);
  const [b, setB] = useState(sorted[sorted.length - 1].id);
  const pa = sorted.find((p) => p.id === Number(a)) || sorted[0];
  const pb = sorted.find((p) => p.id === Number(b)) || sorted[0];
  const rows = lineDiff(pa.system_prompt_text, pb.system_prompt_text);
  const changed = rows.filter((r) => r[2] !== 'same').length;
  return (
    <section class="card" aria-labelledby="diff-h">
      <h3 id="diff-h">Compare versions</h3>
      <div class="grid2">
        <Field label="Left">{(p) => <select {...p} value={a} onChange={(e) => setA(e.target.value)}>{sorted.map((v) => <option value={v.id}>Version {v.version}</option>)}</select>}</Field>
        <Field label="Right">{(p) => <select {...p} value={b} onChange={(e) => setB(e.target.value)}>{sorted.map((v) => <option value={v.id}>Version {v.version}</option>)}</select>}</Field>
      </div>
      <p class="muted small" role="status">{changed ? `${changed} line${changed > 1 ? 's' : ''} differ.` : 'The instructions are the same.'}
        {pa.model_name !== pb.model_name ? ` Model: ${pa.model_name} → ${pb.model_name}.` : ''}</p>
      <div class="diff" role="table" aria-label={`Version ${pa.version} compared with version ${pb.version}`}>
        <div role="row" class="diff-row diff-head"><div role="columnheader">Version {pa.version}</div><div role="columnheader">Version {pb.version}</div></div>
        {rows.map(([l, r, k]) => (
          <div role="row" class={'diff-row diff-' + k}>
            <div role="cell" class="l">{l === null ? '' : (k === 'del' || k === 'change' ? <del>{l || ' '}</del> : l || ' ')}</div>
            <div role="cell" class="r">{r === null ? '' : (k === 'add' || k === 'change' ? <ins>{r || ' '}</ins> : r || ' ')}</div>
          </div>
        ))}
      </div>
    </section>
  );
}

function NewPrompt({ onCancel, onCreated }) {
  const [f, setF] = useState({ name: '', system_prompt_text: '', model_name: 'gemini-2.5-flash-preview-05-20' });
  const [err, setErr] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    try {
      await post('/api/prompts', { ...f, version: 1, status: 'draft', template_variables: templateVars(f.system_prompt_text) });
      onCreated(f.name);
    } catch (x) { setErr(x); }
  };
  const fe = (k) => err && err.errors[k];
  return (
    <form class="card" onSubmit={submit} aria-labelledby="np-h">
      <h2 id="np-h">New prompt</h2>
      {err && !Object.keys(err.errors).length && <Notice>{err.message}</Notice>}
      <div class="grid2">
        <Field label="Prompt name" error={fe('name')}>{(p) => <input {...p} value={f.name} onInput={(e) => setF({ ...f, name: e.target.value })} />}</Field>
        <Field label="Model" error={fe('model_name')}>{(p) => <input {...p} value={f.model_name} onInput={(e) => setF({ ...f, model_name: e.target.value })} />}</Field>
      </div>
      <Field label="Instructions for the AI" error={fe('system_prompt_text')} hint="Write {{name}} where a value from the run's data goes.">{(p) => <textarea {...p} rows={5} value={f.system_prompt_text} onInput={(e) => setF({ ...f, system_prompt_text: e.target.value })} />}</Field>
      <div class="actions"><button type="button" class="btn" onClick={onCancel}>Cancel</button><button type="submit" class="btn btn-primary">Create prompt</button></div>
    </form>
  );
}

export function Prompts({ name }) {
  const [state, reload] = useAsync(() => getAll('/api/prompts?sort=name'), []);
  const [creating, setCreating] = useState(false);
  const [sel, setSel] = useState(null);
  const [q, setQ] = useState('');
  const [msg, setMsg] = useState(null);
  const all = state.data || [];
  const groups = {};
  for (const p of all) (groups[p.name] = groups[p.name] || []).push(p);
  const names = Object.keys(groups).sort().filter((n) => !q || n.toLowerCase().includes(q.toLowerCase()));
  const versions = name && groups[name] ? groups[name].slice().sort((a, b) => b.version - a.version) : [];
  const current = versions.find((v) => v.id === sel) || versions[0];
  const newVersion = async () => {
    const latest = versions[0];
    try {
      const r = await post('/api/prompts', { name: latest.name, category: latest.category, version: latest.version + 1, system_prompt_text: latest.system_prompt_text,
        model_name: latest.model_name, generation_config: latest.generation_config, template_variables: latest.template_variables, status: 'draft' });
      setSel(r.data.id); setMsg(`Version ${r.data.version} created as a draft copy of version ${latest.version}.`);
      reload();
    } catch (x) { setMsg(x.message); }
  };
  return (
    <section aria-labelledby="pr-h">
      <div class="page-head">
        <h1 id="pr-h">Prompts</h1>
        {!creating && <button class="btn btn-primary" onClick={() => setCreating(true)}>New prompt</button>}
      </div>
      {creating && <NewPrompt onCancel={() => setCreating(false)} onCreated={async (n) => { await reload(); setCreating(false); setSel(null); navigate('#/prompts/' + encodeURIComponent(n)); }} />}
      {state.loading && !state.data ? <Loading /> : state.error ? <Notice>{state.error.message}</Notice> : (
        <div class="split">
          <nav class="card side" aria-label="Prompts by name">
            <Field label="Find a prompt">{(p) => <input {...p} type="search" value={q} onInput={(e) => setQ(e.target.value)} />}</Field>
            {names.length ? (
              <ul class="plain">
                {names.map((n) => {
                  const vs = groups[n];
                  const act = vs.find((v) => v.status === 'active');
                  return (
                    <li><a href={'#/prompts/' + encodeURIComponent(n)} class={n === name ? 'active' : ''} aria-current={n === name ? 'page' : undefined} onClick={() => { setSel(null); setMsg(null); }}>
                      <span>{n}</span> <span class="muted small">{vs.length} version{vs.length > 1 ? 's' : ''}{act ? ` · v${act.version} active` : ''}</span>
                    </a></li>
                  );
                })}
              </ul>
            ) : <p class="empty">No prompts yet.</p>}
          </nav>
          <div class="main-col">
            {!current ? <p class="empty">Choose a prompt on the left, or create one.</p> : (
              <>
                <div class="page-head">
                  <h2>{name}</h2>
                  <button class="btn" onClick={newVersion}>New version</button>
                </div>
                {msg && <Notice kind="ok">{msg}</Notice>}
                <div class="versions" role="group" aria-label="Versions">
                  {versions.map((v) => (
                    <button class={'btn btn-small' + (v.id === current.id ? ' btn-selected' : '')} aria-pressed={v.id === current.id ? 'true' : 'false'} onClick={() => setSel(v.id)}>
                      v{v.version} <Badge status={v.status} />
                    </button>
                  ))}
                </div>
                <VersionForm prompt={current} onSaved={reload} />
                {versions.length > 1 && <Diff key={name + versions.length} versions={versions} />}
              </>
            )}
          </div>
        </div>
      )}
    </section>
  );
}
