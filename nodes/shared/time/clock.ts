// The one source of "now" and of timers for time-driven logic (trigger plans, state flips, refresh timing).
// Controllers take a Clock, so unit tests drive them with a controllable one; nodes pass systemClock.
import { now } from '../test-hooks';

export type TimerHandle = unknown;

export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Longest delay Node's setTimeout takes (about 24.8 days); longer waits are chained by the caller. */
export const MAX_TIMER_MS = 2_147_483_647;

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
