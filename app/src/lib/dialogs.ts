// The open dialogs, topmost last. One window listener acts for the topmost only, wherever the
// focus is: Escape closes it (a confirmation over the player closes the confirmation, not both),
// and Tab / Shift+Tab keep the keyboard inside its panel, even when the focus had fallen outside
// (the element that had it disappeared, like the player's start button giving way to the timer).
interface OpenDialog {
  close: () => void;
  panel?: () => HTMLElement | undefined;
}

const stack: OpenDialog[] = [];
let listening = false;

/** The elements of `panel` that Tab reaches, in order. */
export function focusables(panel: HTMLElement): HTMLElement[] {
  return [...panel.querySelectorAll<HTMLElement>('button, input, select, textarea, [href], [tabindex]')].filter(
    (el) => !el.hasAttribute('disabled') && el.getAttribute('tabindex') !== '-1',
  );
}

/** Tab from the last element goes to the first, Shift+Tab from the first to the last; from outside
 *  the panel (or from the panel itself) they go to the first or the last; from an element inside
 *  that Tab does not reach, to the next or previous one. A panel with nothing to focus keeps the
 *  focus itself. Elsewhere the browser moves the focus, inside the panel. */
function trapTab(event: KeyboardEvent, panel: HTMLElement): void {
  const items = focusables(panel);
  if (items.length === 0) {
    event.preventDefault();
    panel.focus();
    return;
  }
  const back = event.shiftKey;
  const active = document.activeElement;
  const first = items[0];
  const last = items[items.length - 1];
  let target: HTMLElement | undefined;
  if (!(active instanceof Node) || active === panel || !panel.contains(active)) {
    target = back ? last : first;
  } else if (!items.includes(active as HTMLElement)) {
    const after = (el: HTMLElement) => (active.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING) !== 0;
    target = back ? ([...items].reverse().find((el) => !after(el)) ?? last) : (items.find(after) ?? first);
  } else if (back && active === first) {
    target = last;
  } else if (!back && active === last) {
    target = first;
  }
  if (target) {
    event.preventDefault();
    target.focus();
  }
}

function onKey(event: KeyboardEvent): void {
  const top = stack[stack.length - 1];
  if (!top) return;
  if (event.key === 'Escape') {
    event.preventDefault();
    top.close();
  } else if (event.key === 'Tab') {
    const panel = top.panel?.();
    if (panel) trapTab(event, panel);
  }
}

/** Registers an open dialog, its way to close and its panel (the keyboard stays inside); returns
 *  its unregistration. */
export function openDialog(close: () => void, panel?: () => HTMLElement | undefined): () => void {
  if (!listening && typeof window !== 'undefined') {
    window.addEventListener('keydown', onKey);
    listening = true;
  }
  const entry: OpenDialog = { close, panel };
  stack.push(entry);
  return () => {
    const index = stack.lastIndexOf(entry);
    if (index >= 0) stack.splice(index, 1);
  };
}
