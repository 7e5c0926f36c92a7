// Shared setup for the portal's browser tests: playwright-core driving Debian's
// Chromium against a real tongban server (TONGBAN_URL, default
// http://127.0.0.1:8080) that serves web/dist and the demo catalogue.
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);

export const BASE = (process.env.TONGBAN_URL || 'http://127.0.0.1:8080').replace(/\/$/, '');
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const PHONE = { width: 375, height: 812 };
export const DESKTOP = { width: 1280, height: 900 };

export async function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

/**
 * A fresh page (own context, empty localStorage). `prefs` presets the portal's
 * remembered preferences: {elderly: true, locale: 'zh-HK'}.
 */
export async function newPage(browser, { viewport = DESKTOP, prefs = {}, isMobile = false } = {}) {
  const context = await browser.newContext({ viewport, isMobile, hasTouch: isMobile, locale: 'zh-CN' });
  if (prefs.elderly || prefs.locale) {
    await context.addInitScript((p) => {
      if (sessionStorage.getItem('tb-test-init')) return; // only before the first load
      sessionStorage.setItem('tb-test-init', '1');
      if (p.elderly) localStorage.setItem('tongban.elderly', '1');
      if (p.locale) localStorage.setItem('tongban.locale', p.locale);
    }, prefs);
  }
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  page.jsErrors = errors;
  return page;
}

/** GET an API path on the real server, as JSON; `lang` sets Accept-Language. */
export async function api(path, { lang = 'zh-CN' } = {}) {
  const res = await fetch(`${BASE}/api/v1${path}`, { headers: { Accept: 'application/json', 'Accept-Language': lang } });
  const body = await res.json().catch(() => null);
  return { status: res.status, body };
}

export function url(path) { return `${BASE}${path}`; }

/** Go to a portal path and wait until the app has rendered. */
export async function visit(page, path) {
  await page.goto(url(path), { waitUntil: 'domcontentloaded' });
  await page.locator('main#main').waitFor();
}

/** Wait for the results page to finish loading; returns the result locators' texts. */
export async function waitForResults(page) {
  await page.waitForFunction(() => {
    const status = document.querySelector('.results-count');
    return status && /\d/.test(status.textContent) && !document.querySelector('.el-skeleton')
      && (document.querySelector('[data-test="results"]') || document.querySelector('[data-test="no-results"]'));
  });
  return page.locator('[data-test="result"]');
}

/** Result count shown on the results page ("共找到 N 个事项"). */
export async function resultTotal(page) {
  const text = await page.locator('.results-count').textContent();
  const m = /(\d+)/.exec(text || '');
  return m ? Number(m[1]) : NaN;
}

/** Wait until the guide page has data (or the not-found page). */
export async function waitForGuide(page) {
  await page.waitForSelector('[data-test="guide-title"], [data-test="not-found"]');
}

/** True when the page does not scroll sideways. */
export async function horizontalOverflow(page) {
  return page.evaluate(() => {
    const el = document.documentElement;
    const widest = Math.max(el.scrollWidth, document.body.scrollWidth);
    const offenders = [];
    if (widest > el.clientWidth + 1) {
      for (const n of document.querySelectorAll('body *')) {
        const r = n.getBoundingClientRect();
        if (r.right > el.clientWidth + 1 && r.width > 0 && getComputedStyle(n).position !== 'fixed') {
          offenders.push(`${n.tagName.toLowerCase()}.${[...n.classList].join('.')} right=${Math.round(r.right)}`);
          if (offenders.length > 8) break;
        }
      }
    }
    return { scrollWidth: widest, clientWidth: el.clientWidth, offenders };
  });
}

/** Run axe-core on the page; returns violations with impact serious or critical. */
export async function axeSerious(page) {
  const has = await page.evaluate(() => typeof window.axe !== 'undefined');
  if (!has) await page.addScriptTag({ path: require.resolve('axe-core/axe.min.js') });
  const result = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => ({ target: n.target.join(' '), summary: n.failureSummary })),
    }));
  });
  return result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

export function describeViolations(vs) {
  return vs.map((v) => `${v.impact} ${v.id}: ${v.help}\n${v.nodes.map((n) => `   ${n.target}: ${n.summary}`).join('\n')}`).join('\n');
}

/**
 * Find a search query whose results include both fully-online and other items,
 * asking the real server (so the filter test can see the list narrow).
 */
export async function queryWithMixedOnline(candidates = ['社保', '登记', '证', '申请', '办理', '变更', '补贴', '许可']) {
  for (const q of candidates) {
    // without a region the portal lists each item once (group=item)
    const all = await api(`/search?q=${encodeURIComponent(q)}&per_page=1&group=item`);
    const online = await api(`/search?q=${encodeURIComponent(q)}&per_page=1&fully_online=true&group=item`);
    if (all.status === 200 && online.status === 200 && online.body.total > 0 && online.body.total < all.body.total) {
      return { q, total: all.body.total, online: online.body.total };
    }
  }
  return null;
}

/** The implementation code of the first search hit for q whose name matches re. */
export async function findItem(q, re) {
  const r = await api(`/search?q=${encodeURIComponent(q)}&per_page=50`);
  if (r.status !== 200) return null;
  return (r.body.items || []).find((it) => re.test(it.name)) || null;
}
