// What the sign-in / sign-up form checks before asking the server (PRODUCT.md §2). The server
// checks again (common passwords, taken nicknames); these only catch typing slips early.
import { charCount } from './routineForm';
import type { Limits } from './types';

export type AuthMode = 'signin' | 'signup';
export type AuthCode = 'invalid_email' | 'password_length' | 'nickname_length';

type AuthLimits = Pick<Limits, 'nickname_max' | 'password_min' | 'password_max'>;

/** `core::limits` as released, used only until the `limits` command answers. */
export const DEFAULT_AUTH_LIMITS: AuthLimits = { nickname_max: 8, password_min: 8, password_max: 64 };

const EMAIL_MAX = 254;

export function looksLikeEmail(email: string): boolean {
  const trimmed = email.trim();
  return trimmed.length <= EMAIL_MAX && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(trimmed);
}

export function checkAuth(
  mode: AuthMode,
  fields: { email: string; password: string; nickname: string },
  limits: AuthLimits,
): AuthCode | null {
  if (!looksLikeEmail(fields.email)) return 'invalid_email';
  const length = charCount(fields.password);
  if (mode === 'signup') {
    if (length < limits.password_min || length > limits.password_max) return 'password_length';
    // Counted as the server counts it: composed (NFC), so a syllable typed as its jamo is one.
    const nickname = charCount(fields.nickname.trim().normalize('NFC'));
    if (nickname < 1 || nickname > limits.nickname_max) return 'nickname_length';
  } else if (length === 0) {
    return 'password_length';
  }
  return null;
}
