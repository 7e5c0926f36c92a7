#!/usr/bin/env node
// demo-catalog.mjs: expand the demo catalogue sources into one tongban-catalog/1 document
// (docs/catalog-format.md). Dependency-free, Node 20.
//
//   node tools/demo-catalog.mjs OUT.json          write the document (deterministic bytes)
//   node tools/demo-catalog.mjs --check [OUT.json] also run the self-check and print counts
//
// Sources (relative to the repository root):
//   data/regions/*.csv                divisions: provinces, Guangdong cities, counties, towns
//                                     (statistics bureau codes) and a few demo villages
//   data/catalog/departments.json     department kinds, their names per level, templates
//   data/catalog/items-person.jsonl   service items, one compact row per line (see below)
//   data/catalog/items-enterprise.jsonl
//   data/catalog/forms.json           application forms by catalog code (the guide's "form",
//                                     src/catalog/form.h); other items use the default form
//
// Compact item row: {"code","name","dept","type","objects","topics","keywords","levels",
//   "legal":[n,unit],"promised":[n,unit],"case","visits","visits_note","depth","fee":[[name,fen]],
//   "fee_basis","result":[type,name],"basis","conditions":[…],
//   "materials":[[name,necessity,source,licence_type|null,form]],"faq":[[q,a]],"popularity",
//   "express","appointment","terminal", optional "scope" (通办范围, else derived)}.
//
// Rules chosen here (STANDARDS.md is silent on them):
// - Regions: the statistics bureau lists 东莞市 and 中山市 (cities without counties) with a
//   pseudo county code ending in 00 (441900, 442000). Such a code is not a valid division
//   code (a present level must not be all zeros), so those pseudo counties and their towns
//   are left out; in those two cities county-level items are implemented by the city
//   department at level 3 (as they are in reality).
// - Departments: one per kind per region where the kind exists; USCC = 1 + type (1 机关,
//   2 事业单位, 3 群团) + 6-digit division code (a town's department uses its county's code)
//   + 9-character organisation code (8 digits derived bijectively from kind and region,
//   so they are unique, + GB 11714 check) + GB 32100 check.
// - Level 5 (town) implementations are always made by the town's street office / town
//   government (kind "jiedao"), only in the towns listed in departments.json.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const rd = (p) => fs.readFileSync(path.join(ROOT, p), 'utf8');

function fail(msg) {
  throw new Error(msg);
}

// ---------------------------------------------------------------- check characters

const USCC_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
const ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2];

function orgCharValue(c) {
  if (c >= '0' && c <= '9') return c.charCodeAt(0) - 48;
  if (c >= 'A' && c <= 'Z') return c.charCodeAt(0) - 55;
  return -1;
}

/** GB 11714 check character for 8 organisation-code characters. */
export function orgCheck(s8) {
  let sum = 0;
  for (let i = 0; i < 8; i++) {
    const v = orgCharValue(s8[i]);
    if (v < 0) return null;
    sum += v * ORG_WEIGHTS[i];
  }
  const c = 11 - (sum % 11);
  return c === 10 ? 'X' : c === 11 ? '0' : String(c);
}

/** GB 32100 check character for the first 17 characters. */
export function usccCheck(s17) {
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const v = USCC_ALPHABET.indexOf(s17[i]);
    if (v < 0) return null;
    sum += v * USCC_WEIGHTS[i];
  }
  const c = 31 - (sum % 31);
  return USCC_ALPHABET[c === 31 ? 0 : c];
}

export function usccValid(s) {
  if (typeof s !== 'string' || s.length !== 18) return false;
  for (const ch of s) if (!USCC_ALPHABET.includes(ch)) return false;
  if (!/^[0-9]{6}$/.test(s.slice(2, 8))) return false;
  const org = s.slice(8, 17);
  if (orgCheck(org.slice(0, 8)) !== org[8]) return false;
  return usccCheck(s.slice(0, 17)) === s[17];
}

for (const good of ['91350100M000100Y43', '91310110666007217T', '91310115591693856A']) {
  if (!usccValid(good)) fail(`USCC check rejects the standard's example ${good}`);
}
if (usccValid('91350100M000100Y44') || usccValid('91310110666007218T')) {
  fail('USCC check accepts a corrupted example');
}

const catalogValid = (s) => typeof s === 'string' && /^[0-9A-Z]{12}$/.test(s);

function regionValid(s) {
  if (!/^[0-9]+$/.test(s) || ![2, 4, 6, 9, 12].includes(s.length)) return false;
  const parts = [s.slice(0, 2), s.slice(2, 4), s.slice(4, 6), s.slice(6, 9), s.slice(9, 12)];
  // towns of cities without counties (东莞, 中山) have county part 00
  return parts.every((p, i) => p === '' || !/^0+$/.test(p) || (i === 2 && s.length >= 9));
}
const PARENT_LEN = { 2: 0, 4: 2, 6: 4, 9: 6, 12: 9 };
const regionParent = (s) => (s.length === 9 && s.slice(4, 6) === '00' ? s.slice(0, 4)
  : PARENT_LEN[s.length] ? s.slice(0, PARENT_LEN[s.length]) : null);

// ---------------------------------------------------------------- CSV and regions

function parseCsv(text) {
  const rows = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    const out = [];
    let cur = '';
    let q = false;
    for (let i = 0; i < line.length; i++) {
      const c = line[i];
      if (q) {
        if (c === '"' && line[i + 1] === '"') { cur += '"'; i++; }
        else if (c === '"') q = false;
        else cur += c;
      } else if (c === '"') q = true;
      else if (c === ',') { out.push(cur); cur = ''; }
      else cur += c;
    }
    out.push(cur);
    rows.push(out);
  }
  const [head, ...body] = rows;
  return body.map((r) => Object.fromEntries(head.map((h, i) => [h, r[i]])));
}

function loadRegions() {
  const csv = (f) => parseCsv(rd(`data/regions/${f}`));
  const provinces = csv('provinces.csv').map((r) => ({ code: r.code, name: r.name }));
  const cities = csv('guangdong-cities.csv').map((r) => ({ code: r.code, name: r.name, parent: r.provinceCode }));
  const allCounties = csv('guangdong-counties.csv').map((r) => ({ code: r.code, name: r.name, parent: r.cityCode }));
  const counties = allCounties.filter((r) => regionValid(r.code));
  const countySet = new Set(counties.map((r) => r.code));
  const towns = csv('guangdong-towns.csv')
    .map((r) => ({ code: r.code, name: r.name, parent: r.areaCode }))
    .filter((r) => countySet.has(r.parent) || /^[0-9]{4}00$/.test(r.parent))
    .map((r) => (countySet.has(r.parent) ? r : { ...r, parent: r.parent.slice(0, 4) }));
  const villages = csv('guangdong-villages.csv').map((r) => ({ code: r.code, name: r.name, parent: r.townCode }));
  const byCode = (a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0);
  for (const l of [provinces, cities, counties, towns, villages]) l.sort(byCode);
  const pseudoCities = new Set(allCounties.filter((r) => !regionValid(r.code)).map((r) => r.parent));
  return { provinces, cities, counties, towns, villages, pseudoCities };
}

// ---------------------------------------------------------------- small helpers

function hash32(s) {
  // FNV-1a, for deterministic choices of illustrative details (road names, numbers)
  let h = 0x811c9dc5;
  for (const ch of Buffer.from(s, 'utf8')) {
    h ^= ch;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

const fill = (tpl, vars) =>
  tpl.replace(/\{(\w+)\}/g, (m, k) => {
    if (!(k in vars)) fail(`template ${tpl}: no value for {${k}}`);
    return vars[k];
  });

const UNIT_WORD = { working_day: '个工作日', natural_day: '个自然日', month: '个月', hour: '小时' };

// ---------------------------------------------------------------- departments

function buildDepartments(cfg, regions) {
  const { cities, counties, towns } = regions;
  const cityName = Object.fromEntries(cities.map((c) => [c.code, c.name]));
  const countyByCode = Object.fromEntries(counties.map((c) => [c.code, c]));
  const townByCode = Object.fromEntries(towns.map((t) => [t.code, t]));
  // region index for organisation codes: every Guangdong region in code order
  const gdCodes = ['44', ...cities.map((c) => c.code), ...counties.map((c) => c.code), ...towns.map((t) => t.code)];
  const regionIdx = new Map(gdCodes.map((c, i) => [c, i]));
  if (gdCodes.length >= 4000) fail('too many regions for the organisation code scheme');

  const out = []; // {kind, level, region, uscc, name, address, phone, hours}
  const byKey = new Map(); // `${kind}|${region}` -> dept
  const seenOrg = new Set();

  function makeUscc(kind, region, areaCode) {
    const n = kind.no * 4000 + regionIdx.get(region);
    const m = (n * 7919 + 104729) % 1000000; // bijection on 0..999999 (7919 is prime, coprime to 10)
    const org8 = '00' + String(m).padStart(6, '0');
    if (seenOrg.has(org8)) fail(`organisation code collision ${org8}`);
    seenOrg.add(org8);
    const s17 = '1' + kind.type + areaCode + org8 + orgCheck(org8);
    return s17 + usccCheck(s17);
  }

  function phoneFor(areaKey, seed) {
    const area = cfg.area_codes[areaKey];
    const digits = cfg.phone_digits[area] ?? cfg.phone_digits.default;
    const h = hash32(seed);
    const first = digits === 8 ? String(2 + (h % 7)) + String((h >>> 3) % 10) : String(2 + (h % 7));
    const rest = String(h % 10 ** (digits - first.length)).padStart(digits - first.length, '0');
    return `${area}-${first}${rest}`;
  }

  function address(kind, tplKey, vars, seed) {
    const h = hash32(seed);
    const roads = cfg.templates.roads;
    const window = kind.window ?? fill(cfg.templates.window, { short: kind.short });
    return fill(cfg.templates.address[tplKey], {
      ...vars,
      road: roads[h % roads.length],
      number: String(1 + ((h >>> 8) % 398)),
      floor: String(1 + ((h >>> 20) % 3)),
      window,
    });
  }

  function hoursFor(kind, cityCode, isTown) {
    if (isTown) return cfg.templates.hours.town;
    return kind.hours ?? cfg.templates.hours[cityCode] ?? cfg.templates.hours.default;
  }

  function add(kind, level, region, areaCode, name, addr, phoneKey, cityCode) {
    const d = {
      kind: kind.key, level, region,
      uscc: makeUscc(kind, region, areaCode),
      name,
      address: addr,
      phone: phoneFor(phoneKey, `${kind.key}|${region}|phone`),
      hours: hoursFor(kind, cityCode, level === '5'),
    };
    out.push(d);
    byKey.set(`${kind.key}|${region}`, d);
  }

  const countyVars = (county) => {
    const city = cityName[county.parent];
    const isDistrict = county.name.endsWith('区');
    return {
      city,
      county: county.name,
      county_short: isDistrict && county.name.length > 2 ? county.name.slice(0, -1) : county.name,
      county_full: isDistrict ? city + county.name : county.name,
      isDistrict,
    };
  };

  for (const kind of cfg.kinds) {
    if (!/^[123]$/.test(kind.type)) fail(`kind ${kind.key}: type must be 1, 2 or 3`);
    if (kind.province) {
      add(kind, '2', '44', '440000', kind.province.name, kind.province.address, '44', '44');
    }
    if (kind.city) {
      for (const c of cities) {
        const tpl = kind.city_by_city?.[c.code] ?? kind.city;
        const vars = { city: c.name, seat: cfg.city_seats[c.code] };
        add(kind, '3', c.code, c.code + '00', fill(tpl, vars),
          address(kind, 'city', vars, `${kind.key}|${c.code}`), c.code, c.code);
      }
    }
    if (kind.county) {
      for (const c of counties) {
        const v = countyVars(c);
        const tpl = v.isDistrict
          ? kind.district_by_city?.[c.parent] ?? kind.district ?? kind.county
          : kind.county;
        add(kind, '4', c.code, c.code, fill(tpl, v),
          address(kind, 'county', v, `${kind.key}|${c.code}`), c.parent, c.parent);
      }
    }
    if (kind.town) {
      for (const code of cfg.towns) {
        const t = townByCode[code];
        if (!t) fail(`departments.json towns: unknown town ${code}`);
        const county = countyByCode[t.parent];
        const v = { ...countyVars(county), town: t.name };
        const tpl = t.name.endsWith('镇') ? kind.township : kind.town;
        add(kind, '5', t.code, county.code, fill(tpl, v),
          address(kind, 'town', v, `${kind.key}|${t.code}`), county.parent, county.parent);
      }
    }
  }
  return { list: out, byKey };
}

// ---------------------------------------------------------------- items

const ITEM_FIELDS = new Set(['code', 'name', 'dept', 'type', 'objects', 'topics', 'keywords', 'levels',
  'legal', 'promised', 'case', 'visits', 'visits_note', 'depth', 'fee', 'fee_basis', 'result', 'basis',
  'conditions', 'materials', 'faq', 'popularity', 'express', 'appointment', 'terminal', 'scope']);
const ITEM_TYPES = new Set(['01', '02', '03', '04', '05', '06', '07', '08', '09', '10', '20']);

function loadItems(file, object, kinds) {
  const rows = [];
  rd(file).split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let r;
    try {
      r = JSON.parse(line);
    } catch (e) {
      fail(`${file}:${i + 1}: ${e.message}`);
    }
    const where = `${file}:${i + 1} (${r.name})`;
    for (const k of Object.keys(r)) if (!ITEM_FIELDS.has(k)) fail(`${where}: unknown field ${k}`);
    for (const k of ITEM_FIELDS) if (k !== 'scope' && !(k in r)) fail(`${where}: missing field ${k}`);
    if (!catalogValid(r.code)) fail(`${where}: bad code ${r.code}`);
    if (!kinds.has(r.dept)) fail(`${where}: unknown dept ${r.dept}`);
    if (!ITEM_TYPES.has(r.type)) fail(`${where}: bad type ${r.type}`);
    if (!['1', '2'].includes(r.case)) fail(`${where}: bad case`);
    if (![0, 1, 2, 3].includes(r.visits)) fail(`${where}: bad visits`);
    if (!r.levels.every((l) => ['2', '3', '4', '5'].includes(l))) fail(`${where}: bad levels`);
    for (const lim of [r.legal, r.promised]) {
      if (!Array.isArray(lim) || !(lim[0] > 0) || !UNIT_WORD[lim[1]]) fail(`${where}: bad limit`);
    }
    if (r.legal[1] === r.promised[1] && r.promised[0] > r.legal[0]) fail(`${where}: promised > legal`);
    for (const m of r.materials) {
      if (m.length !== 5 || !['1', '2', '3'].includes(m[1]) || !['10', '20', '99'].includes(m[2]) ||
        !['original', 'copy', 'electronic'].includes(m[4]) || (m[2] === '20') !== (m[3] !== null)) {
        fail(`${where}: bad material ${JSON.stringify(m)}`);
      }
    }
    if (!['licence', 'approval', 'other', 'none'].includes(r.result[0])) fail(`${where}: bad result`);
    rows.push({ ...r, object });
  });
  return rows;
}

// ---------------------------------------------------------------- topics

const TOPICS = [
  ['p-birth', '出生', 'person'], ['p-school', '上学', 'person'], ['p-work', '就业创业', 'person'],
  ['p-marriage', '婚姻登记', 'person'], ['p-housing', '住房', 'person'], ['p-vehicle', '交通出行', 'person'],
  ['p-social', '社会保障', 'person'], ['p-retire', '退休养老', 'person'], ['p-death', '身后事', 'person'],
  ['p-household', '户籍证件', 'person'], ['p-travel', '出入境', 'person'], ['p-health', '医疗卫生', 'person'],
  ['p-welfare', '社会救助与福利', 'person'], ['p-legal', '公证与法律服务', 'person'],
  ['e-startup', '开办企业', 'enterprise'], ['e-permit', '经营许可', 'enterprise'],
  ['e-tax', '税费办理', 'enterprise'], ['e-employ', '员工招聘与用工', 'enterprise'],
  ['e-change', '变更登记', 'enterprise'], ['e-closure', '注销企业', 'enterprise'],
  ['e-build', '工程建设', 'enterprise'], ['e-trade', '对外贸易', 'enterprise'],
];

function buildTopics() {
  const order = { person: 0, enterprise: 0 };
  return TOPICS.map(([code, name, object]) => ({ code, name, object, order: ++order[object] }));
}

// ---------------------------------------------------------------- guides

const TYPE_NAME = { '01': '行政许可', '02': '行政处罚', '03': '行政强制', '04': '行政征收', '05': '行政给付',
  '06': '行政检查', '07': '行政确认', '08': '行政奖励', '09': '行政裁决', '10': '其他行政权力', '20': '公共服务' };

const lim = (n, unit) => `${n}${UNIT_WORD[unit]}`;

function isFullyOnline(r) {
  return r.visits === 0 && ['2', '4', '5', '6'].every((d) => r.depth.includes(d));
}

function processSteps(r, dept) {
  const [p, unit] = r.promised;
  const resultName = r.result[0] === 'none' ? '办理结果' : r.result[1];
  const channel = r.object === 'person' ? '广东政务服务网、“粤省事”' : '广东政务服务网、“粤商通”';
  const apply = {
    name: '申请',
    description: r.visits === 0
      ? `申请人登录${channel}在线填写申请信息并上传申请材料。`
      : `申请人通过${channel}在线提交申请，或携带申请材料到${dept.name}办事窗口提出申请。`,
    limit: '不计时',
  };
  if (r.case === '1') {
    return [
      apply,
      { name: '受理并办结', description: '工作人员核验申请材料，材料齐全、符合法定形式的当场受理并办结；材料不全的一次性告知需要补正的全部内容。', limit: '当场' },
      { name: '送达', description: `当场发放${resultName}，或通过电子证照、短信等方式告知办理结果。`, limit: '当场' },
    ];
  }
  const review = p <= 1 ? p : Math.max(1, Math.ceil(p * 0.7) - (p >= 3 ? 1 : 0));
  const decide = p <= 1 ? 0 : Math.max(1, p - review - (p >= 3 ? 1 : 0));
  const deliver = p - review - decide;
  return [
    apply,
    { name: '受理', description: '工作人员对申请材料进行核验，材料齐全、符合法定形式的予以受理并出具受理回执；材料不齐全或不符合法定形式的，当场或者在5个工作日内一次性告知需要补正的全部内容。', limit: '当场' },
    { name: '审查', description: r.type === '01'
      ? '对申请材料的实质内容进行审查，需要对申请材料的实质内容进行核实的，指派两名以上工作人员进行现场核查。'
      : '对申请材料及申请人资格条件进行审查，必要时通过部门间数据共享核验相关信息。', limit: p <= 1 ? `${lim(p, unit)}内（含决定）` : `${lim(review, unit)}内` },
    { name: '决定', description: `作出准予或者不予办理的决定；准予办理的，制作${resultName}；不予办理的，书面说明理由，并告知申请人依法享有申请行政复议或者提起行政诉讼的权利。`, limit: decide > 0 ? `${lim(decide, unit)}内` : '与审查合并计算' },
    { name: '送达', description: r.express
      ? `申请人可选择窗口领取或免费邮寄送达${resultName}；已生成电子证照的同步推送至申请人的电子证照库。`
      : `申请人凭受理回执到窗口领取${resultName}，或在网上查看办理结果。`, limit: deliver > 0 ? `${lim(deliver, unit)}内` : '决定作出后即时送达' },
  ];
}

function materialNotes(m) {
  const [name, nec, src, , form] = m;
  const notes = [];
  if (src === '20') notes.push('已归集至广东省电子证照库的可免于提交，由窗口通过电子证照系统调取核验');
  else if (form === 'original') notes.push('提供原件，窗口核验后退回');
  else if (form === 'copy') notes.push('提供复印件1份，复印件须由申请人签名或加盖单位公章确认与原件一致');
  else notes.push('在线办理的上传清晰的电子扫描件或照片');
  if (nec === '3') notes.push('可容缺受理，须在受理之日起5个工作日内补交');
  if (nec === '2') notes.push('非必要材料，符合相应情形时提供');
  if (/照片/.test(name)) notes.push('近6个月内拍摄的免冠彩色正面证件照，白色背景');
  return notes.join('；') + '。';
}

function materialStandard(m) {
  const [name] = m;
  if (/申请表|登记表|申请书|审批表|告知承诺书/.test(name)) return '按要求如实、完整填写，由申请人签名（单位盖章），不得涂改。';
  if (/照片/.test(name)) return '符合证件照片标准，清晰无修饰。';
  return '证件或材料真实、有效、内容清晰完整，在有效期内。';
}

function buildGuide(r, dept, level, implCode, form) {
  const fully = isFullyOnline(r);
  const online = r.depth.some((d) => d !== '1' && d !== '8');
  const handlingForm = [];
  if (online) handlingForm.push('online');
  if (r.visits > 0 || !fully || r.object === 'person') handlingForm.push('window');
  if (r.express) handlingForm.push('express');
  let scope = r.scope;
  if (!scope) {
    if (level === '2' || fully) scope = '全省通办';
    else if (r.object === 'person' || level === '3') scope = '全市通办';
    else scope = '属地办理';
  }
  const charged = r.fee.length > 0;
  const baseUrl = `https://www.gdzwfw.gov.cn/portal/guide/${implCode}`;
  const faq = r.faq.map(([q, a]) => ({ q, a }));
  faq.push({
    q: '如何查询办理进度和结果？',
    a: `可登录广东政务服务网（www.gdzwfw.gov.cn）或“${r.object === 'person' ? '粤省事' : '粤商通'}”，在“我的办件”中凭受理回执编号查询办理进度；也可拨打咨询电话${dept.phone}。`,
  });
  if (r.materials.some((m) => m[2] === '20')) {
    faq.push({
      q: '政府部门核发的证照还需要提交纸质件吗？',
      a: '不需要。已归集至广东省电子证照库的证照，可由窗口工作人员通过电子证照系统调取核验，申请人无需提交纸质原件或复印件。',
    });
  } else if (fully) {
    faq.push({ q: '可以不到现场办理吗？', a: '可以。本事项已实现全程网上办理，申请、受理、审查、决定和结果反馈均在网上完成，无需到窗口。' });
  }
  let visitsNote = r.visits_note;
  if (!visitsNote) {
    visitsNote = r.visits === 0 ? '全程网上办理，无需到现场'
      : r.visits === 1 ? '材料齐全的，到窗口提交申请或领取结果最多跑一次' : '需到现场核验并领取办理结果';
  }
  const limitNote = (value, unit, what) => r.case === '1'
    ? '材料齐全、符合法定形式的，当场办结'
    : `自受理之日起${lim(value, unit)}内${what}；依法需要听证、检验、检测、鉴定、专家评审和现场核查的，所需时间不计算在内`;
  return {
    name: r.name,
    case_type: r.case,
    legal_basis: r.basis,
    legal_limit: { value: r.legal[0], unit: r.legal[1], note: limitNote(r.legal[0], r.legal[1], '作出决定') },
    promised_limit: { value: r.promised[0], unit: r.promised[1], note: limitNote(r.promised[0], r.promised[1], '办结') },
    acceptance_conditions: r.conditions,
    process: processSteps(r, dept),
    handling_form: handlingForm,
    address: dept.address,
    hours: dept.hours,
    consult_phone: dept.phone,
    supervise_phone: '12345',
    visits: r.visits,
    visits_note: visitsNote,
    fee: charged
      ? { charged: true, basis: r.fee_basis, items: r.fee.map(([name, amount]) => ({ name, amount_fen: amount })) }
      : { charged: false, basis: null, items: [] },
    online: { available: online, depth: r.depth, url: baseUrl, pay_online: charged && r.depth.includes('4') },
    express_delivery: r.express,
    appointment: r.appointment,
    self_service_terminal: r.terminal,
    handling_scope: scope,
    result: { type: r.result[0], name: r.result[1] },
    materials: r.materials.map((m, i) => {
      const isForm = /申请表|登记表|申请书|审批表|告知承诺书/.test(m[0]);
      const seq = String(i + 1).padStart(3, '0');
      return {
        name: m[0],
        necessity: m[1],
        form: [m[4]],
        count: 1,
        source: m[2],
        licence_type: m[3],
        notes: materialNotes(m),
        standard: materialStandard(m),
        basis: r.basis,
        blank_form_url: isForm ? `${baseUrl}/materials/${implCode}${seq}/blank` : null,
        sample_url: isForm ? `${baseUrl}/materials/${implCode}${seq}/sample` : null,
      };
    }),
    faq,
    ...(form ? { form } : {}),
  };
}

// ---------------------------------------------------------------- build

export function build() {
  const cfg = JSON.parse(rd('data/catalog/departments.json'));
  const regions = loadRegions();
  const depts = buildDepartments(cfg, regions);
  const kindKeys = new Set(cfg.kinds.map((k) => k.key));
  const rows = [
    ...loadItems('data/catalog/items-person.jsonl', 'person', kindKeys),
    ...loadItems('data/catalog/items-enterprise.jsonl', 'enterprise', kindKeys),
  ];
  const topics = buildTopics();
  const forms = JSON.parse(rd('data/catalog/forms.json'));
  const codes = new Set(rows.map((r) => r.code));
  for (const code of Object.keys(forms)) {
    if (!codes.has(code)) fail(`data/catalog/forms.json: no item ${code}`);
    if (forms[code].type !== 'object' || !forms[code].properties) fail(`data/catalog/forms.json: ${code} is not a form`);
  }

  const items = rows.map((r) => ({
    catalog_code: r.code, name: r.name, item_type: r.type, service_objects: r.objects,
    topics: r.topics, keywords: r.keywords, popularity: r.popularity,
  }));

  const impls = [];
  const deptOf = (kind, region) => depts.byKey.get(`${kind}|${region}`);
  for (const r of rows) {
    const targets = []; // [dept, level]
    const need = (d, level, what) => {
      if (!d) fail(`item ${r.code} ${r.name}: kind ${r.dept} has no ${what} department`);
      targets.push([d, level]);
    };
    for (const level of r.levels) {
      if (level === '2') need(deptOf(r.dept, '44'), '2', 'province');
      if (level === '3') for (const c of regions.cities) need(deptOf(r.dept, c.code), '3', 'city');
      if (level === '4') {
        for (const c of regions.counties) need(deptOf(r.dept, c.code), '4', 'county');
        if (!r.levels.includes('3')) {
          for (const city of [...regions.pseudoCities].sort()) need(deptOf(r.dept, city), '3', 'city');
        }
      }
      if (level === '5') for (const t of cfg.towns) need(deptOf('jiedao', t), '5', 'town');
    }
    for (const [d, level] of targets) {
      const implCode = d.uscc + level + r.code;
      impls.push({
        impl_code: implCode, catalog_code: r.code, department: d.uscc, level, region: d.region,
        guide: buildGuide(r, d, level, implCode, forms[r.code]),
      });
    }
  }

  const allRegions = [
    ...regions.provinces.map((p) => ({ code: p.code, name: p.name })),
    ...regions.cities, ...regions.counties, ...regions.towns, ...regions.villages,
  ].map((r) => (r.parent ? { code: r.code, name: r.name, parent: r.parent } : { code: r.code, name: r.name }));

  const doc = {
    format: 'tongban-catalog/1',
    regions: allRegions,
    departments: depts.list.map((d) => ({
      uscc: d.uscc, name: d.name, region: d.region, address: d.address, phone: d.phone, hours: d.hours,
    })),
    topics,
    items,
    implementations: impls,
  };
  return { doc, rows, cfg, depts };
}

// ---------------------------------------------------------------- self-check

const ALLOWED = {
  top: ['format', 'regions', 'departments', 'topics', 'items', 'implementations'],
  region: ['code', 'name', 'parent'],
  department: ['uscc', 'name', 'region', 'address', 'phone', 'hours'],
  topic: ['code', 'name', 'object', 'order'],
  item: ['catalog_code', 'name', 'item_type', 'service_objects', 'topics', 'keywords', 'popularity'],
  impl: ['impl_code', 'catalog_code', 'department', 'level', 'region', 'guide'],
  guide: ['name', 'case_type', 'legal_basis', 'legal_limit', 'promised_limit', 'acceptance_conditions',
    'process', 'handling_form', 'address', 'hours', 'consult_phone', 'supervise_phone', 'visits',
    'visits_note', 'fee', 'online', 'express_delivery', 'appointment', 'self_service_terminal',
    'handling_scope', 'result', 'materials', 'faq', 'form'],
  limit: ['value', 'unit', 'note'],
  step: ['name', 'description', 'limit'],
  fee: ['charged', 'basis', 'items'],
  feeItem: ['name', 'amount_fen'],
  online: ['available', 'depth', 'url', 'pay_online'],
  result: ['type', 'name'],
  material: ['name', 'necessity', 'form', 'count', 'source', 'licence_type', 'notes', 'standard', 'basis',
    'blank_form_url', 'sample_url'],
  faq: ['q', 'a'],
};

export function check(doc) {
  const errors = [];
  const err = (m) => { if (errors.length < 50) errors.push(m); };
  const keys = (o, kind, where) => {
    for (const k of Object.keys(o)) if (!ALLOWED[kind].includes(k)) err(`${where}: unknown field ${k}`);
  };
  keys(doc, 'top', '/');
  if (doc.format !== 'tongban-catalog/1') err('format');

  const regionCodes = new Set();
  doc.regions.forEach((r, i) => {
    keys(r, 'region', `/regions/${i}`);
    if (!regionValid(r.code)) err(`/regions/${i}: bad code ${r.code}`);
    if (regionCodes.has(r.code)) err(`/regions/${i}: duplicate ${r.code}`);
    const p = regionParent(r.code);
    if ((r.parent ?? null) !== p) err(`/regions/${i}: parent ${r.parent} should be ${p}`);
    if (p && !regionCodes.has(p)) err(`/regions/${i}: parent ${p} not earlier in the file`);
    regionCodes.add(r.code);
  });

  const depts = new Map();
  const deptNames = new Set();
  doc.departments.forEach((d, i) => {
    keys(d, 'department', `/departments/${i}`);
    if (!usccValid(d.uscc)) err(`/departments/${i}: bad USCC ${d.uscc}`);
    if (depts.has(d.uscc)) err(`/departments/${i}: duplicate USCC ${d.uscc}`);
    if (deptNames.has(d.name)) err(`/departments/${i}: duplicate name ${d.name}`);
    if (!regionCodes.has(d.region)) err(`/departments/${i}: unknown region ${d.region}`);
    depts.set(d.uscc, d);
    deptNames.add(d.name);
  });

  const topicCodes = new Set();
  const topicObject = new Map();
  doc.topics.forEach((t, i) => {
    keys(t, 'topic', `/topics/${i}`);
    if (!['person', 'enterprise'].includes(t.object)) err(`/topics/${i}: object`);
    if (topicCodes.has(t.code)) err(`/topics/${i}: duplicate ${t.code}`);
    topicCodes.add(t.code);
    topicObject.set(t.code, t.object);
  });

  const items = new Map();
  const itemNames = new Set();
  doc.items.forEach((it, i) => {
    keys(it, 'item', `/items/${i}`);
    if (!catalogValid(it.catalog_code)) err(`/items/${i}: bad catalog code`);
    if (items.has(it.catalog_code)) err(`/items/${i}: duplicate code ${it.catalog_code}`);
    if (itemNames.has(it.name)) err(`/items/${i}: duplicate name ${it.name}`);
    if (!ITEM_TYPES.has(it.item_type)) err(`/items/${i}: item_type`);
    if (!it.service_objects.length || !it.service_objects.every((o) => '1234569'.includes(o) && o.length === 1)) {
      err(`/items/${i}: service_objects`);
    }
    for (const t of it.topics) if (!topicCodes.has(t)) err(`/items/${i}: unknown topic ${t}`);
    if (new Set(it.topics.map((t) => topicObject.get(t))).size > 1) err(`/items/${i}: mixes person and enterprise topics`);
    if (!it.topics.length) err(`/items/${i}: no topic`);
    items.set(it.catalog_code, it);
    itemNames.add(it.name);
  });

  const implCodes = new Set();
  let zero = 0;
  let fully = 0;
  let instant = 0;
  doc.implementations.forEach((im, i) => {
    const w = `/implementations/${i}`;
    keys(im, 'impl', w);
    if (im.impl_code !== im.department + im.level + im.catalog_code) err(`${w}: impl_code mismatch`);
    if (im.impl_code.length !== 31) err(`${w}: impl_code length`);
    if (!/^[1-6]$/.test(im.level)) err(`${w}: level`);
    if (implCodes.has(im.impl_code)) err(`${w}: duplicate impl_code`);
    implCodes.add(im.impl_code);
    if (!items.has(im.catalog_code)) err(`${w}: unknown item`);
    const d = depts.get(im.department);
    if (!d) err(`${w}: unknown department`);
    else if (d.region !== im.region) err(`${w}: region differs from the department's`);
    if (!regionCodes.has(im.region)) err(`${w}: unknown region`);
    const g = im.guide;
    keys(g, 'guide', `${w}/guide`);
    keys(g.legal_limit, 'limit', `${w}/guide/legal_limit`);
    keys(g.promised_limit, 'limit', `${w}/guide/promised_limit`);
    g.process.forEach((s, j) => keys(s, 'step', `${w}/guide/process/${j}`));
    keys(g.fee, 'fee', `${w}/guide/fee`);
    g.fee.items.forEach((f, j) => keys(f, 'feeItem', `${w}/guide/fee/items/${j}`));
    keys(g.online, 'online', `${w}/guide/online`);
    keys(g.result, 'result', `${w}/guide/result`);
    g.materials.forEach((m, j) => {
      keys(m, 'material', `${w}/guide/materials/${j}`);
      if (!m.form.every((f) => ['original', 'copy', 'electronic'].includes(f))) err(`${w}: material form`);
      if (!['1', '2', '3'].includes(m.necessity) || !['10', '20', '99'].includes(m.source)) err(`${w}: material codes`);
    });
    g.faq.forEach((f, j) => keys(f, 'faq', `${w}/guide/faq/${j}`));
    for (const u of [g.legal_limit.unit, g.promised_limit.unit]) if (!UNIT_WORD[u]) err(`${w}: unit`);
    if (!g.online.depth.every((x) => /^[1-8]$/.test(x))) err(`${w}: depth`);
    if (!g.handling_form.every((x) => ['online', 'window', 'express'].includes(x))) err(`${w}: handling_form`);
    if (!['licence', 'approval', 'other', 'none'].includes(g.result.type)) err(`${w}: result type`);
    if (![0, 1, 2, 3].includes(g.visits)) err(`${w}: visits`);
    if (!['1', '2'].includes(g.case_type)) err(`${w}: case_type`);
    if (g.visits === 0) zero++;
    if (g.visits === 0 && ['2', '4', '5', '6'].every((x) => g.online.depth.includes(x))) fully++;
    if (g.case_type === '1') instant++;
  });
  return { errors, zero, fully, instant };
}

// ---------------------------------------------------------------- output

function serialize(doc) {
  // one record per line inside each array: readable, diffable and still compact
  const parts = [`{\n"format": ${JSON.stringify(doc.format)}`];
  for (const k of ['regions', 'departments', 'topics', 'items', 'implementations']) {
    parts.push(`${JSON.stringify(k)}: [\n${doc[k].map((x) => JSON.stringify(x)).join(',\n')}\n]`);
  }
  return parts.join(',\n') + '\n}\n';
}

function main(argv) {
  const doCheck = argv.includes('--check');
  const out = argv.find((a) => !a.startsWith('--'));
  if (!out && !doCheck) {
    process.stderr.write('usage: node tools/demo-catalog.mjs [--check] OUT.json\n');
    process.exit(2);
  }
  const { doc, rows, cfg } = build();
  const res = check(doc);
  if (res.errors.length) {
    for (const e of res.errors) process.stderr.write(`error: ${e}\n`);
    process.exit(1);
  }
  if (out) fs.writeFileSync(out, serialize(doc));
  if (doCheck) {
    const person = rows.filter((r) => r.object === 'person').length;
    const kindsUsed = new Set(rows.map((r) => r.dept));
    const nImpl = doc.implementations.length;
    const problems = [];
    if (rows.length < 320) problems.push(`items ${rows.length} < 320`);
    if (person < 170) problems.push(`person items ${person} < 170`);
    if (rows.length - person < 150) problems.push(`enterprise items ${rows.length - person} < 150`);
    if (kindsUsed.size < 25) problems.push(`department kinds used by items ${kindsUsed.size} < 25`);
    if (cfg.kinds.length < 30) problems.push(`department kinds ${cfg.kinds.length} < 30`);
    if (nImpl < 5000 || nImpl > 15000) problems.push(`implementations ${nImpl} not in 5000..15000`);
    const byLevel = {};
    for (const im of doc.implementations) byLevel[im.level] = (byLevel[im.level] ?? 0) + 1;
    const rz = rows.filter((r) => r.visits === 0).length;
    const rf = rows.filter(isFullyOnline).length;
    const ri = rows.filter((r) => r.case === '1').length;
    const withForm = doc.implementations.filter((im) => im.guide.form);
    const formItems = new Set(withForm.map((im) => im.catalog_code)).size;
    const deferrable = doc.implementations.filter((im) => im.guide.materials.some((m) => m.necessity === '3'));
    // the cases block's demo needs forms, 即办件 and 容缺后补 materials to show
    if (formItems < 5) problems.push(`items with an application form ${formItems} < 5`);
    if (!withForm.some((im) => im.guide.case_type === '1')) problems.push('no 即办件 with a form');
    if (deferrable.length === 0) problems.push('no material 容缺后补 (necessity 3)');
    const lines = [
      `regions          ${doc.regions.length}`,
      `departments      ${doc.departments.length} (${cfg.kinds.length} kinds, ${kindsUsed.size} used by items)`,
      `topics           ${doc.topics.length}`,
      `items            ${rows.length} (person ${person}, enterprise ${rows.length - person}; zero-visit ${rz}, fully online ${rf}, 即办件 ${ri})`,
      `implementations  ${nImpl} (by level ${JSON.stringify(byLevel)}; zero-visit ${res.zero}, fully online ${res.fully}, 即办件 ${res.instant})`,
      `forms            ${formItems} items, ${withForm.length} implementations (the rest use the default form); 容缺后补 materials in ${deferrable.length} implementations`,
      `USCC examples    91350100M000100Y43 91310110666007217T 91310115591693856A valid`,
    ];
    process.stdout.write(lines.join('\n') + '\n');
    if (problems.length) {
      for (const p of problems) process.stderr.write(`check failed: ${p}\n`);
      process.exit(1);
    }
    process.stdout.write('check ok\n');
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`demo-catalog: ${e.message}\n`);
    process.exit(1);
  }
}
