import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import '../lib/strings';
import { catalog, limits, routine } from '../test/fixtures';
import RoutineForm from './RoutineForm.svelte';

function options() {
  return screen.getAllByTestId('action-option');
}

async function pick(...ids: string[]) {
  for (const id of ids) {
    const option = options().find((o) => o.dataset.actionId === id);
    if (!option) throw new Error(`no option ${id}`);
    await fireEvent.click(option);
  }
}

describe('the routine form', () => {
  afterEach(() => {
    cleanup();
    clearMocks();
  });

  it('keeps the keyboard in the form as its steps replace each other', async () => {
    render(RoutineForm, { catalog, limits, onsaved: vi.fn(), oncancel: vi.fn() });
    await pick('sit_stand');
    const next = screen.getByTestId('wizard-next');
    next.focus();
    await fireEvent.click(next);
    await waitFor(() => expect(document.activeElement?.textContent).toContain('2'));
    expect(document.activeElement?.classList.contains('step')).toBe(true);
  });

  it('refuses a sixth action and says so', async () => {
    render(RoutineForm, { catalog, limits, onsaved: vi.fn(), oncancel: vi.fn() });
    await pick('sit_stand', 'neck_roll', 'shoulder_roll', 'waist_roll', 'arm_circle');
    expect(screen.queryByTestId('form-error')).toBeNull();
    await fireEvent.click(screen.getByTestId('kind-body'));
    await pick('squat');
    expect(screen.getByTestId('form-error').dataset.code).toBe('too_many_actions');
    const squat = options().find((o) => o.dataset.actionId === 'squat');
    expect(squat?.getAttribute('aria-pressed')).toBe('false');
    await fireEvent.click(screen.getByTestId('kind-stretching'));
    expect(options().filter((o) => o.getAttribute('aria-pressed') === 'true')).toHaveLength(5);
  });

  it('needs a name and counts from 1 to 99 before it asks the engine', async () => {
    const invoked = vi.fn();
    mockIPC(invoked);
    render(RoutineForm, { catalog, limits, onsaved: vi.fn(), oncancel: vi.fn() });
    await fireEvent.click(screen.getByTestId('wizard-next'));
    expect(screen.getByTestId('form-error').dataset.code).toBe('no_actions');
    await pick('neck_roll', 'sit_stand');
    await fireEvent.click(screen.getByTestId('wizard-next'));
    await fireEvent.click(screen.getByTestId('routine-save'));
    expect(screen.getByTestId('form-error').dataset.code).toBe('name_empty');
    await fireEvent.input(screen.getByTestId('routine-name-input'), { target: { value: '가'.repeat(31) } });
    await fireEvent.click(screen.getByTestId('routine-save'));
    expect(screen.getByTestId('form-error').dataset.code).toBe('name_too_long');
    await fireEvent.input(screen.getByTestId('routine-name-input'), { target: { value: '목과 다리' } });
    const counts = screen.getAllByTestId('count-input') as HTMLInputElement[];
    expect(counts.map((c) => c.value)).toEqual(['10', '10']);
    await fireEvent.input(counts[1], { target: { value: '100' } });
    await fireEvent.click(screen.getByTestId('routine-save'));
    expect(screen.getByTestId('form-error').dataset.code).toBe('count_out_of_range');
    expect(invoked).not.toHaveBeenCalled();
  });

  it('creates the routine with the picks in the order chosen', async () => {
    const invoked = vi.fn((..._args: unknown[]) => 'new-id');
    mockIPC(invoked);
    const onsaved = vi.fn();
    render(RoutineForm, { catalog, limits, onsaved, oncancel: vi.fn() });
    await pick('neck_roll', 'sit_stand');
    await fireEvent.click(screen.getByTestId('wizard-next'));
    await fireEvent.input(screen.getByTestId('routine-name-input'), { target: { value: '  목과 다리 ' } });
    await fireEvent.input(screen.getAllByTestId('count-input')[0], { target: { value: '15' } });
    await fireEvent.click(screen.getByTestId('routine-save'));
    await vi.waitFor(() => expect(onsaved).toHaveBeenCalledWith('new-id'));
    expect(invoked).toHaveBeenCalledWith('create_routine', {
      name: '목과 다리',
      picks: [
        { action: 'neck_roll', count: 15 },
        { action: 'sit_stand', count: 10 },
      ],
    });
  });

  it('shows the engine refusal with its own code', async () => {
    mockIPC(() => {
      throw { code: 'routine_name_taken', message: 'taken' };
    });
    const onsaved = vi.fn();
    render(RoutineForm, { catalog, limits, editing: routine(['squat']), onsaved, oncancel: vi.fn() });
    await fireEvent.click(screen.getByTestId('kind-body'));
    const squat = options().find((o) => o.dataset.actionId === 'squat');
    expect(squat?.getAttribute('aria-pressed')).toBe('true');
    await fireEvent.click(screen.getByTestId('wizard-next'));
    expect((screen.getByTestId('routine-name-input') as HTMLInputElement).value).toBe('아침 스트레칭');
    await fireEvent.click(screen.getByTestId('routine-save'));
    await vi.waitFor(() => expect(screen.getByTestId('form-error').dataset.code).toBe('routine_name_taken'));
    expect(screen.getByTestId('form-error').textContent).toContain('같은 이름의 루틴이 이미 있어요');
    expect(onsaved).not.toHaveBeenCalled();
  });
});
