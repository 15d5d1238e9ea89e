import { cleanup, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import '../lib/strings';
import ProfileForm from './ProfileForm.svelte';

describe('editing the profile', () => {
  afterEach(cleanup);

  it('offers a local account a new password', () => {
    const user = { id: 'u1', email: 'mingi@example.com', nickname: '밍기', provider: 'local' };
    render(ProfileForm, { user, onsaved: vi.fn(), oncancel: vi.fn() });
    expect(screen.getByTestId('profile-password')).toBeTruthy();
    expect(screen.queryByTestId('profile-no-password')).toBeNull();
  });

  it('tells an account that signs in through Kakao it has no password to change', () => {
    const user = { id: 'u2', email: 'k@example.com', nickname: '카카오', provider: 'kakao' };
    render(ProfileForm, { user, onsaved: vi.fn(), oncancel: vi.fn() });
    expect(screen.queryByTestId('profile-password')).toBeNull();
    expect(screen.getByTestId('profile-no-password').textContent).toContain('카카오');
  });
});
