import { describe, expect, it } from 'vitest';
import { TABS } from './tabs';
import { CHARACTERS } from './types';
import { en, ko } from './strings';

// Every source file of the screens, to find the keys they ask `t` for.
const sources = import.meta.glob(['../**/*.svelte', '../**/*.ts', '!../**/*.test.ts', '!../meetups/**'], {
  query: '?raw',
  import: 'default',
  eager: true,
}) as Record<string, string>;

function placeholders(text: string): string[] {
  return [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
}

describe('the strings', () => {
  it('has every key in both languages with the same placeholders', () => {
    // An English singular (`<key>_one`) has no Korean twin, and names its count in words.
    const singulars = Object.keys(en).filter((key) => key.endsWith('_one') && key.slice(0, -4) in en);
    expect(Object.keys(en).filter((key) => !singulars.includes(key)).sort()).toEqual(Object.keys(ko).sort());
    for (const key of singulars) {
      const base = key.slice(0, -4);
      expect(placeholders(en[key]), key).toEqual(placeholders(en[base]).filter((p) => p !== 'n' && p !== 'count'));
    }
    for (const key of Object.keys(ko)) {
      expect(placeholders(en[key]), key).toEqual(placeholders(ko[key]));
      expect(ko[key].trim(), key).not.toBe('');
      expect(en[key].trim(), key).not.toBe('');
    }
  });

  it('keeps the original Korean copy', () => {
    expect(ko['home.greeting']).toBe('{name}님, 오늘도 작은 밍기적을 만들어봐요!🙌');
    expect(ko['draw.prompt']).toBe('+ 캐릭터를 추가하세요!');
    expect(ko['draw.body']).toBe('생성한 캐릭터는 획득한 포인트에 따라 3단계로 진화합니다!');
    expect(ko['home.set_main']).toBe('메인루틴 설정하기');
    expect(ko['tracker.title']).toBe('이번달 해빗 트래커');
    expect(ko['onboarding.start']).toBe('밍기적 시작하기');
    expect(ko['player.running']).toBe('한 동작 진행중...');
    expect(ko['history.week_title']).toBe('밍기적 {week}주차');
    expect(ko['history.day_number']).toBe('밍기적 시작한지 {n}일 째 되는 날');
  });

  it('has a text for every literal key the screens ask for', () => {
    const used = new Set<string>();
    for (const text of Object.values(sources)) {
      for (const match of text.matchAll(/\bt\(\s*'([a-z0-9_.]+)'/g)) used.add(match[1]);
    }
    expect(used.size).toBeGreaterThan(100);
    const missing = [...used].filter((key) => !(key in ko));
    expect(missing).toEqual([]);
  });

  it('has a text for every key the screens build', () => {
    const built = [
      ...TABS.map((tab) => `nav.${tab}`),
      ...['offline', 'syncing', 'up_to_date'].map((p) => `sync.${p}`),
      ...CHARACTERS.map((c) => `character.${c}`),
      ...[0, 1, 2, 3, 4, 5, 6].map((d) => `weekday.${d}`),
      ...[1, 2, 3, 4].flatMap((n) => [`onboarding.${n}.title`, `onboarding.${n}.body`]),
      ...['too_many_actions', 'no_actions', 'name_empty', 'name_too_long', 'count_out_of_range'].map((c) => `form.error.${c}`),
      ...['stretching', 'body'].map((k) => `form.kind.${k}`),
      ...['google', 'kakao', 'naver'].map((p) => `auth.${p}`),
      ...['host', 'member', 'liked', 'comments'].map((v) => `me.meetups_${v}`),
    ];
    expect(built.filter((key) => !(key in ko))).toEqual([]);
  });
});
