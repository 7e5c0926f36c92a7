// Elderly mode (适老化) and the zh-CN / zh-HK switch, both remembered across reloads.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, launch, newPage, visit, waitForGuide } from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const fontSize = (page, sel = 'html') => page.evaluate((s) => parseFloat(getComputedStyle(document.querySelector(s)).fontSize), sel);

test('elderly mode enlarges the base font and persists after reload', async () => {
  const page = await newPage(browser);
  await visit(page, '/');
  const before = await fontSize(page);
  const bodyBefore = await fontSize(page, 'body');
  assert.ok(before < 20, `normal base font ${before}px`);
  const toggle = page.locator('[data-test="elderly-toggle"]');
  assert.equal(await toggle.getAttribute('aria-pressed'), 'false');

  await toggle.click();
  assert.ok(await page.evaluate(() => document.documentElement.classList.contains('elderly')));
  assert.ok(await fontSize(page) >= 20, 'base font not enlarged');
  assert.ok(await fontSize(page, 'body') >= 20 && (await fontSize(page, 'body')) > bodyBefore);
  assert.ok(await fontSize(page, '.navlist a') >= 20, 'navigation text not enlarged');
  assert.equal(await toggle.getAttribute('aria-pressed'), 'true');

  await page.reload();
  await page.locator('main#main').waitFor();
  assert.ok(await page.evaluate(() => document.documentElement.classList.contains('elderly')), 'not remembered');
  assert.ok(await fontSize(page) >= 20);
  assert.equal(await page.locator('[data-test="elderly-toggle"]').getAttribute('aria-pressed'), 'true');
  // Secondary panels are hidden in elderly mode.
  assert.equal(await page.locator('.topbar').isVisible(), false);

  await page.locator('[data-test="elderly-toggle"]').click();
  assert.equal(await fontSize(page), before);
  await page.reload();
  await page.locator('main#main').waitFor();
  assert.equal(await fontSize(page), before);
  await page.close();
});

test('zh-HK shows Traditional UI and data text, sends Accept-Language, and persists', async () => {
  // An item whose name differs between Simplified and Traditional.
  const list = await api('/items?sort=popular&per_page=50');
  assert.equal(list.status, 200);
  let item = null;
  for (const it of list.body.items) {
    const hk = await api(`/items/${encodeURIComponent(it.impl_code)}`, { lang: 'zh-HK' });
    if (hk.status === 200 && hk.body.name !== it.name) { item = { cn: it.name, hk: hk.body.name, code: it.impl_code }; break; }
  }
  assert.ok(item, 'no item whose name the server converts to Traditional');

  const page = await newPage(browser);
  const langs = [];
  page.on('request', (r) => { if (r.url().includes('/api/v1/')) langs.push(r.headers()['accept-language']); });
  await visit(page, '/');
  assert.equal(await page.locator('main [data-test="search-submit"]').textContent().then((s) => s.trim()), '搜索');
  await page.locator('[data-test="locale-toggle"]').click();
  await page.waitForFunction(() => document.documentElement.lang === 'zh-HK');
  assert.equal((await page.locator('main [data-test="search-submit"]').textContent()).trim(), '搜尋');
  assert.match(await page.locator('nav.mainnav').textContent(), /個人服務/);
  assert.match(await page.locator('nav.mainnav').textContent(), /法人服務/);

  langs.length = 0;
  await visit(page, `/items/${encodeURIComponent(item.code)}`);
  await waitForGuide(page);
  assert.equal((await page.locator('[data-test="guide-title"]').textContent()).trim(), item.hk);
  assert.notEqual(item.hk, item.cn);
  assert.match(await page.locator('#h-materials').textContent(), /申請材料/);
  assert.ok(langs.length > 0 && langs.every((l) => l === 'zh-HK'), `Accept-Language sent: ${langs}`);

  await page.reload();
  await waitForGuide(page);
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'zh-HK');
  assert.equal((await page.locator('[data-test="guide-title"]').textContent()).trim(), item.hk);
  assert.match(await page.locator('header').textContent(), /長者模式/);

  // And back.
  await page.locator('[data-test="locale-toggle"]').click();
  await page.waitForFunction(() => document.documentElement.lang === 'zh-CN');
  await page.waitForFunction((name) => document.querySelector('[data-test="guide-title"]')?.textContent.trim() === name, item.cn);
  await page.close();
});

test('the region selector (省 → 市 → 区县) filters searches and is remembered', async () => {
  const provinces = (await api('/regions')).body.items;
  const province = provinces.find((r) => r.has_children) || provinces[0];
  const cities = (await api(`/regions?parent=${province.code}`)).body.items;
  assert.ok(cities.length > 0, 'no cities');
  const city = cities[0];

  const page = await newPage(browser);
  await visit(page, '/');
  await page.locator('[data-test="region-button"]').click();
  await page.waitForFunction(() => document.querySelectorAll('#region-level-0 option').length > 1);
  await page.selectOption('#region-level-0', province.code);
  await page.waitForFunction(() => document.querySelectorAll('#region-level-1 option').length > 1);
  await page.selectOption('#region-level-1', city.code);
  await page.locator('[data-test="region-ok"]').click();
  await page.waitForFunction((name) => document.querySelector('[data-test="region-button"]').textContent.includes(name), city.name);

  await page.reload();
  await page.locator('main#main').waitFor();
  assert.match(await page.locator('[data-test="region-button"]').textContent(), new RegExp(city.name));

  await page.locator('main [data-test="search-input"]').fill('证');
  await page.locator('main [data-test="search-input"]').press('Enter');
  await page.waitForURL(/\/search\?/);
  assert.equal(new URL(page.url()).searchParams.get('region'), city.code);
  const expected = (await api(`/search?q=${encodeURIComponent('证')}&region=${city.code}&per_page=1`)).body.total;
  await page.waitForFunction((n) => {
    const s = document.querySelector('.results-count');
    return s && /\d/.test(s.textContent) && s.textContent.includes(String(n));
  }, expected);
  await page.close();
});
