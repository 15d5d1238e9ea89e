import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { contrast, properties } from './lib/contrast';

// Read from disk: the test runner empties imported CSS.
const here = dirname(fileURLToPath(import.meta.url));
const app = readFileSync(join(here, 'app.css'), 'utf8');

describe('the app look', () => {
  const light = properties(app, ':root');
  const dark = properties(app.slice(app.indexOf('prefers-color-scheme: dark')), ':root');

  it('writes white on the light accent and a dark ink on the pale dark-mode one', () => {
    expect(light['--accent-ink']).toBe('#ffffff');
    expect(dark['--accent-ink']).toBe('#1b1530');
  });

  it('keeps text on the accent readable in light and dark mode (at least 4.5:1), hovered too', () => {
    for (const scheme of [light, dark]) {
      expect(contrast(scheme['--accent-ink'], scheme['--accent'])).toBeGreaterThanOrEqual(4.5);
      expect(contrast(scheme['--accent-ink'], scheme['--accent-strong'])).toBeGreaterThanOrEqual(4.5);
    }
  });

  it('uses the same accent as the meetups tab', () => {
    const meetups = readFileSync(join(here, 'meetups/theme.css'), 'utf8');
    const tab = properties(meetups, '.mz-root');
    const tabDark = properties(meetups.slice(meetups.indexOf('prefers-color-scheme: dark')), '.mz-root');
    expect([tab['--mz-accent'], tab['--mz-accent-ink']]).toEqual([light['--accent'], light['--accent-ink']]);
    expect([tabDark['--mz-accent'], tabDark['--mz-accent-ink']]).toEqual([dark['--accent'], dark['--accent-ink']]);
  });
});
