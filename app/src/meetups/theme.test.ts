import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { contrast, properties } from '../lib/contrast';

// Read from disk: the test runner empties imported CSS.
const here = dirname(fileURLToPath(import.meta.url));
const theme = readFileSync(join(here, 'theme.css'), 'utf8');
const chatLine = readFileSync(join(here, 'ChatLine.svelte'), 'utf8');

describe('the meetups look', () => {
  const light = properties(theme, '.mz-root');
  const dark = properties(theme.slice(theme.indexOf('prefers-color-scheme: dark')), '.mz-root');

  it('writes text on the accent in the accent ink, in buttons and in my chat bubbles', () => {
    for (const css of [theme, chatLine]) {
      const rules = [...css.matchAll(/\{([^{}]*)\}/g)].map((m) => m[1]);
      const onAccent = rules.filter((rule) => /background:\s*var\(--mz-accent\);/.test(rule));
      expect(onAccent.length).toBeGreaterThan(0);
      for (const rule of onAccent) expect(rule).toMatch(/color:\s*var\(--mz-accent-ink\);/);
    }
  });

  it('keeps text on the accent readable in light and dark mode (at least 4.5:1)', () => {
    expect(light['--mz-accent-ink']).toBe('#ffffff');
    for (const scheme of [light, dark]) {
      expect(contrast(scheme['--mz-accent-ink'], scheme['--mz-accent'])).toBeGreaterThanOrEqual(4.5);
    }
  });
});
