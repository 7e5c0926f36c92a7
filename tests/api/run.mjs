// API tests as data (like curl's tests/data): one JSON file per case in cases/, each a
// request and the response it must get, run against a real server over real HTTP.
//
//   node tests/api/run.mjs BASE_URL [case-name-filter]
//
// A case file:
//   { "name": "...", "steps": [ { "request": {...}, "response": {...}, "save": {...} } ] }
// or a single step at top level ({"request", "response", "save"}).
// request: method (GET), path, headers, json (sent as application/json), body (raw
//   string), raw (send `path` byte for byte over a socket, for paths fetch would tidy).
// response: status, headers (lower-case names; a string must be contained, a
//   {"$regex"} must match, null must be absent), json (a pattern, below), text
//   (contained in the body).
// Patterns: an object matches when each of its keys matches (other keys allowed);
//   an array matches element by element (the actual may be longer unless "$exact");
//   operators: {"$regex": "..."}, {"$gte": n}, {"$lte": n}, {"$exists": bool},
//   {"$type": "string|number|boolean|array|object|null"}, {"$len": n}, {"$len_gte": n},
//   {"$every": pattern} (every element of an array), {"$some": pattern},
//   {"$not": pattern}, {"$any": [patterns]}, {"$eq": value}, {"$var": "name"}.
// save: {"name": "a.b.0.c"} keeps a value for later steps and cases; "{{name}}" in a
//   path, header or body is replaced by it. save_headers: {"name": "header-name"} keeps a
//   response header the same way.
// Cookies: the steps of one case share a cookie jar (Set-Cookie in, Cookie out), as a
//   browser would; "cookies": false in a request sends none.
// TOTP: "{{totp:SECRET}}" (base32, or $name of a saved one) is the current code from
//   oathtool, also kept as {{last_totp}}; "{{totp_wrong:SECRET}}" a code that is not.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

const base = process.argv[2] || process.env.TONGBAN_URL || 'http://127.0.0.1:8080';
const filter = process.argv[3] || '';
const dir = path.join(path.dirname(new URL(import.meta.url).pathname), 'cases');
const vars = { admin_token: process.env.TONGBAN_ADMIN_TOKEN || 'test-admin-token' };

function totp(secret, wrong) {
  const sec = secret.startsWith('$') ? String(vars[secret.slice(1)]) : secret;
  const code = execFileSync('oathtool', ['--totp', '-b', sec], { encoding: 'utf8' }).trim();
  if (wrong) return [...code].map((d) => String((Number(d) + 5) % 10)).join('');
  vars.last_totp = code;
  return code;
}

const subst = (s) => typeof s === 'string'
  ? s.replace(/\{\{totp(_wrong)?:(\$?\w+)\}\}/g, (_, w, sec) => totp(sec, !!w))
    .replace(/\{\{(\w+)\}\}/g, (_, k) => (k in vars ? String(vars[k]) : `{{${k}}}`))
  : s;
// A string that is exactly "{{name}}" of a saved object or array becomes that value.
const substDeep = (v) => typeof v === 'string' && /^\{\{\w+\}\}$/.test(v) && vars[v.slice(2, -2)] !== null && typeof vars[v.slice(2, -2)] === 'object' ? vars[v.slice(2, -2)]
  : Array.isArray(v) ? v.map(substDeep)
  : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, substDeep(x)]))
  : subst(v);

function get(obj, p) {
  return p.split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj);
}

function typeOf(v) {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

// Returns null when actual matches pattern, else a message naming where it fails.
function match(actual, pat, where = '$') {
  if (pat && typeof pat === 'object' && !Array.isArray(pat)) {
    const ops = Object.keys(pat).filter((k) => k.startsWith('$'));
    if (ops.length) {
      for (const op of ops) {
        const a = pat[op];
        let bad = null;
        switch (op) {
          case '$regex': bad = typeof actual === 'string' && new RegExp(a).test(actual) ? null : `${where}: ${JSON.stringify(actual)} does not match /${a}/`; break;
          case '$gte': bad = typeof actual === 'number' && actual >= a ? null : `${where}: ${actual} < ${a}`; break;
          case '$lte': bad = typeof actual === 'number' && actual <= a ? null : `${where}: ${actual} > ${a}`; break;
          case '$exists': bad = (actual !== undefined) === a ? null : `${where}: exists is ${actual !== undefined}`; break;
          case '$type': bad = typeOf(actual) === a ? null : `${where}: type ${typeOf(actual)}, want ${a}`; break;
          case '$len': bad = actual != null && actual.length === a ? null : `${where}: length ${actual?.length}, want ${a}`; break;
          case '$len_gte': bad = actual != null && actual.length >= a ? null : `${where}: length ${actual?.length}, want >= ${a}`; break;
          case '$every':
            if (!Array.isArray(actual)) { bad = `${where}: not an array`; break; }
            for (let i = 0; i < actual.length && !bad; i++) bad = match(actual[i], a, `${where}[${i}]`);
            break;
          case '$some':
            bad = Array.isArray(actual) && actual.some((x) => !match(x, a)) ? null : `${where}: no element matches ${JSON.stringify(a)}`;
            break;
          case '$not': bad = match(actual, a, where) ? null : `${where}: matches ${JSON.stringify(a)} but must not`; break;
          case '$any': bad = a.some((p) => !match(actual, p, where)) ? null : `${where}: matches none of ${JSON.stringify(a)}`; break;
          case '$eq': bad = JSON.stringify(actual) === JSON.stringify(a) ? null : `${where}: ${JSON.stringify(actual)} != ${JSON.stringify(a)}`; break;
          case '$var': bad = JSON.stringify(actual) === JSON.stringify(vars[a]) ? null : `${where}: ${JSON.stringify(actual)} != saved ${a} (${JSON.stringify(vars[a])})`; break;
          case '$exact': break;
          default: bad = `bad operator ${op} in case`;
        }
        if (bad) return bad;
      }
      const rest = Object.fromEntries(Object.entries(pat).filter(([k]) => !k.startsWith('$')));
      return Object.keys(rest).length ? match(actual, rest, where) : null;
    }
    if (typeOf(actual) !== 'object') return `${where}: want an object, got ${typeOf(actual)}`;
    for (const [k, p] of Object.entries(pat)) {
      const m = match(actual[k], p, `${where}.${k}`);
      if (m) return m;
    }
    return null;
  }
  if (Array.isArray(pat)) {
    if (!Array.isArray(actual)) return `${where}: want an array, got ${typeOf(actual)}`;
    if (actual.length < pat.length) return `${where}: ${actual.length} elements, want at least ${pat.length}`;
    for (let i = 0; i < pat.length; i++) {
      const m = match(actual[i], pat[i], `${where}[${i}]`);
      if (m) return m;
    }
    return null;
  }
  return actual === pat ? null : `${where}: ${JSON.stringify(actual)} != ${JSON.stringify(pat)}`;
}

// For requests whose path must reach the server untouched (e.g. "/../etc/passwd").
function rawRequest(url, pathRaw, method, headers) {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(u.port || 80), u.hostname);
    let data = Buffer.alloc(0);
    sock.on('connect', () => {
      const h = Object.entries(headers || {}).map(([k, v]) => `${k}: ${v}\r\n`).join('');
      sock.write(`${method} ${pathRaw} HTTP/1.1\r\nHost: ${u.host}\r\nConnection: close\r\n${h}\r\n`);
    });
    sock.on('data', (d) => { data = Buffer.concat([data, d]); });
    sock.on('end', () => {
      const text = data.toString('utf8');
      const [head, ...body] = text.split('\r\n\r\n');
      const lines = head.split('\r\n');
      const status = Number(lines[0].split(' ')[1]);
      const hdrs = new Map(lines.slice(1).map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      resolve({ status, headers: { get: (k) => hdrs.get(k.toLowerCase()) ?? null }, text: body.join('\r\n') });
    });
    sock.on('error', reject);
    sock.setTimeout(10000, () => { sock.destroy(); reject(new Error('timeout')); });
  });
}

async function runStep(step, jar) {
  const req = substDeep(step.request);
  const method = req.method || 'GET';
  const headers = { ...(req.headers || {}) };
  if (req.cookies !== false && jar.size && !Object.keys(headers).some((h) => h.toLowerCase() === 'cookie'))
    headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  let body;
  if (req.json !== undefined) {
    body = JSON.stringify(req.json);
    headers['content-type'] ??= 'application/json';
  } else if (req.body !== undefined) {
    body = req.repeat ? req.body.repeat(req.repeat) : req.body;
  }
  let res;
  if (req.raw) {
    res = await rawRequest(base, req.path, method, headers);
  } else {
    const r = await fetch(base + req.path, { method, headers, body, redirect: 'manual' });
    res = { status: r.status, headers: r.headers, text: await r.text() };
    for (const c of r.headers.getSetCookie()) {
      const [nv] = c.split(';');
      const i = nv.indexOf('=');
      const k = nv.slice(0, i).trim(), v = nv.slice(i + 1).trim();
      if (!v || /max-age=0/i.test(c)) jar.delete(k); else jar.set(k, v);
    }
  }
  const want = step.response || {};
  const errs = [];
  if (want.status !== undefined && res.status !== want.status) errs.push(`status ${res.status}, want ${want.status}: ${res.text.slice(0, 300)}`);
  for (const [k, v] of Object.entries(want.headers || {})) {
    const got = res.headers.get(k);
    if (v === null) { if (got !== null) errs.push(`header ${k} present: ${got}`); }
    else if (typeof v === 'string') { if (got === null || !got.includes(v)) errs.push(`header ${k}: ${got}, want it to contain ${v}`); }
    else { const m = match(got ?? undefined, v, `header ${k}`); if (m) errs.push(m); }
  }
  let json;
  if (want.json !== undefined || step.save) {
    try { json = JSON.parse(res.text); } catch { errs.push(`body is not JSON: ${res.text.slice(0, 200)}`); }
  }
  if (want.json !== undefined && json !== undefined) {
    const m = match(json, substDeep(want.json));
    if (m) errs.push(m);
  }
  if (want.text !== undefined && !res.text.includes(subst(want.text))) errs.push(`body does not contain ${want.text}`);
  // Never a 5xx: a server error is a failure whatever the case expects.
  if (res.status >= 500 && want.status !== res.status) errs.push(`server error ${res.status}`);
  if (!errs.length && step.save && json !== undefined)
    for (const [name, p] of Object.entries(step.save)) vars[name] = get(json, p);
  if (!errs.length && step.save_headers)
    for (const [name, h] of Object.entries(step.save_headers)) vars[name] = res.headers.get(h);
  return errs;
}

const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json') && f.includes(filter)).sort();
let passed = 0, failed = 0;
for (const f of files) {
  let c;
  try { c = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')); }
  catch (e) { console.log(`not ok ${f}: bad case file: ${e.message}`); failed++; continue; }
  const steps = c.steps || [c];
  let errs = [];
  const jar = new Map();
  for (let i = 0; i < steps.length && !errs.length; i++) {
    try { errs = (await runStep(steps[i], jar)).map((e) => (steps.length > 1 ? `step ${i + 1}: ${e}` : e)); }
    catch (e) { errs = [`step ${i + 1}: ${e.message}`]; }
  }
  if (errs.length) { failed++; console.log(`not ok ${f} - ${c.name || ''}\n  ${errs.join('\n  ')}`); }
  else { passed++; console.log(`ok ${f} - ${c.name || ''}`); }
}
console.log(`api: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
