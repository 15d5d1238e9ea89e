import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { setLang } from '../lib/i18n.svelte';
import { session } from '../lib/session.svelte';
import '../lib/strings';
import { toasts } from '../lib/toasts.svelte';
import Onboarding from './Onboarding.svelte';

afterEach(() => {
  cleanup();
  clearMocks();
  toasts.splice(0);
  session.settings = null;
  setLang('ko');
});

describe('onboarding', () => {
  it('keeps the keyboard on the button that moves on, through to the last slide', async () => {
    const onfinish = vi.fn();
    render(Onboarding, { onfinish });
    for (let slide = 0; slide < 3; slide++) {
      const next = screen.getByTestId('onboarding-next');
      next.focus();
      await fireEvent.click(next);
    }
    // The start button replaced the one just pressed: Enter goes on pressing it.
    const start = screen.getByTestId('onboarding-start');
    await waitFor(() => expect(document.activeElement).toBe(start));
    await fireEvent.click(start);
    expect(onfinish).toHaveBeenCalledOnce();
  });

  it('lets the user choose English before starting, and the slides read in English at once', async () => {
    // Only this device's own setting is written: no server is needed.
    const invoked = vi.fn((..._args: unknown[]) => null);
    mockIPC(invoked);
    session.settings = { language: 'ko', reminder_minutes: null, onboarded: false };
    render(Onboarding, { onfinish: vi.fn() });
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('작은 운동 습관부터');
    const languages = screen.getByRole('group', { name: '언어 선택' });
    expect(languages.contains(screen.getByTestId('language-en'))).toBe(true);
    expect(screen.getByTestId('language-ko').getAttribute('aria-pressed')).toBe('true');

    await fireEvent.click(screen.getByTestId('language-en'));
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Start with a tiny habit');
    expect(screen.getByTestId('onboarding-next').textContent?.trim()).toBe('Next');
    expect(screen.getByRole('group', { name: 'Choose a language' })).toBeTruthy();
    expect(screen.getByTestId('language-en').getAttribute('aria-pressed')).toBe('true');
    await vi.waitFor(() => expect(session.settings?.language).toBe('en'));
    expect(invoked.mock.calls.map((c) => c.slice(0, 2))).toEqual([['set_language', { language: 'en' }]]);

    await fireEvent.click(screen.getByTestId('language-ko'));
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('작은 운동 습관부터');
  });

  it('goes back to Korean and says why when the language could not be saved', async () => {
    mockIPC(() => {
      throw { code: 'storage_failed', message: 'disk full' };
    });
    render(Onboarding, { onfinish: vi.fn() });
    await fireEvent.click(screen.getByTestId('language-en'));
    await vi.waitFor(() => expect(toasts.map((t) => t.code)).toContain('storage_failed'));
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('작은 운동 습관부터');
  });
});
