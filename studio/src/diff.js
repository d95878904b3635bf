// diff.js — a line diff (longest common subsequence) for the prompt versions' side-by-side view.
// Prompts are short (hundreds of lines at most), so the O(n·m) table is fine.
export function lineDiff(a, b) {
  const x = String(a || '').split('\n');
  const y = String(b || '').split('\n');
  const n = x.length, m = y.length;
  const L = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      L[i][j] = x[i] === y[j] ? L[i + 1][j + 1] + 1 : Math.max(L[i + 1][j], L[i][j + 1]);
  // rows of [left, right, kind]: same | del | add | change
  const rows = [];
  let i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) { rows.push([x[i], y[j], 'same']); i++; j++; }
    else if (i < n && (j >= m || L[i + 1][j] >= L[i][j + 1])) { rows.push([x[i], null, 'del']); i++; }
    else { rows.push([null, y[j], 'add']); j++; }
  }
  // pair a deletion directly followed by an addition into one changed row
  const out = [];
  for (let k = 0; k < rows.length; k++) {
    const r = rows[k];
    if (r[2] === 'del' && rows[k + 1] && rows[k + 1][2] === 'add') { out.push([r[0], rows[k + 1][1], 'change']); k++; }
    else out.push(r);
  }
  return out;
}
