// The open dialogs, topmost last. One window listener closes only the topmost on Escape,
// wherever the focus is (a confirmation over the player closes the confirmation, not both).
const stack: (() => void)[] = [];
let listening = false;

function onKey(event: KeyboardEvent): void {
  if (event.key !== 'Escape') return;
  const top = stack[stack.length - 1];
  if (!top) return;
  event.preventDefault();
  top();
}

/** Registers an open dialog and its way to close; returns its unregistration. */
export function openDialog(close: () => void): () => void {
  if (!listening && typeof window !== 'undefined') {
    window.addEventListener('keydown', onKey);
    listening = true;
  }
  stack.push(close);
  return () => {
    const index = stack.lastIndexOf(close);
    if (index >= 0) stack.splice(index, 1);
  };
}
