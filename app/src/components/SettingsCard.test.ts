import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import '../lib/strings';
import { session } from '../lib/session.svelte';
import { toasts } from '../lib/toasts.svelte';
import SettingsCard from './SettingsCard.svelte';

const field = () => screen.getByTestId('reminder-time') as HTMLInputElement;

describe('the reminder time in the settings', () => {
  afterEach(() => {
    cleanup();
    clearMocks();
    toasts.splice(0);
    session.settings = null;
  });

  it('follows the synced setting: loaded after the card opened, or changed on another device', async () => {
    mockIPC(() => null);
    session.settings = null;
    render(SettingsCard);
    expect(field().value).toBe('');
    expect(screen.queryByTestId('reminder-off')).toBeNull();

    session.settings = { language: 'ko', reminder_minutes: 9 * 60, onboarded: true };
    await vi.waitFor(() => expect(field().value).toBe('09:00'));
    expect(screen.getByTestId('reminder-off')).toBeTruthy();
    session.settings.reminder_minutes = 21 * 60 + 30;
    await vi.waitFor(() => expect(field().value).toBe('21:30'));
  });

  it('keeps the time the user is choosing when a synced one arrives meanwhile', async () => {
    const invoked = vi.fn((..._args: unknown[]) => null);
    mockIPC(invoked);
    session.settings = { language: 'ko', reminder_minutes: 9 * 60, onboarded: true };
    render(SettingsCard);
    await fireEvent.focus(field());
    await fireEvent.input(field(), { target: { value: '07:15' } });
    session.settings.reminder_minutes = 8 * 60;
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(field().value).toBe('07:15');
    await fireEvent.change(field());
    await vi.waitFor(() => expect(invoked.mock.calls.map((c) => c.slice(0, 2))).toContainEqual(['set_reminder', { minutes: 7 * 60 + 15 }]));
  });
});
