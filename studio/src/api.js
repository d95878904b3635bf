// api.js — the Studio's only way to the backend: the public JSON API with the bearer token
// that POST /api/auth/login issued (kept in localStorage, dropped on 401 or sign-out).

const KEY = 'aiengine.studio.session';

export function session() {
  try { return JSON.parse(localStorage.getItem(KEY)) || null; } catch { return null; }
}
function saveSession(s) {
  if (s) localStorage.setItem(KEY, JSON.stringify(s)); else localStorage.removeItem(KEY);
}

let onSignedOut = () => {};
export function setSignedOutHandler(fn) { onSignedOut = fn; }

// An error from the API: status, message, and the 422 field errors ({field: [messages]}).
export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `The server answered ${status}.`);
    this.status = status;
    this.errors = (body && body.errors) || {};
  }
}

export async function request(method, path, body) {
  const headers = { Accept: 'application/json' };
  const s = session();
  if (s) headers.Authorization = 'Bearer ' + s.token;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let r;
  try {
    r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, { message: 'The server cannot be reached. Check your connection and try again.' });
  }
  let data = null;
  if (r.status !== 204) {
    try { data = await r.json(); } catch { data = null; }
  }
  if (r.status === 401 && s && path !== '/api/auth/login') {
    saveSession(null);
    onSignedOut();
  }
  if (!r.ok) throw new ApiError(r.status, data);
  return data;
}

export const get = (p) => request('GET', p);
export const post = (p, b) => request('POST', p, b === undefined ? {} : b);
export const patch = (p, b) => request('PATCH', p, b);
export const del = (p) => request('DELETE', p);

export async function signIn(email, password) {
  const s = await request('POST', '/api/auth/login', { email, password, device_name: 'studio' });
  saveSession({ token: s.token, user: s.user, expires_at: s.expires_at });
  return s;
}

export async function signOut() {
  try { await request('POST', '/api/auth/logout'); } catch { /* already gone */ }
  saveSession(null);
  onSignedOut();
}

// Every row of a page-paginated list, at most `maxPages` pages of 100.
export async function getAll(path, maxPages = 10) {
  const sep = path.includes('?') ? '&' : '?';
  let out = [];
  for (let page = 1; page <= maxPages; page++) {
    const r = await get(`${path}${sep}per_page=100&page=${page}`);
    out = out.concat(r.data);
    if (!r.meta || page >= r.meta.last_page) break;
  }
  return out;
}

// Rows of a cursor-paginated list (newest first) while `more(row)` holds, at most maxPages.
export async function getCursorPages(path, more, maxPages = 10) {
  const sep = path.includes('?') ? '&' : '?';
  let out = [];
  let cursor = null;
  for (let i = 0; i < maxPages; i++) {
    const r = await get(`${path}${sep}per_page=100${cursor ? '&cursor=' + encodeURIComponent(cursor) : ''}`);
    let stop = false;
    for (const row of r.data) {
      if (!more(row)) { stop = true; break; }
      out.push(row);
    }
    cursor = r.meta && r.meta.next_cursor;
    if (stop || !cursor) return { rows: out, complete: true };
  }
  return { rows: out, complete: false };
}
