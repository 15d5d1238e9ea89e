import { describe, expect, it } from 'vitest';
import { setLang } from '../lib/i18n.svelte';
import { en, ko } from '../lib/strings';
import { reasonText } from './strings';

describe('why a meetup action failed', () => {
  it('names a refused meetup write with the text of the form rule the server checked again', () => {
    expect(reasonText({ code: 'invalid_title', message: 'the title must be 1 to 30 characters' })).toBe('제목은 1~30자로 써주세요');
    expect(reasonText({ code: 'invalid_address', message: 'the address must …' })).toBe('시·군·구까지 있는 주소를 골라주세요');
  });

  it('names the server and chat codes the meetups screens have no text of their own for', () => {
    for (const code of ['too_many_rooms', 'meetup_changed', 'invalid_comment', 'invalid_text', 'forbidden', 'refused', 'unsupported_image']) {
      expect(reasonText({ code, message: 'English for the log' }), code).toBe(ko[`error.${code}`]);
    }
  });

  it('never shows the English message of an unknown code', () => {
    expect(reasonText({ code: 'brand_new_code', message: 'English for the log' })).toBe(ko['error.unknown']);
    setLang('en');
    expect(reasonText({ code: 'brand_new_code', message: 'English for the log' })).toBe(en['error.unknown']);
    setLang('ko');
  });
});
