// The OpenID Connect provider over real HTTP: discovery, client registration, the
// authorization endpoint's redirects and refusals, and the token endpoint's errors
// (RFC 6749 §5.2): replayed and expired codes, PKCE mismatch, wrong client secret,
// plain PKCE, refresh token reuse revoking the family. Run on SQLite and PostgreSQL.
//   TONGBAN_URL=... TONGBAN_ADMIN_TOKEN=... TONGBAN_DB=... node --test tests/oidc/api.test.mjs
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import {
  ADMIN, AUDITOR, BASE, LI, ZHANG, ageCode, loginStaff, authorizeCode, authorizeUrl, get, loginBearer, pkce, registerClient,
  token, uniqueId,
} from './lib.mjs';

const REDIRECT = 'https://rp.example.gov.cn/cb';
let conf, pub, zhang, li;

before(async () => {
  assert.ok(ADMIN, 'TONGBAN_ADMIN_TOKEN is needed (a platform admin bearer token)');
  conf = await registerClient({
    client_id: uniqueId('conf'), name: '广州市市场监督管理局网上办事', type: 'confidential',
    redirect_uris: [REDIRECT], post_logout_redirect_uris: ['https://rp.example.gov.cn/bye'],
    scopes: ['openid', 'profile', 'phone', 'idcard', 'enterprise'],
  });
  pub = await registerClient({
    client_id: uniqueId('pub'), name: '粤办事 App', type: 'public',
    redirect_uris: ['http://127.0.0.1:7/cb'], scopes: ['openid', 'profile'],
  });
  zhang = await loginBearer(ZHANG);
  li = await loginBearer(LI);
});

const basic = () => [conf.client_id, conf.client_secret];

async function codeFor(user = zhang, extra = {}) {
  const p = pkce();
  const r = await authorizeCode(user, {
    response_type: 'code', client_id: conf.client_id, redirect_uri: REDIRECT,
    scope: 'openid profile phone idcard', state: 'st-1', nonce: 'n-1', code_challenge: p.challenge,
    code_challenge_method: 'S256', ...extra,
  });
  assert.ok(r.code, `a code in ${r.location}`);
  return { ...r, verifier: p.verifier };
}

describe('discovery and keys', () => {
  test('the configuration names this issuer and ES256, S256, code only', async () => {
    const r = await get(`${BASE}/.well-known/openid-configuration`);
    assert.equal(r.status, 200);
    assert.equal(r.json.issuer, BASE);
    assert.equal(r.json.token_endpoint, `${BASE}/api/v1/oidc/token`);
    assert.deepEqual(r.json.id_token_signing_alg_values_supported, ['ES256']);
    assert.deepEqual(r.json.code_challenge_methods_supported, ['S256']);
    assert.deepEqual(r.json.response_types_supported, ['code']);
    const jwks = await get(r.json.jwks_uri);
    assert.equal(jwks.status, 200);
    assert.ok(jwks.json.keys.length >= 1);
    for (const k of jwks.json.keys) {
      assert.equal(k.kty, 'EC'); assert.equal(k.crv, 'P-256'); assert.equal(k.alg, 'ES256');
      assert.equal(k.d, undefined, 'no private part');
    }
  });
});

describe('client registration', () => {
  test('anonymous 401, a person 403, bad redirect URI 422 naming the field', async () => {
    const spec = { name: 'x', type: 'public', redirect_uris: ['https://x.example/cb'], scopes: ['openid'] };
    let res = await fetch(`${BASE}/api/v1/oidc/clients`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(spec) });
    assert.equal(res.status, 401);
    res = await fetch(`${BASE}/api/v1/oidc/clients`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${zhang}` }, body: JSON.stringify(spec) });
    assert.equal(res.status, 403);
    res = await fetch(`${BASE}/api/v1/oidc/clients`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
      body: JSON.stringify({ ...spec, redirect_uris: ['http://x.example/cb'] }),
    });
    assert.equal(res.status, 422);
    const body = await res.json();
    assert.equal(body.errors[0].field, 'redirect_uris[0]');
  });
  test('the secret is shown once; GET shows the client without it', async () => {
    assert.equal(conf.client_secret.length, 43);
    const r = await get(`${BASE}/api/v1/oidc/clients/${conf.client_id}`, { authorization: `Bearer ${ADMIN}` });
    assert.equal(r.status, 200);
    assert.equal(r.json.client_secret, undefined);
    assert.deepEqual(r.json.redirect_uris, [REDIRECT]);
  });
});

describe('authorization endpoint', () => {
  const base = () => ({ response_type: 'code', client_id: conf.client_id, redirect_uri: REDIRECT, scope: 'openid', state: 'xyz', code_challenge: pkce().challenge, code_challenge_method: 'S256' });

  test('unknown client: 400, never a redirect', async () => {
    const r = await get(authorizeUrl({ ...base(), client_id: 'no-such-client' }));
    assert.equal(r.status, 400);
    assert.equal(r.location, null);
    assert.equal(r.json.errors[0].field, 'client_id');
  });
  test('unregistered redirect_uri: 400, never a redirect', async () => {
    for (const uri of ['https://evil.example/cb', `${REDIRECT}/`, `${REDIRECT}?x=1`]) {
      const r = await get(authorizeUrl({ ...base(), redirect_uri: uri }), { authorization: `Bearer ${zhang}` });
      assert.equal(r.status, 400, uri);
      assert.equal(r.location, null);
      assert.equal(r.json.errors[0].field, 'redirect_uri');
    }
  });
  test('plain PKCE is refused (invalid_request back to the client, with state and iss)', async () => {
    const r = await get(authorizeUrl({ ...base(), code_challenge_method: 'plain' }), { authorization: `Bearer ${zhang}` });
    assert.equal(r.status, 302);
    const u = new URL(r.location);
    assert.equal(u.origin + u.pathname, REDIRECT);
    assert.equal(u.searchParams.get('error'), 'invalid_request');
    assert.match(u.searchParams.get('error_description'), /plain/);
    assert.equal(u.searchParams.get('state'), 'xyz');
    assert.equal(u.searchParams.get('iss'), BASE);
  });
  test('a nonce that is not UTF-8 text: invalid_request', async () => {
    const r = await get(authorizeUrl(base()).concat('&nonce=%FF%FE'), { authorization: `Bearer ${zhang}` });
    assert.equal(r.status, 302);
    assert.equal(new URL(r.location).searchParams.get('error'), 'invalid_request');
  });
  test('a public client must use PKCE', async () => {
    const r = await get(authorizeUrl({ response_type: 'code', client_id: pub.client_id, redirect_uri: 'http://127.0.0.1:7/cb', scope: 'openid' }));
    assert.equal(new URL(r.location).searchParams.get('error'), 'invalid_request');
  });
  test('response_type token: unsupported_response_type; a scope not registered: invalid_scope', async () => {
    let r = await get(authorizeUrl({ ...base(), response_type: 'token' }));
    assert.equal(new URL(r.location).searchParams.get('error'), 'unsupported_response_type');
    r = await get(authorizeUrl({ ...base(), client_id: pub.client_id, redirect_uri: 'http://127.0.0.1:7/cb', scope: 'openid idcard' }));
    assert.equal(new URL(r.location).searchParams.get('error'), 'invalid_scope');
  });
  test('anonymous: to /login with next= this request; prompt=none: login_required', async () => {
    let r = await get(authorizeUrl(base()));
    assert.equal(r.status, 302);
    assert.match(r.location, /^\/login\?next=%2Fapi%2Fv1%2Foidc%2Fauthorize%3Fresume%3D/);
    r = await get(authorizeUrl({ ...base(), prompt: 'none' }));
    assert.equal(new URL(r.location).searchParams.get('error'), 'login_required');
  });
  test('logged in but prompt=login, or max_age passed: to /login with prompt=login', async () => {
    for (const extra of [{ prompt: 'login' }, { max_age: '0' }]) {
      // a login at least 1 s old: times are whole seconds, and prompt=login asks again only
      // when the login is older than the request
      await new Promise((r) => setTimeout(r, 1100));
      const r = await get(authorizeUrl({ ...base(), ...extra }), { authorization: `Bearer ${zhang}` });
      assert.equal(r.status, 302, JSON.stringify(extra));
      assert.match(r.location, /^\/login\?next=%2Fapi%2Fv1%2Foidc%2Fauthorize%3Fresume%3D[^&]+&prompt=login$/);
    }
  });
  test('a public client: code with PKCE and no secret', async () => {
    const p = pkce();
    const c = await authorizeCode(zhang, {
      response_type: 'code', client_id: pub.client_id, redirect_uri: 'http://127.0.0.1:7/cb', scope: 'openid profile',
      state: 's', code_challenge: p.challenge, code_challenge_method: 'S256',
    });
    let t = await token({ grant_type: 'authorization_code', code: c.code, redirect_uri: 'http://127.0.0.1:7/cb', client_id: pub.client_id });
    assert.equal(t.json.error, 'invalid_grant', 'no verifier');
    const c2 = await authorizeCode(zhang, {
      response_type: 'code', client_id: pub.client_id, redirect_uri: 'http://127.0.0.1:7/cb', scope: 'openid profile',
      state: 's', code_challenge: p.challenge, code_challenge_method: 'S256',
    });
    t = await token({ grant_type: 'authorization_code', code: c2.code, redirect_uri: 'http://127.0.0.1:7/cb', client_id: pub.client_id, code_verifier: p.verifier });
    assert.equal(t.status, 200, JSON.stringify(t.json));
    assert.ok(t.json.id_token && t.json.refresh_token);
    const ui = await get(`${BASE}/api/v1/oidc/userinfo`, { authorization: `Bearer ${t.json.access_token}` });
    assert.equal(ui.json.name, ZHANG.name);
    assert.equal(ui.json.phone_number, undefined, 'phone was not asked for');
  });
  test('no consent yet: to /consent; prompt=none: consent_required; deny: access_denied', async () => {
    let r = await get(authorizeUrl({ ...base(), prompt: 'none' }), { authorization: `Bearer ${li}` });
    assert.equal(new URL(r.location).searchParams.get('error'), 'consent_required');
    r = await get(authorizeUrl(base()), { authorization: `Bearer ${li}` });
    assert.match(r.location, /^\/consent\?request=/);
    const id = new URL(r.location, BASE).searchParams.get('request');
    // the request belongs to 李四: 张三 cannot read or answer it
    let c = await get(`${BASE}/api/v1/oidc/consent/${id}`, { authorization: `Bearer ${zhang}` });
    assert.equal(c.status, 404);
    c = await get(`${BASE}/api/v1/oidc/consent/${id}`, { authorization: `Bearer ${li}`, 'accept-language': 'en' });
    assert.equal(c.status, 200);
    assert.equal(c.json.client.id, conf.client_id);
    assert.equal(c.json.redirect_host, 'rp.example.gov.cn');
    assert.deepEqual(c.json.scopes.map((s) => s.name), ['openid']);
    const bad = await fetch(`${BASE}/api/v1/oidc/consent/${id}`, { method: 'POST', headers: { authorization: `Bearer ${li}`, 'content-type': 'application/json' }, body: '{"decision":"maybe"}' });
    assert.equal(bad.status, 422);
    const res = await fetch(`${BASE}/api/v1/oidc/consent/${id}`, { method: 'POST', headers: { authorization: `Bearer ${li}`, 'content-type': 'application/json' }, body: '{"decision":"deny"}' });
    const body = await res.json();
    assert.equal(res.status, 200);
    const u = new URL(body.redirect_to);
    assert.equal(u.searchParams.get('error'), 'access_denied');
    assert.equal(u.searchParams.get('state'), 'xyz');
  });
});

describe('token endpoint', () => {
  test('code → tokens with an ES256 ID token; a replayed code is invalid_grant and revokes them', async () => {
    const c = await codeFor();
    assert.equal(c.state, 'st-1');
    assert.equal(c.iss, BASE);
    const form = { grant_type: 'authorization_code', code: c.code, redirect_uri: REDIRECT, code_verifier: c.verifier };
    const t = await token(form, basic());
    assert.equal(t.status, 200, JSON.stringify(t.json));
    assert.equal(t.json.token_type, 'Bearer');
    assert.equal(t.headers.get('cache-control'), 'no-store');
    const [h, p] = t.json.id_token.split('.').slice(0, 2).map((x) => JSON.parse(Buffer.from(x, 'base64url')));
    assert.equal(h.alg, 'ES256');
    assert.equal(p.iss, BASE); assert.equal(p.aud, conf.client_id); assert.equal(p.nonce, 'n-1');
    assert.match(p.acr, /^tongban:L[123]$/);
    assert.deepEqual(p.amr, ['pwd']);
    const ui = await get(`${BASE}/api/v1/oidc/userinfo`, { authorization: `Bearer ${t.json.access_token}` });
    assert.equal(ui.status, 200);
    assert.equal(ui.json.sub, p.sub);
    assert.equal(ui.json.name, ZHANG.name);
    assert.equal(ui.json.phone_number, ZHANG.phone);
    assert.equal(ui.json.id_number, '4401**********1235', 'masked: the client is not allowed the full number');

    const again = await token(form, basic());
    assert.equal(again.status, 400);
    assert.equal(again.json.error, 'invalid_grant');
    const after = await get(`${BASE}/api/v1/oidc/userinfo`, { authorization: `Bearer ${t.json.access_token}` });
    assert.equal(after.status, 401);
    assert.match(after.headers.get('www-authenticate'), /error="invalid_token"/);
    const refreshed = await token({ grant_type: 'refresh_token', refresh_token: t.json.refresh_token }, basic());
    assert.equal(refreshed.json.error, 'invalid_grant');
  });

  test('an expired code is invalid_grant', async () => {
    const c = await codeFor();
    ageCode(c.code);
    const t = await token({ grant_type: 'authorization_code', code: c.code, redirect_uri: REDIRECT, code_verifier: c.verifier }, basic());
    assert.equal(t.status, 400);
    assert.equal(t.json.error, 'invalid_grant');
    assert.match(t.json.error_description, /expired/);
  });

  test('PKCE mismatch and a missing verifier are invalid_grant', async () => {
    const c = await codeFor();
    let t = await token({ grant_type: 'authorization_code', code: c.code, redirect_uri: REDIRECT, code_verifier: pkce().verifier }, basic());
    assert.equal(t.json.error, 'invalid_grant');
    assert.match(t.json.error_description, /PKCE/);
    const c2 = await codeFor();
    t = await token({ grant_type: 'authorization_code', code: c2.code, redirect_uri: REDIRECT }, basic());
    assert.equal(t.json.error, 'invalid_grant');
  });

  test('redirect_uri must be the one of the request', async () => {
    const c = await codeFor();
    const t = await token({ grant_type: 'authorization_code', code: c.code, redirect_uri: 'https://rp.example.gov.cn/other', code_verifier: c.verifier }, basic());
    assert.equal(t.json.error, 'invalid_grant');
  });

  test('wrong client secret: 401 invalid_client with WWW-Authenticate: Basic', async () => {
    const c = await codeFor();
    for (const creds of [[conf.client_id, 'wrong'], ['no-such-client', 'x']]) {
      const t = await token({ grant_type: 'authorization_code', code: c.code, redirect_uri: REDIRECT, code_verifier: c.verifier }, creds);
      assert.equal(t.status, 401);
      assert.equal(t.json.error, 'invalid_client');
      assert.match(t.headers.get('www-authenticate'), /^Basic/);
    }
    // a confidential client may not skip authentication, nor post its secret
    let t = await token({ grant_type: 'authorization_code', code: c.code, redirect_uri: REDIRECT, code_verifier: c.verifier, client_id: conf.client_id });
    assert.equal(t.status, 401);
    t = await token({ grant_type: 'authorization_code', code: c.code, redirect_uri: REDIRECT, code_verifier: c.verifier, client_id: conf.client_id, client_secret: conf.client_secret });
    assert.equal(t.status, 401);
    // the code was never spent by these: it still works
    t = await token({ grant_type: 'authorization_code', code: c.code, redirect_uri: REDIRECT, code_verifier: c.verifier }, basic());
    assert.equal(t.status, 200);
  });

  test('refresh rotates; reusing a rotated token revokes the whole family', async () => {
    const c = await codeFor();
    const t = await token({ grant_type: 'authorization_code', code: c.code, redirect_uri: REDIRECT, code_verifier: c.verifier }, basic());
    const r1 = await token({ grant_type: 'refresh_token', refresh_token: t.json.refresh_token }, basic());
    assert.equal(r1.status, 200);
    assert.notEqual(r1.json.refresh_token, t.json.refresh_token);
    assert.ok(r1.json.id_token);
    const down = await token({ grant_type: 'refresh_token', refresh_token: r1.json.refresh_token, scope: 'openid phone enterprise' }, basic());
    assert.equal(down.json.error, 'invalid_scope', 'enterprise was not granted');
    const reuse = await token({ grant_type: 'refresh_token', refresh_token: t.json.refresh_token }, basic());
    assert.equal(reuse.status, 400);
    assert.equal(reuse.json.error, 'invalid_grant');
    const next = await token({ grant_type: 'refresh_token', refresh_token: r1.json.refresh_token }, basic());
    assert.equal(next.json.error, 'invalid_grant', 'the newest token of the family is revoked too');
    const ui = await get(`${BASE}/api/v1/oidc/userinfo`, { authorization: `Bearer ${r1.json.access_token}` });
    assert.equal(ui.status, 401);
  });

  test('grant types and bad requests', async () => {
    let t = await token({ grant_type: 'password', username: 'a', password: 'b' }, basic());
    assert.equal(t.json.error, 'unsupported_grant_type');
    t = await token({ grant_type: 'client_credentials' }, basic());
    assert.equal(t.status, 200);
    assert.equal(t.json.id_token, undefined);
    assert.equal(t.json.refresh_token, undefined);
    t = await token({ grant_type: 'client_credentials', client_id: pub.client_id });
    assert.equal(t.json.error, 'unauthorized_client');
    const res = await fetch(`${BASE}/api/v1/oidc/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error, 'invalid_request');
    const dup = await fetch(`${BASE}/api/v1/oidc/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials&grant_type=client_credentials' });
    assert.equal((await dup.json()).error, 'invalid_request');
  });
});

describe('full ID number', () => {
  test('a client registered for it gets the full number, and the release is audited', async () => {
    const full = await registerClient({
      client_id: uniqueId('full'), name: '不动产登记（需完整证件号）', type: 'confidential',
      redirect_uris: [REDIRECT], scopes: ['openid', 'idcard'], full_id_number: true,
    });
    const p = pkce();
    const c = await authorizeCode(zhang, {
      response_type: 'code', client_id: full.client_id, redirect_uri: REDIRECT, scope: 'openid idcard',
      state: 's', code_challenge: p.challenge, code_challenge_method: 'S256',
    });
    const t = await token({ grant_type: 'authorization_code', code: c.code, redirect_uri: REDIRECT, code_verifier: p.verifier }, [full.client_id, full.client_secret]);
    const ui = await get(`${BASE}/api/v1/oidc/userinfo`, { authorization: `Bearer ${t.json.access_token}` });
    assert.equal(ui.json.id_number, ZHANG.login);
    const auditor = await loginStaff(AUDITOR);
    const log = await get(`${BASE}/api/v1/audit?per_page=100`, { authorization: `Bearer ${auditor}` });
    assert.equal(log.status, 200);
    const rec = log.json.items.find((a) => a.action === 'oidc.id_number.release' && a.detail.includes(full.client_id));
    assert.ok(rec, 'an audit record names the client');
    assert.equal(typeof rec.target_user, 'number');
  });
});

describe('logout', () => {
  test('end_session: exact post_logout_redirect_uri or a 400; then the session is over', async () => {
    const user = await loginBearer(ZHANG);
    const c = await codeFor(user);
    const t = await token({ grant_type: 'authorization_code', code: c.code, redirect_uri: REDIRECT, code_verifier: c.verifier }, basic());
    const hint = t.json.id_token;
    let r = await get(`${BASE}/api/v1/oidc/end_session?id_token_hint=${hint}&post_logout_redirect_uri=${encodeURIComponent('https://evil.example/')}`);
    assert.equal(r.status, 400);
    assert.equal(r.location, null);
    r = await get(`${BASE}/api/v1/oidc/end_session?id_token_hint=${hint.slice(0, -2)}xx`);
    assert.equal(r.status, 400);
    r = await get(`${BASE}/api/v1/oidc/end_session?id_token_hint=${hint}&post_logout_redirect_uri=${encodeURIComponent('https://rp.example.gov.cn/bye')}&state=s9`);
    assert.equal(r.status, 302);
    assert.equal(r.location, 'https://rp.example.gov.cn/bye?state=s9');
    const s = await get(`${BASE}/api/v1/session`, { authorization: `Bearer ${user}` });
    assert.equal(s.json.authenticated, false);
    const refreshed = await token({ grant_type: 'refresh_token', refresh_token: t.json.refresh_token }, basic());
    assert.equal(refreshed.json.error, 'invalid_grant');
  });
});
