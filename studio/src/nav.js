// nav.js — navigation helpers and the unsaved-changes guard the editor registers.
let guard = null;
export function setGuard(fn) { guard = fn; }
export function isBlocked() { return !!(guard && guard()); }
export function clearGuard() { guard = null; }
export function navigate(hash) { location.hash = hash; }
