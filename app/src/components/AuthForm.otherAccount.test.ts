import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import '../lib/strings';
import AuthForm from './AuthForm.svelte';

// Another account's data kept on this device: the sign-in is refused with `other_account_data`
// and the form asks before that data joins the account signing in.
const user = { id: 'u2', email: 'muneo@example.com', nickname: '무너', provider: 'local' };

/** The shell: `first` refuses with `other_account_data`, the answers succeed. */
function refusingShell(first: string) {
  const invoked = vi.fn((cmd: string, _args?: unknown) => {
    if (cmd === first) throw { code: 'other_account_data', message: "this device holds another account's data" };
    if (cmd === 'attach_other_account_data') return user;
    return null;
  });
  mockIPC(invoked);
  return invoked;
}

async function signIn() {
  await fireEvent.input(screen.getByTestId('auth-email'), { target: { value: 'muneo@example.com' } });
  await fireEvent.input(screen.getByTestId('auth-password'), { target: { value: 'a quiet walk every day' } });
  await fireEvent.click(screen.getByTestId('auth-submit'));
}

const commands = (invoked: ReturnType<typeof vi.fn>) => invoked.mock.calls.map((call) => call[0]);

describe('signing in where another account left its data', () => {
  afterEach(() => {
    cleanup();
    clearMocks();
  });

  it('asks in Korean, and merges the data into the account on confirm', async () => {
    const invoked = refusingShell('sign_in');
    const onsignedin = vi.fn();
    render(AuthForm, { onsignedin });
    await signIn();
    const dialog = await screen.findByTestId('confirm');
    expect(dialog.textContent).toContain('이 기기에는 다른 계정의 기록이 남아 있어요');
    expect(screen.getByTestId('confirm-ok').textContent).toContain('이 계정으로 합치기');
    expect(screen.queryByTestId('form-error')).toBeNull();
    expect(onsignedin).not.toHaveBeenCalled();

    await fireEvent.click(screen.getByTestId('confirm-ok'));
    await vi.waitFor(() => expect(onsignedin).toHaveBeenCalledWith(user));
    expect(commands(invoked)).toEqual(['sign_in', 'attach_other_account_data']);
    expect(screen.queryByTestId('confirm')).toBeNull();
  });

  it('changes nothing on cancel: the sign-in is given up and the form stays', async () => {
    const invoked = refusingShell('sign_in');
    const onsignedin = vi.fn();
    render(AuthForm, { onsignedin });
    await signIn();
    await fireEvent.click(await screen.findByTestId('confirm-cancel'));
    await vi.waitFor(() => expect(commands(invoked)).toEqual(['sign_in', 'cancel_sign_in']));
    expect(screen.queryByTestId('confirm')).toBeNull();
    expect(screen.queryByTestId('form-error')).toBeNull();
    expect(onsignedin).not.toHaveBeenCalled();
    await vi.waitFor(() => expect((screen.getByTestId('auth-submit') as HTMLButtonElement).disabled).toBe(false));
  });

  it('asks after a social sign-in too', async () => {
    const invoked = refusingShell('social_sign_in');
    const onsignedin = vi.fn();
    render(AuthForm, { onsignedin });
    await fireEvent.click(screen.getByTestId('social-kakao'));
    await fireEvent.click(await screen.findByTestId('confirm-ok'));
    await vi.waitFor(() => expect(onsignedin).toHaveBeenCalledWith(user));
    expect(commands(invoked)).toEqual(['social_sign_in', 'attach_other_account_data']);
  });
});
