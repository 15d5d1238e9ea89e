// Every visible string of the non-meetup screens, Korean (the default, with the original's copy
// from PRODUCT.md §10) and English. `error.<code>` keys name the engine's and the server's stable
// error codes; the meetups screens register their own keys (`meetups.*`).
import { register } from './i18n.svelte';
import { en } from './strings/en';
import { importEn, importKo } from './strings/importRefusals';
import { ko } from './strings/ko';

export { en, importEn, importKo, ko };

let registered = false;

/** Registers the dictionaries once (importing this module from several places is safe). */
export function registerStrings(): void {
  if (registered) return;
  registered = true;
  register(ko, en);
  register(importKo, importEn);
}

registerStrings();
