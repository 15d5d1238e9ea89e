import { describe, expect, it } from 'vitest';
import { errorText, locale, register, setLang, t } from './i18n.svelte';
import { en, ko } from './strings';

describe('strings in the user language', () => {
  register({ 'test.greeting': '{name}님, 안녕하세요', 'error.test_code': '테스트 오류' }, { 'test.greeting': 'Hello, {name}', 'error.test_code': 'Test error' });

  it('shows Korean by default and English when chosen', () => {
    expect(t('test.greeting', { name: '밍기' })).toBe('밍기님, 안녕하세요');
    setLang('en');
    expect(t('test.greeting', { name: 'Mingi' })).toBe('Hello, Mingi');
    setLang('ko');
  });

  it('says "1 day", not "1 days", in English, and has one form in Korean', () => {
    register({ 'test.days': '{n}일' }, { 'test.days': '{n} days', 'test.days_one': '1 day' });
    setLang('en');
    expect([0, 1, 2].map((n) => t('test.days', { n }))).toEqual(['0 days', '1 day', '2 days']);
    setLang('ko');
    expect(t('test.days', { n: 1 })).toBe('1일');
    expect(() => register({}, { 'test.lonely_one': 'one' })).toThrow(/no Korean/);
  });

  it('writes numbers for the chosen language, not for the system locale', () => {
    setLang('en');
    expect(locale()).toBe('en-US');
    setLang('ko');
    expect(locale()).toBe('ko-KR');
  });

  it('refuses a dictionary with a key missing in one language', () => {
    expect(() => register({ 'test.only_ko': '한국어' }, {})).toThrow(/no English/);
  });

  it('names a known error in the user language, never with the engine English message', () => {
    expect(errorText({ code: 'test_code', message: 'x' })).toBe('테스트 오류');
    expect(errorText({ code: 'unknown_code', message: 'engine says no' })).toBe(ko['error.unknown']);
    expect(errorText(new Error('boom'))).toBe(ko['error.unknown']);
    setLang('en');
    expect(errorText({ code: 'unknown_code', message: 'engine says no' })).toBe(en['error.unknown']);
    setLang('ko');
  });

  it('names a bare code as the sync status reports its last problem', () => {
    expect(errorText('unexpected_response')).toBe(ko['error.unexpected_response']);
    expect(errorText({ code: 'document_unavailable', message: 'document_unavailable' })).toBe(ko['error.document_unavailable']);
  });
});
