// The SSO consent page (docs/oidc.md): a department system (a client the bootstrapped
// platform admin registers) sends the browser to authorize; the portal's login page
// takes over, then the consent page lists the system and the data it will receive;
// allow returns a code to the system's redirect URI, deny returns access_denied, and
// an allowed consent is remembered.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { launch, newPage, url, axeSerious, describeViolations, horizontalOverflow, PHONE, BASE } from './lib.mjs';
import { adminSession, call, newPerson, register } from './identity-lib.mjs';

let browser;
let client; // {client_id, name}
const redirectUri = `${BASE}/oidc-test/callback`;

before(async () => {
  browser = await launch();
  const s = await adminSession();
  if (!s) return;
  const r = await call('POST', '/oidc/clients', {
    bearer: s.access_token,
    body: {
      name: `广州市市场监督管理局网上办事（测试 ${randomBytes(2).toString('hex')}）`, type: 'public',
      redirect_uris: [redirectUri], scopes: ['openid', 'profile', 'phone', 'idcard'], full_id_number: false,
    },
  });
  if (r.status !== 201) throw new Error(`register client: ${r.status} ${JSON.stringify(r.body)}`);
  client = r.body;
});
after(async () => { await browser?.close(); });

function authorizeUrl(scope = 'openid profile phone idcard') {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const state = randomBytes(8).toString('hex');
  const q = new URLSearchParams({
    response_type: 'code', client_id: client.client_id, redirect_uri: redirectUri, scope, state,
    nonce: randomBytes(8).toString('hex'), code_challenge: challenge, code_challenge_method: 'S256',
  });
  return { href: url(`/api/v1/oidc/authorize?${q}`), state };
}

/** authorize -> the portal's login page -> log in -> the consent page. */
async function toConsent(page, p) {
  const { href, state } = authorizeUrl();
  await page.goto(href);
  await page.waitForURL((u) => u.pathname === '/login');
  const next = new URL(page.url()).searchParams.get('next');
  assert.match(next, /^\/api\/v1\/oidc\/authorize\?/);
  await page.locator('#login-login').fill(p.id_number);
  await page.locator('#login-password').fill(p.password);
  await page.locator('[data-test="login-submit"]').click();
  await page.waitForURL((u) => u.pathname === '/consent');
  await page.locator('[data-test="consent-scopes"]').waitFor();
  return state;
}

test('consent: the page names the system and the data; allow returns a code, and is remembered', async (t) => {
  if (!client) { t.skip('no bootstrapped administrator (TONGBAN_ADMIN_* or TONGBAN_DB)'); return; }
  const p = newPerson();
  await register(p);
  const page = await newPage(browser);
  const state = await toConsent(page, p);
  assert.equal((await page.locator('[data-test="consent-client"]').textContent()).trim(), client.name);
  assert.equal((await page.locator('[data-test="consent-host"]').textContent()).trim(), new URL(redirectUri).host);
  const scopes = await page.locator('[data-test="consent-scopes"] > li').evaluateAll((els) => els.map((e) => e.dataset.scope));
  assert.deepEqual(scopes.sort(), ['idcard', 'openid', 'phone', 'profile']);
  // the ID number is released masked to this client, and the page says so
  assert.match(await page.locator('[data-scope="idcard"]').textContent(), /脱敏|隐藏/);
  assert.equal(await page.locator('[data-scope="idcard"] [data-claim="id_number"]').count(), 1);
  const v = await axeSerious(page);
  assert.equal(v.length, 0, describeViolations(v));

  await page.locator('[data-test="consent-allow"]').click();
  await page.waitForURL((u) => u.pathname === '/oidc-test/callback');
  const cb = new URL(page.url()).searchParams;
  assert.ok(cb.get('code'));
  assert.equal(cb.get('state'), state);

  // remembered: the next authorization for the same scopes skips the page
  const again = authorizeUrl();
  await page.goto(again.href);
  await page.waitForURL((u) => u.pathname === '/oidc-test/callback');
  assert.ok(new URL(page.url()).searchParams.get('code'));
  await page.close();
});

test('consent: deny returns access_denied to the system', async (t) => {
  if (!client) { t.skip('no bootstrapped administrator'); return; }
  const p = newPerson();
  await register(p);
  const page = await newPage(browser, { viewport: PHONE, isMobile: true });
  const state = await toConsent(page, p);
  const o = await horizontalOverflow(page);
  assert.ok(o.scrollWidth <= o.clientWidth, JSON.stringify(o));
  await page.locator('[data-test="consent-deny"]').click();
  await page.waitForURL((u) => u.pathname === '/oidc-test/callback');
  const cb = new URL(page.url()).searchParams;
  assert.equal(cb.get('error'), 'access_denied');
  assert.equal(cb.get('state'), state);
  assert.equal(cb.get('code'), null);
  await page.close();
});

test('consent: an unknown request says so', async (t) => {
  if (!client) { t.skip('no bootstrapped administrator'); return; }
  const p = newPerson();
  await register(p);
  const page = await newPage(browser);
  await page.goto(url(`/login?next=${encodeURIComponent('/consent?request=no-such-request')}`));
  await page.locator('#login-login').fill(p.id_number);
  await page.locator('#login-password').fill(p.password);
  await page.locator('[data-test="login-submit"]').click();
  await page.locator('[data-test="consent-gone"]').waitFor();
  await page.close();
});
