// o365-events in the real Node-RED runtime against the simulator: what it reads, how many requests it costs,
// output shapes, changesOnly, bad input and faults.
'use strict';
const should = require('should');
const { startSimulator } = require('../sim/simulator');
const {
  helper,
  onTab,
  loadFlow,
  configFor,
  signedInCredentials,
  waitFor,
  nextMessage,
  collect,
  statuses,
  lastStatus,
  setClockOffset,
  resetClock,
} = require('../lib/nodes');
const { coreNode } = require('../lib/runtime');
const { realNow } = require('../harness/test-hooks');

const DAY = 86_400_000;

function eventsFlow(sim, props = {}, { app = 'confidential', config = {}, extra = [] } = {}) {
  const { node } = configFor(sim, config, app);
  const flow = onTab([
    node,
    { id: 'events', type: 'o365-events', config: node.id, ...props, wires: [['out']] },
    { id: 'out', type: 'helper' },
    { id: 'catch', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper' },
    ...extra,
  ]);
  return flow;
}

async function loadSignedIn(sim, props, options = {}) {
  const appOnly = options.config && options.config.mode === 'application';
  const creds = appOnly ? null : signedInCredentials(sim, 'cfg', options.app || 'confidential');
  const flow = eventsFlow(sim, props, options);
  const credentials = creds ? { cfg: creds.cfg } : configFor(sim, options.config).credentials;
  await loadFlow(flow, credentials);
  await helper.getNode('cfg').ready;
  return { events: helper.getNode('events'), out: helper.getNode('out'), caught: helper.getNode('caught') };
}

function ids(events) {
  return events.map((e) => e.id);
}

function graphRequests(sim, part = '') {
  return sim.requests.filter((r) => r.kind === 'graph' && r.path.includes(part));
}

/** A fixed week well inside the seeded data, as ISO with an offset. */
function week(sim) {
  const monday = new Date(sim.now());
  monday.setUTCHours(0, 0, 0, 0);
  monday.setUTCDate(monday.getUTCDate() - ((monday.getUTCDay() + 6) % 7) + 7);
  return { start: monday.toISOString(), end: new Date(monday.getTime() + 7 * DAY).toISOString() };
}

describe('o365-events (runtime)', function () {
  this.timeout(30000);
  let sim;

  beforeEach(async () => {
    sim = await startSimulator({ eventCount: 1500 });
  });
  afterEach(async () => {
    resetClock();
    await helper.unload();
    await sim.close();
  });

  it('reads the default calendar for a week: every occurrence, ordered by start, exactly the simulator’s set', async () => {
    const { events, out } = await loadSignedIn(sim, { timezone: 'UTC' });
    const w = week(sim);
    const got = nextMessage(out);
    events.receive({ start: w.start, end: w.end });
    const msg = await got;
    const expected = sim.expectedView({ user: 'megan', start: w.start, end: w.end, timeZone: 'UTC' });
    expected.length.should.be.above(20);
    ids(msg.payload).should.eql(expected);
    msg.payload.some((e) => e.type === 'occurrence').should.be.true();
    msg.window.should.eql({
      start: w.start.replace('.000Z', '+00:00'),
      end: w.end.replace('.000Z', '+00:00'),
    });
    msg.user.should.equal('');
    msg.calendarId.should.equal('');
    const [request] = graphRequests(sim, 'calendarView');
    request.path.should.equal('/v1.0/me/calendar/calendarView');
    request.query.$orderby.should.equal('start/dateTime');
    request.query.$top.should.equal('1000');
    request.query.$select.split(',').should.containDeep(['id', 'subject', 'start', 'end', 'isAllDay']);
    request.headers.prefer.should.equal('outlook.timezone="UTC"');
    lastStatus(events).text.should.match(new RegExp(`^${expected.length} events · \\d\\d:\\d\\d$`));
    lastStatus(events).fill.should.equal('green');
  });

  it('reads a second calendar by its URL-safe id (- _ =) as one path segment', async () => {
    const team = sim.calendars('megan').find((c) => c.name === 'Team');
    team.id.should.match(/[-_=]/).and.not.match(/[/+]/);
    const { events, out } = await loadSignedIn(sim, { calendarId: team.id, timezone: 'UTC' });
    const w = week(sim);
    const got = nextMessage(out);
    events.receive({ start: w.start, end: w.end });
    const msg = await got;
    ids(msg.payload).should.eql(
      sim.expectedView({ user: 'megan', calendarId: team.id, start: w.start, end: w.end, timeZone: 'UTC' }),
    );
    const [request] = graphRequests(sim, 'calendarView');
    request.rawPath
      .split('?')[0]
      .should.equal(`/v1.0/me/calendars/${encodeURIComponent(team.id)}/calendarView`);
    msg.calendarId.should.equal(team.id);
  });

  it("reads a colleague's shared calendar through the signed-in user's copy; by the owner's id it says how", async () => {
    const shared = sim.fixtures.sharedProjects;
    const alex = sim.users.alex.upn;
    const { events, out, caught } = await loadSignedIn(sim, {
      calendarId: shared.copyId,
      timezone: 'UTC',
      allowMsgMailbox: true,
    });
    const w = {
      start: new Date(sim.now() - 7 * DAY).toISOString(),
      end: new Date(sim.now() + 21 * DAY).toISOString(),
    };
    const got = nextMessage(out);
    events.receive({ ...w });
    const msg = await got;
    msg.payload.length.should.be.above(0);
    ids(msg.payload).should.eql(
      sim.expectedView({ user: 'alex', calendarId: shared.ownerCalendarId, ...w, timeZone: 'UTC' }),
    );
    graphRequests(sim, 'calendarView')[0].path.should.equal(
      `/v1.0/me/calendars/${shared.copyId}/calendarView`,
    );

    const error = nextMessage(caught);
    events.receive({ ...w, user: alex, calendarId: shared.ownerCalendarId });
    const failed = (await error).error;
    failed.code.should.equal('ErrorItemNotFound');
    failed.cause.status.should.equal(404);
    failed.message.should.match(/through your own mailbox/).and.match(/Leave Mailbox empty/);
  });

  it("reads a mailbox whose UPN starts with '$' through the key form users('$…')", async () => {
    const desk = sim.createBulkMailbox('$desk@contoso.onmicrosoft.com', 30, {
      start: sim.now() - DAY,
      end: sim.now() + 6 * DAY,
    });
    const { events, out } = await loadSignedIn(sim, { user: desk.upn, timezone: 'UTC' });
    const got = nextMessage(out);
    events.receive({ start: '-1d', end: '+6d' });
    const msg = await got;
    msg.payload.should.have.length(30);
    msg.user.should.equal(desk.upn);
    const [request] = graphRequests(sim, 'calendarView');
    request.rawPath
      .split('?')[0]
      .should.equal(`/v1.0/users('${encodeURIComponent(desk.upn)}')/calendar/calendarView`);
  });

  it('sends every zone as a name Graph takes: an IANA name Graph does not list, and one no Windows zone matches', async () => {
    for (const [timezone, windows, offset] of [
      ['Europe/Zurich', 'W. Europe Standard Time', /[+]0[12]:00$/],
      ['Antarctica/Troll', 'UTC', /[+]0[02]:00$/],
    ]) {
      const { events, out } = await loadSignedIn(sim, { timezone });
      sim.clearLog();
      const got = nextMessage(out);
      events.receive({});
      const msg = await got;
      msg.payload.should.be.an.Array();
      graphRequests(sim, 'calendarView')[0].headers.prefer.should.equal(`outlook.timezone="${windows}"`);
      msg.window.start.should.match(offset);
      await helper.unload();
    }
  });

  it('reads a shared room mailbox (delegated) and says why an unshared one fails', async () => {
    const room = sim.users.room101.upn;
    const { events, out, caught } = await loadSignedIn(sim, {
      user: room,
      timezone: 'UTC',
      allowMsgMailbox: true,
    });
    const w = week(sim);
    let got = nextMessage(out);
    events.receive({ start: w.start, end: w.end });
    const msg = await got;
    ids(msg.payload).should.eql(
      sim.expectedView({ user: room, start: w.start, end: w.end, timeZone: 'UTC' }),
    );
    graphRequests(sim, 'calendarView')[0].path.should.equal(`/v1.0/users/${room}/calendar/calendarView`);

    const error = nextMessage(caught);
    events.receive({ user: sim.users.room202.upn, start: w.start, end: w.end });
    const failed = (await error).error;
    failed.code.should.equal('ErrorAccessDenied');
    failed.message.should.match(/not shared/);
    failed.cause.status.should.equal(403);
    failed.cause.requestId.should.be.a.String();
    got = nextMessage(out);
    events.receive({ start: w.start, end: w.end });
    (await got).payload.length.should.equal(msg.payload.length);
  });

  it('reads a room in application mode; /me is refused before any request', async () => {
    const room = sim.users.room101.upn;
    const { events, out } = await loadSignedIn(
      sim,
      { user: room, timezone: 'UTC' },
      { config: { mode: 'application' } },
    );
    const w = week(sim);
    const got = nextMessage(out);
    events.receive({ start: w.start, end: w.end });
    ids((await got).payload).should.eql(
      sim.expectedView({ user: room, start: w.start, end: w.end, timeZone: 'UTC' }),
    );
    await helper.unload();

    const again = await loadSignedIn(sim, { user: '' }, { config: { mode: 'application' } });
    sim.clearLog();
    const error = nextMessage(again.caught);
    again.events.receive({});
    (await error).error.message.should.match(/Application mode reads a given mailbox/);
    graphRequests(sim).should.have.length(0);
  });

  it('events view: stored items with series masters, no occurrences, no window', async () => {
    const { events, out } = await loadSignedIn(sim, { view: 'events', select: 'subject,type' });
    const got = nextMessage(out);
    events.receive({});
    const msg = await got;
    ids(msg.payload)
      .sort()
      .should.eql(sim.expectedEvents({ user: 'megan' }).sort());
    msg.payload.some((e) => e.type === 'seriesMaster').should.be.true();
    msg.payload.some((e) => e.type === 'occurrence').should.be.false();
    should(msg.window).be.undefined();
    const [request] = graphRequests(sim, '/events');
    should(request.query.startDateTime).be.undefined();
  });

  it('keeps all-day events by their floating dates in a non-UTC zone (Windows name sent, IANA configured)', async () => {
    const { events, out } = await loadSignedIn(sim, { timezone: 'Asia/Kolkata' });
    // Local midnight to midnight in India for 14 days.
    const startMs = Date.parse(week(sim).start) - 5.5 * 3600_000;
    const start = new Date(startMs).toISOString();
    const end = new Date(startMs + 14 * DAY).toISOString();
    const got = nextMessage(out);
    events.receive({ start, end });
    const msg = await got;
    graphRequests(sim, 'calendarView')[0].headers.prefer.should.equal(
      'outlook.timezone="India Standard Time"',
    );
    const expected = sim.expectedView({ user: 'megan', start, end, timeZone: 'India Standard Time' });
    ids(msg.payload).should.eql(expected);
    const allDay = msg.payload.filter((e) => e.isAllDay);
    allDay.length.should.be.above(0);
    for (const e of allDay) {
      e.start.dateTime.should.endWith('T00:00:00.0000000');
      e.start.timeZone.should.equal('India Standard Time');
    }
    msg.window.start.should.endWith('+05:30');
  });

  it('2,500 events cost 3 calendarView requests and 10,000 cost 10, never more than 4 in flight per mailbox', async () => {
    const start = Date.parse(week(sim).start);
    const end = start + 7 * DAY;
    sim.createBulkMailbox('bulk2500@contoso.onmicrosoft.com', 2500, { start, end });
    sim.createBulkMailbox('bulk10k@contoso.onmicrosoft.com', 10000, { start, end });
    const { events, out } = await loadSignedIn(sim, { timezone: 'UTC', allowMsgMailbox: true });
    for (const [user, count, requests] of [
      ['bulk2500@contoso.onmicrosoft.com', 2500, 3],
      ['bulk10k@contoso.onmicrosoft.com', 10000, 10],
    ]) {
      sim.clearLog();
      const got = nextMessage(out, 20000);
      events.receive({ user, start: new Date(start).toISOString(), end: new Date(end).toISOString() });
      (await got).payload.should.have.length(count);
      graphRequests(sim, 'calendarView').should.have.length(requests);
    }
    // Ten nodes' worth of parallel reads of one mailbox: the shared client keeps Graph's limit of 4.
    sim.knobs.graphLatencyMs = 60;
    sim.clearLog();
    const received = collect(out);
    for (let i = 0; i < 10; i++) {
      helper
        .getNode('cfg')
        .graph.get(`${sim.url}/v1.0/users/bulk2500@contoso.onmicrosoft.com/calendar/events?$top=1`, {
          mailbox: 'bulk2500@contoso.onmicrosoft.com',
        });
    }
    await waitFor(
      () => graphRequests(sim).length === 10 && sim.requests.every((r) => r.status),
      10000,
      '10 reads',
    );
    received.should.have.length(0);
    sim.stats.maxInFlight['bulk2500@contoso.onmicrosoft.com'].should.be.belowOrEqual(4);
    graphRequests(sim)
      .every((r) => r.status === 200)
      .should.be.true();
  });

  it('maxEvents asks for that page size and returns the first N by start', async () => {
    const { events, out } = await loadSignedIn(sim, { timezone: 'UTC', maxEvents: 5 });
    const w = week(sim);
    const got = nextMessage(out);
    events.receive({ start: w.start, end: w.end });
    const msg = await got;
    msg.payload.should.have.length(5);
    ids(msg.payload).should.eql(
      sim.expectedView({ user: 'megan', start: w.start, end: w.end, timeZone: 'UTC' }).slice(0, 5),
    );
    graphRequests(sim, 'calendarView')[0].query.$top.should.equal('5');
  });

  it('each: one message per event with msg.parts, and the core join node rebuilds the array', async () => {
    const w = week(sim);
    const join = { id: 'join', type: 'join', mode: 'auto', wires: [['joined']] };
    const joined = { id: 'joined', type: 'helper' };
    const creds = signedInCredentials(sim);
    const flow = eventsFlow(sim, { timezone: 'UTC', output: 'each' }, { extra: [join, joined] });
    flow.find((n) => n.id === 'events').wires = [['out', 'join']];
    const joinModule = coreNode('sequence/17-split.js');
    await helper.load([...require('../lib/nodes').NODES, joinModule], flow, { cfg: creds.cfg });
    const events = helper.getNode('events');
    const singles = collect(helper.getNode('out'));
    const got = nextMessage(helper.getNode('joined'));
    events.receive({ start: w.start, end: w.end });
    const rebuilt = await got;
    const expected = sim.expectedView({ user: 'megan', start: w.start, end: w.end, timeZone: 'UTC' });
    ids(rebuilt.payload).should.eql(expected);
    singles.should.have.length(expected.length);
    // msg.parts as the split node makes them for an array: one id for the sequence, len 1 (one item per message).
    const sequence = singles[0].parts.id;
    sequence.should.be.a.String();
    singles.forEach((m, index) =>
      m.parts.should.eql({ id: sequence, index, count: expected.length, len: 1, type: 'array' }),
    );
  });

  it('an empty window is an empty array; with each nothing is sent and the status says 0', async () => {
    const quiet = sim.createBulkMailbox('quiet@contoso.onmicrosoft.com', 0, { start: 0, end: 1 });
    const { events, out } = await loadSignedIn(sim, { user: quiet.upn, timezone: 'UTC' });
    const got = nextMessage(out);
    events.receive({});
    (await got).payload.should.eql([]);
    lastStatus(events).text.should.match(/^0 events/);
  });

  it('changesOnly: everything added first, nothing when unchanged, exactly the difference after add/update/remove', async () => {
    const w = week(sim);
    const { events, out } = await loadSignedIn(sim, {
      timezone: 'UTC',
      changesOnly: true,
      start: w.start,
      end: w.end,
    });
    const received = collect(out);
    events.receive({});
    await waitFor(() => received.length === 1, 5000, 'first fetch');
    const first = received[0];
    first.changes.added.length.should.equal(first.payload.length);
    first.changes.removed.should.eql([]);
    graphRequests(sim, 'calendarView')[0].query.$select.split(',').should.containEql('changeKey');

    events.receive({});
    await waitFor(
      () => graphRequests(sim, 'calendarView').length === 2 && lastStatus(events).fill === 'green',
      5000,
      'second fetch',
    );
    await new Promise((r) => setTimeout(r, 100));
    received.should.have.length(1);

    const victim = first.payload.find((e) => e.type === 'singleInstance');
    const changed = first.payload.find((e) => e.type === 'singleInstance' && e.id !== victim.id);
    const added = sim.addEvent('megan', null, {
      subject: 'New one',
      start: new Date(Date.parse(w.start) + DAY + 3600_000).toISOString(),
      end: new Date(Date.parse(w.start) + DAY + 7200_000).toISOString(),
    });
    sim.updateEvent('megan', changed.id, { subject: 'Changed' });
    sim.removeEvent('megan', victim.id);
    events.receive({});
    await waitFor(() => received.length === 2, 5000, 'changes');
    const diff = received[1].changes;
    ids(diff.added).should.eql([added.id]);
    ids(diff.updated).should.eql([changed.id]);
    diff.removed.should.eql([victim.id]);
    received[1].payload.length.should.equal(first.payload.length);
  });

  it('changesOnly: the baseline survives a restart (same user dir), so nothing is announced again', async () => {
    const w = week(sim);
    const props = { timezone: 'UTC', changesOnly: true, start: w.start, end: w.end };
    const creds = signedInCredentials(sim);
    const userDir = await loadFlow(eventsFlow(sim, props), { cfg: creds.cfg });
    let received = collect(helper.getNode('out'));
    helper.getNode('events').receive({});
    await waitFor(() => received.length === 1, 5000, 'first fetch');
    received[0].changes.added.length.should.be.above(0);
    const single = received[0].payload.find((e) => e.type === 'singleInstance');
    await helper.unload();

    // "Restart": a new runtime on the same user directory.
    await loadFlow(eventsFlow(sim, props), { cfg: creds.cfg }, { userDir });
    received = collect(helper.getNode('out'));
    const before = graphRequests(sim, 'calendarView').length;
    helper.getNode('events').receive({});
    await waitFor(() => graphRequests(sim, 'calendarView').length === before + 1, 5000, 'second fetch');
    await waitFor(() => lastStatus(helper.getNode('events')).fill === 'green', 5000, 'status');
    received.should.have.length(0);
    sim.removeEvent('megan', single.id);
    helper.getNode('events').receive({});
    await waitFor(() => received.length === 1, 5000, 'the removal');
    received[0].changes.removed.should.eql([single.id]);
    received[0].changes.added.should.have.length(0);
  });

  it('changesOnly: a baseline no deployed node reads goes a day after the deploy that dropped it, as tokens do', async () => {
    const fs = require('fs');
    const path = require('path');
    const w = week(sim);
    const props = { timezone: 'UTC', changesOnly: true, start: w.start, end: w.end, allowMsgMailbox: true };
    const creds = signedInCredentials(sim);
    const userDir = await loadFlow(eventsFlow(sim, props), { cfg: creds.cfg });
    const dir = path.join(userDir, 'o365-calendar', 'default', 'baselines');
    const files = () =>
      fs.existsSync(dir)
        ? fs
            .readdirSync(dir)
            .filter((f) => f.endsWith('.json'))
            .sort()
        : [];
    const read = (name) => JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'));
    let received = collect(helper.getNode('out'));
    helper.getNode('events').receive({});
    helper.getNode('events').receive({ user: sim.users.alex.upn }); // a second baseline, through msg.user
    await waitFor(() => received.length === 2, 5000, 'two fetches');
    const [own, other] = files().length === 2 ? files() : [];
    should.exist(other);
    await helper.unload();

    // Deployed again, same node: its own baseline stays unmarked; the msg.user one is marked, not deleted.
    await loadFlow(eventsFlow(sim, props), { cfg: creds.cfg }, { userDir });
    await waitFor(() => files().some((f) => read(f).unreferencedSince !== undefined), 5000, 'a mark');
    const marked = files().filter((f) => read(f).unreferencedSince !== undefined);
    marked.should.have.length(1);
    // Read again through msg.user: in use, so unmarked.
    received = collect(helper.getNode('out'));
    helper.getNode('events').receive({ user: sim.users.alex.upn });
    await waitFor(() => lastStatus(helper.getNode('events')).fill === 'green', 5000, 'the fetch');
    await waitFor(() => files().every((f) => read(f).unreferencedSince === undefined), 5000, 'no mark');
    await helper.unload();

    // A deploy without the events node marks both; 23 hours later they are still there, 25 hours later gone.
    const configOnly = () => onTab([configFor(sim).node]);
    await loadFlow(configOnly(), { cfg: creds.cfg }, { userDir });
    await waitFor(() => files().every((f) => read(f).unreferencedSince !== undefined), 5000, 'both marked');
    await helper.unload();
    await setClockOffset(23 * 3_600_000);
    await loadFlow(configOnly(), { cfg: creds.cfg }, { userDir });
    await new Promise((resolve) => setTimeout(resolve, 300));
    files().should.eql([own, other].sort());
    await helper.unload();
    await setClockOffset(25 * 3_600_000);
    await loadFlow(configOnly(), { cfg: creds.cfg }, { userDir });
    await waitFor(() => files().length === 0, 5000, 'both swept');
  });

  it('changesOnly with each sends only the changed events, each with msg.change; a failed fetch changes nothing', async () => {
    const w = week(sim);
    const { events, out, caught } = await loadSignedIn(sim, {
      timezone: 'UTC',
      changesOnly: true,
      output: 'each',
      start: w.start,
      end: w.end,
    });
    const received = collect(out);
    events.receive({});
    await waitFor(() => received.length > 0 && lastStatus(events).fill === 'green', 5000, 'first fetch');
    const baseline = received.length;
    received.every((m) => m.change === 'added').should.be.true();

    sim.fault({ on: 'graph', type: '500', times: 1 });
    const error = nextMessage(caught);
    events.receive({});
    (await error).error.cause.status.should.equal(500);

    const victim = received.find((m) => m.payload.type === 'singleInstance').payload;
    sim.removeEvent('megan', victim.id);
    received.length = 0;
    events.receive({});
    await waitFor(() => received.length === 1, 5000, 'one removal');
    received[0].change.should.equal('removed');
    received[0].payload.should.eql({ id: victim.id });
    baseline.should.be.above(1);
  });

  it('bad inputs each give their error naming the field, and the next good message still works', async () => {
    const { events, out, caught } = await loadSignedIn(sim, { timezone: 'UTC', allowMsgMailbox: true });
    const errors = collect(caught);
    const bad = [
      [
        { start: 'tomorow' },
        /start: "tomorow" is not a window value \(did you mean "tomorrow"\?\); use now, .* milliseconds$/,
      ],
      [
        { start: 'now + 7d' },
        /start: "now \+ 7d" .*\(did you mean "now\+7d"\?\); use .* \(no spaces inside: write now\+7d\)$/,
      ],
      [{ end: 1700000000 }, /seconds/],
      [{ start: 'now', end: '-1h' }, /end must be after start/],
      [{ end: 'now+1826d' }, /1825/],
      [{ user: { $ne: 1 } }, /msg\.user must be a string/],
      [{ calendarId: '..' }, /not a valid mailbox or calendar id/],
    ];
    for (const [msg] of bad) events.receive(msg);
    await waitFor(() => errors.length === bad.length, 5000, 'all errors');
    bad.forEach(([, pattern], i) => errors[i].error.message.should.match(pattern));
    graphRequests(sim).should.have.length(0);
    const got = nextMessage(out);
    events.receive({});
    (await got).payload.should.be.an.Array();
  });

  it('msg.user and msg.calendarId are ignored unless allowMsgMailbox is on; hostile values stay in their segment', async () => {
    const { events, out } = await loadSignedIn(sim, { timezone: 'UTC' });
    let got = nextMessage(out);
    events.receive({ user: sim.users.alex.upn });
    (await got).user.should.equal('');
    graphRequests(sim)[0].path.should.startWith('/v1.0/me/');
    await helper.unload();

    const open = await loadSignedIn(sim, { timezone: 'UTC', allowMsgMailbox: true });
    const caughtAll = collect(open.caught);
    sim.clearLog();
    for (const user of ['../me', 'a%2Fb', 'x?y=1', 'x#y', 'a b', 'rüm@contoso.com'])
      open.events.receive({ user });
    await waitFor(() => caughtAll.length === 6, 5000, 'six answers');
    const paths = graphRequests(sim).map((r) => r.rawPath.split('?')[0]);
    paths.should.have.length(6);
    for (const path of paths) path.split('/').should.have.length(6); // '', v1.0, users, <one segment>, calendar, calendarView
    got = nextMessage(open.out);
    open.events.receive({});
    (await got).payload.should.be.an.Array();
  });

  // The faulty answer as the simulator's request log records it (0: no answer, the connection was cut or given up).
  const FAULTS = [
    ['429', { retryAfter: 1 }, 'survived', 429],
    ['503', { retryAfter: 1 }, 'survived', 503],
    ['503', {}, 'survived', 503],
    ['504', {}, 'survived', 504],
    ['reset', {}, 'survived', 0],
    ['slow', { delayMs: 3000 }, 'survived', 0],
    ['401', {}, 'survived', 401],
    ['brokenJson', {}, 'reported', 200, { code: 'BAD_RESPONSE', status: 200 }],
    ['500', {}, 'reported', 500, { code: 'InternalServerError', status: 500 }],
  ];
  for (const [type, options, expectation, answered, error] of FAULTS) {
    it(`fault ${type} ${JSON.stringify(options)}: ${expectation}, and the next message works`, async () => {
      const { events, out, caught } = await loadSignedIn(sim, { timezone: 'UTC' });
      const w = week(sim);
      const expected = sim.expectedView({ user: 'megan', start: w.start, end: w.end, timeZone: 'UTC' });
      sim.fault({ on: 'graph', type, times: 1, ...options });
      const received = collect(out);
      const errors = collect(caught);
      events.receive({ start: w.start, end: w.end });
      await waitFor(() => received.length + errors.length === 1, 10000, 'an answer');
      await waitFor(() => graphRequests(sim).every((r) => r.status !== undefined), 5000, 'answers logged');
      // The fault really happened, on the first request, and was answered as the fault says.
      sim.stats.faultsInjected.should.equal(1);
      sim.faults.should.be.empty();
      const reads = graphRequests(sim, 'calendarView');
      reads[0].fault.should.equal(type);
      reads[0].status.should.equal(answered);
      reads
        .slice(1)
        .every((r) => !r.fault && r.status === 200)
        .should.be.true();
      if (expectation === 'survived') {
        ids(received[0].payload).should.eql(expected);
        reads.should.have.length(2); // the faulty answer, then one retry
        if (options.retryAfter) {
          // Retry-After is obeyed (not the 20 ms backoff these tests configure).
          (reads[1].time - reads[0].time).should.be.aboveOrEqual(options.retryAfter * 1000 - 10);
        }
        if (type === '401') {
          sim.requests.filter((r) => r.grantType === 'refresh_token').should.have.length(1);
        }
      } else {
        errors[0].error.code.should.equal(error.code);
        errors[0].error.cause.should.containEql(error);
        reads.should.have.length(1); // neither is worth another try
        lastStatus(events).should.containEql({ fill: 'red', shape: 'ring' });
      }
      events.receive({ start: w.start, end: w.end });
      await waitFor(() => received.length === (expectation === 'survived' ? 2 : 1), 10000, 'the next answer');
      ids(received[received.length - 1].payload).should.eql(expected);
      // Recovered: the status is the green dot with the count again (after a red ring, if there was one).
      lastStatus(events).should.containEql({ fill: 'green', shape: 'dot' });
      lastStatus(events).text.should.startWith(`${expected.length} events · `);
      if (options.retryAfter) {
        const waits = statuses(events).filter((s) => s.fill === 'yellow');
        waits.should.containEql({
          fill: 'yellow',
          shape: 'ring',
          text: `throttled: retrying in ${options.retryAfter} s`,
        });
      }
    });
  }

  it('status: a sign-in problem shows the red ring; once signed in again, the green ring, then the green dot', async () => {
    const { node } = configFor(sim);
    const creds = signedInCredentials(sim);
    // The access token has expired by the package's clock: the first read must refresh.
    creds.cfg.expiresAt = String(Date.now() - 60_000);
    const flow = onTab([
      node,
      { id: 'events', type: 'o365-events', config: 'cfg', timezone: 'UTC', wires: [['out']] },
      { id: 'out', type: 'helper' },
      { id: 'auth', type: 'o365-auth', config: 'cfg', wires: [['signin']] },
      { id: 'signin', type: 'helper' },
      { id: 'catch', type: 'catch', scope: ['events'], uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper' },
    ]);
    await loadFlow(flow, { cfg: creds.cfg });
    const events = helper.getNode('events');
    sim.revokeRefreshTokens({ code: 70008 });
    const failed = nextMessage(helper.getNode('caught'));
    events.receive({});
    (await failed).error.code.should.equal('SIGN_IN_REQUIRED');
    lastStatus(events).should.eql({ fill: 'red', shape: 'ring', text: 'sign-in required (AADSTS70008)' });

    // A new sign-in through the o365-auth node on the same config node.
    const auth = helper.getNode('auth');
    const signin = helper.getNode('signin');
    let got = nextMessage(signin);
    auth.receive({});
    const consent = await fetch((await got).payload, { redirect: 'manual' });
    consent.status.should.equal(302);
    got = nextMessage(signin);
    auth.receive({ payload: consent.headers.get('location') });
    (await got).payload.signedIn.should.be.true();
    // No read yet: the events node says it can read again.
    await waitFor(() => lastStatus(events).fill === 'green', 2000, 'the green ring');
    lastStatus(events).should.eql({ fill: 'green', shape: 'ring', text: 'signed in' });

    const read = nextMessage(helper.getNode('out'));
    events.receive({});
    (await read).payload.should.be.an.Array();
    lastStatus(events).should.containEql({ fill: 'green', shape: 'dot' });
  });

  it('token endpoint down, access token still valid: reads go on with it; after a 401 or within 30 s of expiry a catchable error; up again → works', async () => {
    const creds = signedInCredentials(sim);
    const issued = creds.cfg.accessToken;
    const expiresAt = Number(creds.cfg.expiresAt);
    await loadFlow(eventsFlow(sim, { timezone: 'UTC' }), { cfg: creds.cfg });
    await helper.getNode('cfg').ready; // the deployed tokens are taken (refresh 5 minutes before expiry)
    // 45 s before expiry by the process clock (the simulator's moves too, so Graph still takes the token): the
    // refresh is due.
    await setClockOffset(expiresAt - 45_000 - realNow());
    const events = helper.getNode('events');
    const received = collect(helper.getNode('out'));
    const errors = collect(helper.getNode('caught'));
    const w = week(sim);
    const expected = sim.expectedView({ user: 'megan', start: w.start, end: w.end, timeZone: 'UTC' });
    const refreshes = () => sim.requests.filter((r) => r.grantType === 'refresh_token');
    sim.knobs.tokenEndpointDown = true;

    events.receive({ start: w.start, end: w.end });
    await waitFor(() => received.length + errors.length === 1, 10000, 'the first answer');
    errors.should.be.empty();
    ids(received[0].payload).should.eql(expected);
    // Three tries at the token endpoint (all 503), then the valid token, as it was issued.
    refreshes()
      .map((r) => r.status)
      .should.eql([503, 503, 503]);
    graphRequests(sim)
      .map((r) => r.headers.authorization)
      .should.eql([`Bearer ${issued}`]);
    lastStatus(events).should.containEql({ fill: 'green', shape: 'dot' });

    // Graph refuses that token (401): it is not sent again, the refresh's outage is what the node reports.
    // (Three tries before the request, as the refresh is due, and three after the 401.)
    sim.fault({ on: 'graph', type: '401', times: 1 });
    events.receive({ start: w.start, end: w.end });
    await waitFor(() => errors.length === 1, 10000, 'the error after the 401');
    errors[0].error.code.should.equal('temporarily_unavailable');
    errors[0].error.cause.status.should.equal(503);
    refreshes().should.have.length(9);
    graphRequests(sim)
      .map((r) => r.status)
      .should.eql([200, 401]);
    lastStatus(events).should.containEql({ fill: 'red', shape: 'ring' });

    // 20 s before expiry: too close to be sent, so the outage is reported before any request to Graph.
    await setClockOffset(expiresAt - 20_000 - realNow());
    events.receive({ start: w.start, end: w.end });
    await waitFor(() => errors.length === 2, 10000, 'the error near expiry');
    errors[1].error.code.should.equal('temporarily_unavailable');
    errors[1].error.cause.status.should.equal(503);
    refreshes().should.have.length(12);
    graphRequests(sim).should.have.length(2);

    sim.knobs.tokenEndpointDown = false;
    events.receive({ start: w.start, end: w.end });
    await waitFor(() => received.length === 2, 10000, 'the answer after the outage');
    ids(received[1].payload).should.eql(expected);
    refreshes()
      .map((r) => r.status)
      .should.eql([...Array(12).fill(503), 200]);
    graphRequests(sim)[2].headers.authorization.should.not.equal(`Bearer ${issued}`);
    lastStatus(events).should.containEql({ fill: 'green', shape: 'dot' });
  });

  it('errors and messages hold no token or secret', async () => {
    const { events, out, caught } = await loadSignedIn(sim, { timezone: 'UTC' });
    const messages = collect(out);
    const errors = collect(caught);
    events.receive({});
    sim.fault({ on: 'graph', type: '401', times: 5 });
    events.receive({});
    await waitFor(() => messages.length + errors.length === 2, 10000, 'two answers');
    const cfg = helper.getNode('cfg');
    const secrets = [
      sim.apps.confidential.secret,
      cfg.manager.tokens.accessToken,
      cfg.manager.tokens.refreshToken,
    ];
    const text = JSON.stringify([
      messages,
      errors.map((m) => ({ ...m, error: { ...m.error, stack: m.error.stack } })),
    ]);
    for (const secret of secrets) text.should.not.containEql(secret);
    const logText = JSON.stringify(helper.log().args);
    for (const secret of secrets) logText.should.not.containEql(secret);
  });
});
