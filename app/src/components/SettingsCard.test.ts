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

  it('keeps the reminder when the time is cleared: nothing is saved, the set time comes back', async () => {
    const invoked = vi.fn((..._args: unknown[]) => null);
    mockIPC(invoked);
    session.settings = { language: 'ko', reminder_minutes: 9 * 60, onboarded: true };
    render(SettingsCard);
    await fireEvent.focus(field());
    await fireEvent.input(field(), { target: { value: '' } });
    await fireEvent.change(field());
    await fireEvent.blur(field());
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(invoked.mock.calls.map((c) => c[0])).not.toContain('set_reminder');
    expect(session.settings.reminder_minutes).toBe(9 * 60);
    expect(field().value).toBe('09:00');
    // Turning the reminder off stays its own, explicit choice.
    expect(screen.getByTestId('reminder-off')).toBeTruthy();
  });

  it('saves a chosen time once, when it is committed or the field is left', async () => {
    const invoked = vi.fn((..._args: unknown[]) => null);
    mockIPC(invoked);
    session.settings = { language: 'ko', reminder_minutes: 9 * 60, onboarded: true };
    render(SettingsCard);
    const saves = () => invoked.mock.calls.filter((c) => c[0] === 'set_reminder').map((c) => c[1]);

    await fireEvent.focus(field());
    await fireEvent.input(field(), { target: { value: '07:15' } });
    expect(saves()).toEqual([]);
    await fireEvent.change(field());
    await fireEvent.blur(field());
    await vi.waitFor(() => expect(session.settings?.reminder_minutes).toBe(7 * 60 + 15));
    expect(saves()).toEqual([{ minutes: 7 * 60 + 15 }]);

    // A time typed and left without a change event is saved too.
    await fireEvent.focus(field());
    await fireEvent.input(field(), { target: { value: '21:30' } });
    await fireEvent.blur(field());
    await vi.waitFor(() => expect(session.settings?.reminder_minutes).toBe(21 * 60 + 30));
    expect(saves()).toEqual([{ minutes: 7 * 60 + 15 }, { minutes: 21 * 60 + 30 }]);
  });

  it('does not put back the time shown before when the field is left untouched after a synced change', async () => {
    const invoked = vi.fn((..._args: unknown[]) => null);
    mockIPC(invoked);
    session.settings = { language: 'ko', reminder_minutes: 7 * 60, onboarded: true };
    render(SettingsCard);
    await fireEvent.focus(field());
    // Another device sets 08:00 while the field has the focus; the user leaves it untouched.
    session.settings.reminder_minutes = 8 * 60;
    await new Promise((resolve) => setTimeout(resolve, 10));
    await fireEvent.blur(field());
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(invoked.mock.calls.map((c) => c[0])).not.toContain('set_reminder');
    expect(field().value).toBe('08:00');
  });

  it('says why a reminder could not be saved and shows the one still set', async () => {
    mockIPC((cmd) => {
      if (cmd === 'set_reminder') throw { code: 'storage_failed', message: 'disk full' };
      return null;
    });
    session.settings = { language: 'ko', reminder_minutes: 9 * 60, onboarded: true };
    render(SettingsCard);
    await fireEvent.focus(field());
    await fireEvent.input(field(), { target: { value: '07:15' } });
    await fireEvent.change(field());
    await vi.waitFor(() => expect(toasts.map((t) => t.code)).toContain('storage_failed'));
    expect(toasts.find((t) => t.code === 'storage_failed')?.kind).toBe('error');
    expect(session.settings.reminder_minutes).toBe(9 * 60);
    expect(field().value).toBe('09:00');
  });
});
