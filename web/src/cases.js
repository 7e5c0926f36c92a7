// Case handling (办件) for the portal: the calls of the cases API (docs/api.md, issue 4),
// labels for states and actions, and small helpers the applicant's and the staff's
// pages share.
import { reactive } from 'vue';
import { get, post, patch, put, del, upload } from './api.js';
import { z } from './zh.js';

const enc = encodeURIComponent;

export const casesApi = {
  newDraft: (implCode) => post('/drafts', { impl_code: implCode }),
  windowDraft: (body) => post('/window/drafts', body),
  drafts: (params) => get('/drafts', params),
  draft: (id) => get(`/drafts/${enc(id)}`),
  saveDraft: (id, form) => patch(`/drafts/${enc(id)}`, { form }),
  deleteDraft: (id) => del(`/drafts/${enc(id)}`),
  uploadMaterial: (id, seq, file) => upload(`/drafts/${enc(id)}/materials`, { material: seq, file }),
  removeMaterial: (id, fileId) => del(`/drafts/${enc(id)}/materials/${enc(fileId)}`),
  defer: (id, seq, commitment) => put(`/drafts/${enc(id)}/deferrals/${enc(seq)}`, { commitment }),
  undefer: (id, seq) => del(`/drafts/${enc(id)}/deferrals/${enc(seq)}`),
  submit: (id, key) => post(`/drafts/${enc(id)}/submit`, undefined, { headers: { 'Idempotency-Key': key } }),
  myCases: (params) => get('/me/cases', params),
  getCase: (no) => get(`/cases/${enc(no)}`),
  act: (no, body) => post(`/cases/${enc(no)}/actions`, body),
  uploadCaseFile: (no, purpose, file, material) => upload(`/cases/${enc(no)}/files`, { purpose, material, file }),
  assign: (no, userId) => post(`/cases/${enc(no)}/assignee`, { user_id: userId }),
  notifications: (params) => get('/me/notifications', params),
  markRead: (id) => post(`/me/notifications/${enc(id)}/read`),
  markAllRead: () => post('/me/notifications/read-all'),
  summary: () => get('/workbench/summary'),
  queue: (params) => get('/workbench/cases', params),
  batch: (body) => post('/workbench/batch', body),
};

export const fileUrl = (no, id) => `/api/v1/cases/${enc(no)}/files/${enc(id)}`;
export const resultUrl = (no) => `/api/v1/cases/${enc(no)}/result`;

// the default workflow's states (src/cases/workflow.c); the server sends state_label,
// which a custom workflow may name differently
export const STATE_LABELS = {
  draft: '草稿', submitted: '待受理', correction: '待补正', accepted: '已受理', under_review: '审查中',
  decided: '已决定', not_accepted: '不予受理', completed: '已办结', withdrawn: '已撤回',
};
/** Element Plus tag type of a state. */
export function stateTag(state) {
  switch (state) {
    case 'completed': case 'decided': return 'success';
    case 'correction': return 'warning';
    case 'not_accepted': return 'danger';
    case 'withdrawn': return 'info';
    default: return 'primary';
  }
}
export const stateLabel = (c) => z((c && (c.state_label || STATE_LABELS[c.state])) || (c && c.state) || '');

export const ACTION_LABELS = {
  accept: '受理', not_accept: '不予受理', request_correction: '一次性告知补正', respond: '提交补正', withdraw: '撤回申请',
  start_review: '开始审查', grant: '准予许可', refuse: '不予许可', grant_on_spot: '当场办结', complete: '办结送达',
  start_procedure: '启动特别程序', end_procedure: '结束特别程序', request_extension: '申请延长期限', approve_extension: '批准延长期限',
};
export const actionLabel = (a) => z(ACTION_LABELS[a] || a);
/** Actions that need no more than a confirmation. */
export const DANGER_ACTIONS = new Set(['not_accept', 'refuse', 'withdraw']);

export const PROCEDURES = {
  hearing: '听证', inspection: '现场核查', testing: '检验检测', expert_review: '专家评审', quarantine: '检疫', other: '其他',
};
export const DELIVERY = { electronic: '电子送达', pickup: '窗口领取', post: '邮寄送达' };
export const NECESSITY = { 1: '必要', 2: '非必要', 3: '容缺后补' };
export const SOURCE = { 10: '申请人自备', 20: '政府部门核发', 99: '其他' };
export const UPLOAD_ACCEPT = '.pdf,.jpg,.jpeg,.png,.ofd';
export const UPLOAD_MAX = 20 * 1024 * 1024;

export function fmtSize(n) {
  const v = Number(n) || 0;
  if (v < 1024) return `${v} B`;
  if (v < 1024 * 1024) return `${(v / 1024).toFixed(1)} KB`;
  return `${(v / 1024 / 1024).toFixed(1)} MB`;
}

/** "剩余 3 个工作日" / "已超期 2 个工作日" / "已暂停" for a deadline (or a list row). */
export function remainingText(d) {
  if (!d) return '';
  if (d.paused) return z('已暂停');
  const unit = z(d.unit === 'natural_day' ? '天' : '个工作日');
  const n = Number(d.remaining);
  if (d.overdue || n < 0) return Number.isFinite(n) && n < 0 ? z('已超期 {n} {unit}', { n: -n, unit }) : z('已超期');
  if (!Number.isFinite(n)) return '';
  return z('剩余 {n} {unit}', { n, unit });
}

/** The first message of a problem's errors for each field: {"form.name": "必填"}. */
export function errorsByField(problem) {
  const out = {};
  for (const e of (problem && Array.isArray(problem.errors) ? problem.errors : [])) {
    if (e && e.field && !out[e.field]) out[e.field] = e.message || '';
  }
  return out;
}

export function problemText(e, fallback = z('操作失败，请稍后再试')) {
  const p = e && e.problem;
  if (p && Array.isArray(p.errors) && p.errors.length && !p.detail) return p.errors.map((x) => x.message).join('；');
  return (p && (p.detail || p.title)) || (e && e.status === 413 ? z('文件超过 20 MB') : '') || fallback;
}

/** The header's unread count of 站内信 (messages), refreshed by the pages that change it. */
export const inbox = reactive({ unread: 0 });
export async function refreshUnread() {
  try {
    const r = await casesApi.notifications({ unread: true, per_page: 1 });
    inbox.unread = Number(r && r.unread) || 0;
  } catch { inbox.unread = 0; }
}

/** The visible fields of a form schema in order, given the current values (x-show-if). */
export function visibleFields(schema, values) {
  const props = (schema && schema.properties) || {};
  const order = (schema && Array.isArray(schema['x-order']) && schema['x-order'].length ? schema['x-order'] : Object.keys(props))
    .filter((k) => props[k]);
  for (const k of Object.keys(props)) if (!order.includes(k)) order.push(k);
  const shown = new Set();
  const out = [];
  for (const name of order) {
    const f = props[name];
    const cond = f['x-show-if'];
    if (cond && cond.field) {
      const v = values ? values[cond.field] : undefined;
      const hit = shown.has(cond.field) && (Array.isArray(cond.in) ? cond.in : []).some((x) => x === v || String(x) === String(v));
      if (!hit) continue;
    }
    shown.add(name);
    out.push({ name, def: f, required: Array.isArray(schema.required) && schema.required.includes(name) });
  }
  return out;
}

/** The form's values, keeping only visible fields (a hidden one must be absent). */
export function formForSave(schema, values) {
  const out = {};
  for (const { name, def } of visibleFields(schema, values)) {
    let v = values[name];
    if (v === undefined || v === null || v === '') continue;
    if (Array.isArray(v) && !v.length && def.type === 'array') continue;
    if (def.type === 'integer' || def.type === 'number') {
      const n = Number(v);
      v = Number.isFinite(n) && String(v).trim() !== '' ? n : v;
    }
    out[name] = v;
  }
  return out;
}

/** Today as YYYY-MM-DD in China time. */
export function today() {
  return new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10);
}

/** The staff roles of a session user: [{role, department, region}] (names alone tolerated). */
export function staffRoles(user) {
  return ((user && user.roles) || []).map((r) => (typeof r === 'string' ? { role: r } : r));
}
export function hasRole(user, role) { return staffRoles(user).some((r) => r.role === role); }
