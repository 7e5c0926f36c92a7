// Shared by the OIDC provider's tests: a real tongban server (TONGBAN_URL), its
// platform admin's bearer token (TONGBAN_ADMIN_TOKEN, from scripts/lib.sh admin_login)
// and the demo people (data/demo/people.json).
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';

export const BASE = (process.env.TONGBAN_URL || 'http://127.0.0.1:8080').replace(/\/$/, '');
export const ADMIN = process.env.TONGBAN_ADMIN_TOKEN || '';
export const ZHANG = { login: '440106199001011235', password: 'Zhangsan@2026', name: '张三', phone: '13912340001' };
export const LI = { login: '440304198505050012', password: 'Lisi@2026!', name: '李四' };

let seq = 0;
/** A client id nobody else in this run uses. */
export const uniqueId = (p) => `${p}-${process.pid}-${Date.now().toString(36)}-${++seq}`;

export function pkce() {
  const verifier = crypto.randomBytes(32).toString('base64url');
  const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
  return { verifier, challenge };
}

/** A bearer session of a person (POST /api/v1/auth/login with bearer: true). */
export async function loginBearer(who) {
  const res = await fetch(`${BASE}/api/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login: who.login, password: who.password, bearer: true }),
  });
  const body = await res.json();
  if (res.status !== 200 || !body.access_token) throw new Error(`login ${who.login}: ${res.status} ${JSON.stringify(body)}`);
  return body.access_token;
}

/** A cookie session of a person: {cookie: "tb_session=...", csrf}. */
export async function loginCookie(who) {
  const res = await fetch(`${BASE}/api/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login: who.login, password: who.password }),
  });
  const body = await res.json();
  const set = res.headers.get('set-cookie') || '';
  const m = /tb_session=([^;]+)/.exec(set);
  if (res.status !== 200 || !m) throw new Error(`login ${who.login}: ${res.status} ${JSON.stringify(body)}`);
  return { token: m[1], cookie: `tb_session=${m[1]}`, csrf: body.csrf_token };
}

/** Register a client as the platform admin; returns the 201 body (with client_secret). */
export async function registerClient(spec) {
  const res = await fetch(`${BASE}/api/v1/oidc/clients`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
    body: JSON.stringify(spec),
  });
  const body = await res.json();
  if (res.status !== 201) throw new Error(`register client: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

export function authorizeUrl(params) {
  const u = new URL(`${BASE}/api/v1/oidc/authorize`);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) u.searchParams.set(k, v);
  return u.toString();
}

/** GET without following redirects. */
export async function get(url, headers = {}) {
  const res = await fetch(url, { redirect: 'manual', headers });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, location: res.headers.get('location'), headers: res.headers, text, json };
}

/** POST a form to the token endpoint; basic = [id, secret] for client_secret_basic. */
export async function token(form, basic) {
  const headers = { 'content-type': 'application/x-www-form-urlencoded' };
  if (basic) headers.authorization = 'Basic ' + Buffer.from(`${encodeURIComponent(basic[0])}:${encodeURIComponent(basic[1])}`).toString('base64');
  const res = await fetch(`${BASE}/api/v1/oidc/token`, { method: 'POST', headers, body: new URLSearchParams(form).toString() });
  return { status: res.status, headers: res.headers, json: await res.json() };
}

/**
 * The whole authorization step through the API as `bearer` (a logged-in person):
 * authorize, consent if asked (allow), and the code from the client's redirect.
 */
export async function authorizeCode(bearer, params) {
  const auth = { authorization: `Bearer ${bearer}` };
  let r = await get(authorizeUrl(params), auth);
  if (r.status !== 302) throw new Error(`authorize: ${r.status} ${r.text}`);
  let location = r.location;
  if (location.startsWith('/consent?request=')) {
    const id = new URL(location, BASE).searchParams.get('request');
    const res = await fetch(`${BASE}/api/v1/oidc/consent/${id}`, {
      method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{"decision":"allow"}',
    });
    const body = await res.json();
    if (res.status !== 200) throw new Error(`consent: ${res.status} ${JSON.stringify(body)}`);
    location = body.redirect_to;
  }
  const u = new URL(location);
  return { code: u.searchParams.get('code'), state: u.searchParams.get('state'), iss: u.searchParams.get('iss'), location };
}

/**
 * Make an authorization code look 61 s old: the store's own clock column, moved by
 * the database's own client (sqlite3 or psql) so that no test waits a minute.
 */
export function ageCode(code) {
  const db = process.env.TONGBAN_DB || '';
  const hash = crypto.createHash('sha256').update(code).digest('hex');
  const sql = `UPDATE oidc_codes SET expires_at = expires_at - 61 WHERE code_hash = '${hash}'`;
  if (db.startsWith('postgres')) execFileSync('psql', ['-q', '-v', 'ON_ERROR_STOP=1', db, '-c', sql]);
  else execFileSync('sqlite3', ['-cmd', '.timeout 5000', db.replace(/^sqlite:/, ''), sql]);
}
