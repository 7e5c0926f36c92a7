// Who is logged in (docs/identity.md): GET /api/v1/session, kept in one reactive object
// the header, the guards and the pages read. The session itself is an HttpOnly cookie
// the page never sees; this keeps its CSRF token for api.js.
import { reactive } from 'vue';
import { get, post, del, onCsrfRefresh, onUnauthorized, setCsrfToken } from './api.js';

export const session = reactive({
  loaded: false,
  authenticated: false,
  user: null, // {id, kind, name, assurance, roles?}
  acting: null, // {uscc, name, capacity} or null
  expires_at: null,
  enterprises: null, // GET /me/enterprises items, loaded for persons
});

function apply(body) {
  const b = body || {};
  setCsrfToken(b.csrf_token);
  session.authenticated = Boolean(b.authenticated ?? b.user);
  session.user = session.authenticated ? b.user || null : null;
  session.acting = session.authenticated ? b.acting || null : null;
  session.expires_at = b.expires_at || null;
  session.loaded = true;
  if (!session.authenticated) session.enterprises = null;
}

let pending = null;
/** Fetch the session (once at start, again after a change). Never throws. */
export function loadSession() {
  if (!pending) {
    pending = get('/session')
      .then((b) => { apply(b); })
      .catch(() => { apply(null); })
      .finally(() => { pending = null; });
  }
  return pending;
}
onCsrfRefresh(loadSession);
// A session that expired or was ended elsewhere: learn it, so the header and the pages
// that need a login follow.
onUnauthorized(() => { if (session.authenticated) loadSession(); });

/** Wait for the first load (route guards). */
export async function ready() {
  if (!session.loaded) await loadSession();
  return session;
}

/** POST /auth/login; the response carries the CSRF token and the user. */
export async function login({ login: id, password, kind = 'person', totp }) {
  const body = { login: id, password, kind };
  if (totp) body.totp = totp;
  const res = await post('/auth/login', body);
  apply({ ...res, authenticated: true, acting: null });
  await loadSession(); // acting and expiry as the server sees them
  return res;
}

export async function logout(everywhere = false) {
  try {
    await post(everywhere ? '/auth/logout-all' : '/auth/logout');
  } finally {
    apply(null);
    await loadSession(); // a fresh anonymous CSRF token
  }
}

export async function loadEnterprises() {
  if (!session.authenticated || !session.user || session.user.kind !== 'person') {
    session.enterprises = [];
    return [];
  }
  try {
    const r = await get('/me/enterprises');
    session.enterprises = (r && r.items) || [];
  } catch {
    session.enterprises = [];
  }
  return session.enterprises;
}

/** Act for an enterprise (its USCC) or for myself (null). */
export async function setActing(uscc) {
  const res = await post('/session/acting', { uscc: uscc || null });
  apply({ ...res, authenticated: true });
  return res;
}

export async function revokeSession(id) {
  await del(`/sessions/${encodeURIComponent(id)}`);
}
