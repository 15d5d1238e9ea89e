// Korean and English strings. Each part of the app registers its own dictionary (the same keys in
// both languages); `t` reads the current language reactively, so a component re-renders when the
// user switches. Korean is the default (PRODUCT.md §10).
export type Lang = 'ko' | 'en';
export type Dictionary = Record<string, string>;

const current = $state<{ lang: Lang }>({ lang: 'ko' });
const SINGULAR = '_one';
const dictionaries: Record<Lang, Dictionary> = { ko: {}, en: {} };

/** Adds strings; a key registered twice or missing in one language is a programming error.
 *  A `<key>_one` text is the singular of `<key>` (`{n}` or `{count}` is 1), English only: Korean
 *  counts have one form. */
export function register(ko: Dictionary, en: Dictionary): void {
  for (const key of Object.keys(ko)) {
    if (!(key in en)) throw new Error(`i18n: "${key}" has no English text`);
  }
  for (const key of Object.keys(en)) {
    const singular = key.endsWith(SINGULAR) && key.slice(0, -SINGULAR.length) in en;
    if (!(key in ko) && !singular) throw new Error(`i18n: "${key}" has no Korean text`);
    if (key in dictionaries.en) throw new Error(`i18n: "${key}" is registered twice`);
  }
  Object.assign(dictionaries.ko, ko);
  Object.assign(dictionaries.en, en);
}

export function lang(): Lang {
  return current.lang;
}

/** The BCP 47 locale of a language, for numbers and dates. */
export function localeOf(lang: string): string {
  return lang === 'en' ? 'en-US' : 'ko-KR';
}

/** The locale of the current language. */
export function locale(): string {
  return localeOf(current.lang);
}

export function setLang(lang: Lang): void {
  current.lang = lang;
  if (typeof document !== 'undefined') document.documentElement.lang = lang;
}

/** The text of `key` in the current language, with `{name}` placeholders filled from `vars`. */
export function t(key: string, vars: Record<string, string | number> = {}): string {
  const one = (vars.n ?? vars.count) === 1 ? dictionaries[current.lang][key + SINGULAR] : undefined;
  const text = one ?? dictionaries[current.lang][key] ?? dictionaries.ko[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
}

/**
 * A user-facing text for a failed command or a bare error code: `error.<code>`, else a generic
 * text in the user's language. The engine's `message` is English for the log, never shown.
 */
export function errorText(error: unknown): string {
  const code = typeof error === 'string' ? error : errorCode(error);
  return code !== null && `error.${code}` in dictionaries.ko ? t(`error.${code}`) : t('error.unknown');
}

/** The stable code of a failed command (`{code, message}`), if it has one. */
export function errorCode(error: unknown): string | null {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : null;
}
