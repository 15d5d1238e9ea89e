import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import '../lib/strings';
import { session } from '../lib/session.svelte';
import { toasts } from '../lib/toasts.svelte';
import DataCard from './DataCard.svelte';

/** Picks a file with `content` in the file chooser (jsdom's File has no `text()`; WebKit's has). */
function choose(input: HTMLElement, content: string) {
  const file = Object.assign(new File([content], 'backup.json'), { text: async () => content });
  Object.defineProperty(input, 'files', { value: [file], configurable: true });
  return fireEvent.change(input);
}

/** The command and arguments of the `n`th call the shell received. */
const call = (mock: ReturnType<typeof vi.fn>, n = 0) => mock.mock.calls[n].slice(0, 2);

describe('my data', () => {
  afterEach(() => {
    cleanup();
    clearMocks();
    toasts.splice(0);
  });

  it('exports to a file and says where it went', async () => {
    const invoked = vi.fn((..._args: unknown[]) => ({ path: '/home/mingi/Downloads/mingizuk-2026-11-26.csv' }));
    mockIPC(invoked);
    render(DataCard);
    await fireEvent.click(screen.getByTestId('export-csv'));
    await vi.waitFor(() => expect(toasts.map((t) => t.text)).toContain('/home/mingi/Downloads/mingizuk-2026-11-26.csv에 저장했어요'));
    expect(call(invoked)).toEqual(['export_data', { format: 'csv' }]);
  });

  it('imports the chosen file, reports what it added and has the screens reload', async () => {
    const invoked = vi.fn((..._args: unknown[]) => ({ routines: 1, completions: 12, draws: 1, already_there: 2 }));
    mockIPC(invoked);
    const revision = session.revision;
    render(DataCard);
    await choose(screen.getByTestId('import-file'), '{"format":"mingizuk-export"}');
    await vi.waitFor(() => expect(session.revision).toBe(revision + 1));
    expect(call(invoked)).toEqual(['import_data', { json: '{"format":"mingizuk-export"}' }]);
    expect(toasts.at(-1)?.text).toBe('루틴 1개, 기록 12개, 친구 1명을 가져왔어요 (이미 있던 것 2개)');
  });

  it('shows why a file was refused in the user’s language, and does not send one over the size limit', async () => {
    const invoked = vi.fn((..._args: unknown[]) => {
      throw {
        code: 'invalid_import',
        message: 'the completion of squat in cycle 1 of routine 7: a count of 0',
        reason: 'bad_completion',
        details: { routine: '아침 스트레칭' },
      };
    });
    mockIPC(invoked);
    session.limits = { import_max_bytes: 16 } as typeof session.limits;
    render(DataCard);
    await choose(screen.getByTestId('import-file'), '{}');
    await vi.waitFor(() =>
      expect(screen.getByTestId('import-detail').textContent).toBe(
        '"아침 스트레칭" 루틴에 맞지 않는 운동 기록이 있어요. 새로 내보낸 파일로 다시 시도해 주세요.',
      ),
    );
    expect(screen.getByTestId('import-detail').textContent).not.toContain('count of 0');
    expect(toasts.at(-1)?.code).toBe('invalid_import');

    // A reason this build has no sentence for reads as the general refusal, never the English.
    invoked.mockImplementation(() => {
      throw { code: 'invalid_import', message: 'a reason from a later engine', reason: 'from_the_future' };
    });
    await choose(screen.getByTestId('import-file'), '{}');
    await vi.waitFor(() => expect(screen.getByTestId('import-detail').textContent).toBe('이 파일은 가져올 수 없어요'));

    invoked.mockClear();
    await choose(screen.getByTestId('import-file'), 'x'.repeat(17));
    expect(screen.getByTestId('import-detail').textContent).toBe('내보낸 파일이라기엔 너무 커요');
    expect(invoked).not.toHaveBeenCalled();
    session.limits = null;
  });
});
