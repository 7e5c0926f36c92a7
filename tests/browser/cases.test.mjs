// Case handling (issue 4) in the portal, end to end against a real server: 张三 applies
// online with uploads, a clerk accepts at the workbench, an approver reviews, grants and
// completes with an electronic result that 张三 downloads; the correction loop; a
// withdrawal; a special procedure pausing and resuming the clock. Staff are created
// fresh through the API by the bootstrapped administrator (each logs in once, so no
// TOTP code is used twice); 张三 comes from data/demo/people.json (the harness imports
// it). The implementation is one of 广州市市场监督管理局 (the staff's department).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BASE, launch, newPage, visit, axeSerious, describeViolations, horizontalOverflow, PHONE } from './lib.mjs';
import { admin, adminSession, apiLogin, call, newPerson, totp } from './identity-lib.mjs';

// 张三 is the legal representative of 广州示例科技有限公司: the implementation serves
// legal persons, so he acts for the company (the header's switcher)
const ZHANGSAN = { login: '13912340001', password: 'Zhangsan@2026', name: '张三', uscc: '91440106MA5X12349Y' };
const GZ_MARKET = '11440100008446488A'; // 广州市市场监督管理局, region 4401
// 公司登记: required materials and one 容缺后补 (住所使用证明)
const IMPL = '11440100008446488A3000701002001';

let browser;
let dir;
let adminS;
let pdfPath;
let pngPath;

// A small real PDF (one empty page, a correct xref table) and a 1x1 PNG.
function pdfBytes(text) {
  const objs = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    null,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  const stream = `BT /F1 12 Tf 20 50 Td (${text}) Tj ET`;
  objs[3] = `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`;
  let out = '%PDF-1.4\n';
  const offsets = [];
  objs.forEach((o, i) => { offsets.push(out.length); out += `${i + 1} 0 obj\n${o}\nendobj\n`; });
  const xref = out.length;
  out += `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n`;
  for (const off of offsets) out += `${String(off).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objs.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');

before(async () => {
  browser = await launch();
  dir = mkdtempSync(join(tmpdir(), 'tongban-cases-'));
  pdfPath = join(dir, '申请材料.pdf');
  pngPath = join(dir, '照片.png');
  writeFileSync(pdfPath, pdfBytes('tongban test material'));
  writeFileSync(pngPath, PNG);
  writeFileSync(join(dir, '办理结果.pdf'), pdfBytes('tongban result'));
  if (admin()) adminS = await adminSession();
});
after(async () => {
  await browser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A new staff member of 广州市市场监督管理局 with these roles: {id_number, password, totp_uri, id}. */
async function newStaff(roles) {
  assert.ok(adminS, 'needs the bootstrapped administrator (TONGBAN_ADMIN_* or TONGBAN_DB)');
  const p = newPerson('440106');
  const r = await call('POST', '/staff', {
    bearer: adminS.access_token,
    body: { name: p.name, id_number: p.id_number, phone: p.phone, department: GZ_MARKET, region: '4401', roles },
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return { ...p, password: r.body.initial_password, totp_uri: r.body.totp_uri, id: r.body.id };
}

async function fill(page, sel, value) {
  const el = page.locator(sel);
  await el.fill('');
  await el.fill(value);
}

/** A staff page logged in through /staff/login, landing on the workbench. */
async function staffPage(s, opts) {
  const page = await newPage(browser, opts);
  await visit(page, '/staff/login?next=' + encodeURIComponent('/workbench'));
  await fill(page, '#staff-login', s.id_number);
  await fill(page, '#staff-password', s.password);
  await fill(page, '#staff-totp', totp(s.totp_uri));
  await page.locator('[data-test="staff-submit"]').click();
  await page.waitForURL((u) => u.pathname === '/workbench');
  return page;
}

/** 张三's page, logged in through /login. */
async function citizenPage(opts) {
  const page = await newPage(browser, opts);
  await visit(page, '/login?next=' + encodeURIComponent('/my/cases'));
  await fill(page, '#login-login', ZHANGSAN.login);
  await fill(page, '#login-password', ZHANGSAN.password);
  await page.locator('[data-test="login-submit"]').click();
  await page.waitForURL((u) => u.pathname === '/my/cases');
  await page.locator('#acting-select').selectOption(ZHANGSAN.uscc);
  await page.locator('[data-test="acting-name"]').waitFor();
  return page;
}

/** The case as the page's own session sees it (GET /api/v1/cases/{no}). */
async function caseAs(page, no) {
  return page.evaluate(async (n) => {
    const r = await fetch(`/api/v1/cases/${n}`, { headers: { Accept: 'application/json' } });
    return r.json();
  }, no);
}

async function waitState(page, no, state) {
  let c;
  for (let i = 0; i < 50; i++) {
    c = await caseAs(page, no);
    if (c.state === state) return c;
    await page.waitForTimeout(200);
  }
  assert.equal(c.state, state, `case ${no}`);
  return c;
}

/** Take a workbench action through its button and dialog. */
async function act(page, action, fillDialog) {
  await page.locator(`[data-test="actions"] [data-action="${action}"]`).click();
  const dlg = page.locator('.el-dialog').filter({ has: page.locator('[data-test="dlg-confirm"]') });
  await dlg.waitFor();
  if (fillDialog) await fillDialog(dlg);
  await dlg.locator('[data-test="dlg-confirm"]').click();
  await page.locator('[data-test="notice"]').waitFor();
  await dlg.waitFor({ state: 'hidden' });
}

/** A valid value for a form field (the first choice of an enum, so no x-show-if opens). */
function sampleValue(def) {
  if (def.enum) return def.enum[0];
  switch (def.type) {
    case 'integer': case 'number': return def.minimum != null ? Math.ceil(def.minimum) : 1;
    case 'boolean': return true;
    case 'array': return def.items && def.items.enum ? [def.items.enum[0]] : [];
    default: break;
  }
  switch (def.format) {
    case 'date': return new Date().toISOString().slice(0, 10);
    case 'region': return '440106';
    case 'phone': return '13912340001';
    case 'email': return 'zhangsan@example.cn';
    case 'id_number': return '440106199001011235';
    case 'uscc': return '91440106MA5X12349Y';
    default: return '广州通办测试有限公司申请事项';
  }
}

/** A submitted case of 张三's made through the drafts API (node, no browser). */
async function apiCase() {
  const s = await apiLogin(ZHANGSAN.login, ZHANGSAN.password);
  const acting = await call('POST', '/session/acting', { body: { uscc: ZHANGSAN.uscc }, cookie: s.cookie, csrf: s.csrf });
  assert.equal(acting.status, 200, JSON.stringify(acting.body));
  if (acting.body.csrf_token) s.csrf = acting.body.csrf_token;
  const j = (method, path, body) => call(method, path, { body, cookie: s.cookie, csrf: s.csrf });
  const d = await j('POST', '/drafts', { impl_code: IMPL });
  assert.equal(d.status, 201, JSON.stringify(d.body));
  const draft = d.body;
  for (const m of draft.materials) {
    if (String(m.necessity) === '3') {
      const r = await j('PUT', `/drafts/${draft.id}/deferrals/${m.seq}`, { commitment: '承诺受理后 10 个工作日内补交' });
      assert.equal(r.status, 200, JSON.stringify(r.body));
    } else if (String(m.necessity) === '1') {
      const form = new FormData();
      form.append('material', String(m.seq));
      form.append('file', new Blob([readFileSync(pdfPath)], { type: 'application/pdf' }), 'material.pdf');
      const r = await fetch(`${BASE}/api/v1/drafts/${draft.id}/materials`, {
        method: 'POST', headers: { Cookie: s.cookie, 'X-CSRF-Token': s.csrf, Accept: 'application/json' }, body: form,
      });
      assert.equal(r.status, 201, await r.text());
    }
  }
  const values = { ...(draft.form || {}) };
  const schema = draft.form_schema || {};
  for (const name of schema.required || []) {
    const def = (schema.properties || {})[name] || {};
    if ((values[name] === undefined || values[name] === '') && !def['x-show-if']) values[name] = sampleValue(def);
  }
  const p = await j('PATCH', `/drafts/${draft.id}`, { form: values });
  assert.equal(p.status, 200, JSON.stringify(p.body));
  const sub = await fetch(`${BASE}/api/v1/drafts/${draft.id}/submit`, {
    method: 'POST', headers: { Cookie: s.cookie, 'X-CSRF-Token': s.csrf, Accept: 'application/json', 'Idempotency-Key': `t-${draft.id}-${Date.now()}` },
  });
  const body = await sub.json();
  assert.equal(sub.status, 201, JSON.stringify(body));
  return body.case_no;
}

/** Accept a case through the API as a fresh clerk (node). */
async function apiAccept(no) {
  const clerk = await newStaff(['clerk']);
  const s = await apiLogin(clerk.id_number, clerk.password, { kind: 'staff', totp: totp(clerk.totp_uri) });
  const r = await call('POST', `/cases/${no}/actions`, { body: { action: 'accept' }, cookie: s.cookie, csrf: s.csrf });
  assert.equal(r.status, 200, JSON.stringify(r.body));
}

test('张三 applies online with uploads; a clerk accepts; an approver reviews, grants and completes electronically; 张三 downloads the result', async () => {
  const page = await citizenPage();
  await visit(page, `/items/${IMPL}`);
  await page.locator('[data-test="apply-online"]').click();
  await page.waitForURL((u) => /^\/drafts\/\d+$/.test(u.pathname));
  await page.locator('[data-test="draft-form"]').waitFor();
  // the applicant's name is prefilled from the account
  const nameInput = page.locator('#f-applicant_name');
  if (await nameInput.count()) assert.equal(await nameInput.inputValue(), ZHANGSAN.name);

  // submitting with nothing uploaded: every missing required material is marked
  await page.locator('[data-test="submit"]').click();
  await page.locator('[data-test="form-error"]').waitFor();
  const rows = page.locator('[data-test="material"]');
  const n = await rows.count();
  assert.ok(n >= 3, `materials listed: ${n}`);
  let required = 0;
  for (let i = 0; i < n; i++) {
    const row = rows.nth(i);
    const nec = await row.locator('.tag').first().textContent();
    if (nec.includes('必要') && !nec.includes('非')) {
      required += 1;
      await row.locator('[data-test="field-error"]').waitFor();
    }
  }
  assert.ok(required >= 1);
  // and every required form field left empty says so next to it
  if (await page.locator('#f-company_name').count()) {
    await page.locator('[data-field="f-company_name"] [data-test="field-error"]').waitFor();
    assert.equal(await page.locator('#f-company_name').getAttribute('aria-invalid'), 'true');
  }
  let axe = await axeSerious(page);
  assert.equal(axe.length, 0, describeViolations(axe));

  // upload each required material (PDF, and the PNG once), defer the 容缺后补 one
  let usedPng = false;
  for (let i = 0; i < n; i++) {
    const row = rows.nth(i);
    const nec = (await row.locator('.tag').first().textContent()).trim();
    if (nec === '必要') {
      await row.locator('[data-test="material-file"]').setInputFiles(usedPng ? pdfPath : pngPath);
      usedPng = true;
      await row.locator('[data-test="uploaded-file"]').first().waitFor();
      assert.match(await row.locator('[data-test="uploaded-file"]').first().textContent(), /\.(pdf|png)/);
    } else if (nec === '容缺后补') {
      await row.locator('[data-test="defer-toggle"]').check();
      await row.locator('textarea').fill('本人承诺在受理后 10 个工作日内补交住所使用证明');
      await row.locator('[data-test="commitment-save"]').click();
      await row.locator('[data-test="deferred"]').waitFor();
    }
  }
  // a wrong file is refused with a message next to the material
  const txt = join(dir, 'note.pdf');
  writeFileSync(txt, 'this is not a pdf');
  await rows.first().locator('[data-test="material-file"]').setInputFiles(txt);
  await rows.first().locator('[data-test="field-error"]').filter({ hasText: /PDF|文件|类型/ }).waitFor();

  // the form: the default one (a statement) or the guide's 公司登记（备案）申请书, whose
  // 营业期限（年） shows only for a fixed term (x-show-if, live)
  const statement = page.locator('#f-statement');
  if (await statement.count()) await statement.fill('申请设立登记广州通办测试有限公司');
  if (await page.locator('#f-company_name').count()) {
    await page.locator('#f-company_name').fill('广州通办测试科技有限公司');
    await page.locator('#f-registered_capital').fill('100');
    await page.locator('#f-address').fill('广州市天河区天河路 1 号');
    await page.locator('#f-address_region').fill('440106');
    await page.locator('#f-shareholders').fill('2');
    await page.locator('#f-business_scope').fill('软件开发；信息技术咨询服务');
    assert.equal(await page.locator('#f-term_years').count(), 0);
    await page.locator('[data-field="f-term"] label').filter({ hasText: '固定期限' }).click();
    await page.locator('#f-term_years').fill('20');
    await page.locator('[data-field="f-term"] label').filter({ hasText: '长期' }).click();
    await page.locator('#f-term_years').waitFor({ state: 'detached' });
  }
  await page.locator('[data-test="save-draft"]').click();
  await page.locator('[data-test="notice"]').filter({ hasText: '草稿已保存' }).waitFor();
  await page.locator('[data-test="submit"]').click();
  await page.waitForURL((u) => /^\/cases\/\d{20}\/receipt$/.test(u.pathname));
  const caseNo = (await page.locator('[data-test="receipt-case-no"]').textContent()).trim();
  assert.match(caseNo, /^\d{8}440100\d{6}$/);
  assert.match(await page.locator('[data-test="receipt-applicant"]').textContent(), /张三/);
  assert.ok(await page.locator('[data-test="receipt-material"]').count() >= required);
  axe = await axeSerious(page);
  assert.equal(axe.length, 0, describeViolations(axe));

  // the clerk finds it in 待受理 and accepts it
  const clerk = await newStaff(['clerk']);
  const cp = await staffPage(clerk);
  await cp.locator('[data-test="queues"] [data-queue="to_accept"]').click();
  await cp.locator('[data-test="wb-table"] .el-table__row').first().waitFor();
  axe = await axeSerious(cp);
  assert.equal(axe.length, 0, describeViolations(axe));
  await cp.locator('#wb-q').fill(caseNo);
  await cp.locator('#wb-q').press('Enter');
  await cp.locator('[data-test="wb-case-link"]').filter({ hasText: caseNo }).click();
  await cp.waitForURL((u) => u.pathname === `/workbench/cases/${caseNo}`);
  await cp.locator('[data-test="file-preview"] iframe, [data-test="file-preview"] img').first().waitFor();
  await act(cp, 'accept');
  await waitState(cp, caseNo, 'accepted');

  // the approver starts the review, grants and completes with an electronic result
  const approver = await newStaff(['approver']);
  const ap = await staffPage(approver);
  await visit(ap, `/workbench/cases/${caseNo}`);
  await act(ap, 'start_review');
  await waitState(ap, caseNo, 'under_review');
  await ap.locator('[data-test="actions"] [data-action="refuse"]').click();
  await ap.locator('#dlg-comment').waitFor();
  axe = await axeSerious(ap); // the action dialog open
  assert.equal(axe.length, 0, describeViolations(axe));
  await ap.locator('[data-test="dlg-confirm"]').click();
  await ap.locator('[data-test="dlg-error"]').filter({ hasText: '意见' }).waitFor(); // a refusal needs its reasons
  await ap.keyboard.press('Escape');
  await ap.locator('#dlg-comment').waitFor({ state: 'hidden' });
  await act(ap, 'grant', async (dlg) => { await dlg.locator('#dlg-comment').fill('材料齐全，符合法定形式，准予登记'); });
  let c = await caseAs(ap, caseNo);
  const completer = (c.actions || []).includes('complete') ? ap : cp;
  if (completer === cp) await cp.reload();
  await completer.locator('[data-test="actions"] [data-action="complete"]').waitFor();
  await act(completer, 'complete', async (dlg) => {
    await dlg.locator('#dlg-delivery').selectOption('electronic');
    await dlg.locator('[data-test="dlg-result-upload"]').setInputFiles(join(dir, '办理结果.pdf'));
    await dlg.locator('[data-test="dlg-result-file"]').waitFor();
  });
  c = await waitState(completer, caseNo, 'completed');
  assert.equal(c.decision, 'granted');

  // 张三 sees 已办结 (the list follows the header's switch) and downloads the result
  await visit(page, '/my/cases');
  await page.locator('#acting-select').selectOption('');
  await page.locator('[data-test="acting-name"]').waitFor({ state: 'detached' });
  await page.locator(`[data-test="case-row"][data-case="${caseNo}"]`).waitFor({ state: 'detached' });
  await page.locator('#acting-select').selectOption(ZHANGSAN.uscc);
  const row = page.locator(`[data-test="case-row"][data-case="${caseNo}"]`);
  await row.locator('[data-test="case-state"]').filter({ hasText: '已办结' }).waitFor();
  axe = await axeSerious(page);
  assert.equal(axe.length, 0, describeViolations(axe));
  await row.locator('a').first().click();
  await page.waitForURL((u) => u.pathname === `/cases/${caseNo}`);
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('[data-test="result-download"]').click()]);
  const saved = join(dir, 'downloaded.pdf');
  await download.saveAs(saved);
  assert.equal(readFileSync(saved, 'latin1').slice(0, 5), '%PDF-');
  assert.deepEqual(page.jsErrors, []);
  for (const p of [page, cp, ap]) await p.context().close();
});

test('the correction loop: the clerk lists what is missing, 张三 is notified, uploads and responds, the case is back to 待受理', async () => {
  const caseNo = await apiCase();
  const clerk = await newStaff(['clerk']);
  const cp = await staffPage(clerk);
  await visit(cp, `/workbench/cases/${caseNo}`);
  await act(cp, 'request_correction', async (dlg) => {
    await dlg.locator('#dlg-corrections').fill('法定代表人身份证件复印件不清晰\n公司章程缺少全体股东签字页');
    await dlg.locator('#dlg-comment').fill('请一次性补齐以下材料');
  });
  await waitState(cp, caseNo, 'correction');

  const page = await citizenPage();
  await page.locator('[data-test="unread-badge"]').waitFor();
  await page.locator('[data-test="messages-link"]').click();
  await page.waitForURL((u) => u.pathname === '/my/messages');
  const msg = page.locator('[data-test="message"]').filter({ hasText: caseNo }).first();
  await msg.waitFor();
  const axeMsgs = await axeSerious(page);
  assert.equal(axeMsgs.length, 0, describeViolations(axeMsgs));
  await msg.locator('[data-test="message-open"]').click();
  await page.waitForURL((u) => u.pathname === `/cases/${caseNo}`);
  const items = page.locator('[data-test="correction-items"] li');
  await items.first().waitFor();
  assert.deepEqual((await items.allTextContents()).map((s) => s.trim()), ['法定代表人身份证件复印件不清晰', '公司章程缺少全体股东签字页']);
  await page.locator('[data-test="correction-upload"]').setInputFiles([pdfPath, pngPath]);
  await page.locator('[data-test="correction-file"]').nth(1).waitFor();
  await page.locator('[data-test="respond"]').click();
  await page.locator('[data-test="notice"]').waitFor();
  const c = await waitState(page, caseNo, 'submitted');
  await page.locator('[data-test="case-state"]').filter({ hasText: c.state_label || '待受理' }).waitFor();
  // the clerk sees the corrected files with the case
  await cp.reload();
  await cp.locator('[data-test="file-preview"]').filter({ hasText: '照片.png' }).waitFor();
  await cp.locator('[data-test="file-preview"]').filter({ hasText: '申请材料.pdf' }).first().waitFor();
  for (const p of [page, cp]) await p.context().close();
});

test('张三 withdraws an application after confirming', async () => {
  const caseNo = await apiCase();
  const page = await citizenPage({ viewport: PHONE, isMobile: true });
  await visit(page, `/cases/${caseNo}`);
  const over = await horizontalOverflow(page);
  assert.ok(over.scrollWidth <= over.clientWidth + 1, `sideways scroll on a phone: ${over.offenders.join(', ')}`);
  await page.locator('[data-test="withdraw"]').click();
  await page.locator('[data-test="withdraw-confirm"]').click();
  await page.locator('[data-test="notice"]').filter({ hasText: '撤回' }).waitFor();
  await waitState(page, caseNo, 'withdrawn');
  assert.equal(await page.locator('[data-test="withdraw"]').count(), 0);
  const axe = await axeSerious(page);
  assert.equal(axe.length, 0, describeViolations(axe));
  await page.context().close();
});

test('an approver starts a special procedure: the deadline shows 已暂停, and resumes when it ends', async () => {
  const caseNo = await apiCase();
  await apiAccept(caseNo);
  const approver = await newStaff(['approver']);
  const ap = await staffPage(approver);
  // the case is in the approver's queue
  await ap.locator('#wb-q').fill(caseNo);
  await ap.locator('#wb-q').press('Enter');
  // 认领: the case becomes the approver's own (the 我的 queue)
  const row = ap.locator('.el-table__row').filter({ hasText: caseNo });
  await row.locator('[data-test="claim"]').click();
  await ap.locator('[data-test="notice"]').filter({ hasText: '已认领' }).waitFor();
  await ap.locator('[data-test="queues"] [data-queue="mine"]').click();
  await ap.waitForURL((u) => u.searchParams.get('queue') === 'mine');
  await ap.locator('.el-table__row').filter({ hasText: caseNo }).filter({ hasText: '我' }).waitFor();
  assert.ok(Number(await ap.locator('[data-queue="mine"] [data-test="queue-count"]').textContent()) >= 1);
  await ap.locator('[data-test="wb-case-link"]').filter({ hasText: caseNo }).click();
  await ap.waitForURL((u) => u.pathname === `/workbench/cases/${caseNo}`);
  await ap.locator('[data-test="assignee"]').filter({ hasText: approver.name }).waitFor();
  await act(ap, 'start_review');
  const before1 = (await ap.locator('[data-test="deadline-status"]').textContent()).trim();
  assert.doesNotMatch(before1, /已暂停/);
  await act(ap, 'start_procedure', async (dlg) => {
    await dlg.locator('#dlg-procedure').selectOption('inspection');
    await dlg.locator('#dlg-comment').fill('需现场核查经营场所');
  });
  await ap.locator('[data-test="deadline-status"]').filter({ hasText: '已暂停' }).waitFor();
  assert.equal((await caseAs(ap, caseNo)).deadline.paused, true);
  const axe = await axeSerious(ap);
  assert.equal(axe.length, 0, describeViolations(axe));
  await act(ap, 'end_procedure');
  await ap.locator('[data-test="deadline-status"]').filter({ hasNotText: '已暂停' }).waitFor();
  const c = await caseAs(ap, caseNo);
  assert.equal(c.deadline.paused, false);
  assert.ok(c.procedures.length >= 1 && c.procedures[0].end, JSON.stringify(c.procedures));
  await ap.context().close();
});

test('一窗通办: a clerk takes a walk-in application at the window, prints the receipt, and accepts it with 批量受理', async () => {
  const clerk = await newStaff(['clerk']);
  const cp = await staffPage(clerk);
  await cp.locator('[data-test="window-link"]').click();
  await cp.waitForURL((u) => u.pathname === '/workbench/window');
  const walkIn = newPerson('440106');
  await fill(cp, '#w-name', walkIn.name);
  await fill(cp, '#w-id', walkIn.id_number);
  await fill(cp, '#w-phone', walkIn.phone);
  // without the identity check the draft is not opened
  await cp.locator('#w-q').fill('个体工商户注销登记');
  await cp.locator('[data-test="impl-search-go"]').click();
  await cp.locator('[data-test="impl-hits"] label').filter({ hasText: '个体工商户注销登记' }).first().click();
  await cp.locator('[data-test="window-start"]').click();
  await cp.locator('[data-test="form-error"]').waitFor();
  assert.equal(new URL(cp.url()).searchParams.get('draft'), null);
  await cp.locator('[data-test="identity-checked"]').check();
  await cp.locator('[data-test="window-start"]').click();
  await cp.waitForURL((u) => /^\d+$/.test(u.searchParams.get('draft') || ''));
  await cp.locator('[data-test="draft-form"]').waitFor();
  await cp.locator('[data-test="window-draft-meta"]').filter({ hasText: walkIn.name }).waitFor();
  const axe = await axeSerious(cp);
  assert.equal(axe.length, 0, describeViolations(axe));
  // the applicant's fields are prefilled with what the clerk entered
  const name = cp.locator('#f-applicant_name');
  if (await name.count()) assert.equal(await name.inputValue(), walkIn.name);
  const statement = cp.locator('#f-statement');
  if (await statement.count()) await statement.fill('申请注销个体工商户');
  const rows = cp.locator('[data-test="material"]');
  for (let i = 0; i < await rows.count(); i++) {
    const row = rows.nth(i);
    if ((await row.locator('.tag').first().textContent()).trim() !== '必要') continue;
    await row.locator('[data-test="material-file"]').setInputFiles(pdfPath);
    await row.locator('[data-test="uploaded-file"]').first().waitFor();
  }
  await cp.locator('[data-test="submit"]').click();
  await cp.waitForURL((u) => /^\/cases\/\d{20}\/receipt$/.test(u.pathname));
  const caseNo = (await cp.locator('[data-test="receipt-case-no"]').textContent()).trim();
  await cp.locator('#receipt-title').filter({ hasText: '窗口收件回执' }).waitFor();
  assert.match(await cp.locator('[data-test="receipt-applicant"]').textContent(), new RegExp(walkIn.name));
  const c = await caseAs(cp, caseNo);
  assert.equal(c.channel, 'window');
  assert.equal(String(c.case_type), '1');

  // 批量受理 of the 即办件 from the 待受理 queue
  await visit(cp, '/workbench?queue=to_accept');
  await cp.locator('#wb-q').fill(caseNo);
  await cp.locator('#wb-q').press('Enter');
  const row = cp.locator('.el-table__row').filter({ hasText: caseNo });
  await row.locator('.el-checkbox').click();
  await cp.locator('[data-test="batch-accept"]').click();
  await cp.locator('[data-test="notice"]').filter({ hasText: '已处理 1 件' }).waitFor();
  await waitState(cp, caseNo, 'accepted');
  assert.deepEqual(cp.jsErrors, []);
  await cp.context().close();
});

test('the application form on a phone, in elderly mode and in zh-HK: no sideways scroll, no serious axe findings', async () => {
  for (const opts of [{ viewport: PHONE, isMobile: true }, { prefs: { elderly: true } }, { prefs: { locale: 'zh-HK' } }]) {
    const page = await citizenPage(opts);
    await visit(page, `/apply/${IMPL}`);
    await page.waitForURL((u) => /^\/drafts\/\d+$/.test(u.pathname));
    await page.locator('[data-test="material"]').first().waitFor();
    if (opts.prefs && opts.prefs.locale === 'zh-HK') {
      await page.locator('#h-mats').filter({ hasText: '申請材料' }).waitFor();
      await page.locator('[data-test="submit"]').filter({ hasText: '提交申請' }).waitFor();
    }
    const over = await horizontalOverflow(page);
    assert.ok(over.scrollWidth <= over.clientWidth + 1, `sideways scroll: ${over.offenders.join(', ')}`);
    const axe = await axeSerious(page);
    assert.equal(axe.length, 0, describeViolations(axe));
    // the draft waits under 我的办件 until it is deleted there
    const id = new URL(page.url()).pathname.split('/').pop();
    await visit(page, '/my/cases');
    await page.locator('.page-title').filter({ hasText: opts.prefs && opts.prefs.locale === 'zh-HK' ? '我的辦件' : '我的办件' }).waitFor();
    const row = page.locator(`[data-test="draft-row"][data-draft="${id}"]`);
    page.once('dialog', (d) => d.accept());
    await row.locator('[data-test="draft-delete"]').click();
    await row.waitFor({ state: 'detached' });
    assert.equal(await page.evaluate(async (d) => (await fetch(`/api/v1/drafts/${d}`)).status, id), 404);
    await page.context().close();
  }
});
