// Search from the home page, Traditional queries, facet toggles — against the real server.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  api, launch, newPage, visit, waitForResults, waitForGuide, resultTotal, queryWithMixedOnline,
} from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('typing in the home search box offers suggestions', async () => {
  const page = await newPage(browser);
  await visit(page, '/');
  const input = page.locator('main [data-test="search-input"]');
  await input.click();
  await input.pressSequentially('社保', { delay: 30 });
  const options = page.locator('main [data-test="suggestions"] [role="option"]');
  await options.first().waitFor({ state: 'visible' });
  const texts = await options.allTextContents();
  assert.ok(texts.length >= 1 && texts.length <= 10, `suggestions: ${texts}`);
  assert.equal(await input.getAttribute('aria-expanded'), 'true');
  // Arrow down + Enter picks a suggestion and searches for it.
  await input.press('ArrowDown');
  await input.press('Enter');
  await page.waitForURL(/\/search\?/);
  const q = new URL(page.url()).searchParams.get('q');
  assert.equal(q, texts[0].trim());
  await page.close();
});

test('search 社保 from home, open a result, guide shows materials, limits and department', async () => {
  const page = await newPage(browser);
  await visit(page, '/');
  await page.locator('main [data-test="search-input"]').fill('社保');
  await page.locator('main [data-test="search-submit"]').click();
  await page.waitForURL(/\/search\?q=/);
  assert.equal(new URL(page.url()).searchParams.get('q'), '社保');
  const results = await waitForResults(page);
  const n = await results.count();
  assert.ok(n > 0, 'no results for 社保');
  assert.ok(await resultTotal(page) >= n);

  // Without a region each item is listed once, however many counties implement it.
  let firstNames = (await page.locator('[data-test="result-link"]').allTextContents()).map((s) => s.trim());
  assert.equal(new Set(firstNames).size, firstNames.length, `an item listed twice: ${firstNames.join(' | ')}`);
  // Narrow by the first city facet, as a citizen would.
  let names = (await page.locator('[data-test="result-link"]').allTextContents()).map((s) => s.trim());
  const firstPage = names;
  const city = page.locator('[data-test="facets"] [data-facet="city"]').first();
  const cityCode = await city.getAttribute('data-value');
  // With a region chosen the list shows that region's implementations (and the
  // province's): the count is the API's for the same query.
  const cityCount = (await api(`/search?q=${encodeURIComponent('社保')}&region=${cityCode}&per_page=1`)).body.total;
  await city.click();
  await page.waitForURL((u) => u.searchParams.get('region') === cityCode);
  await page.waitForFunction((n) => {
    const s = document.querySelector('.results-count');
    return s && s.textContent.includes(String(n)) && document.querySelector('[data-test="results"]')?.getAttribute('aria-busy') === 'false';
  }, cityCount);
  assert.equal(await resultTotal(page), cityCount);
  assert.equal(await page.locator(`[data-facet="city"][data-value="${cityCode}"]`).getAttribute('aria-pressed'), 'true');
  names = (await page.locator('[data-test="result-link"]').allTextContents()).map((s) => s.trim());
  const matching = names.filter((s) => /社保|社会保障/.test(s));
  assert.ok(matching.length > 0, `no result name contains 社保/社会保障: ${names.join(' | ')} (first page: ${[...new Set(firstPage)].join(' | ')})`);
  // The highlight is rendered as <mark>, never as text.
  const apiHits = (await api(`/search?q=${encodeURIComponent('社保')}&region=${cityCode}&per_page=20`)).body.items;
  const marks = apiHits.filter((it) => (it.highlight || '').includes('<mark>')).length;
  assert.equal(await page.locator('[data-test="result-link"] mark').count() > 0, marks > 0, 'highlight not rendered as <mark>');
  assert.ok(!names.some((s) => s.includes('<mark>')), 'raw <mark> shown as text');

  const idx = names.findIndex((s) => /社保|社会保障/.test(s));
  const row = page.locator('[data-test="result"]').nth(idx);
  const dept = (await row.locator('[data-test="result-dept"]').textContent()).trim();
  await row.locator('[data-test="result-link"]').click();
  await page.waitForURL(/\/items\//);
  await waitForGuide(page);

  const impl = decodeURIComponent(new URL(page.url()).pathname.split('/').pop());
  const { status, body } = await api(`/items/${encodeURIComponent(impl)}`);
  assert.equal(status, 200);
  assert.equal((await page.locator('[data-test="guide-title"]').textContent()).trim(), body.guide?.name || body.name);
  assert.equal((await page.locator('[data-test="guide-dept"]').textContent()).trim(), dept);
  assert.equal(dept, body.department.name);

  const materials = page.locator('[data-test="material"]');
  assert.equal(await materials.count(), (body.guide.materials || []).length);
  assert.ok(await materials.count() > 0, 'guide has no materials');
  assert.ok(await page.locator('[data-test="materials"] th', { hasText: '材料名称' }).count() > 0);

  const limits = await page.locator('[data-test="limits"]').textContent();
  assert.match(limits, /法定办结时限/);
  assert.match(limits, /承诺办结时限/);
  assert.match(limits, /\d+\s*(个工作日|个自然日|个月|小时)/);
  if (body.promised_limit) {
    assert.match(await page.locator('[data-test="promised-limit"]').textContent(), new RegExp(`${body.promised_limit.value}`));
  }
  assert.deepEqual(page.jsErrors, []);
  await page.close();
});

test('a Traditional query 護照 finds 护照 items', async () => {
  const page = await newPage(browser);
  await visit(page, '/');
  await page.locator('main [data-test="search-input"]').fill('護照');
  await page.locator('main [data-test="search-input"]').press('Enter');
  await page.waitForURL(/\/search\?q=/);
  assert.equal(new URL(page.url()).searchParams.get('q'), '護照');
  const results = await waitForResults(page);
  assert.ok(await results.count() > 0, 'no results for 護照');
  const names = await page.locator('[data-test="result-link"]').allTextContents();
  assert.ok(names.some((s) => s.includes('护照')), `no 护照 item: ${names.join(' | ')}`);
  await page.close();
});

test('ticking 全程网办 narrows the results and every result carries the badge', async (t) => {
  const pick = await queryWithMixedOnline();
  if (!pick) { t.skip('the catalogue has no query with both fully-online and other items'); return; }
  const page = await newPage(browser);
  await visit(page, `/search?q=${encodeURIComponent(pick.q)}`);
  await waitForResults(page);
  assert.equal(await resultTotal(page), pick.total);

  await page.locator('[data-test="filter-fully-online"]').click();
  await page.waitForURL(/fully_online=true/);
  await page.waitForFunction((n) => {
    const s = document.querySelector('.results-count');
    return s && s.textContent.includes(String(n)) && !/加载|載入/.test(s.textContent);
  }, pick.online);
  const results = await waitForResults(page);
  const total = await resultTotal(page);
  assert.equal(total, pick.online);
  assert.ok(total < pick.total, 'the list did not narrow');
  const count = await results.count();
  assert.ok(count > 0);
  const withBadge = await page.locator('[data-test="result"]:has([data-badge="fully_online"])').count();
  assert.equal(withBadge, count, 'a result without the 全程网办 badge');

  // The filter lives in the URL: a reload keeps it, unticking restores the list.
  await page.reload();
  await waitForResults(page);
  assert.equal(await resultTotal(page), pick.online);
  await page.locator('[data-test="filter-fully-online"]').click();
  await page.waitForURL((u) => !u.searchParams.has('fully_online'));
  await page.waitForFunction((n) => document.querySelector('.results-count')?.textContent.includes(String(n)), pick.total);
  await page.close();
});

test('an unknown item shows the friendly not-found page', async () => {
  const page = await newPage(browser);
  await visit(page, '/items/11440100MB2C92631X3999999999999');
  await waitForGuide(page);
  await page.locator('[data-test="not-found"]').waitFor();
  assert.match(await page.locator('[data-test="not-found"]').textContent(), /没有找到/);
  await visit(page, '/no/such/page');
  await page.locator('[data-test="not-found"]').waitFor();
  await page.close();
});
