// The "my data" card's logic (PRODUCT.md §9): which file may be imported, and what to tell the
// person after an import. The shell writes exports and checks imports; this only words them.
import type { ImportReport } from './types';

/** Why a chosen file is not even sent to the shell, or null when it may be. */
export function importProblem(file: { size: number }, maxBytes: number): 'too_big' | null {
  return file.size > maxBytes ? 'too_big' : null;
}

/** The message key and values that describe an import's report. */
export function importSummary(report: ImportReport): { key: string; values: Record<string, number> } {
  const added = report.routines + report.completions + report.draws;
  if (added === 0) return { key: 'me.import_nothing', values: {} };
  return {
    key: 'me.imported',
    values: {
      routines: report.routines,
      completions: report.completions,
      draws: report.draws,
      already: report.already_there,
    },
  };
}
