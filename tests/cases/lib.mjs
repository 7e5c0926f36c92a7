// Shared by the case-handling tests: a real tongban server (TONGBAN_URL), its platform
// administrator's bearer token (TONGBAN_ADMIN_TOKEN, from scripts/lib.sh admin_login),
// the demo people, fresh staff made through the API, and real files to upload.
import { execFileSync } from 'node:child_process';
import zlib from 'node:zlib';

export const BASE = (process.env.TONGBAN_URL || 'http://127.0.0.1:8080').replace(/\/$/, '');
export const ADMIN = process.env.TONGBAN_ADMIN_TOKEN || '';

export const ZHANG = { login: '440106199001011235', password: 'Zhangsan@2026', name: '张三', id_number: '440106199001011235', phone: '13912340001' };
export const LI = { login: '440304198505050012', password: 'Lisi@2026!' };
export const ZHAO = { login: '13912340004', password: 'Zhaoliu@2026' };
export const GZ_ENTERPRISE = '91440106MA5X12349Y';

// Guangzhou's market regulator and two of its implementations in the demo catalogue:
// a 承诺件 for persons (three required materials, 10 working days promised) and a
// 即办件 for enterprises.
export const GZ_SAMR = '11440100008446488A';
export const IMPL_PERSON = `${GZ_SAMR}3000701001000`;
export const IMPL_INSTANT = `${GZ_SAMR}3000720001000`;
export const SZ_SAMR = '11440300008604861B';

/** One API call: JSON (or FormData) in, JSON out; bearer token or none. */
export async function api(method, path, { token, json, form, headers = {} } = {}) {
  const h = { Accept: 'application/json', ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  let body;
  if (json !== undefined) { h['Content-Type'] = 'application/json'; body = JSON.stringify(json); }
  if (form) body = form;
  const res = await fetch(`${BASE}/api/v1${path}`, { method, headers: h, body });
  const buf = Buffer.from(await res.arrayBuffer());
  let data = null;
  const type = res.headers.get('content-type') || '';
  if (/json/.test(type)) data = JSON.parse(buf.toString('utf8'));
  return { status: res.status, body: data, headers: res.headers, bytes: buf };
}

export async function login(who, extra = {}) {
  const r = await api('POST', '/auth/login', { json: { login: who.login, password: who.password, bearer: true, ...extra } });
  if (r.status !== 200) throw new Error(`login ${who.login}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.access_token;
}

let seq = 0;
const rnd = (n) => Math.floor(Math.random() * n);
const W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
function idCheck(first17) {
  let s = 0;
  for (let i = 0; i < 17; i++) s += Number(first17[i]) * W[i];
  return '10X98765432'[s % 11];
}
/** A person nobody registered: a valid ID number and phone. */
export function newPerson(region = '440106') {
  seq += 1;
  const first17 = `${region}${1970 + rnd(30)}${String(1 + rnd(12)).padStart(2, '0')}${String(1 + rnd(28)).padStart(2, '0')}${String(rnd(1000)).padStart(3, '0')}`;
  return {
    name: '王' + '明华丽强芳伟'[rnd(6)] + '娜敏静磊'[rnd(4)],
    id_number: first17 + idCheck(first17),
    phone: `13${rnd(10)}${String(process.pid % 1e4).padStart(4, '0')}${String((seq * 37 + rnd(100)) % 1e4).padStart(4, '0')}`.slice(0, 11),
  };
}

/** Fresh staff with roles over department and region, logged in (bearer + TOTP). */
export async function staff(roles, department = GZ_SAMR, region = '4401') {
  if (!ADMIN) throw new Error('TONGBAN_ADMIN_TOKEN is not set');
  const p = newPerson('440104');
  const password = `Staff-${Math.random().toString(36).slice(2, 10)}!9`;
  const r = await api('POST', '/staff', { token: ADMIN, json: { ...p, department, region, roles, password } });
  if (r.status !== 201) throw new Error(`create staff: ${r.status} ${JSON.stringify(r.body)}`);
  const secret = r.body.totp_secret || new URL(r.body.totp_uri).searchParams.get('secret');
  const code = execFileSync('oathtool', ['--totp', '-b', secret], { encoding: 'utf8' }).trim();
  const token = await login({ login: p.id_number, password }, { kind: 'staff', totp: code });
  return { ...p, id: r.body.id, token };
}

// ---- files ----

/** A one-page PDF that says `text`. */
export function pdf(text = 'tongban') {
  const objs = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    null,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  const stream = `BT /F1 12 Tf 20 50 Td (${text.replace(/[()\\]/g, '')}) Tj ET`;
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

const CRC = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; t[n] = c >>> 0; }
  return t;
})();
function crc32(buf) { let c = 0xffffffff; for (const b of buf) c = CRC[(c ^ b) & 0xff] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; }
/** A PNG chunk: length, type, data, CRC-32. */
export function pngChunk(type, data) {
  const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
/** A real w x h PNG of one colour (and `salt` varies its bytes). */
export function png(w = 8, h = 8, salt = 0) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4); ihdr[8] = 8; ihdr[9] = 2;
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) raw[y * (w * 3 + 1) + 1 + x * 3] = (salt + x * 16) & 0xff;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', ihdr), pngChunk('IDAT', zlib.deflateSync(raw)), pngChunk('IEND', Buffer.alloc(0))]);
}

/** A multipart form of [name, value] or [name, {data, filename, type}] entries. */
export function formOf(entries) {
  const f = new FormData();
  for (const [k, v] of entries) {
    if (typeof v === 'string') f.append(k, v);
    else f.append(k, new Blob([v.data], { type: v.type || 'application/octet-stream' }), v.filename);
  }
  return f;
}

/** Upload one material file into a draft. */
export function uploadDraft(token, id, material, data, filename, type) {
  return api('POST', `/drafts/${id}/materials`, { token, form: formOf([['material', String(material)], ['file', { data, filename, type }]]) });
}
