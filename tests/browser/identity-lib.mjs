// Helpers for the identity browser tests: made-up people with valid ID numbers
// (GB 11643) and enterprises with valid USCCs (GB 32100 with GB 11714 inside), API
// sessions made from node (cookie + CSRF token, as the portal does), TOTP codes from
// Debian's oathtool, and the platform administrator the harness bootstrapped.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BASE } from './lib.mjs';

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
export function idCheck(first17) {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * ID_WEIGHTS[i];
  return '10X98765432'[sum % 11];
}

let seq = 0;
function rnd(n) { return Math.floor(Math.random() * n); }

/** A person nobody has registered yet: {name, id_number, phone, password}. */
export function newPerson(region = '440106') {
  seq += 1;
  const y = 1970 + rnd(30); const m = 1 + rnd(12); const d = 1 + rnd(28);
  const first17 = `${region}${y}${String(m).padStart(2, '0')}${String(d).padStart(2, '0')}${String(rnd(1000)).padStart(3, '0')}`;
  const names = '李王张刘陈杨黄赵吴周';
  const given = '明华丽强芳伟娜敏静磊';
  return {
    name: names[rnd(10)] + given[rnd(10)] + given[rnd(10)],
    id_number: first17 + idCheck(first17),
    phone: `13${rnd(10)}${String(Date.now() % 1e4).padStart(4, '0')}${String(rnd(1e4)).padStart(4, '0')}`.slice(0, 11),
    password: `Tb-${Math.random().toString(36).slice(2, 10)}!${seq}`,
  };
}

/** A wrong check character for an ID number (the live check must catch it). */
export function withWrongCheck(id) {
  const right = id[17];
  const wrong = '0123456789X'.split('').find((c) => c !== right);
  return id.slice(0, 17) + wrong;
}

const USCC_CHARS = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const USCC_W = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
const ORG_W = [3, 7, 9, 10, 5, 8, 4, 2];
/** A valid unified social credit code (GB 32100) for a company (91) in a region. */
export function newUscc(region = '440106') {
  const body = String(10000000 + rnd(89999999));
  let s = 0;
  for (let i = 0; i < 8; i++) s += Number(body[i]) * ORG_W[i];
  const c = 11 - (s % 11);
  const org = body + (c === 10 ? 'X' : c === 11 ? '0' : String(c));
  const first17 = `91${region}${org}`;
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += USCC_CHARS.indexOf(first17[i]) * USCC_W[i];
  const check = (31 - (sum % 31)) % 31;
  return first17 + USCC_CHARS[check];
}

/** The current TOTP code of a base32 secret (or an otpauth:// URI), by oathtool. */
export function totp(secretOrUri) {
  let secret = secretOrUri;
  if (/^otpauth:/.test(secretOrUri)) secret = new URL(secretOrUri).searchParams.get('secret');
  return execFileSync('oathtool', ['--totp', '-b', secret], { encoding: 'utf8' }).trim();
}

/** A raw API call from node (no browser): JSON in and out, cookies and CSRF by hand. */
export async function call(method, path, { body, cookie, csrf, bearer } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (cookie) headers.Cookie = cookie;
  if (csrf) headers['X-CSRF-Token'] = csrf;
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  const res = await fetch(`${BASE}/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  return { status: res.status, body: data, headers: res.headers };
}

/** Register a person through the API (201 either way). */
export async function register(p) {
  const r = await call('POST', '/accounts', { body: { name: p.name, id_number: p.id_number, phone: p.phone, password: p.password } });
  if (r.status !== 201) throw new Error(`register: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Log in from node with the cookie, as a second device: {cookie, csrf, user}. */
export async function apiLogin(login, password, extra = {}) {
  const res = await fetch(`${BASE}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'User-Agent': 'tongban-test/1.0 (node)' },
    body: JSON.stringify({ login, password, ...extra }),
  });
  const body = await res.json().catch(() => null);
  if (res.status !== 200) throw new Error(`login ${login}: ${res.status} ${JSON.stringify(body)}`);
  const cookies = (res.headers.getSetCookie ? res.headers.getSetCookie() : [res.headers.get('set-cookie')]).filter(Boolean);
  const cookie = cookies.map((c) => c.split(';')[0]).find((c) => c.startsWith('tb_session=')) || '';
  return { cookie, csrf: body.csrf_token, user: body.user, access_token: body.access_token };
}

/**
 * A bearer session of the bootstrapped administrator, or null when there is none.
 * A TOTP step works once: when another test file used this step's code already, wait
 * for the next step (up to 30 s) and use that code.
 */
export async function adminSession() {
  const a = admin();
  if (!a) return null;
  for (let attempt = 0; ; attempt++) {
    const code = totp(a.totp_secret);
    const r = await call('POST', '/auth/login', { body: { login: a.login, password: a.password, kind: 'staff', totp: code, bearer: true } });
    if (r.status === 200) return { access_token: r.body.access_token, user: r.body.user };
    if (attempt > 0 || r.status !== 401) throw new Error(`admin login: ${r.status} ${JSON.stringify(r.body)}`);
    await new Promise((res) => { setTimeout(res, (30 - (Math.floor(Date.now() / 1000) % 30)) * 1000 + 500); });
  }
}

/**
 * The bootstrapped platform administrator: {login, password, totp_secret}.
 * From TONGBAN_ADMIN_LOGIN / _PASSWORD / _TOTP (the harness ran `tongban admin
 * bootstrap`), else by running the bootstrap here on TONGBAN_DB (once per server:
 * the result is kept next to the other test runs in the temp directory).
 */
export function admin() {
  const env = process.env;
  if (env.TONGBAN_ADMIN_LOGIN && env.TONGBAN_ADMIN_PASSWORD && env.TONGBAN_ADMIN_TOTP) {
    return { login: env.TONGBAN_ADMIN_LOGIN, password: env.TONGBAN_ADMIN_PASSWORD, totp_secret: env.TONGBAN_ADMIN_TOTP };
  }
  if (!env.TONGBAN_DB) return null;
  const cache = join(tmpdir(), `tongban-browser-admin-${Buffer.from(`${BASE} ${env.TONGBAN_DB}`).toString('base64url').slice(-40)}.json`);
  if (existsSync(cache)) return JSON.parse(readFileSync(cache, 'utf8'));
  const p = newPerson('440103');
  const bin = env.TONGBAN_BIN || 'build/tongban';
  const out = execFileSync(bin, ['admin', 'bootstrap', '--db', env.TONGBAN_DB, '--name', p.name, '--id-number', p.id_number, '--phone', p.phone],
    { encoding: 'utf8' });
  const uri = (/otpauth:\/\/\S+/.exec(out) || [])[0];
  const pw = (/password\S*\s*[:=]?\s*(\S+)/i.exec(out) || [])[1];
  if (!uri || !pw) throw new Error(`cannot read the bootstrap output:\n${out}`);
  const a = { login: p.id_number, password: pw, totp_secret: new URL(uri).searchParams.get('secret') };
  writeFileSync(cache, JSON.stringify(a));
  return a;
}
