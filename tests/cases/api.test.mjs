// Case handling over real HTTP (issue 4): applying with uploads, idempotent
// submission, the workflow with its refusals, deadlines and special procedures, the
// correction loop, withdrawal, 即办件 in batch, window cases, queues, workflows and the
// calendar. Runs against a server with the demo catalogue and people imported.
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import {
  api, login, staff, newPerson, pdf, png, formOf, uploadDraft,
  ZHANG, LI, ZHAO, GZ_ENTERPRISE, GZ_SAMR, SZ_SAMR, IMPL_PERSON, IMPL_INSTANT, ADMIN,
} from './lib.mjs';

const CASE_NO = /^\d{8}440100\d{6}$/;
let zhang, li, clerk, approver, head, supervisor, szApprover;

test.before(async () => {
  zhang = await login(ZHANG);
  li = await login(LI);
  clerk = await staff(['clerk']);
  approver = await staff(['approver']);
  head = await staff(['dept_admin']);
  supervisor = await staff(['supervisor']);
  szApprover = await staff(['approver'], SZ_SAMR, '4403');
});

/** A complete online application of 张三 through a draft; returns the case. */
async function applied(token = zhang) {
  const d = await api('POST', '/drafts', { token, json: { impl_code: IMPL_PERSON } });
  assert.equal(d.status, 201, JSON.stringify(d.body));
  for (const m of d.body.materials) {
    const up = await uploadDraft(token, d.body.id, m.seq, pdf(`material ${m.seq} ${crypto.randomUUID()}`), `${m.name}.pdf`, 'application/pdf');
    assert.equal(up.status, 201, JSON.stringify(up.body));
  }
  const s = await api('POST', `/drafts/${d.body.id}/submit`, { token });
  assert.equal(s.status, 201, JSON.stringify(s.body));
  return s.body;
}

const act = (token, no, body) => api('POST', `/cases/${no}/actions`, { token, json: body });

test('a draft is prefilled from the account, saved, checked field by field, and its uploads are typed by content', async () => {
  const d = await api('POST', '/drafts', { token: zhang, json: { impl_code: IMPL_PERSON } });
  assert.equal(d.status, 201);
  assert.equal(d.body.state, 'draft');
  assert.equal(d.body.applicant.name, '张三');
  assert.equal(d.body.applicant.id_number, ZHANG.id_number, 'the holder sees the whole number');
  const prefilled = Object.values(d.body.form);
  assert.ok(prefilled.includes('张三') && prefilled.includes(ZHANG.id_number), JSON.stringify(d.body.form));
  assert.equal(d.body.materials.length, 3);
  assert.ok(d.body.materials.every((m) => m.necessity === '1' && m.files.length === 0));

  // a field of the wrong type is named; an unknown one too
  const props = d.body.form_schema.properties;
  const strField = Object.keys(props).find((k) => props[k].type === 'string');
  const bad = await api('PATCH', `/drafts/${d.body.id}`, { token: zhang, json: { form: { [strField]: 42, no_such_field: 'x' } } });
  assert.equal(bad.status, 422);
  const fields = bad.body.errors.map((e) => e.field);
  assert.ok(fields.includes(`form.${strField}`) && fields.includes('form.no_such_field'), JSON.stringify(bad.body));

  // content decides the type: text is refused, a PNG sent as a PDF is refused
  const text = await uploadDraft(zhang, d.body.id, 1, Buffer.from('just some text, not a document\n'), 'a.pdf', 'application/pdf');
  assert.equal(text.status, 415, JSON.stringify(text.body));
  assert.match(text.headers.get('content-type'), /problem\+json/);
  const lie = await uploadDraft(zhang, d.body.id, 1, png(), 'photo.pdf', 'application/pdf');
  assert.equal(lie.status, 415);
  const noSuch = await uploadDraft(zhang, d.body.id, 9, pdf(), 'x.pdf', 'application/pdf');
  assert.equal(noSuch.status, 422);
  const ok = await uploadDraft(zhang, d.body.id, 2, png(16, 16, 7), '照片.png', 'image/png');
  assert.equal(ok.status, 201);
  assert.equal(ok.body.mime, 'image/png');
  assert.equal(ok.body.file_name, '照片.png');
  assert.equal(ok.body.sha256, crypto.createHash('sha256').update(png(16, 16, 7)).digest('hex'));

  // incomplete: every missing material is listed, nothing is filed
  const early = await api('POST', `/drafts/${d.body.id}/submit`, { token: zhang });
  assert.equal(early.status, 422, JSON.stringify(early.body));
  const missing = early.body.errors.map((e) => e.field);
  assert.ok(missing.includes('materials.1') && missing.includes('materials.3') && !missing.includes('materials.2'), JSON.stringify(missing));
  const mine = await api('GET', '/drafts', { token: zhang });
  assert.ok(mine.body.items.some((x) => x.id === d.body.id));

  // somebody else's draft does not exist for them
  assert.equal((await api('GET', `/drafts/${d.body.id}`, { token: li })).status, 404);
  assert.equal((await api('DELETE', `/drafts/${d.body.id}`, { token: zhang })).status, 204);
  assert.equal((await api('GET', `/drafts/${d.body.id}`, { token: zhang })).status, 404);
});

test('submitting gives a readable, sortable case number once, a receipt, and a notice', async () => {
  const c = await applied();
  assert.match(c.case_no, CASE_NO);
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date()).replaceAll('-', '');
  assert.equal(c.case_no.slice(0, 8), today);
  assert.equal(c.state, 'submitted');
  assert.equal(c.channel, 'online');
  assert.ok(c.state_due, 'five working days to accept');
  assert.equal(c.timeline.length, 1);
  assert.equal(c.timeline[0].action, 'submit');
  assert.equal(c.materials.every((m) => m.files.length === 1), true);
  const c2 = await applied();
  assert.ok(c2.case_no > c.case_no, 'numbers sort in filing order');
  const n = await api('GET', '/me/notifications?unread=true', { token: zhang });
  assert.ok(n.body.items.some((x) => x.case_no === c.case_no && x.kind === 'submitted'));
  const mine = await api('GET', '/me/cases', { token: zhang });
  assert.ok(mine.body.items.some((x) => x.case_no === c.case_no && x.state_label));
});

test('a person without a confirmed real name cannot submit online (403)', async () => {
  const zhao = await login(ZHAO);
  const d = await api('POST', '/drafts', { token: zhao, json: { impl_code: IMPL_PERSON } });
  assert.equal(d.status, 201);
  for (const m of d.body.materials) await uploadDraft(zhao, d.body.id, m.seq, pdf(`z${m.seq}`), 'a.pdf', 'application/pdf');
  const s = await api('POST', `/drafts/${d.body.id}/submit`, { token: zhao });
  assert.equal(s.status, 403, JSON.stringify(s.body));
});

test('one request files a whole application; the same Idempotency-Key never makes two cases', async () => {
  const key = crypto.randomUUID();
  const form = () => formOf([
    ['application', JSON.stringify({ impl_code: IMPL_PERSON, form: {} })],
    ['material_1', { data: pdf('id ' + key), filename: 'id.pdf', type: 'application/pdf' }],
    ['material_2', { data: png(8, 8, 3), filename: 'photo.png', type: 'image/png' }],
    ['material_3', { data: pdf('exam ' + key), filename: 'exam.pdf', type: 'application/pdf' }],
  ]);
  const missing = await api('POST', '/cases', { token: zhang, form: form() });
  assert.equal(missing.status, 422);
  assert.equal(missing.body.errors[0].field, 'Idempotency-Key');
  const a = await api('POST', '/cases', { token: zhang, form: form(), headers: { 'Idempotency-Key': key } });
  assert.equal(a.status, 201, JSON.stringify(a.body));
  assert.match(a.body.case_no, CASE_NO);
  const [b, c] = await Promise.all([
    api('POST', '/cases', { token: zhang, form: form(), headers: { 'Idempotency-Key': key } }),
    api('POST', '/cases', { token: zhang, form: form(), headers: { 'Idempotency-Key': key } }),
  ]);
  for (const r of [b, c]) {
    assert.equal(r.status, 201);
    assert.equal(r.body.case_no, a.body.case_no);
    assert.equal(r.headers.get('idempotent-replayed'), 'true');
  }
  const other = formOf([['application', JSON.stringify({ impl_code: IMPL_PERSON, form: {} })]]);
  const reuse = await api('POST', '/cases', { token: zhang, form: other, headers: { 'Idempotency-Key': key } });
  assert.equal(reuse.status, 422);
  assert.equal(reuse.body.errors[0].field, 'Idempotency-Key');
  // nothing half-written: an application missing a material leaves no case behind
  const k2 = crypto.randomUUID();
  const half = await api('POST', '/cases', { token: zhang, headers: { 'Idempotency-Key': k2 }, form: formOf([
    ['application', JSON.stringify({ impl_code: IMPL_PERSON, form: {} })],
    ['material_1', { data: pdf('only one'), filename: 'a.pdf', type: 'application/pdf' }],
  ]) });
  assert.equal(half.status, 422);
  const again = await api('POST', '/cases', { token: zhang, headers: { 'Idempotency-Key': k2 }, form: form() });
  assert.equal(again.status, 201, `the key was not used up by the refused request: ${JSON.stringify(again.body)}`);
  assert.notEqual(again.body.case_no, a.body.case_no);
});

test('too large a file is 413, a body that is not multipart 415', async () => {
  const big = Buffer.concat([pdf('big'), Buffer.alloc(21 << 20, 0x20)]);
  const r = await api('POST', '/cases', { token: zhang, headers: { 'Idempotency-Key': crypto.randomUUID() }, form: formOf([
    ['application', JSON.stringify({ impl_code: IMPL_PERSON, form: {} })],
    ['material_1', { data: big, filename: 'big.pdf', type: 'application/pdf' }],
  ]) });
  assert.equal(r.status, 413, JSON.stringify(r.body));
  const j = await api('POST', '/cases', { token: zhang, json: { impl_code: IMPL_PERSON }, headers: { 'Idempotency-Key': 'x' } });
  assert.equal(j.status, 415);
});

test('accept, review, special procedure, extension, decision and electronic delivery, with every refusal on the way', async () => {
  const c = await applied();
  const no = c.case_no;
  // who may see it
  assert.equal((await api('GET', `/cases/${no}`, { token: li })).status, 404, "someone else's case");
  assert.equal((await api('GET', `/cases/${no}`, { token: szApprover.token })).status, 403, 'another jurisdiction');
  const seen = await api('GET', `/cases/${no}`, { token: clerk.token });
  assert.equal(seen.status, 200);
  assert.match(seen.body.applicant.id_number, /^4401\*+1235$/, 'staff see the number masked');
  assert.ok(!JSON.stringify(seen.body).includes(ZHANG.id_number), 'nor in the form');
  assert.ok(!JSON.stringify(seen.body).includes(ZHANG.phone), 'the phone neither');
  assert.deepEqual(seen.body.actions.sort(), ['accept', 'not_accept', 'request_correction'].sort());
  // not allowed from this state: 409 with what is allowed
  const early = await act(approver.token, no, { action: 'grant' });
  assert.equal(early.status, 409);
  assert.ok(Array.isArray(early.body.allowed_actions));
  assert.equal((await act(clerk.token, no, { action: 'no_such_action' })).status, 422);
  assert.equal((await act(szApprover.token, no, { action: 'accept' })).status, 403);
  assert.equal((await act(approver.token, no, { action: 'accept' })).status, 403, 'accepting is the clerk’s');
  assert.equal((await act(zhang, no, { action: 'accept' })).status, 403, 'nor the applicant’s');
  assert.equal((await act(clerk.token, no, { action: 'accept', version: c.version - 1 })).status, 409, 'a stale version');
  const acc = await act(clerk.token, no, { action: 'accept', comment: '材料齐全' });
  assert.equal(acc.status, 200, JSON.stringify(acc.body));
  assert.equal(acc.body.state, 'accepted');
  assert.equal(acc.body.assignee, null, 'accepted, it waits in the approvers’ queue');
  const dl = acc.body.deadline;
  assert.equal(dl.limit, 10);
  assert.equal(dl.unit, 'working_day');
  assert.ok(dl.due > dl.start && dl.remaining >= 9 && dl.remaining <= 10, JSON.stringify(dl));
  const cal = await api('GET', `/calendar/${dl.start.slice(0, 4)}`);
  assert.equal(cal.status, 200);

  const rev = await act(approver.token, no, { action: 'start_review' });
  assert.equal(rev.status, 200);
  assert.equal(rev.body.assignee.id, approver.id, 'the approver who takes it holds it');
  assert.equal((await act(approver.token, no, { action: 'start_procedure', comment: '现场核查' })).status, 422, 'which procedure');
  const proc = await act(approver.token, no, { action: 'start_procedure', procedure: 'inspection', comment: '需现场核查作业条件' });
  assert.equal(proc.status, 200, JSON.stringify(proc.body));
  assert.equal(proc.body.deadline.paused, true);
  assert.equal(proc.body.procedures.length, 1);
  assert.equal(proc.body.procedures[0].end, null);
  assert.equal((await act(approver.token, no, { action: 'start_procedure', procedure: 'testing', comment: 'x' })).status, 409, 'one at a time');
  const n = await api('GET', '/me/notifications', { token: zhang });
  assert.ok(n.body.items.some((x) => x.case_no === no && /暂停/.test(x.title)));
  const end = await act(approver.token, no, { action: 'end_procedure' });
  assert.equal(end.status, 200);
  assert.equal(end.body.deadline.paused, false);
  assert.ok(end.body.procedures[0].end);

  assert.equal((await act(approver.token, no, { action: 'request_extension', days: 11, comment: '情况复杂' })).status, 422, 'art. 42: ten days');
  const ext = await act(approver.token, no, { action: 'request_extension', days: 5, comment: '需征求相关部门意见' });
  assert.equal(ext.status, 200, JSON.stringify(ext.body));
  assert.equal(ext.body.deadline.extension, 0, 'not before approval');
  assert.equal((await act(approver.token, no, { action: 'approve_extension' })).status, 403, 'the head approves');
  const appr = await act(head.token, no, { action: 'approve_extension' });
  assert.equal(appr.status, 200, JSON.stringify(appr.body));
  assert.equal(appr.body.deadline.extension, 5);
  assert.ok(appr.body.deadline.due > end.body.deadline.due);

  assert.equal((await act(approver.token, no, { action: 'refuse' })).status, 422, 'a refusal states its reason');
  const granted = await act(approver.token, no, { action: 'grant', comment: '符合条件，准予许可' });
  assert.equal(granted.status, 200);
  assert.equal(granted.body.decision, 'granted');
  assert.equal((await act(approver.token, no, { action: 'complete', delivery: 'electronic' })).status, 422, 'upload the result first');
  assert.equal((await act(approver.token, no, { action: 'complete', delivery: 'drone' })).status, 422);
  const result = pdf('特种设备作业人员证 ' + no);
  const up = await api('POST', `/cases/${no}/files`, { token: approver.token, form: formOf([['purpose', 'result'], ['file', { data: result, filename: '决定书.pdf', type: 'application/pdf' }]]) });
  assert.equal(up.status, 201, JSON.stringify(up.body));
  assert.equal((await api('POST', `/cases/${no}/files`, { token: zhang, form: formOf([['purpose', 'result'], ['file', { data: pdf('fake'), filename: 'x.pdf', type: 'application/pdf' }]]) })).status, 403);
  assert.equal((await api('GET', `/cases/${no}/result`, { token: zhang })).status, 200);
  const done = await act(approver.token, no, { action: 'complete', delivery: 'electronic' });
  assert.equal(done.status, 200);
  assert.equal(done.body.state, 'completed');
  assert.deepEqual(done.body.actions, []);
  assert.equal((await act(approver.token, no, { action: 'grant', comment: 'again' })).status, 409);

  // the applicant sees the end, the whole timeline, and downloads the result
  const mine = await api('GET', `/cases/${no}`, { token: zhang });
  assert.equal(mine.body.state, 'completed');
  assert.equal(mine.body.applicant.id_number, ZHANG.id_number);
  assert.deepEqual(mine.body.timeline.map((t) => t.action),
    ['submit', 'accept', 'start_review', 'start_procedure', 'end_procedure', 'request_extension', 'approve_extension', 'grant', 'complete']);
  assert.ok(mine.body.timeline.every((t, i) => t.seq === i + 1 && t.at && t.actor_role));
  assert.equal(mine.body.timeline[1].comment, '材料齐全');
  assert.equal(mine.body.figures.channel, 'online');
  for (const s of ['submitted', 'accepted', 'under_review', 'decided']) assert.ok(s in mine.body.figures.state_seconds, s);
  const dl2 = await api('GET', `/cases/${no}/result`, { token: zhang });
  assert.equal(dl2.status, 200);
  assert.ok(dl2.bytes.equals(result));
  assert.equal(dl2.headers.get('content-type'), 'application/pdf');
  assert.match(dl2.headers.get('content-disposition'), /^attachment; filename\*=UTF-8''/);
  assert.equal(dl2.headers.get('x-content-type-options'), 'nosniff');
  const file = mine.body.materials[1].files[0];
  const inline = await api('GET', `/cases/${no}/files/${file.id}`, { token: clerk.token });
  assert.equal(inline.status, 200);
  assert.match(inline.headers.get('content-disposition'), /^inline/);
  assert.equal((await api('GET', `/cases/${no}/files/${file.id}`, { token: li })).status, 404);
});

test('the correction loop: the clerk lists what to correct, the applicant is told, uploads and responds', async () => {
  const c = await applied();
  const no = c.case_no;
  assert.equal((await act(clerk.token, no, { action: 'request_correction', comment: '照片不合格' })).status, 422, 'list the items');
  const rq = await act(clerk.token, no, { action: 'request_correction', comment: '请补正', corrections: ['近期免冠彩色证件照片：背景须为白色', '考试合格证明：请上传清晰扫描件'] });
  assert.equal(rq.status, 200, JSON.stringify(rq.body));
  assert.equal(rq.body.state, 'correction');
  const n = await api('GET', '/me/notifications?unread=true', { token: zhang });
  const note = n.body.items.find((x) => x.case_no === no && x.kind === 'correction');
  assert.ok(note && /背景须为白色/.test(note.body), JSON.stringify(n.body.items.slice(0, 3)));
  const seen = await api('GET', `/cases/${no}`, { token: zhang });
  assert.deepEqual(seen.body.corrections, ['近期免冠彩色证件照片：背景须为白色', '考试合格证明：请上传清晰扫描件']);
  assert.ok(seen.body.actions.includes('respond') && seen.body.actions.includes('withdraw'));
  assert.equal((await act(clerk.token, no, { action: 'respond' })).status, 403);
  const up = await api('POST', `/cases/${no}/files`, { token: zhang, form: formOf([['purpose', 'correction'], ['material', '2'], ['file', { data: png(32, 32, 9), filename: 'new.png', type: 'image/png' }]]) });
  assert.equal(up.status, 201, JSON.stringify(up.body));
  const back = await act(zhang, no, { action: 'respond', comment: '已按要求补正' });
  assert.equal(back.status, 200);
  assert.equal(back.body.state, 'submitted');
  assert.deepEqual(back.body.corrections, []);
  assert.ok(back.body.files.some((f) => f.purpose === 'correction'));
  assert.equal((await act(clerk.token, no, { action: 'accept' })).status, 200);
  assert.equal((await api('PATCH', '/me/notifications/1/read', { token: zhang })).status, 405);
  assert.equal((await api('POST', `/me/notifications/${note.id}/read`, { token: zhang })).status, 204);
  assert.equal((await api('POST', `/me/notifications/${note.id}/read`, { token: li })).status, 404);
});

test('the applicant withdraws before the decision; nothing moves afterwards', async () => {
  const c = await applied();
  assert.equal((await act(clerk.token, c.case_no, { action: 'accept' })).status, 200);
  assert.equal((await act(li, c.case_no, { action: 'withdraw' })).status, 404);
  const w = await act(zhang, c.case_no, { action: 'withdraw', comment: '不再需要' });
  assert.equal(w.status, 200);
  assert.equal(w.body.state, 'withdrawn');
  const late = await act(approver.token, c.case_no, { action: 'start_review' });
  assert.equal(late.status, 409);
  assert.deepEqual(late.body.allowed_actions, []);
});

test('即办件 are decided on the spot, in a batch; a 承诺件 in the batch is refused alone', async () => {
  const ent = await login(ZHANG);
  assert.equal((await api('POST', '/session/acting', { token: ent, json: { uscc: GZ_ENTERPRISE } })).status, 200);
  const nos = [];
  for (let i = 0; i < 2; i++) {
    const d = await api('POST', '/drafts', { token: ent, json: { impl_code: IMPL_INSTANT } });
    assert.equal(d.status, 201, JSON.stringify(d.body));
    assert.equal(d.body.applicant.kind, 'enterprise');
    assert.equal(d.body.case_type, '1');
    for (const m of d.body.materials.filter((x) => x.necessity !== '2'))
      assert.equal((await uploadDraft(ent, d.body.id, m.seq, pdf(`名称 ${i} ${m.seq} ${Date.now()}`), 'n.pdf', 'application/pdf')).status, 201);
    const s = await api('POST', `/drafts/${d.body.id}/submit`, { token: ent });
    assert.equal(s.status, 201, JSON.stringify(s.body));
    nos.push(s.body.case_no);
  }
  // a person applying for an enterprise-only item is told to act for the enterprise
  assert.equal((await api('POST', '/drafts', { token: zhang, json: { impl_code: IMPL_INSTANT } })).status, 422);
  const slow = await applied();
  const b = await api('POST', '/workbench/batch', { token: clerk.token, json: { action: 'grant_on_spot', case_nos: [...nos, slow.case_no, '20000101440100000001'] } });
  assert.equal(b.status, 200, JSON.stringify(b.body));
  const by = Object.fromEntries(b.body.results.map((r) => [r.case_no, r]));
  for (const no of nos) assert.deepEqual([by[no].status, by[no].state], [200, 'decided']);
  assert.equal(by[slow.case_no].status, 409);
  assert.equal(by['20000101440100000001'].status, 404);
  assert.equal((await api('POST', '/workbench/batch', { token: clerk.token, json: { action: 'grant', case_nos: nos } })).status, 422);
  // the enterprise's cases are seen by whoever acts for it
  const mine = await api('GET', '/me/cases', { token: ent });
  assert.ok(nos.every((no) => mine.body.items.some((x) => x.case_no === no)));
});

test('一窗通办: a clerk files for a walk-in applicant identified in person; the same workflow follows', async () => {
  const walkIn = newPerson('440106');
  const refused = await api('POST', '/window/drafts', { token: clerk.token, json: { impl_code: IMPL_PERSON, applicant: walkIn, identity_checked: false } });
  assert.equal(refused.status, 422);
  assert.equal(refused.body.errors[0].field, 'identity_checked');
  const badId = await api('POST', '/window/drafts', { token: clerk.token, json: { impl_code: IMPL_PERSON, applicant: { ...walkIn, id_number: '440106199001011234' }, identity_checked: true } });
  assert.equal(badId.status, 422);
  assert.equal(badId.body.errors[0].field, 'applicant.id_number');
  assert.equal((await api('POST', '/window/drafts', { token: approver.token, json: { impl_code: IMPL_PERSON, applicant: walkIn, identity_checked: true } })).status, 403);
  // 张三 walks in: the case is his, and he sees it online
  const d = await api('POST', '/window/drafts', { token: clerk.token, json: { impl_code: IMPL_PERSON, applicant: { name: '张三', id_number: ZHANG.id_number, phone: ZHANG.phone }, identity_checked: true } });
  assert.equal(d.status, 201, JSON.stringify(d.body));
  assert.equal(d.body.channel, 'window');
  for (const m of d.body.materials) assert.equal((await uploadDraft(clerk.token, d.body.id, m.seq, pdf(`scan ${m.seq} ${Date.now()}`), `扫描件${m.seq}.pdf`, 'application/pdf')).status, 201);
  assert.equal((await api('GET', `/drafts/${d.body.id}`, { token: zhang })).status, 404, 'the clerk’s draft');
  const s = await api('POST', `/drafts/${d.body.id}/submit`, { token: clerk.token });
  assert.equal(s.status, 201, JSON.stringify(s.body));
  assert.equal(s.body.figures.visits_made, 1);
  assert.equal((await act(clerk.token, s.body.case_no, { action: 'accept' })).status, 200);
  const his = await api('GET', `/cases/${s.body.case_no}`, { token: zhang });
  assert.equal(his.status, 200);
  assert.equal(his.body.channel, 'window');
  // a walk-in without an account
  const d2 = await api('POST', '/window/drafts', { token: clerk.token, json: { impl_code: IMPL_PERSON, applicant: walkIn, identity_checked: true } });
  assert.equal(d2.status, 201);
  assert.equal(d2.body.applicant.name, walkIn.name);
});

test('the workbench: queues by jurisdiction, masked applicants, search by number, ID number or item', async () => {
  const c = await applied();
  const sum = await api('GET', '/workbench/summary', { token: clerk.token });
  assert.equal(sum.status, 200);
  assert.ok(sum.body.queues.to_accept >= 1);
  const q = await api('GET', '/workbench/cases?queue=to_accept&per_page=100', { token: clerk.token });
  assert.equal(q.status, 200);
  const row = q.body.items.find((x) => x.case_no === c.case_no);
  assert.ok(row, 'the new case waits for acceptance');
  assert.notEqual(row.applicant.name, '张三');
  assert.match(row.applicant.id_number, /\*/);
  assert.ok(row.due && typeof row.remaining === 'number');
  const sz = await api('GET', '/workbench/cases?queue=to_accept&per_page=100', { token: szApprover.token });
  assert.ok(!sz.body.items.some((x) => x.case_no === c.case_no), 'not in another region’s queue');
  const byNo = await api('GET', `/workbench/cases?q=${c.case_no}`, { token: clerk.token });
  assert.deepEqual(byNo.body.items.map((x) => x.case_no), [c.case_no]);
  const byId = await api('GET', `/workbench/cases?q=${ZHANG.id_number}&per_page=100`, { token: clerk.token });
  assert.ok(byId.body.items.some((x) => x.case_no === c.case_no));
  const byItem = await api('GET', `/workbench/cases?q=${encodeURIComponent('特种设备')}&per_page=5`, { token: clerk.token });
  assert.ok(byItem.body.total >= 1);
  assert.equal((await api('GET', '/workbench/cases?queue=bogus', { token: clerk.token })).status, 400);
  assert.equal((await api('GET', '/workbench/cases', { token: zhang })).status, 403);
  // claiming and assigning
  const claim = await api('POST', `/cases/${c.case_no}/assignee`, { token: clerk.token, json: { user_id: clerk.id } });
  assert.equal(claim.status, 200, JSON.stringify(claim.body));
  assert.equal(claim.body.assignee.id, clerk.id);
  const mine = await api('GET', '/workbench/cases?queue=mine&per_page=100', { token: clerk.token });
  const held = mine.body.items.find((x) => x.case_no === c.case_no);
  assert.deepEqual(held.assignee, { id: clerk.id, name: clerk.name });
  assert.equal((await api('POST', `/cases/${c.case_no}/assignee`, { token: clerk.token, json: { user_id: approver.id } })).status, 403);
  assert.equal((await api('POST', `/cases/${c.case_no}/assignee`, { token: head.token, json: { user_id: szApprover.id } })).status, 422);
  const given = await api('POST', `/cases/${c.case_no}/assignee`, { token: head.token, json: { user_id: approver.id } });
  assert.equal(given.status, 200);
  const note = await api('GET', '/me/notifications', { token: approver.token });
  assert.ok(note.body.items.some((x) => x.case_no === c.case_no && x.kind === 'assigned'));
  const sup = await api('GET', '/workbench/summary', { token: supervisor.token });
  assert.equal(sup.status, 200);
});

test('workflows are data: a department defines one for its item, checked, versioned, used by new cases', async () => {
  const def = (await api('GET', '/workflows/default', { token: head.token })).body.definition;
  assert.ok(def.states.length >= 8 && def.actions.some((a) => a.name === 'grant_on_spot'));
  const mine = structuredClone(def);
  mine.name = '特种设备作业人员资格认定（含现场核查）';
  const bad = structuredClone(mine);
  bad.actions[0].to = 'nowhere';
  const r1 = await api('PUT', `/workflows/impl-${IMPL_PERSON}`, { token: head.token, json: bad });
  assert.equal(r1.status, 422);
  assert.match(r1.body.errors[0].field, /^actions\[0\]\.to$/);
  assert.equal((await api('PUT', `/workflows/impl-${IMPL_PERSON}`, { token: szApprover.token, json: mine })).status, 403);
  assert.equal((await api('PUT', '/workflows/default', { token: head.token, json: mine })).status, 403, 'the default is the platform’s');
  const put = await api('PUT', `/workflows/impl-${IMPL_PERSON}`, { token: head.token, json: mine });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  const v = put.body.version;
  const list = await api('GET', '/workflows', { token: clerk.token });
  assert.ok(list.body.items.some((w) => w.key === `impl-${IMPL_PERSON}` && w.version === v));
  const c = await applied();
  assert.equal(c.state, 'submitted');
  assert.equal((await api('GET', '/workflows/impl-NOPE', { token: clerk.token })).status, 404);
});

test('the calendar: shipped years, and an operator loads a new one', async () => {
  const y = await api('GET', '/calendar/2026');
  assert.equal(y.status, 200);
  assert.equal(y.body.covered, true);
  assert.ok(y.body.days.some((d) => d.date === '2026-10-01' && d.off));
  const notice = { year: 2027, papers: [], days: [{ name: '元旦', date: '2027-01-01', isOffDay: true }] };
  assert.equal((await api('PUT', '/calendar/2027', { token: head.token, json: notice })).status, 403);
  assert.equal((await api('PUT', '/calendar/2027', { token: ADMIN, json: { ...notice, year: 2028 } })).status, 422);
  const bad = await api('PUT', '/calendar/2027', { token: ADMIN, json: { ...notice, days: [{ name: 'x', date: '2027-02-30', isOffDay: true }] } });
  assert.equal(bad.status, 422);
  assert.equal(bad.body.errors[0].field, 'days[0].date');
  const ok = await api('PUT', '/calendar/2027', { token: ADMIN, json: notice });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal(ok.body.covered, true);
  assert.equal((await api('GET', '/calendar/2027')).body.covered, true);
  assert.equal((await api('GET', '/calendar/27')).status, 404);
});

test("an item's own form: every failing field at once, conditional fields shown and hidden by the answers", async () => {
  const impl = '11440106009787049D4000107002000'; // 居民身份证换领, 天河区
  const file = () => ['material_1', { data: pdf('身份证 ' + crypto.randomUUID()), filename: 'id.pdf', type: 'application/pdf' }];
  const send = (form, key = crypto.randomUUID()) => api('POST', '/cases', { token: zhang, headers: { 'Idempotency-Key': key },
    form: formOf([['application', JSON.stringify({ impl_code: impl, form })], file()]) });
  const bad = await send({ reason: 'changed', delivery: 'post', post_code: '51', expiry_date: '2026-01-01', applicant_phone: '12345' });
  assert.equal(bad.status, 422, JSON.stringify(bad.body));
  const fields = bad.body.errors.map((e) => e.field).sort();
  assert.deepEqual(fields, ['form.applicant_phone', 'form.changed_items', 'form.expiry_date', 'form.post_address', 'form.post_code'].sort());
  assert.ok(bad.body.errors.every((e) => e.message));
  const ok = await send({ reason: 'expired', expiry_date: '2026-12-31', delivery: 'window' });
  assert.equal(ok.status, 201, JSON.stringify(ok.body));
  assert.equal(ok.body.form.applicant_name, '张三', 'what the account knows was filled in');
  assert.equal(ok.body.form.reason, 'expired');
});
