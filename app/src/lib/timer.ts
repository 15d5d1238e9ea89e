// The player's action timer (PRODUCT.md §3): "한 동작 시작!" runs it for
// `ACTION_SECONDS`, counting down once a second, and "완료하기!" is offered when it ends.
// It owns only the countdown; the component owns what the user sees.

/** `core::limits::PLAYER_TIMER_SECONDS`. */
export const ACTION_SECONDS = 5;

export interface TimerState {
  /** Whole seconds left; 0 when finished or never started. */
  remaining: number;
  running: boolean;
  finished: boolean;
}

export interface ActionTimer {
  start(): void;
  cancel(): void;
  state(): TimerState;
}

/** A countdown of `seconds`; `onChange` hears every tick, the last one with `finished`. */
export function actionTimer(onChange: (state: TimerState) => void, seconds: number = ACTION_SECONDS): ActionTimer {
  let state: TimerState = { remaining: 0, running: false, finished: false };
  let handle: ReturnType<typeof setInterval> | null = null;

  const publish = (next: TimerState) => {
    state = next;
    onChange({ ...state });
  };
  const stop = () => {
    if (handle !== null) clearInterval(handle);
    handle = null;
  };

  return {
    start() {
      if (state.running) return;
      publish({ remaining: seconds, running: true, finished: false });
      handle = setInterval(() => {
        const remaining = state.remaining - 1;
        if (remaining <= 0) {
          stop();
          publish({ remaining: 0, running: false, finished: true });
        } else {
          publish({ remaining, running: true, finished: false });
        }
      }, 1000);
    },
    cancel() {
      stop();
      publish({ remaining: 0, running: false, finished: false });
    },
    state: () => ({ ...state }),
  };
}
