import { describe, expect, it } from 'vitest';
import { importProblem, importSummary } from './dataFiles';

describe('the my data card', () => {
  it('refuses a file over the import limit before sending it', () => {
    expect(importProblem({ size: 10 }, 10)).toBeNull();
    expect(importProblem({ size: 11 }, 10)).toBe('too_big');
  });

  it('says what an import added, and that nothing was when the file was already imported', () => {
    expect(importSummary({ routines: 1, completions: 40, draws: 1, already_there: 2 })).toEqual({
      key: 'me.imported',
      values: { routines: 1, completions: 40, draws: 1, already: 2 },
    });
    expect(importSummary({ routines: 0, completions: 0, draws: 0, already_there: 43 })).toEqual({
      key: 'me.import_nothing',
      values: {},
    });
  });
});
