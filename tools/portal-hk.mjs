// Makes web/src/zh-hk.json: the Traditional (Hong Kong) text of every Simplified string
// literal with Chinese characters in the portal's case pages (the z('…') of web/src/zh.js
// and the label tables of web/src/cases.js), converted by OpenCC's s2hk (Debian package
// opencc) one sentence per line, so phrases convert as phrases.
//   node tools/portal-hk.mjs            (rewrites the file)
//   node tools/portal-hk.mjs --check    (fails when a string has no translation)
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../web/src/', import.meta.url).pathname;
const files = ['cases.js', ...['components', 'views'].flatMap((d) => readdirSync(join(root, d)).map((f) => join(d, f)))];
const CJK = /[\u4e00-\u9fff]/;
const strings = new Set();
for (const f of files) {
  const src = readFileSync(join(root, f), 'utf8');
  if (f !== 'cases.js' && !/\bz\(/.test(src)) continue; // pages not (yet) written with z()
  const re = f === 'cases.js' ? /'((?:[^'\\\n]|\\.)*)'/g : /\bz\('((?:[^'\\\n]|\\.)*)'/g;
  for (const m of src.matchAll(re)) if (CJK.test(m[1])) strings.add(m[1].replace(/\\'/g, "'"));
}
const list = [...strings].sort();
const out = execFileSync('opencc', ['-c', 's2hk'], { input: list.join('\n') + '\n', encoding: 'utf8' }).split('\n');
const table = {};
list.forEach((s, i) => { if (out[i] && out[i] !== s) table[s] = out[i]; });
const path = join(root, 'zh-hk.json');
const text = JSON.stringify(table, null, 1) + '\n';
if (process.argv.includes('--check')) {
  const old = readFileSync(path, 'utf8');
  if (old !== text) { console.error('web/src/zh-hk.json is out of date: run node tools/portal-hk.mjs'); process.exit(1); }
} else {
  writeFileSync(path, text);
  console.log(`${Object.keys(table).length} strings`);
}
