// UI text of the case pages, written in Simplified Chinese in the components and shown
// in Traditional (Hong Kong) characters when the visitor chose 繁體: z('我的办件') looks the
// sentence up in zh-hk.json, which tools/portal-hk.mjs makes from every z('…') literal
// with OpenCC (s2hk, phrase by phrase). z('剩余 {n} 天', {n: 3}) fills placeholders.
import { prefs } from './prefs.js';
import HK from './zh-hk.json';

export function z(text, params) {
  let s = text == null ? '' : String(text);
  if (prefs.locale === 'zh-HK' && Object.prototype.hasOwnProperty.call(HK, s)) s = HK[s];
  if (params) s = s.replace(/\{(\w+)\}/g, (_, k) => (params[k] ?? ''));
  return s;
}
