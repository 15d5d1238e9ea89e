import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SEJONG, validate, type Draft } from './form';
import { PROVINCES } from './listing';

// The region rules the screens apply before the server does, read against the engine's own
// (core/src/region.rs), so that the two cannot drift apart.
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const regionRs = readFileSync(resolve(root, 'core/src/region.rs'), 'utf8').split('#[cfg(test)]')[0];

function rustConst(name: string): string | undefined {
  return new RegExp(`pub const ${name}: &str = "([^"]*)";`).exec(regionRs)?.[1];
}

function rustProvinces(): string[] {
  const table = /const PROVINCES: \[\(&str, &\[&str\]\); \d+\] = \[([\s\S]*?)\n\];/.exec(regionRs)?.[1] ?? '';
  return [...table.matchAll(/^\s*\("([^"]+)",/gm)].map((m) => m[1]);
}

function draftAt(address: string, region: string | null): Draft {
  return {
    title: '호수 산책',
    contents: '',
    starts: '2030-05-01T07:00',
    ends: '2030-05-01T08:00',
    limit: '',
    place: { place_name: '호수공원', address, lat: 36.5, lng: 127.3, region },
    imageId: null,
  };
}

describe('the region rules, as the engine has them', () => {
  it('names 세종 the way the engine does: the one 시·도 whose name alone is a whole region', () => {
    expect(rustConst('SEJONG')).toBe(SEJONG);
    expect(validate(draftAt(`${SEJONG} 연기면 세종리 300`, SEJONG))).toBeNull();
  });

  it('offers the engine’s 시·도, under their official names, in its order', () => {
    expect(rustProvinces()).toEqual(PROVINCES);
  });
});
