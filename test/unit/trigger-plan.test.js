// The calendar trigger's plan with a controllable clock: offsets of both signs, edges, moved / cancelled /
// declined / deleted events while a timer is pending, new events, once-only across a new controller on the same
// fired set (a redeploy), catch-up inside and outside its window, all-day events at local midnight across DST
// changes, two events at one instant, timers far ahead, and never early.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const should = require('should');
const { distPath } = require('../lib/dist');
const { FakeClock, MAX_TIMER_MS } = require('../lib/fake-clock');

const { TriggerController, triggerSpan, planInstants } = require(
  distPath('nodes/shared/calendar/trigger-plan.js'),
);
const { FiredStore, FIRED_RETENTION_MS } = require(distPath('nodes/shared/calendar/fired-store.js'));
const { eventFilter, DEFAULT_FILTERS } = require(distPath('nodes/shared/calendar/event-filter.js'));
const { addInstants } = require(distPath('nodes/shared/time/instants.js'));
const { resolveZone } = require(distPath('nodes/shared/time/zones.js'));

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 10, 27, 8, 0); // Friday 27 November 2026, 08:00 UTC

/** Graph's offset-less dateTime of an instant, in UTC. */
function graphTime(ms) {
  return { dateTime: new Date(ms).toISOString().replace('Z', '0000'), timeZone: 'UTC' };
}

function event(id, start, end, extra = {}) {
  return { id, subject: id, start: graphTime(start), end: graphTime(end), isAllDay: false, ...extra };
}

function allDay(id, date, days = 1) {
  const start = Date.parse(`${date}T00:00:00Z`);
  return {
    id,
    subject: id,
    isAllDay: true,
    start: { dateTime: `${date}T00:00:00.0000000`, timeZone: 'UTC' },
    end: {
      dateTime: `${new Date(start + days * DAY).toISOString().slice(0, 10)}T00:00:00.0000000`,
      timeZone: 'UTC',
    },
  };
}

function tempDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'o365-trigger-'));
}

/** A controller on a fired store in `dir`, collecting what it sends. */
async function trigger(
  clock,
  dir,
  { edge = 'start', offset = 0, catchUp = 10 * MIN, zone = 'UTC', filters = {}, maxSleepMs } = {},
) {
  const store = await FiredStore.open(dir, 'node-1', clock.now());
  const sent = [];
  const failures = [];
  const resolved = resolveZone(zone);
  const controller = new TriggerController({
    clock,
    store,
    settings: {
      edges: edge === 'both' ? ['start', 'end'] : [edge],
      offsetMs: offset,
      catchUpMs: catchUp,
      accept: eventFilter({ ...DEFAULT_FILTERS, ...filters }),
    },
    send: (firings) => sent.push(...firings),
    persistFailed: (err) => failures.push(err),
    maxSleepMs,
  });
  const read = async (events) => {
    await controller.applyRead(events.map((e) => addInstants(e, resolved)));
  };
  // Lets a firing's file write (real I/O) and its send finish before time moves on.
  const settle = () => controller.settled();
  return { controller, store, sent, failures, read, settle };
}

describe('calendar trigger plan (controllable clock)', () => {
  let dir;
  let clock;
  beforeEach(() => {
    dir = tempDir();
    clock = new FakeClock(T0);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('-10m fires 10 minutes BEFORE the start, never earlier, exactly once', async () => {
    const t = await trigger(clock, dir, { offset: -10 * MIN });
    await t.read([event('standup', T0 + HOUR, T0 + HOUR + 15 * MIN)]);
    await clock.advance(HOUR - 10 * MIN - 1, { settle: t.settle });
    t.sent.should.have.length(0);
    await clock.advance(1, { settle: t.settle });
    t.sent.should.have.length(1);
    const [f] = t.sent;
    f.edge.should.equal('start');
    f.at.should.equal(T0 + 50 * MIN);
    f.edgeAt.should.equal(T0 + HOUR);
    f.firedAt.should.equal(T0 + 50 * MIN);
    f.late.should.be.false();
    await clock.advance(2 * HOUR, { settle: t.settle });
    t.sent.should.have.length(1);
  });

  it('+1h with edge end fires an hour AFTER the end', async () => {
    const t = await trigger(clock, dir, { edge: 'end', offset: HOUR });
    await t.read([event('review', T0 + HOUR, T0 + 2 * HOUR)]);
    await clock.advance(3 * HOUR - 1, { settle: t.settle });
    t.sent.should.have.length(0);
    await clock.advance(1, { settle: t.settle });
    t.sent.map((f) => [f.edge, f.at]).should.eql([['end', T0 + 3 * HOUR]]);
  });

  it('edge both fires at start and at end, in order', async () => {
    const t = await trigger(clock, dir, { edge: 'both' });
    await t.read([event('a', T0 + HOUR, T0 + 2 * HOUR)]);
    await clock.advance(3 * HOUR, { settle: t.settle });
    t.sent
      .map((f) => [f.edge, f.at - T0])
      .should.eql([
        ['start', HOUR],
        ['end', 2 * HOUR],
      ]);
  });

  it('two events at the same instant fire one firing each', async () => {
    const t = await trigger(clock, dir);
    await t.read([event('x', T0 + HOUR, T0 + 2 * HOUR), event('y', T0 + HOUR, T0 + 3 * HOUR)]);
    await clock.advance(HOUR, { settle: t.settle });
    t.sent.map((f) => f.eventId).should.eql(['x', 'y']);
  });

  it('an event moved while its timer is pending fires at its new time, once', async () => {
    const t = await trigger(clock, dir);
    await t.read([event('m', T0 + HOUR, T0 + 2 * HOUR)]);
    await clock.advance(30 * MIN, { settle: t.settle });
    await t.read([event('m', T0 + 90 * MIN, T0 + 2 * HOUR)]);
    await clock.advance(30 * MIN, { settle: t.settle }); // the old instant passes
    t.sent.should.have.length(0);
    await clock.advance(30 * MIN, { settle: t.settle });
    t.sent.map((f) => f.at).should.eql([T0 + 90 * MIN]);
    // Moved earlier, to a time still ahead: fires there, the old time fires nothing.
    await t.read([event('n', T0 + 3 * HOUR, T0 + 4 * HOUR)]);
    await clock.advance(10 * MIN, { settle: t.settle });
    await t.read([event('n', T0 + 2 * HOUR, T0 + 4 * HOUR)]);
    await clock.advance(3 * HOUR, { settle: t.settle });
    t.sent.map((f) => f.at).should.eql([T0 + 90 * MIN, T0 + 2 * HOUR]);
  });

  for (const [what, change] of [
    ['cancelled', (e) => ({ ...e, isCancelled: true })],
    ['declined', (e) => ({ ...e, responseStatus: { response: 'declined', time: '2026-11-27T07:00:00Z' } })],
    ['deleted', () => undefined],
  ]) {
    it(`an event ${what} while its timer is pending does not fire`, async () => {
      const t = await trigger(clock, dir);
      const e = event('gone', T0 + HOUR, T0 + 2 * HOUR);
      await t.read([e, event('stays', T0 + 2 * HOUR, T0 + 3 * HOUR)]);
      t.controller.next().eventId.should.equal('gone');
      await clock.advance(20 * MIN, { settle: t.settle });
      await t.read([change(e), event('stays', T0 + 2 * HOUR, T0 + 3 * HOUR)].filter(Boolean));
      await clock.advance(3 * HOUR, { settle: t.settle });
      t.sent.map((f) => f.eventId).should.eql(['stays']);
    });
  }

  it('a new event found by a later read is added; the plan keeps a single timer', async () => {
    const t = await trigger(clock, dir);
    await t.read([event('late-add', T0 + 3 * HOUR, T0 + 4 * HOUR)]);
    t.controller.timers.should.equal(1);
    await clock.advance(HOUR, { settle: t.settle });
    await t.read([
      event('new', T0 + 2 * HOUR, T0 + 3 * HOUR),
      event('late-add', T0 + 3 * HOUR, T0 + 4 * HOUR),
    ]);
    clock.pending.should.equal(1);
    await clock.advance(3 * HOUR, { settle: t.settle });
    t.sent.map((f) => f.eventId).should.eql(['new', 'late-add']);
  });

  it('fires at most once per event, edge and instant: a re-read, and a new controller on the same fired set (redeploy)', async () => {
    let t = await trigger(clock, dir);
    const events = [event('once', T0 + HOUR, T0 + 2 * HOUR)];
    await t.read(events);
    await clock.advance(HOUR + 1000, { settle: t.settle });
    t.sent.should.have.length(1);
    await t.read(events);
    await t.controller.settled();
    t.sent.should.have.length(1);
    t.controller.stop();
    // Redeploy two seconds after the firing: a new controller, the store read back from disk.
    t = await trigger(clock, dir);
    t.store.fresh.should.be.false();
    await t.read(events);
    await clock.advance(HOUR, { settle: t.settle });
    t.sent.should.have.length(0);
  });

  it('the fired set is on disk before the message is sent', async () => {
    const store = await FiredStore.open(dir, 'node-1', clock.now());
    let onDisk;
    const controller = new TriggerController({
      clock,
      store,
      settings: { edges: ['start'], offsetMs: 0, catchUpMs: 0, accept: () => true },
      send: () => {
        onDisk = JSON.parse(fs.readFileSync(FiredStore.fileFor(dir, 'node-1'), 'utf8'));
      },
      persistFailed: () => undefined,
    });
    await controller.applyRead([addInstants(event('disk', T0 + MIN, T0 + 2 * MIN), resolveZone('UTC'))]);
    await clock.advance(MIN, { settle: () => controller.settled() });
    Object.keys(onDisk.fired).should.eql([`start|${T0 + MIN}|disk`]);
  });

  it('catch-up: an instant missed while stopped fires once, late, when at most catchUpMinutes old', async () => {
    let t = await trigger(clock, dir, { catchUp: 10 * MIN });
    const events = [event('missed', T0 + HOUR, T0 + 2 * HOUR), event('older', T0 + 30 * MIN, T0 + 2 * HOUR)];
    await t.read(events);
    t.controller.stop(); // Node-RED stops at T0
    clock.jump(HOUR + 5 * MIN); // and starts again 5 minutes after 'missed' started, 35 after 'older'
    t = await trigger(clock, dir, { catchUp: 10 * MIN });
    await t.read(events);
    t.sent.map((f) => [f.eventId, f.late, f.firedAt - f.at]).should.eql([['missed', true, 5 * MIN]]);
    await clock.advance(HOUR, { settle: t.settle });
    t.sent.should.have.length(1);
  });

  it('catch-up 0 never fires late, and a newly added node fires nothing from before its first deploy', async () => {
    let t = await trigger(clock, dir, { catchUp: 0 });
    await t.read([]);
    t.controller.stop();
    clock.jump(HOUR + MIN);
    t = await trigger(clock, dir, { catchUp: 0 });
    await t.read([event('while-stopped', T0 + HOUR, T0 + 2 * HOUR)]);
    t.sent.should.have.length(0);

    const other = tempDir();
    try {
      const fresh = await trigger(clock, other, { catchUp: 60 * MIN });
      fresh.store.fresh.should.be.true();
      await fresh.read([event('before-deploy', clock.now() - MIN, clock.now() + HOUR)]);
      fresh.sent.should.have.length(0);
    } finally {
      fs.rmSync(other, { recursive: true, force: true });
    }
  });

  it('an instant learned about only after it passed (a new event) fires late within catch-up', async () => {
    const t = await trigger(clock, dir, { catchUp: 10 * MIN });
    await t.read([]);
    await clock.advance(5 * MIN, { settle: t.settle });
    await t.read([event('created-late', T0 + 2 * MIN, T0 + HOUR)]);
    t.sent.map((f) => [f.eventId, f.late]).should.eql([['created-late', true]]);
  });

  it('a timer that wakes before its instant fires nothing and sleeps again', async () => {
    const t = await trigger(clock, dir);
    await t.read([event('e', T0 + 30_000, T0 + HOUR)]);
    // Wake the pending timer (due at the instant) one second early.
    const [timer] = clock.timers.values();
    timer.due.should.equal(T0 + 30_000);
    clock.timers.delete(timer.id);
    clock.time = timer.due - 1000;
    timer.callback();
    await t.settle();
    t.sent.should.have.length(0);
    clock.pending.should.equal(1);
    await clock.advance(1000, { settle: t.settle });
    t.sent.should.have.length(1);
  });

  it('timers far ahead are chained below setTimeout’s 24.8-day limit and fire exactly on time', async () => {
    const t = await trigger(clock, dir, { maxSleepMs: Number.MAX_SAFE_INTEGER });
    const far = T0 + 30 * DAY;
    await t.read([event('far', far, far + HOUR)]);
    await clock.advance(30 * DAY - 1, { settle: t.settle });
    t.sent.should.have.length(0);
    await clock.advance(1, { settle: t.settle });
    t.sent.map((f) => f.at).should.eql([far]);
    Math.max(...clock.delays).should.be.belowOrEqual(MAX_TIMER_MS);
  });

  it('sleeps at most a minute by default (one timer), so a wall clock set forward is noticed soon', async () => {
    const t = await trigger(clock, dir);
    await t.read([event('e', T0 + 5 * HOUR, T0 + 6 * HOUR)]);
    clock.delays[clock.delays.length - 1].should.equal(60_000);
    clock.jump(5 * HOUR - 30_000); // NTP moved the clock while we slept
    await clock.advance(60_000, { settle: t.settle });
    t.sent.should.have.length(1);
    (t.sent[0].firedAt - t.sent[0].at).should.be.belowOrEqual(60_000);
  });

  for (const [zone, date, startIso, endIso] of [
    // Europe/Berlin springs forward at 02:00 on 29 March 2026: that day has 23 hours.
    ['Europe/Berlin', '2026-03-29', '2026-03-28T23:00:00.000Z', '2026-03-29T22:00:00.000Z'],
    // America/Santiago springs forward at midnight on 6 September 2026: 00:00 does not exist, the day starts at 01:00.
    ['America/Santiago', '2026-09-06', '2026-09-06T04:00:00.000Z', '2026-09-07T03:00:00.000Z'],
  ]) {
    it(`all-day events fire at local midnight in ${zone} across the DST change of ${date}`, async () => {
      clock = new FakeClock(Date.parse(startIso) - 2 * HOUR);
      const t = await trigger(clock, dir, { edge: 'both', zone });
      await t.read([allDay('holiday', date)]);
      await clock.advance(2 * HOUR - 1, { settle: t.settle });
      t.sent.should.have.length(0);
      await clock.advance(1, { settle: t.settle });
      await clock.advance(Date.parse(endIso) - clock.now(), { settle: t.settle });
      t.sent
        .map((f) => [f.edge, new Date(f.at).toISOString()])
        .should.eql([
          ['start', startIso],
          ['end', endIso],
        ]);
    });
  }

  it('filters: all-day, free and match (text and /regex/)', () => {
    const zone = resolveZone('UTC');
    const events = [
      event('Stand-up', T0 + HOUR, T0 + 2 * HOUR),
      event('Lunch', T0 + HOUR, T0 + 2 * HOUR, { showAs: 'free' }),
      allDay('Holiday', '2026-11-28'),
      event('Daily sync', T0 + HOUR, T0 + 2 * HOUR),
    ].map((e) => addInstants(e, zone));
    const ids = (filters) =>
      planInstants(events, {
        edges: ['start'],
        offsetMs: 0,
        catchUpMs: 0,
        accept: eventFilter({ ...DEFAULT_FILTERS, ...filters }),
      }).map((i) => i.eventId);
    ids({}).should.eql(['Daily sync', 'Lunch', 'Stand-up', 'Holiday']);
    ids({ skipFree: true, skipAllDay: true }).should.eql(['Daily sync', 'Stand-up']);
    ids({ match: 'STAND' }).should.eql(['Stand-up']);
    ids({ match: '/^(daily|lunch)/i' }).should.eql(['Daily sync', 'Lunch']);
    (() => eventFilter({ ...DEFAULT_FILTERS, match: '/(unclosed/' })).should.throw(
      /match: .*not a valid regular expression/,
    );
  });

  it('the read span reaches back catch-up plus |offset| and ahead 24 h plus |offset|', () => {
    triggerSpan(T0, 10 * MIN, -2 * HOUR).should.eql({
      start: T0 - 10 * MIN - 2 * HOUR,
      end: T0 + DAY + 2 * HOUR,
    });
    triggerSpan(T0, 0, 3 * DAY).should.eql({ start: T0 - 3 * DAY, end: T0 + 4 * DAY });
  });
});

describe('fired store', () => {
  let dir;
  beforeEach(() => (dir = tempDir()));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a new node writes its mark at once; entries older than two days are pruned; a damaged file starts fresh', async () => {
    const store = await FiredStore.open(dir, 'n', T0);
    const file = FiredStore.fileFor(dir, 'n');
    JSON.parse(fs.readFileSync(file, 'utf8')).should.eql({ version: 1, mark: T0, fired: {} });
    store.add([
      { key: 'old', at: T0 - FIRED_RETENTION_MS - 1 },
      { key: 'recent', at: T0 - FIRED_RETENTION_MS + 1 },
    ]);
    await store.save(T0);
    Object.keys(JSON.parse(fs.readFileSync(file, 'utf8')).fired).should.eql(['recent']);
    (fs.statSync(file).mode & 0o777).should.equal(0o600);
    fs.readdirSync(path.dirname(file)).should.eql([path.basename(file)]);

    fs.writeFileSync(file, '{"version":1,"mark":');
    const again = await FiredStore.open(dir, 'n', T0 + HOUR);
    again.fresh.should.be.true();
    again.mark.should.equal(T0 + HOUR);
  });

  it('files of nodes no longer deployed are marked, kept for the grace period, then deleted; a node back in time keeps its file', async () => {
    const { SWEEP_GRACE_MS } = require(distPath('nodes/shared/node-red/sweep.js'));
    const kept = await FiredStore.open(dir, 'kept', T0);
    kept.add([{ key: 'k', at: T0 }]);
    await kept.save(T0);
    await FiredStore.open(dir, 'gone', T0);
    await FiredStore.open(dir, 'back', T0);
    const fileOf = (id) => FiredStore.fileFor(dir, id);

    (await FiredStore.sweep(dir, ['kept'], T0)).should.eql([]);
    JSON.parse(fs.readFileSync(fileOf('gone'), 'utf8')).unreferencedSince.should.equal(T0);
    should(JSON.parse(fs.readFileSync(fileOf('kept'), 'utf8')).unreferencedSince).be.undefined();

    // Within the grace period nothing goes; 'back' is deployed again and takes its file back, unmarked.
    (await FiredStore.sweep(dir, ['kept'], T0 + SWEEP_GRACE_MS - 1)).should.eql([]);
    const back = await FiredStore.open(dir, 'back', T0 + HOUR);
    back.fresh.should.be.false();
    should(JSON.parse(fs.readFileSync(fileOf('back'), 'utf8')).unreferencedSince).be.undefined();

    (await FiredStore.sweep(dir, ['kept', 'back'], T0 + SWEEP_GRACE_MS)).should.eql([fileOf('gone')]);
    fs.existsSync(fileOf('gone')).should.be.false();
    fs.existsSync(fileOf('kept')).should.be.true();
    fs.existsSync(fileOf('back')).should.be.true();
    Object.keys(JSON.parse(fs.readFileSync(fileOf('kept'), 'utf8')).fired).should.eql(['k']);
  });

  it('the mark never moves back (a clock set back must not re-open what was handled)', async () => {
    const store = await FiredStore.open(dir, 'n', T0);
    store.advanceMark(T0 + HOUR);
    store.advanceMark(T0);
    store.mark.should.equal(T0 + HOUR);
  });
});
