// Checks the portal makes before it asks the server (the server checks again and is
// the judge): ID numbers (GB 11643), phones, password strength, the `next` target
// after logging in, and masking a name the way base/mask.h does.

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK = '10X98765432';
// first two digits of a GB/T 2260 province-level code (71 Taiwan, 81/82 HK/Macao)
const PROVINCES = new Set(['11', '12', '13', '14', '15', '21', '22', '23', '31', '32', '33', '34', '35', '36', '37',
  '41', '42', '43', '44', '45', '46', '50', '51', '52', '53', '54', '61', '62', '63', '64', '65', '71', '81', '82']);

/** The check character (0-9 or X) of the first 17 digits of an ID number. */
export function idCheckChar(first17) {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * ID_WEIGHTS[i];
  return ID_CHECK[sum % 11];
}

/**
 * What is wrong with an 18-character resident ID number, as an i18n key, or '' when it
 * looks right. `partial` is for live checking while typing: a prefix is not yet wrong.
 */
export function idNumberProblem(raw, { partial = false } = {}) {
  const id = String(raw || '').trim().toUpperCase();
  if (!id) return partial ? '' : 'v_required';
  if (!/^\d{0,17}[\dX]?$/.test(id) || (id.length < 18 && id.includes('X'))) return 'v_id_chars';
  if (id.length >= 2 && !PROVINCES.has(id.slice(0, 2))) return 'v_id_region';
  if (id.length >= 14) {
    const y = Number(id.slice(6, 10)); const m = Number(id.slice(10, 12)); const d = Number(id.slice(12, 14));
    const date = new Date(Date.UTC(y, m - 1, d));
    const ok = y >= 1900 && date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d
      && date.getTime() <= Date.now();
    if (!ok) return 'v_id_birth';
  }
  if (id.length < 18) return partial ? '' : 'v_id_length';
  if (idCheckChar(id) !== id[17]) return 'v_id_check';
  return '';
}

export function phoneProblem(raw) {
  const p = String(raw || '').trim();
  if (!p) return 'v_required';
  return /^1[3-9]\d{9}$/.test(p) ? '' : 'v_phone';
}

/** The login field takes an ID number or a phone number. */
export function loginProblem(raw) {
  const s = String(raw || '').trim();
  if (!s) return 'v_required';
  if (/^1[3-9]\d{9}$/.test(s)) return '';
  if (/^\d{17}[\dxX]$/.test(s)) return '';
  return 'v_login';
}

const COMMON = ['12345678', '123456789', '1234567890', 'password', 'password1', '11111111', '88888888', '00000000',
  'qwertyui', 'qwerty123', 'abc12345', 'abcd1234', 'a1234567', 'iloveyou', '66666666', '1qaz2wsx', 'woaini1314'];

/**
 * A hint for a new password: level 0 (too short or too common) to 3 (strong).
 * Length counts most; each kind of character (lower, upper, digit, other) adds.
 */
export function passwordStrength(pw) {
  const s = String(pw || '');
  if (s.length < 8 || COMMON.includes(s.toLowerCase()) || /^(.)\1+$/.test(s)) return 0;
  const kinds = [/[a-z]/, /[A-Z]/, /\d/, /[^A-Za-z0-9]/].filter((re) => re.test(s)).length;
  let score = kinds + (s.length >= 12 ? 1 : 0) + (s.length >= 16 ? 1 : 0);
  if (score <= 2) return 1;
  if (score <= 3) return 2;
  return 3;
}

/**
 * Where to go after logging in: only a path on this origin, never another site.
 * Accepts "/account", "/api/v1/oidc/authorize?…", and an absolute URL of this very
 * origin (made relative); refuses "//evil", "/\evil", "https://evil/", "javascript:".
 * Returns the path (with query and hash) or null.
 */
export function safeNext(next, origin = window.location.origin) {
  if (typeof next !== 'string' || !next || next.length > 4096) return null;
  // control characters and backslashes are read differently by browsers and URL parsers
  if (/[\u0000-\u001f\u007f\\]/.test(next)) return null;
  let u;
  if (next.startsWith('/')) {
    if (next.startsWith('//')) return null;
    try { u = new URL(next, origin); } catch { return null; }
  } else {
    try { u = new URL(next); } catch { return null; }
  }
  if (u.origin !== origin) return null;
  const path = u.pathname + u.search + u.hash;
  if (!path.startsWith('/') || path.startsWith('//')) return null;
  // no looping back to the login pages
  if (/^\/(login|register|staff\/login)(\/|\?|#|$)/.test(u.pathname + '/')) return null;
  return path;
}

/** 张三丰 -> 张**: the first character stays (as base/mask.h tb_mask_name). */
export function maskName(name) {
  const chars = Array.from(String(name || ''));
  if (!chars.length) return '';
  if (chars.length === 1) return '*';
  return chars[0] + '*'.repeat(chars.length - 1);
}

/** 440106199001011234 -> 4401**********1234 (the shape DESIGN.md names). */
export function maskIdNumber(id) {
  const s = String(id || '');
  if (s.length < 9) return s ? '*'.repeat(s.length) : '';
  return s.slice(0, 4) + '*'.repeat(s.length - 8) + s.slice(-4);
}

/** Field errors of a problem+json body: {field: message}. */
export function fieldErrors(problem) {
  const out = {};
  for (const e of (problem && Array.isArray(problem.errors) ? problem.errors : [])) {
    if (e && e.field && !out[e.field]) out[e.field] = e.message || (problem.detail || problem.title || '');
  }
  return out;
}

/** The last part of a problem type ("https://…/problems/csrf" or "csrf" -> "csrf"). */
export function problemType(problem) {
  const ty = problem && typeof problem.type === 'string' ? problem.type : '';
  return ty.replace(/\/+$/, '').split('/').pop();
}

/** A 2026-11-25T08:00:00+08:00 time as "2026-11-25 08:00". */
export function fmtTime(s) {
  if (!s) return '';
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})/.exec(String(s));
  return m ? `${m[1]} ${m[2]}` : String(s);
}
