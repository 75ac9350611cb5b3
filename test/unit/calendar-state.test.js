// The calendar state with a controllable clock: busy/current/next/until (overlapping and touching events merged),
// flips by timer exactly at starts and ends, never the same state twice, an input always sends.
'use strict';
require('should');
const { distPath } = require('../lib/dist');
const { FakeClock } = require('../lib/fake-clock');

const { computeState, StateController } = require(distPath('nodes/shared/calendar/calendar-state.js'));

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.UTC(2026, 10, 27, 8, 0);

/** An event with the instants the nodes add (only .ms matters here). */
function ev(id, start, end) {
  return { id, subject: id, start: { ms: T0 + start }, end: { ms: T0 + end } };
}

const ids = (events) => events.map((e) => e.id);

describe('calendar state (controllable clock)', () => {
  it('free with the next event ahead: until is its start; nothing known: until undefined', () => {
    const s = computeState([ev('a', HOUR, 2 * HOUR)], T0);
    s.busy.should.be.false();
    s.current.should.eql([]);
    s.next.id.should.equal('a');
    s.untilMs.should.equal(T0 + HOUR);
    const none = computeState([], T0);
    (none.untilMs === undefined).should.be.true();
    (none.next === null).should.be.true();
  });

  it('busy: current by start, until the end of the block of overlapping and touching events', () => {
    const events = [
      ev('planning', -30 * MIN, 30 * MIN),
      ev('overlap', -10 * MIN, 45 * MIN),
      ev('touching', 45 * MIN, HOUR), // starts exactly when the block ends
      ev('gap', 71 * MIN, 2 * HOUR), // a minute after the block: not part of it
      ev('later-overlap', 50 * MIN, 70 * MIN), // overlaps 'touching' but starts after now
    ];
    const s = computeState(events, T0);
    s.busy.should.be.true();
    ids(s.current).should.eql(['planning', 'overlap']);
    s.next.id.should.equal('touching');
    s.untilMs.should.equal(T0 + 70 * MIN);
    s.changeAt.should.equal(T0 + 30 * MIN);
  });

  it('an event is in progress from its start (inclusive) to its end (exclusive)', () => {
    const e = [ev('a', 0, HOUR)];
    computeState(e, T0 - 1).busy.should.be.false();
    computeState(e, T0).busy.should.be.true();
    computeState(e, T0 + HOUR - 1).busy.should.be.true();
    computeState(e, T0 + HOUR).busy.should.be.false();
  });

  it('flips by timer exactly at start and end, and never sends the same state twice', async () => {
    const clock = new FakeClock(T0);
    const sent = [];
    const c = new StateController({
      clock,
      emit: (state, reason) => sent.push([state, reason, clock.now()]),
    });
    c.applyRead([ev('a', 10 * MIN, 20 * MIN), ev('b', 20 * MIN, 30 * MIN)]);
    sent.map(([s, r]) => [s.busy, r]).should.eql([[false, 'read']]);
    c.applyRead([ev('a', 10 * MIN, 20 * MIN), ev('b', 20 * MIN, 30 * MIN)]); // same state: not sent
    sent.should.have.length(1);
    clock.timers.size.should.equal(1);
    await clock.advance(10 * MIN - 1);
    sent.should.have.length(1);
    await clock.advance(1);
    await clock.advance(30 * MIN);
    sent
      .map(([s, r, at]) => [s.busy, ids(s.current), s.next && s.next.id, r, at - T0])
      .should.eql([
        [false, [], 'a', 'read', 0],
        [true, ['a'], 'b', 'timer', 10 * MIN],
        [true, ['b'], null, 'timer', 20 * MIN], // a touching event: still busy, but current changed
        [false, [], null, 'timer', 30 * MIN],
      ]);
    clock.pending.should.equal(0);
  });

  it('a read that only moves `until` sends nothing; one that changes next does; an input always sends', () => {
    const clock = new FakeClock(T0);
    const sent = [];
    const c = new StateController({ clock, emit: (state, reason) => sent.push([state, reason]) });
    c.applyRead([ev('a', -MIN, 10 * MIN)]);
    c.applyRead([ev('a', -MIN, 15 * MIN)]);
    sent.should.have.length(1);
    c.applyRead([ev('a', -MIN, 15 * MIN), ev('b', HOUR, 2 * HOUR)]);
    sent.should.have.length(2);
    c.input();
    c.input();
    sent.map(([, r]) => r).should.eql(['read', 'read', 'input', 'input']);
    c.applyRead([ev('a', -MIN, 15 * MIN), ev('b', HOUR, 2 * HOUR)], true); // quiet: an input answers this read
    sent.should.have.length(4);
  });

  it('one timer, chained below setTimeout’s limit, for a change weeks ahead', async () => {
    const clock = new FakeClock(T0);
    const sent = [];
    const c = new StateController({
      clock,
      emit: (state) => sent.push(state.busy),
      maxSleepMs: Number.MAX_SAFE_INTEGER,
    });
    c.applyRead([ev('far', 40 * 24 * HOUR, 41 * 24 * HOUR)]);
    c.timers.should.equal(1);
    await clock.advance(40 * 24 * HOUR);
    sent.should.eql([false, true]);
  });
});
