// The client side of tests/cases/durability.sh (docs/cases.md, issue 4 item 10).
//   node durability-load.mjs load DIR CLIENTS SECONDS MAX
//     CLIENTS concurrent loops of 张三 applying through the one-request POST /api/v1/cases
//     (three small real files each, an Idempotency-Key each) until the server goes away
//     (durability.sh kills it with SIGKILL), SECONDS pass or MAX applications are made.
//     Every case answered 201 goes to DIR/recorded (case_no key sha256 x3), every
//     request without an answer (in flight at the kill) to DIR/pending (its key).
//   node durability-load.mjs check DIR
//     against the restarted server: every recorded case is there and whole (submitted,
//     three materials of one file each, the submit transition, the bytes of each file),
//     a retry of every pending request with its key gives one case, and 张三 has no
//     case beyond those. Prints what failed and "N passed, M failed".
// The files of a request are a function of its key, so a retry sends the same request.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { api, login, pdf, png, formOf, ZHANG, IMPL_PERSON } from './lib.mjs';

const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');

function filesOf(key) {
  const salt = parseInt(sha(key).slice(0, 2), 16);
  return [
    { seq: 1, data: pdf(`identity card ${key}`), filename: 'id.pdf', type: 'application/pdf' },
    { seq: 2, data: png(8 + (salt % 8), 8, salt), filename: 'photo.png', type: 'image/png' },
    { seq: 3, data: pdf(`health certificate ${key}`), filename: 'exam.pdf', type: 'application/pdf' },
  ];
}

function apply(token, key) {
  const files = filesOf(key);
  const form = formOf([
    ['application', JSON.stringify({ impl_code: IMPL_PERSON, form: {} })],
    ...files.map((f) => [`material_${f.seq}`, f]),
  ]);
  return api('POST', '/cases', { token, form, headers: { 'Idempotency-Key': key } });
}

async function load(dir, clients, seconds, max) {
  const token = await login(ZHANG);
  const recorded = fs.openSync(path.join(dir, 'recorded'), 'a');
  const pending = fs.openSync(path.join(dir, 'pending'), 'a');
  const until = Date.now() + seconds * 1000;
  let made = 0, refused = 0;
  async function loop() {
    while (Date.now() < until && made < max) {
      made += 1;
      const key = crypto.randomUUID();
      let r;
      try {
        r = await apply(token, key);
      } catch {
        // no answer: the server went away with the request in flight
        fs.writeSync(pending, `${key}\n`);
        return;
      }
      if (r.status === 201) {
        const shas = filesOf(key).map((f) => sha(f.data)).join(' ');
        fs.writeSync(recorded, `${r.body.case_no} ${key} ${shas}\n`);
      } else {
        refused += 1;
        console.error(`load: ${r.status} ${JSON.stringify(r.body)}`);
      }
    }
  }
  await Promise.all(Array.from({ length: clients }, loop));
  fs.closeSync(recorded);
  fs.closeSync(pending);
  console.log(`load: ${made} requests, ${refused} refused`);
}

const lines = (file) => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);

async function check(dir) {
  const token = await login(ZHANG);
  let passed = 0, failed = 0;
  const ok = (cond, what) => {
    if (cond) passed += 1; else failed += 1;
    console.log(`${cond ? 'ok  ' : 'FAIL'} ${what}`);
  };
  const recorded = lines(path.join(dir, 'recorded')).map((l) => l.split(' '));
  const pending = lines(path.join(dir, 'pending'));
  ok(recorded.length > 0, `the load filed cases before the kill (${recorded.length} recorded, ${pending.length} in flight)`);

  // every case answered 201 before the kill is there and whole
  const broken = [];
  let files = 0;
  for (const [no, , ...shas] of recorded) {
    const r = await api('GET', `/cases/${no}`, { token });
    const c = r.body || {};
    const why = [];
    if (r.status !== 200) why.push(`status ${r.status}`);
    else {
      if (c.state !== 'submitted') why.push(`state ${c.state}`);
      if (c.materials?.length !== 3 || !c.materials.every((m) => m.files.length === 1)) why.push('materials');
      if (!c.timeline?.some((t) => t.action === 'submit' && t.to === 'submitted')) why.push('no submit transition');
      for (const m of c.materials || []) {
        const f = m.files[0];
        if (!f) continue;
        if (f.sha256 !== shas[m.seq - 1]) why.push(`material ${m.seq}: sha256 ${f.sha256}`);
        const b = await api('GET', `/cases/${no}/files/${f.id}`, { token });
        files += 1;
        if (b.status !== 200 || sha(b.bytes) !== shas[m.seq - 1]) why.push(`material ${m.seq}: bytes (${b.status})`);
      }
    }
    if (why.length) broken.push(`${no}: ${why.join(', ')}`);
  }
  for (const b of broken.slice(0, 20)) console.log(`     ${b}`);
  ok(broken.length === 0, `every recorded case survived the kill whole (${recorded.length} cases, ${files} files read back)`);

  // a retry of a request whose answer was lost gives one case, committed or not
  const numbers = new Set(recorded.map(([no]) => no));
  let replayed = 0, fresh = 0;
  const bad = [];
  for (const key of pending) {
    const a = await apply(token, key);
    const b = await apply(token, key);
    if (a.status !== 201 || b.status !== 201 || a.body.case_no !== b.body.case_no) {
      bad.push(`${key}: ${a.status} ${b.status} ${a.body?.case_no} ${b.body?.case_no}`);
      continue;
    }
    if (a.headers.get('idempotent-replayed') === 'true') replayed += 1; else fresh += 1;
    if (numbers.has(a.body.case_no)) bad.push(`${key}: answered with another request's case ${a.body.case_no}`);
    numbers.add(a.body.case_no);
  }
  for (const b of bad.slice(0, 20)) console.log(`     ${b}`);
  ok(bad.length === 0, `a retry of each request in flight at the kill gives one case (${replayed} had been filed, ${fresh} had not)`);

  // and nothing else: 张三's cases are exactly those
  const mine = await api('GET', '/me/cases?per_page=1', { token });
  ok(mine.status === 200 && mine.body.total === numbers.size,
    `张三 has exactly the cases answered (${mine.body?.total} on the server, ${numbers.size} answered)`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}

const [mode, dir, ...rest] = process.argv.slice(2);
if (mode === 'load') await load(dir, Number(rest[0] || 8), Number(rest[1] || 10), Number(rest[2] || 2000));
else if (mode === 'check') await check(dir);
else { console.error('usage: durability-load.mjs load DIR CLIENTS SECONDS MAX | check DIR'); process.exitCode = 2; }
