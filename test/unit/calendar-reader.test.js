// The shared reader the config node owns: nodes on the same mailbox and calendar share one read covering the union
// of their spans, at the shortest poll interval; other calendars read on their own; errors reach every member.
'use strict';
require('should');
const { distPath } = require('../lib/dist');
const { FakeClock } = require('../lib/fake-clock');

const { CalendarReader } = require(distPath('nodes/shared/calendar/calendar-reader.js'));
const { O365Error } = require(distPath('nodes/shared/node-red/errors.js'));

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 27, 8, 0);
const settle = () => new Promise((resolve) => setImmediate(resolve));

function member(user, calendarId, pollMs, span, log) {
  return {
    user,
    calendarId,
    pollMs,
    span: (now) => ({ start: now + span[0], end: now + span[1] }),
    deliver: (result) => log.push(result),
  };
}

describe('shared calendar reader (controllable clock)', () => {
  let clock;
  let reads;
  let reader;
  let fail;
  beforeEach(() => {
    clock = new FakeClock(T0);
    reads = [];
    fail = undefined;
    reader = new CalendarReader({
      clock,
      read: async (request) => {
        reads.push({ ...request, at: clock.now() });
        if (fail) throw fail;
        return [{ id: `${request.user}/${request.calendarId}` }];
      },
    });
  });
  afterEach(() => reader.close());

  it('two nodes on one calendar: one read per poll over the union of their spans, at the shorter interval', async () => {
    const a = [];
    const b = [];
    reader.join(member('room@contoso.com', '', 5 * MIN, [-20 * MIN, 1440 * MIN], a));
    reader.join(member('ROOM@contoso.com', '', 2 * MIN, [0, 1500 * MIN], b));
    await clock.advance(250, { settle });
    reads.should.have.length(1);
    reads[0].should.containEql({ start: T0 + 250 - 20 * MIN, end: T0 + 250 + 1500 * MIN });
    a.should.have.length(1);
    b.should.have.length(1);
    a[0].events.should.eql([{ id: 'room@contoso.com/' }]);
    await clock.advance(10 * MIN, { settle });
    reads.should.have.length(6); // every 2 minutes after the first
    reader.groupCount.should.equal(1);
  });

  it('another calendar is another read; a refresh joins requests made before it starts', async () => {
    const log = [];
    const one = reader.join(member('', '', 5 * MIN, [0, MIN], log));
    reader.join(member('', 'team', 5 * MIN, [0, MIN], log));
    await clock.advance(250, { settle });
    reads.map((r) => r.calendarId).should.eql(['', 'team']);
    const p1 = one.refresh();
    const p2 = one.refresh();
    await clock.advance(0, { settle });
    (await p1).should.equal(await p2);
    reads.should.have.length(3);
  });

  it('a failed read reaches every member; leaving stops the polls', async () => {
    const a = [];
    const b = [];
    const ha = reader.join(member('', '', MIN, [0, MIN], a));
    const hb = reader.join(member('', '', MIN, [0, MIN], b));
    fail = new O365Error('ErrorServerBusy', 'busy', { status: 503 });
    await clock.advance(250, { settle });
    a[0].error.code.should.equal('ErrorServerBusy');
    b[0].error.code.should.equal('ErrorServerBusy');
    ha.leave();
    hb.leave();
    reader.groupCount.should.equal(0);
    await clock.advance(10 * MIN, { settle });
    reads.should.have.length(1);
    clock.pending.should.equal(0);
  });
});
