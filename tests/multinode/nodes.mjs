// Helpers of the multi-node test (tests/multinode/run.sh), over real HTTP.
//   node nodes.mjs crossnode A B C HA   a guide written through node A is read back at
//                                       once through B, C and HAProxy, and found by search
//   node nodes.mjs holder URL           the id of the scheduler lease's holder (waits for one)
//   node nodes.mjs total URL            how many nodes heartbeat
//   node nodes.mjs load URL STOPFILE [503]  requests in a loop until STOPFILE exists;
//                                       prints "load: N requests, M not 200" and the
//                                       failures; with 503, a 503 with Retry-After is
//                                       allowed and counted apart
// Prints "ok - ..." / "not ok - ..." lines that run.sh counts.
import fs from 'node:fs';

const token = process.env.TONGBAN_ADMIN_TOKEN || '';
const auth = { authorization: `Bearer ${token}` };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let failures = 0;
const check = (name, cond, detail) => {
  if (cond) console.log(`ok - ${name}`);
  else { failures++; console.log(`not ok - ${name}${detail ? `\n  ${detail}` : ''}`); }
};

async function getJSON(url, headers = {}) {
  const r = await fetch(url, { headers });
  const text = await r.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: r.status, json, text };
}

async function crossnode(a, b, c, ha) {
  // a word no catalogue holds (鹦鹉螺, nautilus) with a per-run suffix of digits
  const word = '鹦鹉螺';
  const list = await getJSON(`${a}/api/v1/items?per_page=1&sort=popular`);
  const impl = list.json?.items?.[0]?.impl_code;
  check('node A lists an implementation', list.status === 200 && impl, list.text.slice(0, 200));
  if (!impl) return;
  const before = await getJSON(`${a}/api/v1/items/${impl}`);
  const guide = before.json.guide;
  guide.name = `${guide.name}${word}${Date.now() % 100000}`;
  const put = await fetch(`${a}/api/v1/items/${impl}`, {
    method: 'PUT', headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ guide }),
  });
  const putText = await put.text();
  const newVersion = put.status === 200 ? JSON.parse(putText).version : undefined;
  check('an administrator PUT of a guide through node A makes a new version',
    put.status === 200 && newVersion === before.json.version + 1, `${put.status} ${putText.slice(0, 200)}`);
  for (const [label, base] of [['B', b], ['C', c], ['HAProxy', ha]]) {
    const got = await getJSON(`${base}/api/v1/items/${impl}`);
    check(`node ${label} reads the new guide at once`,
      got.status === 200 && got.json.version === newVersion && got.json.guide.name === guide.name,
      `${got.status} version ${got.json?.version} name ${got.json?.guide?.name}`);
    const hit = await getJSON(`${base}/api/v1/search?q=${encodeURIComponent(word)}`);
    const found = hit.json?.items?.find((x) => x.impl_code === impl);
    check(`search through ${label} finds the new name`,
      hit.status === 200 && found && found.name === guide.name,
      `${hit.status} ${hit.text.slice(0, 200)}`);
  }
  // and the version history is the same everywhere
  const hist = await Promise.all([a, b, c].map((u) => getJSON(`${u}/api/v1/items/${impl}`)));
  const versions = hist.map((h) => JSON.stringify(h.json.versions));
  check('the three nodes show the same version history', versions.every((v) => v === versions[0]));
}

async function holder(url) {
  for (let i = 0; i < 150; i++) {
    const r = await getJSON(`${url}/api/v1/system/nodes`, auth);
    const h = r.json?.items?.find((n) => n.scheduler);
    if (h) { console.log(h.id); return; }
    await sleep(200);
  }
  console.log('');
  process.exitCode = 1;
}

async function total(url) {
  const r = await getJSON(`${url}/api/v1/system/nodes`, auth);
  console.log(r.json?.total ?? '');
}

async function load(url, stopfile, allow) {
  const paths = ['/healthz', '/api/v1/items?per_page=5', `/api/v1/search?q=${encodeURIComponent('社保')}`,
    '/api/v1/regions?parent=44', `/api/v1/search/suggest?q=${encodeURIComponent('户口')}`];
  let n = 0, unavailable = 0;
  const bad = [];
  while (!fs.existsSync(stopfile)) {
    const p = paths[n % paths.length];
    try {
      const r = await fetch(url + p);
      await r.arrayBuffer();
      if (allow === '503' && r.status === 503 && r.headers.get('retry-after')) unavailable++;
      else if (r.status !== 200) bad.push(`${p}: ${r.status}`);
    } catch (e) {
      bad.push(`${p}: ${e.cause?.code || e.message}`);
    }
    n++;
  }
  console.log(`load: ${n} requests, ${bad.length} not 200${allow === '503' ? `, ${unavailable} 503 with Retry-After` : ''}`);
  for (const b of bad.slice(0, 10)) console.log(`  ${b}`);
}

const [cmd, ...args] = process.argv.slice(2);
const cmds = { crossnode, holder, total, load };
if (!cmds[cmd]) { console.error('usage: nodes.mjs crossnode|holder|total|load ...'); process.exit(2); }
await cmds[cmd](...args);
if (failures) process.exitCode = 1;
