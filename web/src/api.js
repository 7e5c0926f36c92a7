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

export async function get(path, params, { signal } = {}) {
  const res = await fetch(`/api/v1${path}${qs(params)}`, {
    headers: { Accept: 'application/json', 'Accept-Language': prefs.locale },
    signal,
  });
  const type = res.headers.get('content-type') || '';
  let body = null;
  if (type.includes('json')) {
    try { body = await res.json(); } catch { body = null; }
  }
  if (!res.ok) throw new ApiError(res.status, body);
  return body;
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
