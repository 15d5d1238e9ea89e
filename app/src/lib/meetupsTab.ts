// The 모임 tab is written by the meetups screens (src/meetups/); this is the agreed interface
// between them and the shell. The placeholder there declares no props yet, so it is cast here;
// once the real tab declares these props the cast can go and App imports it directly.
import type { Component } from 'svelte';
import Tab from '../meetups/MeetupsTab.svelte';
import type { Lang } from './i18n.svelte';

export interface MeetupsTabProps {
  lang: Lang;
  signedIn: boolean;
  me: { id: string; email: string; nickname: string } | null;
}

export const MeetupsTab = Tab as unknown as Component<MeetupsTabProps>;
