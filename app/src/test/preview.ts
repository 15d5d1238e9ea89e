// Mounts the app over the fake engine (see preview.html). Never part of the build.
import { mockIPC } from '@tauri-apps/api/mocks';
import { mount, tick } from 'svelte';
import '../app.css';
import App from '../App.svelte';
import Character from '../lib/characters/Character.svelte';
import { LOOKS } from '../lib/characters/looks';
import { CHARACTERS } from '../lib/types';
import '../lib/strings';
import { answer, fakeState } from './fakeEngine';
import { entry } from './fixtures';

const params = new URLSearchParams(location.search);
const state = fakeState();
state.settings.onboarded = !params.has('onboarding');
if (params.get('lang') === 'en') state.settings.language = 'en';
if (!params.has('fresh')) {
  state.character = (params.get('character') as 'mingi' | 'muneo' | 'mongsil' | null) ?? 'mingi';
  state.exp = Number(params.get('exp') ?? 43_500);
  state.user = { id: 'u1', email: 'mingi@example.com', nickname: '밍기' };
  state.sync = { phase: 'up_to_date', changes_waiting: false, last_error: null, confirmed_writes: 3, writes_waiting: 0 };
  state.routines.push({
    id: 'mine-1',
    name: '점심시간 스트레칭',
    name_en: null,
    preset: false,
    is_main: true,
    cycle: 2,
    entries: [entry('neck_roll', true), entry('squat', true, 15), entry('lunge')],
    done_count: 2,
    complete: false,
    completed_cycles: 2,
  });
}
mockIPC((cmd, args) => answer(state, cmd, args as Record<string, unknown>), { shouldMockEvents: true });

const target = document.getElementById('app');
if (!target) throw new Error('no #app');
if (params.has('gallery')) {
  // Every character in every look, idle and exercising.
  target.style.cssText = 'display:grid;grid-template-columns:repeat(3,1fr);gap:8px;padding:8px';
  for (const character of CHARACTERS) {
    for (const look of LOOKS) {
      const cell = document.createElement('div');
      target.append(cell);
      mount(Character, { target: cell, props: { character, look, size: 160, label: character, exercising: params.has('exercising') } });
    }
  }
} else {
  mount(App, { target });
}

// ?tab=routines&click=routine-add,action-option,wizard-next: opens a tab, then clicks the first
// element of each test id in turn.
async function clickThrough(): Promise<void> {
  const pause = () => new Promise((resolve) => setTimeout(resolve, 700));
  await pause();
  const tab = params.get('tab');
  if (tab) {
    document.querySelector<HTMLButtonElement>(`[data-testid="nav-${tab}"]`)?.click();
    await tick();
    await pause();
  }
  for (const id of (params.get('click') ?? '').split(',').filter(Boolean)) {
    document.querySelector<HTMLButtonElement>(`[data-testid="${id}"]`)?.click();
    await tick();
    await pause();
  }
}
void clickThrough();
