import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { contrast, properties } from '../lib/contrast';

// Read from disk: the test runner empties imported CSS.
const here = dirname(fileURLToPath(import.meta.url));
const app = readFileSync(join(here, '../app.css'), 'utf8');
const toasts = readFileSync(join(here, 'Toasts.svelte'), 'utf8');


describe('an error toast', () => {
  it('is readable in light and dark mode (at least 4.5:1)', () => {
    const rule = /\.toast\.error \{([^}]*)\}/.exec(toasts)?.[1] ?? '';
    expect(rule).toMatch(/background:\s*var\(--danger-strong\);/);
    expect(rule).toMatch(/color:\s*var\(--danger-ink\);/);
    const light = properties(app, ':root');
    const dark = properties(app.slice(app.indexOf('prefers-color-scheme: dark')), ':root');
    for (const scheme of [light, dark]) {
      expect(contrast(scheme['--danger-ink'], scheme['--danger-strong'])).toBeGreaterThanOrEqual(4.5);
    }
  });
});
