// The identity pages against the real server (docs/identity.md): register, log in,
// the account centre, sessions, logging out everywhere, the generic wrong-login text,
// `?next=` that never leaves the site, staff login with TOTP, an agent acting for an
// enterprise, CSRF refusal, and axe-core on every new page.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, newPage, visit, url, axeSerious, describeViolations, horizontalOverflow, PHONE, BASE,
} from './lib.mjs';
import {
  admin, adminSession, apiLogin, call, newPerson, newUscc, register, totp, withWrongCheck,
} from './identity-lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const masked = (name) => Array.from(name)[0] + '*'.repeat(Array.from(name).length - 1);

async function fill(page, sel, value) {
  const el = page.locator(sel);
  await el.fill('');
  await el.fill(value);
}

/** Log in through the login page; waits until the page has left /login. */
async function uiLogin(page, p, next) {
  await visit(page, next ? `/login?next=${encodeURIComponent(next)}` : '/login');
  await fill(page, '#login-login', p.id_number);
  await fill(page, '#login-password', p.password);
  await page.locator('[data-test="login-submit"]').click();
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
}

/** The session as the page's own cookie sees it. */
function pageSession(page) {
  return page.evaluate(async () => (await fetch('/api/v1/session', { credentials: 'same-origin' })).json());
}

test('register with a live ID check, the same answer for a registered ID, then log in and see my data', async () => {
  const p = newPerson();
  const page = await newPage(browser);
  await visit(page, '/register');
  await fill(page, '#reg-name', p.name);
  // a wrong check character is caught while typing
  await fill(page, '#reg-id', withWrongCheck(p.id_number));
  await page.locator('[data-field="reg-id"] [data-test="field-error"]').filter({ hasText: '校验码' }).waitFor();
  assert.equal(await page.locator('#reg-id').getAttribute('aria-invalid'), 'true');
  await fill(page, '#reg-id', p.id_number);
  await page.locator('[data-field="reg-id"] .field-ok').waitFor();
  await fill(page, '#reg-phone', p.phone);
  await fill(page, '#reg-password', 'short');
  await page.locator('[data-test="register-submit"]').click();
  await page.locator('[data-field="reg-password"] [data-test="field-error"]').waitFor();
  await fill(page, '#reg-password', p.password);
  assert.ok(Number(await page.locator('[data-test="password-strength"]').getAttribute('data-level')) >= 2);
  await page.locator('[data-test="register-submit"]').click();
  const done = page.locator('[data-test="register-done"]');
  await done.waitFor();
  const firstText = await done.textContent();

  // the same ID number again, another phone: the very same answer (no enumeration)
  await visit(page, '/register');
  await fill(page, '#reg-name', p.name);
  await fill(page, '#reg-id', p.id_number);
  await fill(page, '#reg-phone', newPerson().phone);
  await fill(page, '#reg-password', `${p.password}x`);
  await page.locator('[data-test="register-submit"]').click();
  await done.waitFor();
  assert.equal(await done.textContent(), firstText);

  await uiLogin(page, p);
  assert.equal(new URL(page.url()).pathname, '/account');
  await page.locator('[data-test="me-id-number"]').waitFor();
  // the holder sees the full ID number and phone
  assert.equal((await page.locator('[data-test="me-id-number"]').textContent()).trim(), p.id_number);
  assert.equal((await page.locator('[data-test="me-phone"]').textContent()).trim(), p.phone);
  assert.equal((await page.locator('[data-test="me-name"]').textContent()).trim(), p.name);
  // the header shows the name masked
  assert.equal((await page.locator('[data-test="user-name"]').textContent()).trim(), masked(p.name));
  assert.deepEqual(page.jsErrors, []);
  await page.close();
});

test('sessions: this device is marked, another is revoked, then log out everywhere', async () => {
  const p = newPerson();
  await register(p);
  const other = await apiLogin(p.id_number, p.password);
  const page = await newPage(browser);
  await uiLogin(page, p, '/account#acc-sessions');
  const rows = page.locator('[data-test="session"]');
  await rows.nth(1).waitFor();
  assert.equal(await rows.count(), 2);
  assert.equal(await page.locator('[data-test="session"][data-current="true"]').count(), 1);
  assert.equal(await page.locator('[data-test="session"][data-current="true"] [data-test="session-current"]').textContent(), '本设备');

  // revoke the other device: its cookie stops working
  await page.locator('[data-test="session"][data-current="false"] [data-test="session-revoke"]').click();
  await page.waitForFunction(() => document.querySelectorAll('[data-test="session"]').length === 1);
  assert.equal((await call('GET', '/session', { cookie: other.cookie })).body.authenticated, false);

  // log out everywhere: this page and a third device
  const third = await apiLogin(p.phone, p.password);
  assert.equal((await call('GET', '/session', { cookie: third.cookie })).body.authenticated, true);
  await page.locator('[data-test="logout-all"]').click();
  await page.locator('.el-message-box__btns .el-button--primary').click();
  await page.waitForURL((u) => u.pathname === '/login');
  assert.equal((await call('GET', '/session', { cookie: third.cookie })).body.authenticated, false);
  assert.equal((await pageSession(page)).authenticated, false);
  await page.locator('[data-test="login-link"]').waitFor();
  await page.close();
});

test('change phone and password: the other devices are logged out, the new password works', async () => {
  const p = newPerson();
  await register(p);
  const other = await apiLogin(p.id_number, p.password);
  const page = await newPage(browser);
  await uiLogin(page, p, '/account#acc-security');
  await page.locator('[data-test="me-phone"]').waitFor();

  const phone2 = newPerson().phone;
  await fill(page, '#acc-phone', phone2);
  await page.locator('[data-test="phone-form"] button[type="submit"]').click();
  await page.locator('[data-test="account-status"]').filter({ hasText: '手机号码已更新' }).waitFor();
  assert.equal((await page.locator('[data-test="me-phone"]').textContent()).trim(), phone2);

  // a wrong current password is named on its field; the session stays
  await fill(page, '#acc-pw-current', `${p.password}-wrong`);
  await fill(page, '#acc-pw-new', 'Another-pass-2026');
  await fill(page, '#acc-pw-confirm', 'Another-pass-2026');
  await page.locator('[data-test="password-form"] button[type="submit"]').click();
  await page.locator('[data-field="acc-pw-current"] [data-test="field-error"]').waitFor();
  assert.equal((await pageSession(page)).authenticated, true);

  await fill(page, '#acc-pw-current', p.password);
  await page.locator('[data-test="password-form"] button[type="submit"]').click();
  await page.locator('[data-test="account-status"]').filter({ hasText: '密码已修改' }).waitFor();
  assert.equal((await call('GET', '/session', { cookie: other.cookie })).body.authenticated, false);
  assert.equal((await pageSession(page)).authenticated, true);
  // the new phone and the new password log in
  await apiLogin(phone2, 'Another-pass-2026');
  await page.close();
});

test('a wrong password and an unknown account get the same generic message', async () => {
  const p = newPerson();
  await register(p);
  const page = await newPage(browser);
  const texts = [];
  for (const [login, password] of [[p.id_number, `${p.password}-wrong`], [newPerson().id_number, p.password]]) {
    await visit(page, '/login');
    await fill(page, '#login-login', login);
    await fill(page, '#login-password', password);
    await page.locator('[data-test="login-submit"]').click();
    const err = page.locator('[data-test="form-error"]');
    await err.waitFor();
    texts.push((await err.textContent()).trim());
    assert.equal(await err.getAttribute('role'), 'alert');
  }
  assert.equal(texts[0], '账号或密码错误');
  assert.equal(texts[1], texts[0]);
  await page.close();
});

test('?next= is followed only within the site', async () => {
  const p = newPerson();
  await register(p);
  const page = await newPage(browser);
  await uiLogin(page, p, '//evil.example/steal');
  assert.equal(new URL(page.url()).origin, BASE);
  assert.equal(new URL(page.url()).pathname, '/account');
  // a path of ours is followed (a logged-in visitor to a page that needs login comes back)
  const page2 = await newPage(browser);
  await visit(page2, '/account#acc-sessions');
  await page2.waitForURL((u) => u.pathname === '/login');
  assert.equal(new URL(page2.url()).searchParams.get('next'), '/account#acc-sessions');
  await fill(page2, '#login-login', p.phone);
  await fill(page2, '#login-password', p.password);
  await page2.locator('[data-test="login-submit"]').click();
  await page2.waitForURL((u) => u.pathname === '/account');
  await page.close();
  await page2.close();
});

test('a state-changing request without the CSRF token is refused (403), with it accepted', async () => {
  const p = newPerson();
  await register(p);
  const page = await newPage(browser);
  await uiLogin(page, p);
  const res = await page.evaluate(async () => {
    const bare = await fetch('/api/v1/session/acting', {
      method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ uscc: null }),
    });
    const problem = await bare.json().catch(() => null);
    const s = await (await fetch('/api/v1/session', { credentials: 'same-origin' })).json();
    const ok = await fetch('/api/v1/session/acting', {
      method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf_token }, body: JSON.stringify({ uscc: null }),
    });
    return { bare: bare.status, type: problem && problem.type, ok: ok.status, still: s.authenticated };
  });
  assert.equal(res.bare, 403);
  assert.match(String(res.type), /csrf$/);
  assert.equal(res.still, true);
  assert.equal(res.ok, 200);
  await page.close();
});

test('staff log in with a TOTP code; a wrong code is refused', async (t) => {
  const a = admin();
  if (!a) { t.skip('no bootstrapped administrator (TONGBAN_ADMIN_* or TONGBAN_DB)'); return; }
  const adminS = await adminSession();
  const depts = await call('GET', '/departments?per_page=1');
  const dept = depts.body.items[0];
  const s = newPerson();
  const created = await call('POST', '/staff', {
    bearer: adminS.access_token,
    body: { name: s.name, id_number: s.id_number, phone: s.phone, department: dept.uscc, region: dept.region ? dept.region.code || dept.region : '440100', roles: ['clerk'] },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const page = await newPage(browser);
  await visit(page, '/staff/login');
  await fill(page, '#staff-login', s.id_number);
  await fill(page, '#staff-password', created.body.initial_password);
  const good = totp(created.body.totp_uri);
  await fill(page, '#staff-totp', good === '000000' ? '111111' : '000000');
  await page.locator('[data-test="staff-submit"]').click();
  await page.locator('[data-test="form-error"]').filter({ hasText: '动态口令' }).waitFor();
  assert.equal((await pageSession(page)).authenticated, false);
  await fill(page, '#staff-totp', totp(created.body.totp_uri));
  await page.locator('[data-test="staff-submit"]').click();
  await page.waitForURL((u) => u.pathname === '/account');
  await page.locator('[data-test="me-roles"]').filter({ hasText: '窗口受理人员' }).waitFor();
  const sess = await pageSession(page);
  assert.equal(sess.user.kind, 'staff');
  await page.close();
});

test('a legal representative registers an enterprise and grants an agent, who then acts for it', async () => {
  const rep = newPerson();
  const agent = newPerson();
  await register(rep);
  await register(agent);
  const uscc = newUscc();
  const entName = `通办测试科技有限公司${uscc.slice(-4)}`;

  const page = await newPage(browser);
  await uiLogin(page, rep, '/account#acc-enterprises');
  await page.locator('[data-test="enterprise-register-open"]').click();
  await fill(page, '#ent-name', entName);
  // a wrong check character passes the page's shape check; the server names the field
  const wrongUscc = uscc.slice(0, 17) + (uscc[17] === '0' ? '1' : '0');
  await fill(page, '#ent-uscc', wrongUscc);
  await fill(page, '#ent-region', '440106');
  await page.locator('[data-test="enterprise-submit"]').click();
  await page.locator('[data-field="ent-uscc"] [data-test="field-error"]').waitFor();
  assert.equal(await page.locator('#ent-uscc').getAttribute('aria-invalid'), 'true');
  await fill(page, '#ent-uscc', uscc);
  await fill(page, '#ent-region', '440106');
  await page.locator('[data-test="enterprise-submit"]').click();
  await page.locator(`[data-test="enterprise"][data-uscc="${uscc}"]`).waitFor();

  await fill(page, '#grant-name', agent.name);
  await fill(page, '#grant-id', agent.id_number);
  await page.locator('[data-test="grant-submit"]').click();
  const grantRow = page.locator('[data-test="grant"][data-status="active"]');
  await grantRow.waitFor();
  // the agent's ID number is masked to the representative
  assert.ok(!(await grantRow.textContent()).includes(agent.id_number));
  let v = await axeSerious(page);
  assert.equal(v.length, 0, `/account with an enterprise and a grant: ${describeViolations(v)}`);
  // the same page on a phone: nothing wider than the screen (long enterprise names)
  const phone = await newPage(browser, { viewport: PHONE, isMobile: true });
  await uiLogin(phone, rep, '/account#acc-grants');
  await phone.locator('[data-test="grant"]').waitFor();
  await phone.locator('[data-test="enterprise"]').waitFor();
  const o = await horizontalOverflow(phone);
  assert.ok(o.scrollWidth <= o.clientWidth, JSON.stringify(o));
  v = await axeSerious(phone);
  assert.equal(v.length, 0, `/account on a phone: ${describeViolations(v)}`);
  await phone.close();

  const apage = await newPage(browser);
  await uiLogin(apage, agent);
  const select = apage.locator('[data-test="acting-select"]');
  await select.waitFor();
  await select.selectOption(uscc);
  await apage.locator('[data-test="acting-name"]').filter({ hasText: entName }).waitFor();
  const s = await pageSession(apage);
  assert.equal(s.acting.uscc, uscc);
  assert.equal(s.acting.capacity, 'agent');
  // and back to acting for myself
  await select.selectOption('');
  await apage.locator('[data-test="acting-name"]').waitFor({ state: 'detached' });

  // the representative revokes: the agent can no longer act for the enterprise
  await visit(page, '/account#acc-grants');
  await page.locator('[data-test="grant"][data-status="active"] [data-test="grant-revoke"]').click();
  await page.locator('.el-message-box__btns .el-button--primary').click();
  await page.locator('[data-test="grant"][data-status="revoked"]').waitFor();
  const refused = await apage.evaluate(async (u) => {
    const s0 = await (await fetch('/api/v1/session', { credentials: 'same-origin' })).json();
    const r = await fetch('/api/v1/session/acting', {
      method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': s0.csrf_token }, body: JSON.stringify({ uscc: u }),
    });
    return r.status;
  }, uscc);
  assert.ok(refused >= 400 && refused < 500, `acting after revocation: ${refused}`);
  await page.close();
  await apage.close();
});

test('axe-core: no serious violations on register, login, staff login and the account centre; no sideways scroll on a phone', async () => {
  const p = newPerson();
  await register(p);
  for (const viewport of [undefined, PHONE]) {
    const page = await newPage(browser, viewport ? { viewport, isMobile: true } : {});
    for (const path of ['/register', '/login', '/staff/login']) {
      await visit(page, path);
      await page.locator('form.auth-form').waitFor();
      if (path === '/login') { // with an error shown
        await page.locator('[data-test="login-submit"]').click();
        await page.locator('[data-test="form-error"]').waitFor();
      }
      const v = await axeSerious(page);
      assert.equal(v.length, 0, `${path}: ${describeViolations(v)}`);
      const o = await horizontalOverflow(page);
      assert.ok(o.scrollWidth <= o.clientWidth, `${path}: ${JSON.stringify(o)}`);
    }
    await uiLogin(page, p);
    await page.locator('[data-test="session"]').first().waitFor();
    await page.locator('[data-test="me-id-number"]').waitFor();
    const v = await axeSerious(page);
    assert.equal(v.length, 0, `/account: ${describeViolations(v)}`);
    const o = await horizontalOverflow(page);
    assert.ok(o.scrollWidth <= o.clientWidth, `/account: ${JSON.stringify(o)}`);
    await page.close();
  }
});

test('axe-core: register and login in elderly mode and in Traditional Chinese', async () => {
  for (const prefs of [{ elderly: true }, { locale: 'zh-HK' }]) {
    const page = await newPage(browser, { prefs });
    for (const path of ['/register', '/login']) {
      await visit(page, path);
      await page.locator('form.auth-form').waitFor();
      await page.locator('form.auth-form button[type="submit"]').click();
      await page.locator('[data-test="form-error"]').waitFor();
      const v = await axeSerious(page);
      assert.equal(v.length, 0, `${path} ${JSON.stringify(prefs)}: ${describeViolations(v)}`);
    }
    if (prefs.locale) assert.equal((await page.locator('h1').textContent()).trim(), '用戶登入');
    await page.close();
  }
});

test('the login page link keeps where the visitor was', async () => {
  const page = await newPage(browser);
  await page.goto(url('/search?q=' + encodeURIComponent('社保')), { waitUntil: 'domcontentloaded' });
  await page.locator('[data-test="login-link"]').click();
  await page.waitForURL((u) => u.pathname === '/login');
  assert.equal(new URL(page.url()).searchParams.get('next'), '/search?q=' + encodeURIComponent('社保'));
  await page.close();
});
