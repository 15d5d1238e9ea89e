import { describe, expect, it } from 'vitest';
import { setLang } from './i18n.svelte';
import { hasPassword, providerName } from './names';
import './strings';

describe('how an account signs in', () => {
  it('names the provider in the user language', () => {
    expect(providerName({ provider: 'kakao' })).toBe('카카오');
    setLang('en');
    expect(providerName({ provider: 'kakao' })).toBe('Kakao');
    expect(providerName({ provider: 'local' })).toBe('email and password');
    expect(providerName({ provider: 'social' })).toBe('a sign-in provider');
    setLang('ko');
    expect(providerName({ provider: null })).toBeNull();
  });

  it('offers a password change to local accounts only', () => {
    expect(hasPassword({ provider: 'local' })).toBe(true);
    expect(hasPassword({ provider: 'google' })).toBe(false);
    expect(hasPassword({ provider: null })).toBe(true);
  });
});
