// The five places of the bottom navigation (PRODUCT.md §8).
export type Tab = 'home' | 'routines' | 'meetups' | 'history' | 'me';
export const TABS: readonly Tab[] = ['home', 'routines', 'meetups', 'history', 'me'];
