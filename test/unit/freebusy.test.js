// The free/busy node's logic without a runtime: one mailbox's entry from a scheduleInformation at a fixed "now"
// (busy, current, next, freeUntil, busyUntil: overlapping, touching and window-spanning items, statuses, zones,
// errors), and the checks made before any request (addresses, interval, span, cloud).
'use strict';
const should = require('should');
const { distPath } = require('../lib/dist');

const {
  scheduleEntry,
  resolveScheduleRequest,
  parseInterval,
  parseMailboxes,
  MAX_SCHEDULES_PER_REQUEST,
} = require(distPath('nodes/shared/calendar/freebusy.js'));
const { resolveZone } = require(distPath('nodes/shared/time/zones.js'));

const MINUTE = 60_000;
const DAY = 86_400_000;
const NOW = Date.UTC(2026, 2, 27, 10, 0); // Friday 27 March 2026, 10:00 UTC (Berlin: 11:00, DST starts on the 29th)
const UTC = resolveZone('UTC');

/** Graph's offset-less dateTime of an instant, in UTC. */
function utc(ms) {
  return { dateTime: new Date(ms).toISOString().replace('Z', '0000'), timeZone: 'UTC' };
}

function item(status, from, to, extra = {}) {
  return { status, start: utc(NOW + from * MINUTE), end: utc(NOW + to * MINUTE), ...extra };
}

function info(items, extra = {}) {
  return { scheduleId: 'room@contoso.com', availabilityView: '0220', scheduleItems: items, ...extra };
}

const iso = (minutes) => new Date(NOW + minutes * MINUTE).toISOString().replace('.000Z', '+00:00');

describe('free/busy: one mailbox’s entry', () => {
  it('busy now: busyUntil runs through touching and overlapping busy items, stops at a gap', () => {
    const entry = scheduleEntry(
      'room@contoso.com',
      'Room',
      info([
        item('busy', -30, 10),
        item('tentative', 10, 40), // touches the first
        item('oof', 30, 60), // overlaps the second
        item('busy', 61, 90), // after a one-minute gap: another block
      ]),
      NOW,
      UTC,
    );
    entry.busy.should.be.true();
    entry.busyUntil.should.equal(iso(60));
    should(entry.freeUntil).be.null();
    entry.current.map((i) => i.start.ms).should.eql([NOW - 30 * MINUTE]);
    entry.next.start.ms.should.equal(NOW + 10 * MINUTE);
    entry.name.should.equal('Room');
    entry.availabilityView.should.equal('0220');
    should(entry.error).be.null();
  });

  it('items given out of order, and two in progress at once: the block is found all the same', () => {
    const entry = scheduleEntry(
      'a@b.c',
      null,
      info([item('busy', 50, 80), item('busy', -10, 20), item('tentative', -60, 50)]),
      NOW,
      UTC,
    );
    entry.current.should.have.length(2);
    entry.current.map((i) => i.start.ms).should.eql([NOW - 60 * MINUTE, NOW - 10 * MINUTE]);
    entry.busyUntil.should.equal(iso(80));
    entry.next.start.ms.should.equal(NOW + 50 * MINUTE);
  });

  it('free now: freeUntil is the next busy item’s start; free, workingElsewhere and unknown do not count', () => {
    const entry = scheduleEntry(
      'a@b.c',
      null,
      info([
        item('free', -30, 30),
        item('workingElsewhere', -30, 120),
        item('unknown', 0, 10),
        item('busy', 45, 50),
        item('tentative', 20, 40),
      ]),
      NOW,
      UTC,
    );
    entry.busy.should.be.false();
    entry.current.should.eql([]);
    should(entry.busyUntil).be.null();
    entry.freeUntil.should.equal(iso(20));
    entry.next.status.should.equal('tentative');
    entry.items.should.have.length(5);
  });

  it('an item ending now is over; one starting now is on (end exclusive, start inclusive)', () => {
    let entry = scheduleEntry('a@b.c', null, info([item('busy', -30, 0), item('busy', 30, 60)]), NOW, UTC);
    entry.busy.should.be.false();
    entry.freeUntil.should.equal(iso(30));
    entry = scheduleEntry('a@b.c', null, info([item('busy', 0, 30)]), NOW, UTC);
    entry.busy.should.be.true();
    entry.busyUntil.should.equal(iso(30));
    should(entry.next).be.null();
  });

  it('an item spanning both edges of the window: busy until its real end, beyond the window', () => {
    const entry = scheduleEntry('a@b.c', null, info([item('oof', -3 * 60, 5 * 60)]), NOW, UTC);
    entry.busy.should.be.true();
    entry.busyUntil.should.equal(iso(5 * 60));
    should(entry.next).be.null();
  });

  it('nothing busy in the window: free, freeUntil null', () => {
    const entry = scheduleEntry('a@b.c', null, info([]), NOW, UTC);
    entry.should.containEql({ busy: false, next: null, freeUntil: null, busyUntil: null });
  });

  it('reads the statuses without regard to case (Microsoft’s own concept page writes "Busy", "Tentative")', () => {
    const entry = scheduleEntry(
      'a@b.c',
      null,
      info([item('Busy', -10, 10), item('Tentative', 10, 20)]),
      NOW,
      UTC,
    );
    entry.busy.should.be.true();
    entry.busyUntil.should.equal(iso(20));
  });

  it('zones: items in Graph’s wall clock of the Prefer zone become exact instants and ISO in the node’s zone', () => {
    // Pacific: 10:00 UTC on 27 March 2026 is 03:00 PDT (UTC-7). Berlin is still on CET (UTC+1) until the 29th.
    const pacific = (wall) => ({ dateTime: wall, timeZone: 'Pacific Standard Time' });
    const berlin = resolveZone('Europe/Berlin');
    const entry = scheduleEntry(
      'a@b.c',
      null,
      info([
        {
          status: 'busy',
          start: pacific('2026-03-27T02:30:00.0000000'),
          end: pacific('2026-03-27T03:30:00.0000000'),
        },
        // Across the DST change: Sunday 29 March 01:00 UTC is 03:00 CEST.
        {
          status: 'busy',
          start: pacific('2026-03-28T17:00:00.0000000'),
          end: pacific('2026-03-28T18:00:00.0000000'),
        },
      ]),
      NOW,
      berlin,
    );
    entry.busy.should.be.true();
    entry.items[0].start.should.containEql({ ms: NOW - 30 * MINUTE, iso: '2026-03-27T10:30:00+01:00' });
    entry.items[0].start.dateTime.should.equal('2026-03-27T02:30:00.0000000');
    entry.busyUntil.should.equal('2026-03-27T11:30:00+01:00');
    entry.next.start.ms.should.equal(Date.UTC(2026, 2, 29, 0, 0));
    entry.next.start.iso.should.equal('2026-03-29T01:00:00+01:00');
    entry.next.end.iso.should.equal('2026-03-29T03:00:00+02:00');
  });

  it('a mailbox Graph could not resolve: busy unknown (null), its error as {code, message}', () => {
    const entry = scheduleEntry(
      'x@contoso.com',
      null,
      { scheduleId: 'x@contoso.com', error: { message: 'Unable to resolve', responseCode: '5009' } },
      NOW,
      UTC,
    );
    entry.should.containEql({
      busy: null,
      availabilityView: null,
      next: null,
      freeUntil: null,
      busyUntil: null,
    });
    entry.error.should.eql({ code: '5009', message: 'Unable to resolve' });
    const missing = scheduleEntry('y@contoso.com', null, undefined, NOW, UTC);
    missing.error.code.should.equal('NO_ANSWER');
    missing.error.message.should.match(/y@contoso\.com/);
  });

  it('tolerates junk in Graph’s answer: non-object items, unreadable times', () => {
    const entry = scheduleEntry(
      'a@b.c',
      null,
      info([null, 'x', { status: 'busy', start: { dateTime: 'soon' }, end: {} }, item('busy', -5, 5)]),
      NOW,
      UTC,
    );
    entry.items.should.have.length(2);
    entry.busy.should.be.true();
    entry.busyUntil.should.equal(iso(5));
  });
});

describe('free/busy: checks before any request', () => {
  const base = {
    user: '',
    mailboxes: 'a@contoso.com',
    allRooms: false,
    roomList: '',
    start: 'now',
    end: 'now+8h',
    interval: 30,
    timezone: 'UTC',
    allowMsgMailbox: false,
  };
  const context = { mode: 'delegated', graphEndpoint: 'https://graph.microsoft.com', now: NOW };
  const resolve = (settings, msg = {}, ctx = context) =>
    resolveScheduleRequest({ ...base, ...settings }, msg, ctx);
  const fails = (fn, code, field) => {
    let error;
    try {
      fn();
    } catch (err) {
      error = err;
    }
    should.exist(error, 'an error');
    error.code.should.equal(code);
    error.cause.field.should.equal(field);
    return error;
  };

  it('batches hold Graph’s documented 20 schedules', () => {
    MAX_SCHEDULES_PER_REQUEST.should.equal(20);
  });

  it('addresses: one per line, commas or semicolons, repeats dropped (ignoring case), order kept', () => {
    parseMailboxes('b@x.com\nA@x.com, c@x.com;a@x.com', 'mailboxes').should.eql([
      'b@x.com',
      'A@x.com',
      'c@x.com',
    ]);
    fails(() => parseMailboxes('a@x.com, nope', 'mailboxes'), 'INVALID_INPUT', 'mailboxes');
    fails(() => parseMailboxes(['a@x.com', 42], 'payload'), 'INVALID_INPUT', 'payload');
    fails(() => parseMailboxes(['a@x.com\u0000@y'], 'payload'), 'INVALID_INPUT', 'payload');
    fails(
      () =>
        parseMailboxes(
          Array.from({ length: 1001 }, (_, i) => `r${i}@x.com`),
          'payload',
        ),
      'INVALID_INPUT',
      'payload',
    );
  });

  it('interval: 5 to 1440 whole minutes, default 30', () => {
    parseInterval(undefined).should.equal(30);
    parseInterval('').should.equal(30);
    parseInterval('5').should.equal(5);
    parseInterval(1440).should.equal(1440);
    for (const bad of [4, 1441, 7.5, '15m', -30, true])
      fails(() => parseInterval(bad), 'INVALID_INPUT', 'interval');
  });

  it('the span must be under 62 days', () => {
    resolve({ start: 'today', end: 'today+61d' }).window.end.should.be.above(NOW);
    fails(() => resolve({ start: 'today', end: 'today+62d' }), 'INVALID_WINDOW', 'end');
    fails(() => resolve({}, { start: NOW, end: NOW + 62 * DAY }), 'INVALID_WINDOW', 'end');
    resolve({}, { start: NOW, end: NOW + 62 * DAY - 1 }).window.end.should.equal(NOW + 62 * DAY - 1);
    fails(() => resolve({}, { end: 'yesterday' }), 'INVALID_WINDOW', 'end');
  });

  it('something to read; application mode needs the mailbox to ask as; places only in the global cloud', () => {
    fails(() => resolve({ mailboxes: '' }), 'INVALID_INPUT', 'mailboxes');
    resolve({ mailboxes: '', allRooms: true }).rooms.should.be.true();
    resolve({ mailboxes: '', roomList: 'building1@contoso.com' }).roomList.should.equal(
      'building1@contoso.com',
    );
    fails(() => resolve({}, {}, { ...context, mode: 'application' }), 'INVALID_INPUT', 'user');
    const usgov = { ...context, graphEndpoint: 'https://graph.microsoft.us' };
    fails(() => resolve({ allRooms: true }, {}, usgov), 'PLACES_UNAVAILABLE', 'allRooms');
    fails(
      () =>
        resolve(
          { roomList: 'b@contoso.com' },
          {},
          { ...context, graphEndpoint: 'https://microsoftgraph.chinacloudapi.cn' },
        ),
      'PLACES_UNAVAILABLE',
      'roomList',
    );
    resolve({}, {}, usgov).mailboxes.should.eql(['a@contoso.com']);
  });

  it('msg.payload chooses only when allowed, and only as a list or text of addresses', () => {
    resolve({}, { payload: ['z@x.com'] }).mailboxes.should.eql(['a@contoso.com']);
    resolve({ allowMsgMailbox: true }, { payload: ['z@x.com', 'y@x.com'] }).mailboxes.should.eql([
      'z@x.com',
      'y@x.com',
    ]);
    resolve({ allowMsgMailbox: true }, { payload: 'z@x.com y@x.com' }).mailboxes.should.eql([
      'z@x.com',
      'y@x.com',
    ]);
    resolve({ allowMsgMailbox: true }, { payload: 1774605600000 }).mailboxes.should.eql(['a@contoso.com']);
    resolve({ allowMsgMailbox: true }, { payload: { a: 1 } }).mailboxes.should.eql(['a@contoso.com']);
    fails(
      () => resolve({ allowMsgMailbox: true }, { payload: ['z@x.com', 'bad'] }),
      'INVALID_INPUT',
      'payload',
    );
  });
});
