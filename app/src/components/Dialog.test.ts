import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import '../lib/strings';
import ConfirmDialog from './ConfirmDialog.svelte';

const tab = (from: Element, shiftKey = false) => fireEvent.keyDown(from, { key: 'Tab', shiftKey });

describe('a dialog and the keyboard', () => {
  afterEach(() => {
    cleanup();
    document.body.replaceChildren();
  });

  it('keeps Tab and Shift+Tab inside the dialog, even when the focus was outside it', async () => {
    const outside = document.body.appendChild(document.createElement('button'));
    render(ConfirmDialog, { title: '루틴을 지울까요?', onok: vi.fn(), oncancel: vi.fn() });
    const cancel = screen.getByTestId('confirm-cancel');
    const ok = screen.getByTestId('confirm-ok');
    expect(document.activeElement).toBe(cancel);

    // The focus fell outside the dialog (the page, or an element behind it).
    outside.focus();
    await tab(outside);
    expect(document.activeElement).toBe(cancel);
    outside.focus();
    await tab(outside, true);
    expect(document.activeElement).toBe(ok);
    (document.activeElement as HTMLElement).blur();
    expect(document.activeElement).toBe(document.body);
    await tab(document.body);
    expect(document.activeElement).toBe(cancel);

    // At the edges Tab wraps around.
    await tab(cancel, true);
    expect(document.activeElement).toBe(ok);
    await tab(ok);
    expect(document.activeElement).toBe(cancel);
  });

  it('still closes on Escape, wherever the focus is', async () => {
    const oncancel = vi.fn();
    render(ConfirmDialog, { title: '루틴을 지울까요?', onok: vi.fn(), oncancel });
    (document.activeElement as HTMLElement).blur();
    await fireEvent.keyDown(document.body, { key: 'Escape' });
    expect(oncancel).toHaveBeenCalledOnce();
  });
});
