// runs.jsx — the runs list (filters, newest first, refreshed every few seconds) and a run's
// timeline (each step's status, duration, tokens, cost, input and output), retry and cancel.
import { useRef, useState } from 'preact/hooks';
import { get, getAll, post } from './api.js';
import { Badge, Field, JsonView, Loading, Notice, fmtCost, fmtDate, fmtMs, fmtTokens, runDuration, useAsync, usePoll } from './ui.jsx';

const STATUSES = ['queued', 'waiting', 'running', 'succeeded', 'failed', 'cancelled'];
const ACTIVE = ['queued', 'waiting', 'running'];

export function Runs({ query }) {
  const params = new URLSearchParams(query);
  const [status, setStatus] = useState(params.get('status') || '');
  const [workflowId, setWorkflowId] = useState(params.get('workflow_id') || '');
  const [objectId, setObjectId] = useState('');
  const [rows, setRows] = useState(null);
  const [next, setNext] = useState(null);
  const [extra, setExtra] = useState([]);
  const [err, setErr] = useState(null);
  const [updated, setUpdated] = useState(null);
  const [wfs] = useAsync(() => getAll('/api/workflows?sort=name'), []);
  const names = Object.fromEntries((wfs.data || []).map((w) => [w.id, w.name]));
  const filterQs = () => {
    const f = [];
    if (status) f.push('filter[status]=' + encodeURIComponent(status));
    if (workflowId) f.push('filter[workflow_id]=' + encodeURIComponent(workflowId));
    if (objectId.trim()) f.push('filter[triggering_object_id]=' + encodeURIComponent(objectId.trim()));
    return f.join('&');
  };
  usePoll(async () => {
    try {
      const r = await get('/api/workflow-runs?per_page=25&' + filterQs());
      setRows(r.data); setErr(null); setUpdated(new Date());
      if (!extra.length) setNext(r.meta.next_cursor);
    } catch (x) { setErr(x); }
  }, 3000, [status, workflowId, objectId]);
  const more = async () => {
    const r = await get('/api/workflow-runs?per_page=25&cursor=' + encodeURIComponent(next) + '&' + filterQs());
    setExtra([...extra, ...r.data]); setNext(r.meta.next_cursor);
  };
  const reset = (fn) => (e) => { fn(e.target.value); setExtra([]); setRows(null); };
  const all = rows ? [...rows, ...extra.filter((x) => !rows.some((r) => r.id === x.id))] : null;
  return (
    <section aria-labelledby="runs-h">
      <div class="page-head"><h1 id="runs-h">Runs</h1><span class="muted small" role="status">{updated ? 'Updated ' + updated.toLocaleTimeString('en-GB') + ' · refreshes every 3 s' : ''}</span></div>
      <div class="filters" role="search">
        <Field label="Status">{(p) => (
          <select {...p} value={status} onChange={reset(setStatus)}>
            <option value="">All statuses</option>
            {STATUSES.map((s) => <option value={s}>{s[0].toUpperCase() + s.slice(1)}</option>)}
          </select>)}</Field>
        <Field label="Workflow">{(p) => (
          <select {...p} value={workflowId} onChange={reset(setWorkflowId)}>
            <option value="">All workflows</option>
            {(wfs.data || []).map((w) => <option value={w.id}>{w.name}</option>)}
          </select>)}</Field>
        <Field label="Record id">{(p) => <input {...p} type="search" value={objectId} onInput={reset(setObjectId)} placeholder="e.g. lead-42" />}</Field>
      </div>
      {err && <Notice>{err.message}</Notice>}
      {!all ? <Loading /> : all.length === 0 ? <p class="empty">No runs match. Start one with a test run from a workflow.</p> : (
        <div class="table-wrap">
          <table class="table">
            <caption class="sr-only">Runs, newest first</caption>
            <thead><tr><th scope="col">Run</th><th scope="col">Workflow</th><th scope="col">Status</th><th scope="col">Record</th><th scope="col">Started</th><th scope="col">Duration</th><th scope="col">Tokens</th><th scope="col">Cost</th></tr></thead>
            <tbody>
              {all.map((r) => (
                <tr key={r.id}>
                  <td><a href={'#/runs/' + r.id}>#{r.id}</a></td>
                  <td>{names[r.workflow_id] || 'Workflow ' + r.workflow_id}</td>
                  <td><Badge status={r.status} /></td>
                  <td>{r.triggering_object_id || <span class="muted">—</span>}</td>
                  <td>{fmtDate(r.started_at || r.created_at)}</td>
                  <td>{runDuration(r) === null ? '—' : r.finished_at && runDuration(r) < 1000 ? 'under 1 s' : fmtMs(runDuration(r))}</td>
                  <td>{fmtTokens(r.token_usage)}</td>
                  <td>{fmtCost(r.cost)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {next && <div class="actions-left"><button class="btn" onClick={more}>Show older runs</button></div>}
    </section>
  );
}

function StepOutput({ log }) {
  const out = log.parsed_output;
  if (out && typeof out === 'object' && typeof out.text === 'string' && Object.keys(out).length === 1)
    return <div class="answer"><div class="label">Answer</div><p class="prose">{out.text}</p></div>;
  if (out === null || out === undefined) return null;
  return <div class="answer"><div class="label">Result</div><JsonView value={out} summary="Show the result" open /></div>;
}

function StepInput({ log }) {
  const i = log.input_context;
  if (!i) return null;
  if (typeof i === 'object' && 'user' in i && 'system' in i)
    return (
      <details class="json"><summary>What was sent to the AI ({i.model})</summary>
        <div class="label">Instructions</div><p class="prose">{i.system}</p>
        <div class="label">Message</div><p class="prose">{i.user}</p>
      </details>
    );
  return <JsonView value={i} summary="Show what was sent" />;
}

export function RunDetail({ id }) {
  const [run, setRun] = useState(null);
  const [steps, setSteps] = useState([]);
  const [err, setErr] = useState(null);
  const [msg, setMsg] = useState(null);
  const finished = useRef(false); // a finished run changes only by Retry here: stop polling
  const load = async () => {
    try {
      const r = await get(`/api/workflow-runs/${id}?include=logs,workflow`);
      setRun(r.data); setErr(null);
      if (r.data.workflow) setSteps(await getAll(`/api/workflows/${r.data.workflow_id}/steps`, 2));
      finished.current = !ACTIVE.includes(r.data.status);
    } catch (x) { setErr(x); }
  };
  usePoll(() => (finished.current ? null : load()), 1500, [id]);
  if (err && !run) return <Notice>{err.status === 404 ? 'This run does not exist (any more).' : err.message}</Notice>;
  if (!run) return <Loading />;
  const act = async (what) => {
    try { await post(`/api/workflow-runs/${id}/${what}`); setMsg({ kind: 'ok', text: what === 'retry' ? 'The run is queued again from the step that failed.' : 'The run is cancelled.' }); load(); }
    catch (x) { setMsg({ kind: 'error', text: x.message }); }
  };
  const logs = run.logs || [];
  const stepName = (sid) => { const s = steps.find((x) => x.id === sid); return s ? s.name : 'Step ' + sid; };
  const doneIds = new Set(logs.filter((l) => l.status === 'SUCCESS' || l.status === 'SKIPPED').map((l) => l.step_id));
  const pending = ['succeeded', 'cancelled'].includes(run.status) ? [] : steps.filter((s) => !logs.some((l) => l.step_id === s.id) && !doneIds.has(s.id));
  return (
    <section aria-labelledby="run-h">
      <div class="page-head">
        <div>
          <a href="#/runs" class="small">← All runs</a>
          <h1 id="run-h">Run #{run.id} <Badge status={run.status} /></h1>
          <div class="muted">{run.workflow ? <a href={'#/workflows/' + run.workflow_id}>{run.workflow.name}</a> : 'Workflow ' + run.workflow_id}
            {run.event ? ` · event ${run.event}` : ' · test run'}{run.triggering_object_id ? ` · record ${run.triggering_object_id}` : ''}</div>
        </div>
        <div class="head-actions">
          {['failed', 'cancelled'].includes(run.status) && <button class="btn btn-primary" onClick={() => act('retry')}>Retry</button>}
          {ACTIVE.includes(run.status) && <button class="btn btn-danger-outline" onClick={() => act('cancel')}>Cancel run</button>}
        </div>
      </div>
      {msg && <Notice kind={msg.kind}>{msg.text}</Notice>}
      <dl class="stats">
        <div><dt>Duration</dt><dd>{runDuration(run) === null ? '—' : run.finished_at && runDuration(run) < 1000 ? 'under 1 s' : fmtMs(runDuration(run))}</dd></div>
        <div><dt>Tokens</dt><dd>{fmtTokens(run.token_usage)}</dd></div>
        <div><dt>Cost</dt><dd>{fmtCost(run.cost)}</dd></div>
        <div><dt>Started</dt><dd>{fmtDate(run.started_at)}</dd></div>
      </dl>
      {run.error_message && <Notice>{run.status === 'failed' ? 'The run failed: ' : 'Last problem: '}{run.error_message}</Notice>}
      <h2>Steps</h2>
      <ol class="timeline">
        {logs.map((l) => (
          <li class={'tl tl-' + l.status.toLowerCase()} key={l.id}>
            <div class="tl-head">
              <strong>{stepName(l.step_id)}</strong> <Badge status={l.status} />
              <span class="muted small"> {fmtMs(l.duration_ms)}{l.token_usage !== null && l.token_usage !== undefined ? ` · ${fmtTokens(l.token_usage)} tokens · ${fmtCost(l.cost)}` : ''} · {fmtDate(l.executed_at)}</span>
            </div>
            {l.error_message && <p class="error">{l.error_message}</p>}
            {l.status === 'SKIPPED' && <p class="muted small">Its condition was not met, so it did not run.</p>}
            <StepOutput log={l} />
            <StepInput log={l} />
          </li>
        ))}
        {pending.map((s) => (
          <li class="tl tl-pending" key={'p' + s.id}><div class="tl-head"><strong>{s.name}</strong> <Badge status="pending" /></div></li>
        ))}
      </ol>
      <details class="json"><summary>Run data (context)</summary><pre>{JSON.stringify(run.context, null, 2)}</pre></details>
    </section>
  );
}
