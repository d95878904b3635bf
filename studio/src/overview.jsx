// overview.jsx — the last 30 days: runs per day by status, cost per day (small inline SVG
// charts), and the steps that fail most. Computed in the browser from the newest pages of
// runs and failed log rows (at most 2,000 runs and 1,000 failures: docs/studio.md).
import { getCursorPages, getAll } from './api.js';
import { Loading, Notice, fmtCost, useAsync } from './ui.jsx';

const DAYS = 30;
const COLORS = { succeeded: '#1a7f37', failed: '#c62828', cancelled: '#6b7280', running: '#1d4ed8', queued: '#7c3aed', waiting: '#b45309' };
const ORDER = ['succeeded', 'failed', 'cancelled', 'running', 'waiting', 'queued'];

function days() {
  const out = [];
  const now = new Date();
  for (let i = DAYS - 1; i >= 0; i--) {
    const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - i));
    out.push(d.toISOString().slice(0, 10));
  }
  return out;
}

function Bars({ series, title, desc, format = (v) => String(v) }) {
  // series: [{day, parts: [{key, value, color}]}]
  const W = 600, H = 160, pad = 24;
  const max = Math.max(1e-9, ...series.map((s) => s.parts.reduce((a, p) => a + p.value, 0)));
  const bw = (W - pad) / series.length;
  return (
    <svg viewBox={`0 0 ${W} ${H + 20}`} class="chart" role="img" aria-label={title + '. ' + desc}>
      <line x1={pad} y1={H} x2={W} y2={H} stroke="#9ca3af" />
      <text x="0" y="10" class="axis">{format(max)}</text>
      <text x="0" y={H} class="axis">0</text>
      {series.map((s, i) => {
        let y = H;
        return (
          <g key={s.day}>
            {s.parts.map((p) => {
              const h = (p.value / max) * (H - 14);
              y -= h;
              return h > 0 ? <rect x={pad + i * bw + 1} y={y} width={Math.max(1, bw - 2)} height={h} fill={p.color}><title>{`${s.day}: ${p.key} ${format(p.value)}`}</title></rect> : null;
            })}
            {i % 5 === 0 && <text x={pad + i * bw} y={H + 14} class="axis">{s.day.slice(5)}</text>}
          </g>
        );
      })}
    </svg>
  );
}

export function Overview() {
  const since = new Date(Date.now() - DAYS * 86400000).toISOString();
  const [state] = useAsync(async () => {
    const [runs, fails, wfs] = await Promise.all([
      getCursorPages('/api/workflow-runs', (r) => r.created_at >= since, 20),
      getCursorPages('/api/execution-logs?filter[status]=FAILURE&include=step', (l) => (l.executed_at || '') >= since, 10),
      getAll('/api/workflows'),
    ]);
    return { runs, fails, wfs };
  }, []);
  if (state.loading) return <Loading />;
  if (state.error) return <Notice>{state.error.message}</Notice>;
  const { runs, fails, wfs } = state.data;
  const ds = days();
  const byDay = Object.fromEntries(ds.map((d) => [d, { cost: 0, st: {} }]));
  const totals = {};
  let cost = 0;
  for (const r of runs.rows) {
    const d = r.created_at.slice(0, 10);
    totals[r.status] = (totals[r.status] || 0) + 1;
    cost += Number(r.cost || 0);
    if (!byDay[d]) continue;
    byDay[d].st[r.status] = (byDay[d].st[r.status] || 0) + 1;
    byDay[d].cost += Number(r.cost || 0);
  }
  const wfName = Object.fromEntries(wfs.map((w) => [w.id, w.name]));
  const failing = {};
  for (const l of fails.rows) {
    const k = l.step_id;
    failing[k] = failing[k] || { n: 0, step: l.step, wf: l.workflow_id, last: l.error_message };
    failing[k].n++;
  }
  const top = Object.values(failing).sort((a, b) => b.n - a.n).slice(0, 8);
  return (
    <section aria-labelledby="ov-h">
      <h1 id="ov-h">Overview <span class="muted small">last {DAYS} days</span></h1>
      {(!runs.complete || !fails.complete) && <Notice kind="info">Counted from the newest {runs.rows.length} runs{fails.complete ? '' : ` and ${fails.rows.length} failures`}; older activity is not included.</Notice>}
      <dl class="stats">
        <div><dt>Runs</dt><dd>{runs.rows.length}</dd></div>
        <div><dt>Succeeded</dt><dd>{totals.succeeded || 0}</dd></div>
        <div><dt>Failed</dt><dd>{totals.failed || 0}</dd></div>
        <div><dt>AI cost</dt><dd>{fmtCost(cost)}</dd></div>
      </dl>
      <div class="grid2 charts">
        <figure class="card">
          <figcaption><h2>Runs per day</h2></figcaption>
          <Bars title="Runs per day by status" desc={ORDER.filter((s) => totals[s]).map((s) => `${totals[s]} ${s}`).join(', ') || 'no runs'}
            series={ds.map((d) => ({ day: d, parts: ORDER.map((s) => ({ key: s, value: byDay[d].st[s] || 0, color: COLORS[s] })) }))} format={(v) => String(Math.round(v))} />
          <ul class="legend">{ORDER.filter((s) => totals[s]).map((s) => <li><span class="swatch" style={{ background: COLORS[s] }} aria-hidden="true" />{s} ({totals[s]})</li>)}</ul>
        </figure>
        <figure class="card">
          <figcaption><h2>AI cost per day</h2></figcaption>
          <Bars title="Cost per day in US dollars" desc={`${fmtCost(cost)} in total`} format={(v) => '$' + (v >= 0.01 ? v.toFixed(2) : v.toPrecision(2))}
            series={ds.map((d) => ({ day: d, parts: [{ key: 'cost', value: byDay[d].cost, color: '#2563eb' }] }))} />
        </figure>
      </div>
      <div class="card">
        <h2>Steps that fail most</h2>
        {top.length ? (
          <div class="table-wrap"><table class="table">
            <thead><tr><th scope="col">Step</th><th scope="col">Workflow</th><th scope="col">Failures</th><th scope="col">Latest error</th></tr></thead>
            <tbody>{top.map((f) => (
              <tr><td>{f.step ? f.step.name : 'A deleted step'}</td><td><a href={'#/workflows/' + f.wf}>{wfName[f.wf] || 'Workflow ' + f.wf}</a></td><td>{f.n}</td><td class="small">{f.last}</td></tr>
            ))}</tbody>
          </table></div>
        ) : <p class="empty">No step failed in the last {DAYS} days.</p>}
      </div>
    </section>
  );
}
