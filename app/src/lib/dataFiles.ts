// The "my data" card's logic (PRODUCT.md §9): which file may be imported, and what to tell the
// person after an import. The shell writes exports and checks imports; this only words them.
import { lang, localeOf, t } from './i18n.svelte';
import type { ImportDetails } from './ipc';
import { importKo } from './strings/importRefusals';
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

/** "2026-11-05" as "2026년 11월 5일" / "November 5, 2026"; another spelling as it came. */
function dateText(date: string): string {
  const parts = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!parts) return date;
  const [year, month, day] = parts.slice(1).map(Number);
  return new Date(Date.UTC(year, month - 1, day)).toLocaleDateString(localeOf(lang()), {
    year: 'numeric',
    month: 'long',
    day: 'numeric',
    timeZone: 'UTC',
  });
}

/**
 * Why an import was refused, in the user's language, from the `reason` and `details` of the
 * shell's error: the sentence naming the routine or the date when the refusal names one, else
 * the reason's own; a reason this build has no sentence for (or none at all) reads as the general
 * refusal. Never the engine's English `message`.
 */
export function importRefusalText(error: unknown): string {
  const { reason, details } = (typeof error === 'object' && error !== null ? error : {}) as {
    reason?: unknown;
    details?: ImportDetails | null;
  };
  const key = `import.${String(reason)}`;
  if (typeof reason !== 'string' || !(key in importKo)) return t('error.invalid_import');
  const values: Record<string, string | number> = {};
  if (typeof details?.version === 'number') values.version = details.version;
  if (typeof details?.max === 'number') values.max = details.max;
  let chosen = key;
  if (typeof details?.routine === 'string' && `${key}.routine` in importKo) {
    chosen = `${key}.routine`;
    values.routine = details.routine;
  } else if (typeof details?.date === 'string' && `${key}.date` in importKo) {
    chosen = `${key}.date`;
    values.date = dateText(details.date);
  }
  // A sentence that wants a value the refusal lacks would show its `{placeholder}`.
  const wanted = [...importKo[chosen].matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
  return wanted.every((name) => name in values) ? t(chosen, values) : t('error.invalid_import');
}
