import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import App from './App.svelte';
import { answer, fakeState } from './test/fakeEngine';

// The meetups tab is its own chunk; here it fails to load (as with a broken install).
vi.mock('./meetups/MeetupsTab.svelte', () => {
  throw new Error('chunk failed to load');
});

describe('the meetups tab loaded on demand', () => {
  afterEach(() => {
    cleanup();
    clearMocks();
  });

  it('says something went wrong when its code fails to load, and the other tabs still work', async () => {
    const state = fakeState();
    state.settings.onboarded = true;
    mockIPC((cmd, args) => answer(state, cmd, args as Record<string, unknown>), { shouldMockEvents: true });
    render(App);
    await fireEvent.click(await screen.findByTestId('nav-meetups'));
    const failed = await screen.findByTestId('meetups-load-failed');
    expect(failed.getAttribute('role')).toBe('alert');
    expect(failed.textContent).toContain('문제가');
    await fireEvent.click(screen.getByTestId('nav-home'));
    expect(await screen.findByTestId('greeting')).toBeTruthy();
  });
});
