// A controllable Clock (nodes/shared/time/clock.ts) for unit tests of time-driven controllers: time moves only
// when a test says so, timers run in order of their due time, and a delay setTimeout could not take is refused.
'use strict';

const MAX_TIMER_MS = 2_147_483_647;

class FakeClock {
  constructor(start) {
    this.time = start;
    this.timers = new Map();
    this.nextId = 1;
    /** Every delay asked for, to check the chaining below setTimeout's limit. */
    this.delays = [];
  }

  now() {
    return this.time;
  }

  setTimeout(callback, ms) {
    // Node fires a delay above its limit after 1 ms (TimeoutOverflowWarning): a controller must never ask.
    if (ms > MAX_TIMER_MS) throw new Error(`setTimeout(${ms}) exceeds the 24.8-day limit`);
    const id = this.nextId++;
    this.delays.push(ms);
    this.timers.set(id, { due: this.time + Math.max(0, ms), callback, id });
    return id;
  }

  clearTimeout(id) {
    this.timers.delete(id);
  }

  get pending() {
    return this.timers.size;
  }

  /** The due time of the earliest timer, or undefined. */
  nextDue() {
    let due;
    for (const t of this.timers.values()) if (due === undefined || t.due < due) due = t.due;
    return due;
  }

  /**
   * Moves time forward by `ms`, running every timer that comes due on the way at its own due time, and lets
   * promises settle after each (a controller's fire awaits a file write: real I/O, so it waits on setImmediate).
   */
  async advance(ms, { settle } = {}) {
    const until = this.time + ms;
    for (let guard = 0; guard < 1_000_000; guard++) {
      let first;
      for (const t of this.timers.values()) {
        if (t.due <= until && (!first || t.due < first.due || (t.due === first.due && t.id < first.id)))
          first = t;
      }
      if (!first) break;
      this.timers.delete(first.id);
      this.time = Math.max(this.time, first.due);
      first.callback();
      if (settle) await settle();
    }
    this.time = until;
    if (settle) await settle();
  }

  /** Jumps the clock without running timers (a process that was stopped, or a wall clock set forward). */
  jump(ms) {
    this.time += ms;
  }
}

module.exports = { FakeClock, MAX_TIMER_MS };
