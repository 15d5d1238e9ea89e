import { describe, expect, it } from 'vitest';
import { checkAuth, DEFAULT_AUTH_LIMITS, looksLikeEmail } from './authForm';

describe('the sign-in form checks', () => {
  it('wants an email address', () => {
    expect(looksLikeEmail('mingi@example.com')).toBe(true);
    expect(looksLikeEmail('mingi@')).toBe(false);
    expect(looksLikeEmail(`${'a'.repeat(250)}@b.co`)).toBe(false);
  });

  it('checks password and nickname lengths on sign-up only', () => {
    const base = { email: 'a@b.co', password: 'short', nickname: '밍기' };
    expect(checkAuth('signin', base, DEFAULT_AUTH_LIMITS)).toBeNull();
    expect(checkAuth('signup', base, DEFAULT_AUTH_LIMITS)).toBe('password_length');
    expect(checkAuth('signup', { ...base, password: 'long enough' }, DEFAULT_AUTH_LIMITS)).toBeNull();
    expect(checkAuth('signup', { ...base, password: 'long enough', nickname: '아홉글자닉네임이다' }, DEFAULT_AUTH_LIMITS)).toBe(
      'nickname_length',
    );
    expect(checkAuth('signin', { ...base, password: '' }, DEFAULT_AUTH_LIMITS)).toBe('password_length');
  });

  it('counts a nickname typed as jamo as the server does, composed', () => {
    const fiveSyllables = '밍기적밍기'.normalize('NFD');
    expect(fiveSyllables.length).toBe(13);
    expect(checkAuth('signup', { email: 'a@b.co', password: 'long enough', nickname: fiveSyllables }, DEFAULT_AUTH_LIMITS)).toBeNull();
  });
});
