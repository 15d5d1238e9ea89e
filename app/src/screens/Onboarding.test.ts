import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import '../lib/strings';
import Onboarding from './Onboarding.svelte';

afterEach(() => cleanup());

describe('onboarding', () => {
  it('keeps the keyboard on the button that moves on, through to the last slide', async () => {
    const onfinish = vi.fn();
    render(Onboarding, { onfinish });
    for (let slide = 0; slide < 3; slide++) {
      const next = screen.getByTestId('onboarding-next');
      next.focus();
      await fireEvent.click(next);
    }
    // The start button replaced the one just pressed: Enter goes on pressing it.
    const start = screen.getByTestId('onboarding-start');
    await waitFor(() => expect(document.activeElement).toBe(start));
    await fireEvent.click(start);
    expect(onfinish).toHaveBeenCalledOnce();
  });
});
