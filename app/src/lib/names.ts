// Names in the user's language for things the engine describes in both: catalog actions,
// routine entries, presets and characters.
import { lang, t } from './i18n.svelte';
import type { CatalogAction, Character, EntryView, RoutineView, UserInfo } from './types';

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

/** How the account signs in, in the user's language; null when not known (an older session). */
export function providerName(user: Pick<UserInfo, 'provider'>): string | null {
  if (!user.provider) return null;
  const key = `me.provider.${user.provider}`;
  const name = t(key);
  return name === key ? user.provider : name;
}

/**
 * Whether the account has a password to change (PRODUCT.md §2: local accounts only). An account
 * whose provider is not known yet is offered the form, as before the provider was kept.
 */
export function hasPassword(user: Pick<UserInfo, 'provider'>): boolean {
  return !user.provider || user.provider === 'local';
}
