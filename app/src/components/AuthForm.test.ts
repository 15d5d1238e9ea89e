import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import '../lib/strings';
import AuthForm from './AuthForm.svelte';

describe('signing in or up', () => {
  afterEach(() => {
    cleanup();
    clearMocks();
  });

  it('checks the email and the sign-up fields before asking the server', async () => {
    const invoked = vi.fn();
    mockIPC(invoked);
    render(AuthForm, { onsignedin: vi.fn() });
    expect(screen.queryByTestId('auth-nickname')).toBeNull();
    await fireEvent.click(screen.getByTestId('auth-mode-signup'));
    await fireEvent.input(screen.getByTestId('auth-email'), { target: { value: 'not an email' } });
    await fireEvent.click(screen.getByTestId('auth-submit'));
    expect(screen.getByTestId('form-error').dataset.code).toBe('invalid_email');
    await fireEvent.input(screen.getByTestId('auth-email'), { target: { value: 'mingi@example.com' } });
    await fireEvent.input(screen.getByTestId('auth-password'), { target: { value: 'short' } });
    await fireEvent.click(screen.getByTestId('auth-submit'));
    expect(screen.getByTestId('form-error').dataset.code).toBe('password_length');
    expect(invoked).not.toHaveBeenCalled();
  });

  it('signs up with the nickname and hands the user on', async () => {
    const user = { id: 'u1', email: 'mingi@example.com', nickname: '밍기', provider: 'local' };
    const invoked = vi.fn((..._args: unknown[]) => user);
    mockIPC(invoked);
    const onsignedin = vi.fn();
    render(AuthForm, { onsignedin });
    await fireEvent.click(screen.getByTestId('auth-mode-signup'));
    await fireEvent.input(screen.getByTestId('auth-email'), { target: { value: ' mingi@example.com ' } });
    await fireEvent.input(screen.getByTestId('auth-password'), { target: { value: 'a quiet walk every day' } });
    await fireEvent.input(screen.getByTestId('auth-nickname'), { target: { value: '밍기' } });
    await fireEvent.click(screen.getByTestId('auth-submit'));
    await vi.waitFor(() => expect(onsignedin).toHaveBeenCalledWith(user));
    expect(invoked).toHaveBeenCalledWith('sign_up', { email: 'mingi@example.com', password: 'a quiet walk every day', nickname: '밍기' });
  });

  it('shows the server refusal in Korean with its code', async () => {
    mockIPC(() => {
      throw { code: 'invalid_credentials', message: 'no' };
    });
    render(AuthForm, { onsignedin: vi.fn() });
    await fireEvent.input(screen.getByTestId('auth-email'), { target: { value: 'mingi@example.com' } });
    await fireEvent.input(screen.getByTestId('auth-password'), { target: { value: 'wrong password' } });
    await fireEvent.click(screen.getByTestId('auth-submit'));
    await vi.waitFor(() => expect(screen.getByTestId('form-error').dataset.code).toBe('invalid_credentials'));
    expect(screen.getByTestId('form-error').textContent).toContain('이메일 또는 비밀번호가 맞지 않아요');
  });

  it('offers Google, Kakao and Naver', async () => {
    const invoked = vi.fn((..._args: unknown[]) => ({ id: 'u2', email: 'k@example.com', nickname: '카카오', provider: 'kakao' }));
    mockIPC(invoked);
    const onsignedin = vi.fn();
    render(AuthForm, { onsignedin });
    expect(screen.getByTestId('social-google')).toBeTruthy();
    expect(screen.getByTestId('social-naver')).toBeTruthy();
    await fireEvent.click(screen.getByTestId('social-kakao'));
    await vi.waitFor(() => expect(onsignedin).toHaveBeenCalled());
    expect(invoked).toHaveBeenCalledWith('social_sign_in', { provider: 'kakao' });
  });

  it('lets the user give up waiting for the browser, without an error', async () => {
    let fail: (error: unknown) => void = () => {};
    const invoked = vi.fn((cmd: string) => {
      if (cmd === 'social_sign_in') return new Promise((_, reject) => (fail = reject));
      if (cmd === 'cancel_social_sign_in') fail({ code: 'sign_in_cancelled', message: 'cancelled' });
      return null;
    });
    mockIPC(invoked);
    render(AuthForm, { onsignedin: vi.fn() });
    await fireEvent.click(screen.getByTestId('social-naver'));
    expect((screen.getByTestId('auth-submit') as HTMLButtonElement).disabled).toBe(true);
    await fireEvent.click(await screen.findByTestId('social-cancel'));
    await vi.waitFor(() => expect((screen.getByTestId('auth-submit') as HTMLButtonElement).disabled).toBe(false));
    expect(screen.queryByTestId('social-cancel')).toBeNull();
    expect(screen.queryByTestId('form-error')).toBeNull();
  });
});
