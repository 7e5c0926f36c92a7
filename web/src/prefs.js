// User preferences kept in localStorage: elderly mode, language, region.
// Elderly mode and language are reflected on <html> (class / lang attribute).
import { reactive, watch } from 'vue';

const KEY = { elderly: 'tongban.elderly', locale: 'tongban.locale', region: 'tongban.region' };

function read(key) {
  try { return localStorage.getItem(key); } catch { return null; }
}
function write(key, value) {
  try {
    if (value == null) localStorage.removeItem(key); else localStorage.setItem(key, value);
  } catch { /* private mode: keep it for this page only */ }
}

function readRegion() {
  try {
    const r = JSON.parse(read(KEY.region) || 'null');
    if (r && typeof r.code === 'string' && /^\d{2,12}$/.test(r.code)) {
      return { code: r.code, name: String(r.name || r.code), path: Array.isArray(r.path) ? r.path : [] };
    }
  } catch { /* ignore a bad value */ }
  return null;
}

const storedLocale = read(KEY.locale);

export const prefs = reactive({
  elderly: read(KEY.elderly) === '1',
  locale: storedLocale === 'zh-HK' ? 'zh-HK' : 'zh-CN',
  /** {code, name, path:[{code,name}]} or null for the whole province/country */
  region: readRegion(),
});

function apply() {
  const html = document.documentElement;
  html.classList.toggle('elderly', prefs.elderly);
  html.lang = prefs.locale;
}

export function installPrefs() {
  apply();
  watch(() => prefs.elderly, (v) => { write(KEY.elderly, v ? '1' : null); apply(); });
  watch(() => prefs.locale, (v) => { write(KEY.locale, v); apply(); });
  watch(() => prefs.region, (v) => { write(KEY.region, v ? JSON.stringify(v) : null); }, { deep: true });
}

export function toggleElderly() { prefs.elderly = !prefs.elderly; }
export function toggleLocale() { prefs.locale = prefs.locale === 'zh-HK' ? 'zh-CN' : 'zh-HK'; }
export function setRegion(r) { prefs.region = r && r.code ? r : null; }
