import { cleanup, render, screen, waitFor } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import '../lib/strings';
import { CHARACTERS, type CharacterView } from '../lib/types';
import CharacterCard from './CharacterCard.svelte';

const view: CharacterView = { character: CHARACTERS[0], exp: 1234, level: 2, max_level: 10, look: 1, gauge_permille: 234 };

afterEach(() => cleanup());

describe('the character card', () => {
  it('takes the keyboard when it has just been drawn (the prompt it replaces had it)', async () => {
    render(CharacterCard, { view, arrived: true });
    const card = screen.getByTestId('character-card');
    await waitFor(() => expect(document.activeElement).toBe(card));
  });

  it('leaves the keyboard where it is on an ordinary visit', async () => {
    render(CharacterCard, { view });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(document.activeElement).toBe(document.body);
  });
});
