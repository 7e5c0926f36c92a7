// Phone-sized screens (375×812): no sideways scrolling; facets live in a drawer.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, launch, newPage, visit, waitForResults, waitForGuide, horizontalOverflow, PHONE } from './lib.mjs';

let browser;
let guidePath;
before(async () => {
  browser = await launch();
  const r = await api('/search?q=' + encodeURIComponent('社保') + '&per_page=1');
  const first = r.body?.items?.[0] || (await api('/items?sort=popular&per_page=1')).body.items[0];
  guidePath = `/items/${encodeURIComponent(first.impl_code)}`;
});
after(async () => { await browser?.close(); });

for (const elderly of [false, true]) {
  const mode = elderly ? ' (elderly mode)' : '';
  test(`home has no horizontal overflow at 375px${mode}`, async () => {
    const page = await newPage(browser, { viewport: PHONE, isMobile: true, prefs: { elderly } });
    await visit(page, '/');
    await page.locator('[data-test="popular"]').waitFor();
    const o = await horizontalOverflow(page);
    assert.ok(o.scrollWidth <= o.clientWidth, JSON.stringify(o));
    await page.close();
  });

  test(`results have no horizontal overflow and facets open in a drawer${mode}`, async () => {
    const page = await newPage(browser, { viewport: PHONE, isMobile: true, prefs: { elderly } });
    await visit(page, '/search?q=' + encodeURIComponent('社保'));
    await waitForResults(page);
    const o = await horizontalOverflow(page);
    assert.ok(o.scrollWidth <= o.clientWidth, JSON.stringify(o));
    assert.equal(await page.locator('.facets-aside').count(), 0, 'facet column shown on a phone');
    await page.locator('[data-test="filters-open"]').click();
    const drawer = page.locator('.el-drawer [data-test="facets"]');
    await drawer.waitFor({ state: 'visible' });
    const box = await page.locator('.el-drawer').boundingBox();
    assert.ok(box.width <= PHONE.width && box.x >= 0);
    await page.close();
  });

  test(`guide has no horizontal overflow at 375px${mode}`, async () => {
    const page = await newPage(browser, { viewport: PHONE, isMobile: true, prefs: { elderly } });
    await visit(page, guidePath);
    await waitForGuide(page);
    await page.locator('[data-test="guide-title"]').waitFor();
    const o = await horizontalOverflow(page);
    assert.ok(o.scrollWidth <= o.clientWidth, JSON.stringify(o));
    await page.close();
  });
}
