// axe-core: no serious or critical violations on home, results and guide,
// in normal and elderly mode (and in zh-HK).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  api, launch, newPage, visit, waitForResults, waitForGuide, axeSerious, describeViolations, PHONE,
} from './lib.mjs';

let browser;
let guidePath;
before(async () => {
  browser = await launch();
  const r = await api('/search?q=' + encodeURIComponent('社保') + '&per_page=1');
  const first = r.body?.items?.[0] || (await api('/items?sort=popular&per_page=1')).body.items[0];
  guidePath = `/items/${encodeURIComponent(first.impl_code)}`;
});
after(async () => { await browser?.close(); });

const pages = {
  home: async (page) => { await visit(page, '/'); await page.locator('[data-test="popular"]').waitFor(); await page.locator('[data-test="topics-person"]').waitFor(); },
  results: async (page, phone) => {
    await visit(page, '/search?q=' + encodeURIComponent('社保'));
    await waitForResults(page);
    if (phone) await page.locator('[data-test="filters-open"]').click(); // check the facet drawer too
    await page.locator('[data-test="facets"] .facet-group').first().waitFor();
  },
  guide: async (page) => { await visit(page, guidePath); await waitForGuide(page); await page.locator('[data-test="guide-title"]').waitFor(); },
};

const modes = [
  { name: 'normal', prefs: {} },
  { name: 'elderly', prefs: { elderly: true } },
  { name: 'zh-HK', prefs: { locale: 'zh-HK' } },
  { name: 'phone', prefs: {}, viewport: PHONE },
];

for (const mode of modes) {
  for (const [name, open] of Object.entries(pages)) {
    test(`axe: ${name} page, ${mode.name}`, async () => {
      const page = await newPage(browser, { prefs: mode.prefs, viewport: mode.viewport });
      await open(page, Boolean(mode.viewport));
      if (mode.prefs.elderly) assert.ok(await page.evaluate(() => document.documentElement.classList.contains('elderly')));
      const v = await axeSerious(page);
      assert.equal(v.length, 0, describeViolations(v));
      await page.close();
    });
  }
}

test('axe: search suggestions open', async () => {
  const page = await newPage(browser);
  await visit(page, '/');
  await page.locator('main [data-test="search-input"]').pressSequentially('社保', { delay: 30 });
  await page.locator('main [data-test="suggestions"] [role="option"]').first().waitFor();
  await page.locator('main [data-test="search-input"]').press('ArrowDown');
  const v = await axeSerious(page);
  assert.equal(v.length, 0, describeViolations(v));
  await page.close();
});
