// A certified relying party, openid-client (v6), signs a person in through tongban
// with a real browser: discovery → authorize (Chromium: the portal's login and consent
// pages, or — where the portal is not built — a session from the login API and the
// consent API from inside the page) → token (code + PKCE S256, client_secret_basic) →
// ID token validation by openid-client (ES256 against our JWKS, iss, aud, nonce, state,
// iss in the response) → userinfo → refresh (rotation, reuse refused) → RP-initiated
// logout with id_token_hint and post_logout_redirect_uri.
//   TONGBAN_URL=... TONGBAN_ADMIN_TOKEN=... node --test tests/oidc/rp.test.mjs
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import * as client from 'openid-client';
import { launch } from '../browser/lib.mjs';
import { BASE, ZHANG, loginCookie, registerClient, uniqueId } from './lib.mjs';

let rp, rpBase, browser;
const seen = [];

before(async () => {
  // the department system's side: it only has to receive the browser's redirects
  rp = http.createServer((req, res) => {
    seen.push(req.url);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>RP</title><p id="rp">department system</p>');
  });
  await new Promise((r) => rp.listen(0, '127.0.0.1', r));
  rpBase = `http://127.0.0.1:${rp.address().port}`;
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await new Promise((r) => rp.close(r));
});

/** In the browser: log in on the portal's page if it is there, else via the API. */
async function loginInBrowser(page, context) {
  const form = page.locator('[data-test="login-form"]');
  if (await form.waitFor({ timeout: 5000 }).then(() => true, () => false)) {
    await page.locator('#login-login').fill(ZHANG.login);
    await page.locator('#login-password').fill(ZHANG.password);
    await page.locator('[data-test="login-submit"]').click();
    return null;
  }
  const s = await loginCookie(ZHANG);
  await context.addCookies([{ name: 'tb_session', value: s.token, url: BASE, httpOnly: true, sameSite: 'Lax' }]);
  const next = new URL(page.url()).searchParams.get('next');
  assert.ok(next && next.startsWith('/api/v1/oidc/authorize?resume='), `next=${next}`);
  await page.goto(BASE + next);
  return s.csrf;
}

/** In the browser: allow on the portal's consent page, or through the consent API. */
async function consentInBrowser(page, csrf) {
  const allow = page.locator('[data-test="consent-allow"]');
  if (await allow.waitFor({ timeout: 5000 }).then(() => true, () => false)) {
    await page.locator('[data-test="consent-host"]').waitFor();
    await allow.click();
    return;
  }
  const id = new URL(page.url()).searchParams.get('request');
  if (!csrf) csrf = (await (await page.request.get(`${BASE}/api/v1/session`)).json()).csrf_token;
  const res = await page.request.post(`${BASE}/api/v1/oidc/consent/${id}`, {
    headers: { 'x-csrf-token': csrf, 'content-type': 'application/json' }, data: { decision: 'allow' },
  });
  assert.equal(res.status(), 200, await res.text());
  await page.goto((await res.json()).redirect_to);
}

test('openid-client: discovery → authorize in Chromium → token → ID token → userinfo → refresh → logout', async () => {
  const reg = await registerClient({
    client_id: uniqueId('rp'), name: '广州市市场监督管理局（测试）', type: 'confidential',
    redirect_uris: [`${rpBase}/cb`], post_logout_redirect_uris: [`${rpBase}/bye`],
    scopes: ['openid', 'profile', 'phone', 'idcard'], full_id_number: true,
  });
  const config = await client.discovery(
    new URL(BASE), reg.client_id,
    { client_secret: reg.client_secret, id_token_signed_response_alg: 'ES256' },
    client.ClientSecretBasic(reg.client_secret),
    { execute: [client.allowInsecureRequests] },
  );
  assert.equal(config.serverMetadata().issuer, BASE);

  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const authUrl = client.buildAuthorizationUrl(config, {
    redirect_uri: `${rpBase}/cb`, scope: 'openid profile phone idcard', state, nonce,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });

  const context = await browser.newContext({ locale: 'zh-CN' });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  await page.goto(authUrl.href);
  assert.match(page.url(), /\/login\?next=/);
  const csrf = await loginInBrowser(page, context);
  await page.waitForURL((u) => u.pathname === '/consent' || u.href.startsWith(`${rpBase}/cb`));
  if (new URL(page.url()).pathname === '/consent') await consentInBrowser(page, csrf);
  await page.waitForURL((u) => u.href.startsWith(`${rpBase}/cb`));
  const callback = new URL(page.url());
  assert.ok(callback.searchParams.get('code'), callback.href);

  // openid-client checks state, iss, the code exchange, and the ID token (signature
  // against the JWKS, iss, aud, exp, iat, nonce)
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce,
  });
  const claims = tokens.claims();
  assert.equal(claims.iss, BASE);
  assert.equal(claims.aud, reg.client_id);
  assert.match(claims.acr, /^tongban:L[123]$/);
  assert.equal(typeof claims.auth_time, 'number');
  assert.ok(claims.auth_time <= claims.iat);

  const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  assert.equal(info.name, ZHANG.name);
  assert.equal(info.phone_number, ZHANG.phone);
  assert.equal(info.id_number, ZHANG.login, 'this client is registered for the full ID number');

  // refresh with rotation; the rotated-out token is refused afterwards
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
  assert.equal(refreshed.claims().sub, claims.sub);
  await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token),
    (e) => e.error === 'invalid_grant');

  // RP-initiated logout in the browser: back to the registered page, session over
  const endUrl = client.buildEndSessionUrl(config, {
    id_token_hint: refreshed.id_token ?? tokens.id_token, post_logout_redirect_uri: `${rpBase}/bye`, state: 'bye-1',
  });
  await page.goto(endUrl.href);
  await page.waitForURL((u) => u.href.startsWith(`${rpBase}/bye`));
  assert.equal(new URL(page.url()).searchParams.get('state'), 'bye-1');
  const session = await (await page.request.get(`${BASE}/api/v1/session`)).json();
  assert.equal(session.authenticated, false);
  await assert.rejects(client.fetchUserInfo(config, refreshed.access_token, claims.sub));
  await context.close();
});
