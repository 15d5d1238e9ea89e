import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { importRefusalText } from './dataFiles';
import { setLang } from './i18n.svelte';
import { importEn, importKo } from './strings';

// The reasons the engine gives a refused import, read from `ImportReason::as_str` in core: a
// reason added there fails here until it has a sentence in both languages.
const source = resolve(dirname(fileURLToPath(import.meta.url)), '../../../core/src/export/refusal.rs');
const table = /pub fn as_str\(self\)[^{]*\{([\s\S]*?)\n {4}\}/.exec(readFileSync(source, 'utf8'))?.[1] ?? '';
const reasons = [...table.matchAll(/=>\s*"([a-z_]+)"/g)].map((m) => m[1]);

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('why an import was refused', () => {
  afterEach(() => setLang('ko'));

  it('has a sentence in both languages, with the same placeholders, for every reason of the engine', () => {
    expect(reasons).toContain('future_date');
    expect(reasons.filter((r) => !(`import.${r}` in importKo) || !(`import.${r}` in importEn))).toEqual([]);
    expect(Object.keys(importEn).sort()).toEqual(Object.keys(importKo).sort());
    for (const key of Object.keys(importKo)) expect(placeholders(importEn[key]), key).toEqual(placeholders(importKo[key]));
  });

  it('names the routine, the date or the version the refusal gives, in the user’s language', () => {
    const newer = { code: 'invalid_import', message: 'newer', reason: 'newer_version', details: { version: 9 } };
    expect(importRefusalText(newer)).toBe(
      '더 새로운 밍기적에서 만든 파일이에요 (형식 9). 앱을 업데이트한 뒤 다시 가져와 주세요.',
    );
    const late = { code: 'invalid_import', message: 'late', reason: 'future_date', details: { date: '2999-01-01' } };
    expect(importRefusalText(late)).toContain('2999년 1월 1일로 적힌 기록이 있는데');
    setLang('en');
    expect(importRefusalText(late)).toContain('dated January 1, 2999, which hasn’t come yet');
    const named = { code: 'invalid_import', message: 'x', reason: 'bad_name', details: { routine: 'Morning', max: 30 } };
    expect(importRefusalText(named)).toBe(
      'The name of the routine "Morning" is longer than 30 characters. The file looks edited.',
    );
  });

  it('reads as the general refusal without a reason it knows, or a value its sentence needs', () => {
    for (const error of [
      { code: 'invalid_import', message: 'routine 7: a count of 0' },
      { code: 'invalid_import', message: 'x', reason: 'from_a_later_engine' },
      { code: 'invalid_import', message: 'x', reason: 'newer_version', details: null },
      { code: 'invalid_import', message: 'x', reason: 'bad_name', details: { routine: 'Morning' } },
    ]) {
      expect(importRefusalText(error)).toBe('이 파일은 가져올 수 없어요');
    }
    expect(importRefusalText({ code: 'invalid_import', message: 'x', reason: 'bad_name', details: { max: 30 } })).toBe(
      '이름이 비어 있거나 30자를 넘는 루틴이 있어요. 파일이 수정된 것 같아요.',
    );
  });
});
