// Names in the user's language for things the engine describes in both: catalog actions,
// routine entries, presets and characters.
import { lang, t } from './i18n.svelte';
import type { CatalogAction, Character, EntryView, RoutineView } from './types';

export function actionName(action: Pick<CatalogAction | EntryView, 'name_ko' | 'name_en'>): string {
  return lang() === 'en' ? action.name_en : action.name_ko;
}

export function actionHint(action: Pick<CatalogAction | EntryView, 'hint_ko' | 'hint_en'>): string {
  return lang() === 'en' ? action.hint_en : action.hint_ko;
}

export function routineName(routine: Pick<RoutineView, 'name' | 'name_en'>): string {
  return lang() === 'en' && routine.name_en ? routine.name_en : routine.name;
}

export function characterName(character: Character): string {
  return t(`character.${character}`);
}

/** The catalog's name for an action id, or the id itself when the catalog does not know it. */
export function actionNameById(catalog: readonly CatalogAction[], id: string): string {
  const action = catalog.find((a) => a.id === id);
  return action ? actionName(action) : id;
}
