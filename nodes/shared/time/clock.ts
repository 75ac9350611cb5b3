// The one source of "now" and of timers for time-driven logic (trigger plans, state flips, refresh timing).
// Controllers take a Clock, so unit tests drive them with a controllable one; nodes pass systemClock.

export type TimerHandle = unknown;

export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Longest delay Node's setTimeout takes (about 24.8 days); longer waits are chained by the caller. */
export const MAX_TIMER_MS = 2_147_483_647;

/** The time in epoch milliseconds for everything time-related in the package (read at each call). */
export function now(): number {
  return Date.now();
}

export const systemClock: Clock = {
  now,
  setTimeout(callback, ms) {
    const timer = setTimeout(callback, Math.min(Math.max(0, ms), MAX_TIMER_MS));
    timer.unref?.();
    return timer;
  },
  clearTimeout(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
};
