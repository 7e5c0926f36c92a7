// Thin client for the tongban HTTP API v1 (docs/api.md).
// Every call sends Accept-Language with the chosen locale, so the server
// answers data text in Simplified (zh-CN) or Traditional (zh-HK) characters.
import { prefs } from './prefs.js';

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || null;
  }
}

/** Query string from an object; empty values are left out. */
export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v === undefined || v === null || v === '' || v === false) continue;
    u.set(k, String(v));
  }
  const s = u.toString();
  return s ? `?${s}` : '';
}

// The session's CSRF token (session.js keeps it current): sent as X-CSRF-Token on every
// state-changing request, which the server refuses without it (403 type csrf).
let csrfToken = '';
let refreshCsrf = null;
export function setCsrfToken(token) { csrfToken = token || ''; }
/** session.js registers how to fetch a fresh token (GET /api/v1/session). */
export function onCsrfRefresh(fn) { refreshCsrf = fn; }
let unauthorized = null;
/** session.js registers what to do when the server says the session is gone (401). */
export function onUnauthorized(fn) { unauthorized = fn; }

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

async function once(method, path, { params, body, form, signal, headers: extra } = {}) {
  const headers = { Accept: 'application/json', 'Accept-Language': prefs.locale, ...(extra || {}) };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (UNSAFE.has(method) && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  // a FormData body (uploads) sets its own multipart Content-Type with the boundary
  const res = await fetch(`/api/v1${path}${qs(params)}`, {
    method,
    headers,
    body: form !== undefined ? form : body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin', // the HttpOnly session cookie
    signal,
  });
  const type = res.headers.get('content-type') || '';
  let data = null;
  if (type.includes('json')) {
    try { data = await res.json(); } catch { data = null; }
  }
  return { res, data };
}

/**
 * One API call. Resolves to the JSON body (null for 204), throws ApiError otherwise.
 * A state-changing call refused for its CSRF token (the session changed in another
 * tab, or the token was not loaded yet) fetches the current token and tries once more.
 */
export async function request(method, path, opts = {}) {
  let { res, data } = await once(method, path, opts);
  if (res.status === 403 && UNSAFE.has(method) && refreshCsrf && /(^|\/)csrf$/.test(String((data && data.type) || ''))) {
    const before = csrfToken;
    await refreshCsrf();
    if (csrfToken && csrfToken !== before) ({ res, data } = await once(method, path, opts));
  }
  if (!res.ok) {
    if (res.status === 401 && unauthorized && path !== '/auth/login') unauthorized();
    const err = new ApiError(res.status, data);
    err.retryAfter = res.headers.get('retry-after');
    throw err;
  }
  return data;
}

export function get(path, params, { signal } = {}) { return request('GET', path, { params, signal }); }
export const post = (path, body, opts) => request('POST', path, { ...opts, body });
export const patch = (path, body, opts) => request('PATCH', path, { ...opts, body });
export const put = (path, body, opts) => request('PUT', path, { ...opts, body });
export const del = (path, opts) => request('DELETE', path, opts);
/** A multipart upload: `fields` is an object of text parts and File/Blob parts. */
export function upload(path, fields, opts = {}) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined || v === null) continue;
    if (v instanceof Blob) form.append(k, v, v.name || k); else form.append(k, String(v));
  }
  return request('POST', path, { ...opts, form });
}

export const api = {
  regions: (parent, opts) => get('/regions', parent ? { parent } : {}, opts),
  region: (code, opts) => get(`/regions/${encodeURIComponent(code)}`, {}, opts),
  topics: (object, opts) => get('/topics', { object }, opts),
  items: (params, opts) => get('/items', params, opts),
  item: (code, version, opts) => get(`/items/${encodeURIComponent(code)}`, version ? { version } : {}, opts),
  search: (params, opts) => get('/search', params, opts),
  suggest: (q, opts) => get('/search/suggest', { q }, opts),
  departments: (params, opts) => get('/departments', params, opts),
};

/** Names in a highlight string with only <mark> kept: everything else becomes text. */
export function sanitizeMarks(html) {
  if (html == null) return '';
  const doc = new DOMParser().parseFromString(`<body>${String(html)}</body>`, 'text/html');
  const out = [];
  const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
  const walk = (node) => {
    for (const child of node.childNodes) {
      if (child.nodeType === 3) out.push(esc(child.nodeValue));
      else if (child.nodeType === 1) {
        const tag = child.tagName.toLowerCase();
        if (tag === 'script' || tag === 'style' || tag === 'template') continue;
        if (tag === 'mark') { out.push('<mark>'); walk(child); out.push('</mark>'); } else walk(child);
      }
    }
  };
  walk(doc.body);
  return out.join('');
}
