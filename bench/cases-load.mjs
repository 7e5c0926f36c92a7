// Load for bench/cases.sh (issue 4 item 11), over HTTP on loopback, bounded in time.
//   node bench/cases-load.mjs clerk
//     a fresh clerk of Guangzhou's market regulator (TONGBAN_ADMIN_TOKEN), prints
//     "<bearer token> <user id>"
//   node bench/cases-load.mjs submit TOKEN SECONDS CONC PROCS [BYTES] [OUT]
//     PROCS processes of CONC connections each file applications of 张三 through the
//     one-request POST /api/v1/cases: three materials of BYTES (default 100 KiB) each,
//     a PDF, a PNG and a PDF, different bytes every time (no dedup); OUT gets the case
//     numbers. Prints "submit: N cases in S s (R/s), E errors".
//   node bench/cases-load.mjs act CLERK APPLICANT CASEFILE SECONDS CONC PROCS
//     each connection owns cases of CASEFILE (state submitted) and moves them round
//     request_correction (clerk) -> respond (applicant) -> ... Prints
//     "act: N transitions in S s (R/s), E errors".
// TONGBAN_URL is the server.
import http from 'node:http';
import crypto from 'node:crypto';
import fs from 'node:fs';
import zlib from 'node:zlib';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { staff, IMPL_PERSON, BASE, pngChunk as chunk } from '../tests/cases/lib.mjs';

const url = new URL(BASE);
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

function request(method, path, token, headers, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: url.hostname, port: url.port, method, path, agent,
      headers: { Authorization: `Bearer ${token}`, Accept: 'application/json', ...headers, 'Content-Length': body ? body.length : 0 },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

// ---- files of about `bytes` each, cheap to vary ----
function files(bytes) {
  // a PDF whose page stream is `bytes` of text: the head and tail are fixed, the middle
  // holds a counter (same length every time, so the offsets of the xref stay right)
  const filler = crypto.randomBytes(Math.ceil(bytes * 0.75)).toString('base64').replace(/[^A-Za-z0-9]/g, 'x').slice(0, bytes);
  const pdfParts = (marker) => {
    const stream = `BT /F1 12 Tf 20 50 Td (${marker}${filler}) Tj ET`;
    const objs = ['<< /Type /Catalog /Pages 2 0 R >>', '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
      '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
      `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`, '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>'];
    let out = '%PDF-1.4\n';
    const offsets = [];
    objs.forEach((o, i) => { offsets.push(out.length); out += `${i + 1} 0 obj\n${o}\nendobj\n`; });
    const xref = out.length;
    out += `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n`;
    for (const off of offsets) out += `${String(off).padStart(10, '0')} 00000 n \n`;
    out += `trailer\n<< /Size ${objs.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
    const buf = Buffer.from(out, 'latin1');
    const at = buf.indexOf('@@@@@@@@@@@@@@@@');
    return { buf, at };
  };
  const pdf = pdfParts('@@@@@@@@@@@@@@@@');
  // a PNG of random pixels (incompressible: IDAT is about `bytes`) with a tEXt chunk
  // carrying the counter
  const side = Math.max(8, Math.floor(Math.sqrt(bytes / 3)));
  const raw = crypto.randomBytes((side * 3 + 1) * side);
  for (let y = 0; y < side; y++) raw[y * (side * 3 + 1)] = 0;
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0); ihdr.writeUInt32BE(side, 4); ihdr[8] = 8; ihdr[9] = 2;
  const head = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr)]);
  const tail = Buffer.concat([chunk('IDAT', zlib.deflateSync(raw, { level: 0 })), chunk('IEND', Buffer.alloc(0))]);
  return (tag) => {
    const mark = (s) => Buffer.from(s.padEnd(16, '.').slice(0, 16), 'latin1');
    const a = Buffer.from(pdf.buf); mark(`A${tag}`).copy(a, pdf.at);
    const c = Buffer.from(pdf.buf); mark(`C${tag}`).copy(c, pdf.at);
    const b = Buffer.concat([head, chunk('tEXt', Buffer.from(`Comment\0${tag}`, 'latin1')), tail]);
    return [a, b, c];
  };
}

function multipart(parts) {
  const boundary = `----tongban${crypto.randomBytes(8).toString('hex')}`;
  const out = [];
  for (const p of parts) {
    let h = `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"`;
    if (p.filename) h += `; filename="${p.filename}"\r\nContent-Type: ${p.type}`;
    out.push(Buffer.from(`${h}\r\n\r\n`, 'utf8'), p.data, Buffer.from('\r\n'));
  }
  out.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(out), type: `multipart/form-data; boundary=${boundary}` };
}

async function submitWorker(token, seconds, conc, bytes) {
  const make = files(bytes);
  const app = Buffer.from(JSON.stringify({ impl_code: IMPL_PERSON, form: {} }));
  const until = Date.now() + seconds * 1000;
  let n = 0, errors = 0;
  const cases = [];
  const me = `${process.pid}`;
  let k = 0;
  async function loop() {
    while (Date.now() < until) {
      const tag = `${me}-${k++}`;
      const [a, b, c] = make(tag);
      const { body, type } = multipart([
        { name: 'application', data: app },
        { name: 'material_1', filename: 'id.pdf', type: 'application/pdf', data: a },
        { name: 'material_2', filename: 'photo.png', type: 'image/png', data: b },
        { name: 'material_3', filename: 'exam.pdf', type: 'application/pdf', data: c },
      ]);
      try {
        const r = await request('POST', '/api/v1/cases', token, { 'Content-Type': type, 'Idempotency-Key': crypto.randomUUID() }, body);
        if (r.status === 201) { n++; cases.push(JSON.parse(r.body).case_no); } else { errors++; if (errors < 3) console.error(`submit: ${r.status} ${r.body.toString().slice(0, 300)}`); }
      } catch (e) { errors++; if (errors < 3) console.error(`submit: ${e.message}`); }
    }
  }
  await Promise.all(Array.from({ length: conc }, loop));
  return { n, errors, cases };
}

async function actWorker(clerk, applicant, cases, seconds, conc) {
  const until = Date.now() + seconds * 1000;
  let n = 0, errors = 0;
  const json = (o) => Buffer.from(JSON.stringify(o));
  const moves = [
    [clerk, json({ action: 'request_correction', comment: '请补正', corrections: ['身份证明复印件不清晰'] })],
    [applicant, json({ action: 'respond', comment: '已补正' })],
  ];
  async function loop(mine) {
    let step = 0;
    while (Date.now() < until && mine.length) {
      const no = mine[Math.floor(step / 2) % mine.length];
      const [token, body] = moves[step % 2];
      try {
        const r = await request('POST', `/api/v1/cases/${no}/actions`, token, { 'Content-Type': 'application/json' }, body);
        // 409: the case is a step ahead (a warm-up stopped half way): take the other move
        if (r.status === 200) n++; else if (r.status !== 409) { errors++; if (errors < 3) console.error(`act: ${r.status} ${r.body.toString().slice(0, 300)}`); }
      } catch (e) { errors++; if (errors < 3) console.error(`act: ${e.message}`); }
      step++;
    }
  }
  await Promise.all(Array.from({ length: conc }, (_, i) => loop(cases.filter((_, j) => j % conc === i))));
  return { n, errors, cases: [] };
}

const self = fileURLToPath(import.meta.url);
const [mode, ...a] = process.argv.slice(2);

if (process.env.CASES_LOAD_CHILD) {
  process.on('message', async (job) => {
    const r = job.mode === 'submit'
      ? await submitWorker(job.token, job.seconds, job.conc, job.bytes)
      : await actWorker(job.clerk, job.applicant, job.cases, job.seconds, job.conc);
    process.send(r, () => process.exit(0));
  });
} else if (mode === 'clerk') {
  const c = await staff(['clerk']);
  console.log(`${c.token} ${c.id}`);
} else if (mode === 'submit' || mode === 'act') {
  let jobs;
  let seconds, procs;
  if (mode === 'submit') {
    const [token, s, conc, p, bytes = 102400] = a;
    seconds = Number(s); procs = Number(p);
    jobs = Array.from({ length: procs }, () => ({ mode, token, seconds, conc: Number(conc), bytes: Number(bytes) }));
  } else {
    const [clerk, applicant, file, s, conc, p] = a;
    seconds = Number(s); procs = Number(p);
    const all = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
    jobs = Array.from({ length: procs }, (_, i) => ({ mode, clerk, applicant, seconds, conc: Number(conc), cases: all.filter((_, j) => j % procs === i) }));
  }
  const t0 = Date.now();
  const results = await Promise.all(jobs.map((job) => new Promise((resolve, reject) => {
    const child = fork(self, [], { env: { ...process.env, CASES_LOAD_CHILD: '1' } });
    child.on('message', resolve);
    child.on('exit', (code) => code && reject(new Error(`worker exited ${code}`)));
    child.send(job);
  })));
  const dt = Math.min((Date.now() - t0) / 1000, seconds + 0.5);
  const n = results.reduce((s, r) => s + r.n, 0), errors = results.reduce((s, r) => s + r.errors, 0);
  if (mode === 'submit' && a[5]) fs.writeFileSync(a[5], results.flatMap((r) => r.cases).join('\n') + '\n');
  const what = mode === 'submit' ? 'cases' : 'transitions';
  console.log(`${mode}: ${n} ${what} in ${seconds} s (${Math.round(n / seconds)}/s), ${errors} errors`);
} else {
  console.error('usage: cases-load.mjs clerk | submit TOKEN SECONDS CONC PROCS [BYTES] [OUT] | act CLERK APPLICANT CASEFILE SECONDS CONC PROCS');
  process.exitCode = 2;
}
