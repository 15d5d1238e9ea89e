import { describe, expect, it } from 'vitest';
import { errorText, register, setLang, t } from './i18n.svelte';

describe('strings in the user language', () => {
  register({ 'test.greeting': '{name}님, 안녕하세요', 'error.test_code': '테스트 오류' }, { 'test.greeting': 'Hello, {name}', 'error.test_code': 'Test error' });

  it('shows Korean by default and English when chosen', () => {
    expect(t('test.greeting', { name: '밍기' })).toBe('밍기님, 안녕하세요');
    setLang('en');
    expect(t('test.greeting', { name: 'Mingi' })).toBe('Hello, Mingi');
    setLang('ko');
  });

  it('refuses a dictionary with a key missing in one language', () => {
    expect(() => register({ 'test.only_ko': '한국어' }, {})).toThrow(/no English/);
  });

  it('names a known error in the user language and falls back to the engine message', () => {
    expect(errorText({ code: 'test_code', message: 'x' })).toBe('테스트 오류');
    expect(errorText({ code: 'unknown_code', message: 'engine says no' })).toBe('engine says no');
  });
});
