// `use:focusOnMount`: a button that appears in place of the one just pressed takes the focus,
// so keyboard users keep their place as the player moves on.
export function focusOnMount(node: HTMLElement): void {
  queueMicrotask(() => node.focus());
}
