import { describe, expect, it, vi } from 'vitest';
import { openDialog } from './dialogs';

describe('dialogs and Escape', () => {
  it('closes only the topmost dialog, then the one below', () => {
    const below = vi.fn();
    const above = vi.fn();
    const closeBelow = openDialog(below);
    const closeAbove = openDialog(above);
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape' }));
    expect(above).toHaveBeenCalledTimes(1);
    expect(below).not.toHaveBeenCalled();
    closeAbove();
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter' }));
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape' }));
    expect(below).toHaveBeenCalledTimes(1);
    closeBelow();
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape' }));
    expect(below).toHaveBeenCalledTimes(1);
  });
});
