// cond.js — the condition builder's model and condition_rules (ENGINE.md "Conditions").
// The builder edits one group: all/any of rules, optionally negated, each rule optionally
// negated. Any other valid JSON is kept as is and edited as text ("advanced").

export const OPS = [
  ['==', 'is'], ['!=', 'is not'], ['>', 'is greater than'], ['>=', 'is at least'],
  ['<', 'is less than'], ['<=', 'is at most'], ['contains', 'contains'], ['in', 'is one of'],
  ['exists', 'has a value'],
];

export function emptyGroup() { return { mode: 'all', negate: false, rules: [] }; }

// Typed text → JSON value: numbers, true/false/null, else the text as a string.
export function parseValue(op, text) {
  const t = String(text ?? '').trim();
  if (op === 'exists') return t !== 'false';
  if (op === 'in') return t === '' ? [] : t.split(',').map((s) => scalar(s.trim()));
  return scalar(t);
}
function scalar(t) {
  if (t === 'true') return true;
  if (t === 'false') return false;
  if (t === 'null') return null;
  if (t !== '' && /^-?\d+(\.\d+)?$/.test(t)) return Number(t);
  if (t.length >= 2 && t.startsWith('"') && t.endsWith('"')) return t.slice(1, -1);
  return t;
}
export function valueText(v) {
  if (Array.isArray(v)) return v.map(valueText).join(', ');
  if (v === null) return 'null';
  if (typeof v === 'string' && (/^-?\d+(\.\d+)?$/.test(v) || ['true', 'false', 'null'].includes(v))) return `"${v}"`;
  return String(v);
}

function ruleJson(r) {
  const c = { [r.path.trim()]: { [r.op]: parseValue(r.op, r.value) } };
  return r.negate ? { not: c } : c;
}

// The group → condition_rules (null when it has no rules: always run).
export function toRules(g) {
  const rules = g.rules.filter((r) => r.path.trim() !== '');
  if (!rules.length) return null;
  let out = rules.length === 1 && !g.negate && g.mode === 'all' ? ruleJson(rules[0]) : { [g.mode]: rules.map(ruleJson) };
  return g.negate ? { not: out } : out;
}

function ruleFrom(c, negate) {
  if (!c || typeof c !== 'object' || Array.isArray(c)) return null;
  const keys = Object.keys(c);
  if (keys.length !== 1) return null;
  if (keys[0] === 'not' && !negate) return ruleFrom(c.not, true);
  if (['all', 'any', 'not'].includes(keys[0])) return null;
  const opObj = c[keys[0]];
  if (!opObj || typeof opObj !== 'object' || Array.isArray(opObj)) return null;
  const ops = Object.keys(opObj);
  if (ops.length !== 1 || !OPS.some(([o]) => o === ops[0])) return null;
  return { path: keys[0], op: ops[0], value: valueText(opObj[ops[0]]), negate: !!negate };
}

// condition_rules → a group, or null when the builder cannot show it (edit as text then).
export function fromRules(json) {
  if (json === null || json === undefined || (typeof json === 'object' && !Array.isArray(json) && !Object.keys(json).length)) return emptyGroup();
  let negate = false;
  let c = json;
  if (c && typeof c === 'object' && Object.keys(c).length === 1 && c.not && (c.not.all || c.not.any)) { negate = true; c = c.not; }
  for (const mode of ['all', 'any']) {
    if (c && typeof c === 'object' && Object.keys(c).length === 1 && Array.isArray(c[mode])) {
      const rules = c[mode].map((x) => ruleFrom(x, false));
      if (rules.some((r) => !r)) return null;
      return { mode, negate, rules };
    }
  }
  if (negate) return null;
  const r = ruleFrom(json, false);
  return r ? { mode: 'all', negate: false, rules: [r] } : null;
}

// {{ name }} placeholders of a template, in order of first appearance.
export function templateVars(text) {
  const out = [];
  const re = /\{\{\s*([^{}\s]+)\s*\}\}/g;
  let m;
  while ((m = re.exec(String(text || '')))) if (!out.includes(m[1])) out.push(m[1]);
  return out;
}
