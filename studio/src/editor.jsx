// editor.jsx — one workflow: its settings and its ordered steps as a vertical flow. Steps are
// edited locally and written on Save (POST/PATCH/DELETE /api/workflow-steps, step_order =
// position); a 422 lands on the field it names. Leaving with unsaved changes asks first.
import { useEffect, useRef, useState } from 'preact/hooks';
import { get, getAll, patch, post, del } from './api.js';
import { Badge, Confirm, Field, Loading, Notice } from './ui.jsx';
import { OPS, emptyGroup, fromRules, toRules, templateVars } from './cond.js';
import { navigate, setGuard } from './nav.js';

export const STEP_TYPES = [
  ['AI_PROMPT', 'Ask the AI'],
  ['UPDATE_CRM_FIELD', 'Update a CRM field'],
  ['SEND_NOTIFICATION', 'Send a notification'],
  ['WEBHOOK', 'Call a webhook'],
];
const typeLabel = (t) => (STEP_TYPES.find(([k]) => k === t) || [t, t])[1];

let keySeq = 0;
function toLocal(s) {
  const cfg = s.step_config && typeof s.step_config === 'object' && !Array.isArray(s.step_config) ? s.step_config : {};
  const group = fromRules(s.condition_rules);
  return {
    key: 'k' + ++keySeq, id: s.id, name: s.name || '', step_type: s.step_type || 'AI_PROMPT',
    prompt_id: s.prompt_id ?? null, config: { ...cfg }, delay_minutes: s.delay_minutes ?? 0,
    group: group || emptyGroup(), advanced: group ? null : JSON.stringify(s.condition_rules, null, 2),
    open: false,
  };
}

// The body written for a local step at position i; a bad advanced condition is an error.
function toBody(s, i, workflowId) {
  let rules;
  if (s.advanced !== null) {
    try { rules = s.advanced.trim() ? JSON.parse(s.advanced) : null; }
    catch { return { error: { condition_rules: ['This is not valid JSON.'] } }; }
  } else rules = toRules(s.group);
  const config = { ...s.config };
  for (const k of Object.keys(config)) if (config[k] === '' || config[k] === undefined) delete config[k];
  if (config.retry && !config.retry.attempts) delete config.retry;
  return {
    body: {
      workflow_id: Number(workflowId), step_order: i + 1, name: s.name, step_type: s.step_type,
      prompt_id: s.step_type === 'AI_PROMPT' ? s.prompt_id : null,
      step_config: Object.keys(config).length ? config : null, condition_rules: rules,
      delay_minutes: Number(s.delay_minutes) || 0,
    },
  };
}

function ConditionBuilder({ step, set, errors }) {
  const g = step.group;
  const setG = (ng) => set({ ...step, group: ng });
  const setRule = (i, r) => setG({ ...g, rules: g.rules.map((x, k) => (k === i ? r : x)) });
  if (step.advanced !== null) {
    return (
      <fieldset class="cond">
        <legend>Run this step only when</legend>
        <Field label="Condition (JSON)" error={errors.condition_rules} hint="This condition is too complex for the builder; edit it as JSON.">
          {(p) => <textarea {...p} rows={5} class="mono" value={step.advanced} onInput={(e) => set({ ...step, advanced: e.target.value })} />}
        </Field>
        <button type="button" class="btn btn-small" onClick={() => set({ ...step, advanced: null, group: emptyGroup() })}>Replace with a simple condition</button>
      </fieldset>
    );
  }
  return (
    <fieldset class="cond">
      <legend>Run this step only when</legend>
      {g.rules.length === 0 && <p class="muted small">Always runs. Add a rule to run it only in some cases.</p>}
      {g.rules.length > 1 && (
        <Field label="Combine the rules">{(p) => (
          <select {...p} value={g.mode} onChange={(e) => setG({ ...g, mode: e.target.value })}>
            <option value="all">All rules are true</option>
            <option value="any">Any rule is true</option>
          </select>)}</Field>
      )}
      {g.rules.length > 0 && (
        <label class="check"><input type="checkbox" checked={g.negate} onChange={(e) => setG({ ...g, negate: e.target.checked })} /> Run when this is <strong>not</strong> the case</label>
      )}
      {g.rules.map((r, i) => (
        <div class="rule" key={i}>
          <Field label={`Rule ${i + 1}: value`} hint="e.g. input.score or steps.1.text">{(p) => <input {...p} class="mono" value={r.path} onInput={(e) => setRule(i, { ...r, path: e.target.value })} />}</Field>
          <Field label="Test">{(p) => (
            <select {...p} value={r.op} onChange={(e) => setRule(i, { ...r, op: e.target.value, value: e.target.value === 'exists' ? 'true' : r.value })}>
              {OPS.map(([o, l]) => <option value={o}>{l}</option>)}
            </select>)}</Field>
          {r.op === 'exists' ? (
            <Field label="Expected">{(p) => (
              <select {...p} value={r.value === 'false' ? 'false' : 'true'} onChange={(e) => setRule(i, { ...r, value: e.target.value })}>
                <option value="true">Yes</option><option value="false">No</option>
              </select>)}</Field>
          ) : (
            <Field label="Compared with" hint={r.op === 'in' ? 'Separate values with commas' : undefined}>{(p) => <input {...p} value={r.value} onInput={(e) => setRule(i, { ...r, value: e.target.value })} />}</Field>
          )}
          <label class="check"><input type="checkbox" checked={r.negate} onChange={(e) => setRule(i, { ...r, negate: e.target.checked })} /> Not</label>
          <button type="button" class="btn btn-small btn-danger-outline" onClick={() => setG({ ...g, rules: g.rules.filter((_, k) => k !== i) })} aria-label={`Remove rule ${i + 1}`}>Remove</button>
        </div>
      ))}
      {errors.condition_rules && <div class="error" role="alert">{errors.condition_rules.join(' ')}</div>}
      <div class="actions-left">
        <button type="button" class="btn btn-small" onClick={() => setG({ ...g, rules: [...g.rules, { path: '', op: '==', value: '', negate: false }] })}>Add rule</button>
        <button type="button" class="btn btn-small btn-link" onClick={() => set({ ...step, advanced: JSON.stringify(toRules(g), null, 2) })}>Edit as JSON</button>
      </div>
    </fieldset>
  );
}

function StepForm({ step, set, prompts, errors, index }) {
  const cfg = step.config;
  const setCfg = (k, v) => set({ ...step, config: { ...cfg, [k]: v } });
  const byName = {};
  for (const p of prompts) (byName[p.name] = byName[p.name] || []).push(p);
  const current = prompts.find((p) => p.id === step.prompt_id);
  const promptName = current ? current.name : '';
  const versions = (byName[promptName] || []).slice().sort((a, b) => b.version - a.version);
  const pickName = (n) => {
    const vs = (byName[n] || []).slice().sort((a, b) => b.version - a.version);
    const pick = vs.find((p) => p.status === 'active') || vs[0];
    set({ ...step, prompt_id: pick ? pick.id : null });
  };
  const e = (k) => errors[k] || errors['step_config.' + k];
  const cfgErr = errors.step_config;
  return (
    <div class="step-form">
      <div class="grid2">
        <Field label="Step name" error={errors.name}>{(p) => <input {...p} value={step.name} onInput={(ev) => set({ ...step, name: ev.target.value })} />}</Field>
        <Field label="What this step does" error={errors.step_type}>{(p) => (
          <select {...p} value={step.step_type} onChange={(ev) => set({ ...step, step_type: ev.target.value })}>
            {STEP_TYPES.map(([k, l]) => <option value={k}>{l}</option>)}
            {!STEP_TYPES.some(([k]) => k === step.step_type) && <option value={step.step_type}>{step.step_type}</option>}
          </select>)}</Field>
      </div>
      {step.step_type === 'AI_PROMPT' && (
        <>
          <div class="grid2">
            <Field label="Prompt" error={errors.prompt_id}>{(p) => (
              <select {...p} value={promptName} onChange={(ev) => pickName(ev.target.value)}>
                <option value="">Choose a prompt…</option>
                {Object.keys(byName).sort().map((n) => <option value={n}>{n}</option>)}
              </select>)}</Field>
            <Field label="Prompt version">{(p) => (
              <select {...p} value={step.prompt_id ?? ''} disabled={!versions.length} onChange={(ev) => set({ ...step, prompt_id: Number(ev.target.value) })}>
                {versions.map((v) => <option value={v.id}>Version {v.version} ({v.status})</option>)}
              </select>)}</Field>
          </div>
          <Field label="Message sent to the AI" error={e('input')} hint="Use {{input.name}} for the run's data and {{steps.1.text}} for an earlier step's answer. Empty: all of the run's input.">
            {(p) => <textarea {...p} rows={3} value={cfg.input || ''} onInput={(ev) => setCfg('input', ev.target.value)} />}
          </Field>
          <fieldset class="radios">
            <legend>The AI answers with</legend>
            <label class="check"><input type="radio" name={'out-' + step.key} checked={cfg.output !== 'json'} onChange={() => setCfg('output', '')} /> Text</label>
            <label class="check"><input type="radio" name={'out-' + step.key} checked={cfg.output === 'json'} onChange={() => setCfg('output', 'json')} /> Structured data (JSON)</label>
          </fieldset>
        </>
      )}
      {step.step_type === 'UPDATE_CRM_FIELD' && (
        <div class="grid2">
          <Field label="CRM field to update" error={e('field')}>{(p) => <input {...p} value={cfg.field || ''} onInput={(ev) => setCfg('field', ev.target.value)} />}</Field>
          <Field label="New value" error={e('value')} hint="Can use {{steps.1.text}}">{(p) => <input {...p} value={cfg.value || ''} onInput={(ev) => setCfg('value', ev.target.value)} />}</Field>
        </div>
      )}
      {step.step_type === 'SEND_NOTIFICATION' && (
        <div class="grid2">
          <Field label="Send to" error={e('to')} hint="A user, team or channel name">{(p) => <input {...p} value={cfg.to || ''} onInput={(ev) => setCfg('to', ev.target.value)} />}</Field>
          <Field label="Message" error={e('text')}>{(p) => <textarea {...p} rows={2} value={cfg.text || ''} onInput={(ev) => setCfg('text', ev.target.value)} />}</Field>
        </div>
      )}
      {step.step_type === 'WEBHOOK' && (
        <div class="grid2">
          <Field label="Address (URL)" error={e('url')}>{(p) => <input {...p} type="url" value={cfg.url || ''} onInput={(ev) => setCfg('url', ev.target.value)} />}</Field>
          <Field label="Method">{(p) => (
            <select {...p} value={cfg.method || 'POST'} onChange={(ev) => setCfg('method', ev.target.value === 'POST' ? '' : ev.target.value)}>
              <option>POST</option><option>PUT</option><option>PATCH</option>
            </select>)}</Field>
        </div>
      )}
      {cfgErr && <div class="error" role="alert">{cfgErr.join(' ')}</div>}
      <ConditionBuilder step={step} set={set} errors={errors} />
      <div class="grid3">
        <Field label="Wait before this step (minutes)" error={errors.delay_minutes}>{(p) => <input {...p} type="number" min="0" value={step.delay_minutes} onInput={(ev) => set({ ...step, delay_minutes: ev.target.value })} />}</Field>
        <Field label="Tries if it fails" error={e('retry') || e('retry.attempts')} hint="Empty: 3">{(p) => (
          <input {...p} type="number" min="1" max="20" value={(cfg.retry && cfg.retry.attempts) || ''}
            onInput={(ev) => setCfg('retry', { ...(cfg.retry || {}), attempts: ev.target.value === '' ? undefined : Number(ev.target.value) })} />)}</Field>
        <Field label="Save the result as" error={e('save_as')} hint="Optional name later steps can use">{(p) => <input {...p} class="mono" value={cfg.save_as || ''} onInput={(ev) => setCfg('save_as', ev.target.value)} />}</Field>
      </div>
    </div>
  );
}

function TestRun({ wf, steps, prompts, onClose }) {
  // one field per variable the run's input needs: prompts' template_variables and {{ }}
  // names, the steps' {{input.x}}, and conditions' input paths
  const vars = [];
  const add = (v) => { v = v.replace(/^input\./, ''); if (!v.includes('.') && !vars.includes(v) && !['event', 'object_id', 'steps', 'input'].includes(v) && !steps.some((s) => s.config.save_as === v)) vars.push(v); };
  const walk = (x) => { if (typeof x === 'string') templateVars(x).forEach(add); else if (x && typeof x === 'object') Object.values(x).forEach(walk); };
  for (const s of steps) {
    const p = prompts.find((q) => q.id === s.prompt_id);
    if (s.step_type === 'AI_PROMPT' && p) { (p.template_variables || []).forEach((v) => add(String(v))); templateVars(p.system_prompt_text).forEach(add); }
    walk(s.config);
    for (const r of s.group.rules) if (r.path.startsWith('input.')) add(r.path);
  }
  const [values, setValues] = useState(Object.fromEntries(vars.map((v) => [v, ''])));
  const [objectId, setObjectId] = useState('');
  const [asJson, setAsJson] = useState(false);
  const [json, setJson] = useState('{}');
  const [err, setErr] = useState(null);
  const typed = (t) => (/^-?\d+(\.\d+)?$/.test(t.trim()) ? Number(t) : t === 'true' ? true : t === 'false' ? false : t);
  const start = async (ev) => {
    ev.preventDefault();
    let context;
    if (asJson) {
      try { context = JSON.parse(json); } catch { setErr({ message: 'The context is not valid JSON.', errors: {} }); return; }
    } else context = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== '').map(([k, v]) => [k, typed(v)]));
    try {
      const r = await post(`/api/workflows/${wf.id}/runs`, { object_id: objectId || null, context });
      navigate('#/runs/' + r.data.id);
    } catch (x) { setErr(x); }
  };
  return (
    <form class="card testrun" onSubmit={start} aria-labelledby="tr-h">
      <h2 id="tr-h">Test run</h2>
      <p class="muted">Runs “{wf.name}” once now with the data below{wf.is_active ? '' : ' (it does not need to be active)'}.</p>
      {err && <Notice>{err.message}{err.errors && Object.entries(err.errors).map(([k, m]) => ` ${k}: ${m.join(' ')}`)}</Notice>}
      <Field label="Record id (optional)" hint="The CRM record this run is about, e.g. lead-42">{(p) => <input {...p} value={objectId} onInput={(e) => setObjectId(e.target.value)} />}</Field>
      <label class="check"><input type="checkbox" checked={asJson} onChange={(e) => { setAsJson(e.target.checked); if (e.target.checked) setJson(JSON.stringify(Object.fromEntries(Object.entries(values).map(([k, v]) => [k, typed(v)])), null, 2)); }} /> Type the data as JSON</label>
      {asJson ? (
        <Field label="Run data (JSON object)">{(p) => <textarea {...p} class="mono" rows={6} value={json} onInput={(e) => setJson(e.target.value)} />}</Field>
      ) : vars.length ? (
        <div class="grid2">{vars.map((v) => <Field label={v}>{(p) => <input {...p} value={values[v]} onInput={(e) => setValues({ ...values, [v]: e.target.value })} />}</Field>)}</div>
      ) : <p class="muted">This workflow uses no input values.</p>}
      <div class="actions">
        <button type="button" class="btn" onClick={onClose}>Close</button>
        <button type="submit" class="btn btn-primary">Start test run</button>
      </div>
    </form>
  );
}

export function Editor({ id }) {
  const [wf, setWf] = useState(null);
  const [orig, setOrig] = useState({ wf: null, steps: [] });
  const [steps, setSteps] = useState([]);
  const [prompts, setPrompts] = useState([]);
  const [errors, setErrors] = useState({});
  const [wfErrors, setWfErrors] = useState({});
  const [notice, setNotice] = useState(null);
  const [loadErr, setLoadErr] = useState(null);
  const [saving, setSaving] = useState(false);
  const [testing, setTesting] = useState(false);
  const [removing, setRemoving] = useState(null);
  const [live, setLive] = useState('');
  const dragFrom = useRef(null);

  const load = async () => {
    try {
      const [w, s, p] = await Promise.all([get('/api/workflows/' + id), getAll(`/api/workflows/${id}/steps`), getAll('/api/prompts')]);
      const local = s.map(toLocal);
      setWf(w.data); setSteps(local); setPrompts(p);
      setOrig({ wf: w.data, steps: local.map((x, i) => ({ id: x.id, body: JSON.stringify(toBody(x, i, id).body) })) });
      setErrors({}); setWfErrors({});
    } catch (x) { setLoadErr(x); }
  };
  useEffect(() => { load(); }, [id]);

  const bodies = steps.map((s, i) => toBody(s, i, id));
  const dirty = !!wf && (
    JSON.stringify([wf.name, wf.trigger_event, wf.description]) !== JSON.stringify([orig.wf.name, orig.wf.trigger_event, orig.wf.description]) ||
    steps.length !== orig.steps.length ||
    steps.some((s, i) => !s.id || s.id !== orig.steps[i].id || !bodies[i].body ||
      JSON.stringify({ ...bodies[i].body, step_order: 1 }) !== JSON.stringify({ ...JSON.parse(orig.steps[i].body), step_order: 1 })));
  const dirtyRef = useRef(false);
  dirtyRef.current = dirty;
  useEffect(() => { setGuard(() => dirtyRef.current); return () => setGuard(null); }, []);

  if (loadErr) return <Notice>{loadErr.status === 404 ? 'This workflow does not exist (any more).' : loadErr.message}</Notice>;
  if (!wf) return <Loading />;

  const setStep = (i, s) => setSteps(steps.map((x, k) => (k === i ? s : x)));
  const move = (from, to) => {
    if (to < 0 || to >= steps.length || from === to) return;
    const next = steps.slice();
    const [s] = next.splice(from, 1);
    next.splice(to, 0, s);
    setSteps(next);
    setLive(`${s.name || 'Step'} moved to position ${to + 1} of ${next.length}.`);
    setTimeout(() => { const el = document.getElementById('handle-' + s.key); if (el) el.focus(); }, 0);
  };
  const addStep = () => {
    const s = toLocal({ name: `Step ${steps.length + 1}`, step_type: 'AI_PROMPT' });
    s.open = true;
    setSteps([...steps, s]);
    setTimeout(() => { const el = document.querySelector(`#step-${s.key} input`); if (el) el.focus(); }, 0);
  };

  const save = async () => {
    setSaving(true); setNotice(null);
    const errs = {};
    let wfErr = {};
    try {
      if (dirty) {
        const w = { name: wf.name, trigger_event: wf.trigger_event, description: wf.description || null };
        if (JSON.stringify(w) !== JSON.stringify({ name: orig.wf.name, trigger_event: orig.wf.trigger_event, description: orig.wf.description || null })) {
          try { await patch('/api/workflows/' + id, w); } catch (x) { if (x.status === 422) wfErr = x.errors; else throw x; }
        }
      }
      const keep = new Set(steps.filter((s) => s.id).map((s) => s.id));
      for (const o of orig.steps) if (o.id && !keep.has(o.id)) { try { await del('/api/workflow-steps/' + o.id); } catch (x) { if (x.status !== 404) throw x; } }
      const next = steps.slice();
      for (let i = 0; i < next.length; i++) {
        const s = next[i];
        const b = toBody(s, i, id);
        if (b.error) { errs[s.key] = b.error; continue; }
        const o = orig.steps.find((x) => x.id === s.id);
        if (s.id && o && o.body === JSON.stringify(b.body) && orig.steps.indexOf(o) === i) continue;
        try {
          if (s.id) await patch('/api/workflow-steps/' + s.id, b.body);
          else { const r = await post('/api/workflow-steps', b.body); next[i] = { ...s, id: r.data.id }; }
        } catch (x) { if (x.status === 422) errs[s.key] = x.errors; else throw x; }
      }
      setErrors(errs); setWfErrors(wfErr);
      if (Object.keys(errs).length || Object.keys(wfErr).length) {
        setSteps(next.map((s) => (errs[s.key] ? { ...s, open: true } : s)));
        // what did save is the new baseline for those steps; reload the rest later
        setOrig({ wf: { ...orig.wf, ...(Object.keys(wfErr).length ? {} : wf) }, steps: next.map((s, i) => { const o = orig.steps.find((x) => x.id === s.id); return { id: s.id, body: errs[s.key] || !s.id ? (o ? o.body : '{}') : JSON.stringify(toBody(s, i, id).body) }; }).filter((x) => x.id) });
        setNotice({ kind: 'error', text: 'Some changes could not be saved. The fields marked in red say why.' });
        setTimeout(() => { const el = document.querySelector('.has-error input, .has-error select, .has-error textarea'); if (el) el.focus(); }, 0);
      } else {
        await load();
        setNotice({ kind: 'ok', text: 'All changes saved.' });
      }
    } catch (x) { setNotice({ kind: 'error', text: x.message }); }
    finally { setSaving(false); }
  };
  const toggleActive = async () => {
    try { const r = await patch('/api/workflows/' + id, { is_active: !wf.is_active }); setWf({ ...wf, is_active: r.data.is_active }); setOrig({ ...orig, wf: { ...orig.wf, is_active: r.data.is_active } }); }
    catch (x) { setNotice({ kind: 'error', text: x.message }); }
  };

  return (
    <section class="editor" aria-labelledby="ed-h">
      <div class="page-head">
        <div>
          <a href="#/workflows" class="small">← All workflows</a>
          <h1 id="ed-h">{wf.name || 'Untitled workflow'}</h1>
        </div>
        <div class="head-actions">
          <Badge status={wf.is_active ? 'active' : 'inactive'} />
          <button class="btn" onClick={toggleActive}>{wf.is_active ? 'Deactivate' : 'Activate'}</button>
          <a class="btn" href={'#/runs?workflow_id=' + id}>See its runs</a>
          <button class="btn" onClick={() => setTesting(!testing)} disabled={dirty} title={dirty ? 'Save your changes first' : undefined}>Test run</button>
          <button class="btn btn-primary" onClick={save} disabled={!dirty || saving}>{saving ? 'Saving…' : dirty ? 'Save changes' : 'Saved'}</button>
        </div>
      </div>
      {dirty && <p class="unsaved" role="status">You have unsaved changes.</p>}
      {notice && <Notice kind={notice.kind}>{notice.text}</Notice>}
      {testing && !dirty && <TestRun wf={wf} steps={steps} prompts={prompts} onClose={() => setTesting(false)} />}
      <div class="card">
        <div class="grid2">
          <Field label="Workflow name" error={wfErrors.name}>{(p) => <input {...p} value={wf.name} onInput={(e) => setWf({ ...wf, name: e.target.value })} />}</Field>
          <Field label="Starts when this event happens" error={wfErrors.trigger_event}>{(p) => <input {...p} value={wf.trigger_event} onInput={(e) => setWf({ ...wf, trigger_event: e.target.value })} />}</Field>
        </div>
        <Field label="Description" error={wfErrors.description}>{(p) => <textarea {...p} rows={2} value={wf.description || ''} onInput={(e) => setWf({ ...wf, description: e.target.value })} />}</Field>
      </div>
      <h2>Steps</h2>
      <p class="muted small">Steps run from top to bottom. Drag a step by its handle, or focus the handle and press Alt+↑ / Alt+↓, to change the order.</p>
      <div class="sr-only" aria-live="polite">{live}</div>
      <ol class="flow">
        <li class="flow-start"><span class="dot" aria-hidden="true" /> When <code>{wf.trigger_event}</code> happens, or on a test run</li>
        {steps.map((s, i) => {
          const errs = errors[s.key] || {};
          const hasErr = Object.keys(errs).length > 0;
          const p = prompts.find((q) => q.id === s.prompt_id);
          return (
            <li key={s.key} id={'step-' + s.key} class={'step card' + (hasErr ? ' step-error' : '')}
              onDragOver={(e) => { e.preventDefault(); }} onDrop={(e) => { e.preventDefault(); if (dragFrom.current !== null) move(dragFrom.current, i); dragFrom.current = null; }}>
              <div class="step-head">
                <button type="button" class="handle" id={'handle-' + s.key} draggable
                  onDragStart={(e) => { dragFrom.current = i; e.dataTransfer.effectAllowed = 'move'; e.dataTransfer.setData('text/plain', String(i)); }}
                  onKeyDown={(e) => { if (e.altKey && e.key === 'ArrowUp') { e.preventDefault(); move(i, i - 1); } if (e.altKey && e.key === 'ArrowDown') { e.preventDefault(); move(i, i + 1); } }}
                  aria-label={`Reorder step ${i + 1}, ${s.name}. Alt+Up or Alt+Down moves it.`}>⠿</button>
                <span class="step-no" aria-hidden="true">{i + 1}</span>
                <div class="step-title">
                  <strong>{s.name || 'Untitled step'}</strong>
                  <span class="muted small"> · {typeLabel(s.step_type)}{p ? ` · ${p.name} v${p.version}` : ''}{s.group.rules.length || s.advanced ? ' · has a condition' : ''}{Number(s.delay_minutes) ? ` · waits ${s.delay_minutes} min` : ''}</span>
                  {hasErr && <span class="error small"> · needs attention</span>}
                </div>
                <div class="step-buttons">
                  <button type="button" class="btn btn-small" onClick={() => move(i, i - 1)} disabled={i === 0} aria-label={`Move step ${i + 1} up`}>↑</button>
                  <button type="button" class="btn btn-small" onClick={() => move(i, i + 1)} disabled={i === steps.length - 1} aria-label={`Move step ${i + 1} down`}>↓</button>
                  <button type="button" class="btn btn-small" aria-expanded={s.open ? 'true' : 'false'} aria-controls={'form-' + s.key} onClick={() => setStep(i, { ...s, open: !s.open })}>{s.open ? 'Close' : 'Edit'}<span class="sr-only"> step {i + 1}</span></button>
                  <button type="button" class="btn btn-small btn-danger-outline" onClick={() => setRemoving(i)} aria-label={`Remove step ${i + 1}`}>Remove</button>
                </div>
              </div>
              {s.open && <div id={'form-' + s.key}><StepForm step={s} set={(n) => setStep(i, n)} prompts={prompts} errors={errs} index={i} /></div>}
            </li>
          );
        })}
        <li class="flow-add"><button type="button" class="btn" onClick={addStep}>+ Add a step</button></li>
      </ol>
      {removing !== null && (
        <Confirm title={`Remove step “${steps[removing].name}”?`} confirmLabel="Remove" onCancel={() => setRemoving(null)}
          onConfirm={() => { setSteps(steps.filter((_, k) => k !== removing)); setRemoving(null); }}>
          <p>The step is removed when you save. Its past log entries are removed with it.</p>
        </Confirm>
      )}
    </section>
  );
}
