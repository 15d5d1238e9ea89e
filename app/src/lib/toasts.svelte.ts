// Short messages at the bottom of the screen: errors in the user's language (`errorText`) and
// quiet confirmations. A toast leaves by itself; nothing waits on it.
import { errorCode, errorText } from './i18n.svelte';

export interface Toast {
  id: number;
  kind: 'error' | 'info';
  text: string;
  code: string | null;
}

export const toasts = $state<Toast[]>([]);
let next = 1;

/** An error stays long enough to read; a confirmation is brief. */
const LIFETIME_MS = { error: 6000, info: 3000 };

function push(kind: Toast['kind'], text: string, code: string | null): void {
  const id = next++;
  toasts.push({ id, kind, text, code });
  setTimeout(() => dismiss(id), LIFETIME_MS[kind]);
}

export function dismiss(id: number): void {
  const index = toasts.findIndex((t) => t.id === id);
  if (index >= 0) toasts.splice(index, 1);
}

/** Shows a failed command in the user's language. */
export function showError(error: unknown): void {
  const code = errorCode(error);
  push('error', errorText(error), code);
}

export function showInfo(text: string): void {
  push('info', text, null);
}
