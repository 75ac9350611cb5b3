// o365-schedule ("free/busy") in the real Node-RED runtime against the simulator: order, per-mailbox errors,
// batching and concurrency, rooms and room lists, the places permission, busy/free computations, zones, bad
// input, msg.payload, output shapes, application mode and the editor's pickers.
'use strict';
const should = require('should');
const { startSimulator } = require('../sim/simulator');
const {
  helper,
  onTab,
  loadFlow,
  configFor,
  signedInCredentials,
  nextMessage,
  collect,
  lastStatus,
} = require('../lib/nodes');
const { SIM_SCOPES } = require('../lib/sim-config');
const { coreNode } = require('../lib/runtime');

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const PLACES_SCOPES = `${SIM_SCOPES} Place.Read.All`;

function scheduleFlow(sim, props, { config = {}, extra = [] } = {}) {
  const { node } = configFor(sim, config);
  return onTab([
    node,
    { id: 'fb', type: 'o365-schedule', config: node.id, ...props, wires: [['out']] },
    { id: 'out', type: 'helper' },
    { id: 'catch', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper' },
    ...extra,
  ]);
}

/** Loads a free/busy node on a signed-in config node; `places` signs in with Place.Read.All as well. */
async function load(sim, props, { places = false, app = false, extra = [] } = {}) {
  let credentials;
  let config;
  if (app) {
    config = { mode: 'application' };
    credentials = configFor(sim, config).credentials;
  } else {
    const scope = places ? PLACES_SCOPES : SIM_SCOPES;
    config = { scopes: scope };
    credentials = { cfg: signedInCredentials(sim, 'cfg', 'confidential', scope).cfg };
  }
  await loadFlow(scheduleFlow(sim, props, { config, extra }), credentials);
  await helper.getNode('cfg').ready;
  return { fb: helper.getNode('fb'), out: helper.getNode('out'), caught: helper.getNode('caught') };
}

function scheduleRequests(sim) {
  return sim.requests.filter((r) => r.kind === 'graph' && /\/calendar\/getschedule$/i.test(r.path));
}

function placesRequests(sim) {
  return sim.requests.filter((r) => r.kind === 'graph' && /^\/v1\.0\/places\//i.test(r.path));
}

function graphRequests(sim) {
  return sim.requests.filter((r) => r.kind === 'graph');
}

function bodyOf(request) {
  return JSON.parse(request.rawBody.toString('utf8'));
}

/** Now, rounded down to the minute, so that items added relative to it have whole-minute times. */
function minuteNow() {
  return Math.floor(Date.now() / MINUTE) * MINUTE;
}

describe('o365-schedule (runtime)', function () {
  this.timeout(30000);
  let sim;

  beforeEach(async () => {
    sim = await startSimulator({ eventCount: 100 });
  });
  afterEach(async () => {
    await helper.unload();
    await sim.close();
  });

  it('reads typed mailboxes in the order typed, in one getSchedule call, with the zone as Prefer', async () => {
    const typed = [sim.users.lee.upn, sim.users.alex.upn, sim.users.room202.upn];
    const { fb, out } = await load(sim, {
      mailboxes: `${typed[0]}\n${typed[1]}, ${typed[2]}`,
      timezone: 'Europe/Berlin',
      interval: 60,
    });
    const got = nextMessage(out);
    fb.receive({ payload: 'ignored' });
    const msg = await got;
    msg.payload.map((e) => e.mailbox).should.eql(typed);
    msg.payload.every((e) => e.error === null && typeof e.busy === 'boolean').should.be.true();
    msg.payload.every((e) => e.name === null).should.be.true();
    msg.payload[0].availabilityView.should.equal('00000000');
    msg.user.should.equal('');
    msg.window.start.should.match(/\+0[12]:00$/);
    const [request] = scheduleRequests(sim);
    scheduleRequests(sim).should.have.length(1);
    request.method.should.equal('POST');
    request.path.should.equal('/v1.0/me/calendar/getSchedule');
    request.headers.prefer.should.equal('outlook.timezone="W. Europe Standard Time"');
    const body = bodyOf(request);
    body.schedules.should.eql(typed);
    body.availabilityViewInterval.should.equal(60);
    body.startTime.timeZone.should.equal('UTC');
    (Date.parse(`${body.endTime.dateTime}Z`) - Date.parse(`${body.startTime.dateTime}Z`)).should.equal(
      8 * HOUR,
    );
    const free = msg.payload.filter((e) => e.busy === false).length;
    lastStatus(fb).should.eql({
      fill: 'green',
      shape: 'dot',
      text: lastStatus(fb).text,
    });
    lastStatus(fb).text.should.match(new RegExp(`^3 mailboxes · ${free} free · \\d\\d:\\d\\d$`));
  });

  it('gives an unknown mailbox its own error; the others still arrive', async () => {
    const { fb, out, caught } = await load(sim, {
      mailboxes: `${sim.users.alex.upn}\nnobody@contoso.onmicrosoft.com\n${sim.users.lee.upn}`,
    });
    const errors = collect(caught);
    const got = nextMessage(out);
    fb.receive({});
    const msg = await got;
    msg.payload
      .map((e) => e.mailbox)
      .should.eql([sim.users.alex.upn, 'nobody@contoso.onmicrosoft.com', sim.users.lee.upn]);
    const unknown = msg.payload[1];
    unknown.error.should.eql({
      code: '5009',
      message:
        'Unable to resolve e-mail address nobody@contoso.onmicrosoft.com to an Active Directory object.',
    });
    should(unknown.busy).be.null();
    should(unknown.availabilityView).be.null();
    unknown.items.should.eql([]);
    should(msg.payload[0].error).be.null();
    should(msg.payload[2].error).be.null();
    msg.payload[2].availabilityView.should.match(/^0+$/);
    lastStatus(fb).text.should.match(/^3 mailboxes · \d free · 1 unreadable · \d\d:\d\d$/);
    await new Promise((r) => setTimeout(r, 100));
    errors.should.be.empty();
  });

  it('250 rooms: ⌈250/20⌉ = 13 getSchedule calls plus the places pages, never more than 4 in flight; the listing is cached', async () => {
    await sim.close();
    sim = await startSimulator({ eventCount: 100, roomCount: 248 });
    sim.knobs.graphLatencyMs = 40;
    const rooms = sim.schedule.rooms();
    rooms.should.have.length(250);
    const { fb, out } = await load(sim, { allRooms: true, output: 'array' }, { places: true });
    sim.clearLog();
    sim.schedule.resetStats();
    let got = nextMessage(out, 20000);
    fb.receive({});
    let msg = await got;
    msg.payload.map((e) => e.mailbox).should.eql(rooms.map((r) => r.emailAddress));
    msg.payload.map((e) => e.name).should.eql(rooms.map((r) => r.displayName));
    msg.payload.every((e) => e.error === null).should.be.true();
    const calls = scheduleRequests(sim);
    calls.should.have.length(13);
    calls.every((r) => r.status === 200).should.be.true();
    const asked = calls.flatMap((r) => bodyOf(r).schedules);
    asked.should.have.length(250);
    new Set(asked.map((a) => a.toLowerCase())).size.should.equal(250);
    calls.every((r) => bodyOf(r).schedules.length <= 20).should.be.true();
    placesRequests(sim).should.have.length(3);
    placesRequests(sim)[0].path.should.equal('/v1.0/places/microsoft.graph.room');
    graphRequests(sim).should.have.length(16);
    sim.schedule.stats.maxInFlight.should.equal(4);
    sim.stats.maxInFlight[sim.users.megan.upn.toLowerCase()].should.be.belowOrEqual(4);
    const free = msg.payload.filter((e) => e.busy === false).length;
    free.should.be.above(0);
    free.should.be.below(250);
    lastStatus(fb).text.should.match(new RegExp(`^250 rooms · ${free} free · \\d\\d:\\d\\d$`));

    sim.clearLog();
    got = nextMessage(out, 20000);
    fb.receive({});
    msg = await got;
    msg.payload.should.have.length(250);
    scheduleRequests(sim).should.have.length(13);
    placesRequests(sim).should.have.length(0);
  });

  it('a room list restricts the rooms to that list’s, after the typed mailboxes', async () => {
    const list = sim.schedule.roomLists[1];
    const inList = sim.schedule.rooms({ roomList: list.emailAddress });
    inList.length.should.be.above(20);
    const { fb, out } = await load(
      sim,
      { mailboxes: sim.users.alex.upn, roomList: list.emailAddress, allRooms: true },
      { places: true },
    );
    const got = nextMessage(out);
    fb.receive({});
    const msg = await got;
    msg.payload.map((e) => e.mailbox).should.eql([sim.users.alex.upn, ...inList.map((r) => r.emailAddress)]);
    msg.payload
      .slice(1)
      .every((e) => e.name !== null)
      .should.be.true();
    const places = placesRequests(sim);
    places.should.have.length(1);
    places[0].rawPath.should.equal(
      `/v1.0/places/${encodeURIComponent(list.emailAddress)}/microsoft.graph.roomlist/rooms`,
    );
    scheduleRequests(sim).should.have.length(Math.ceil((inList.length + 1) / 20));
    // Not every entry is a listed room (alex is typed): the status counts mailboxes.
    lastStatus(fb).text.should.match(new RegExp(`^${inList.length + 1} mailboxes · `));
  });

  it('without Place.Read.All: the typed mailboxes still arrive, then an error naming the permission', async () => {
    const { fb, out, caught } = await load(sim, {
      mailboxes: `${sim.users.lee.upn}\n${sim.users.alex.upn}`,
      allRooms: true,
    });
    const got = nextMessage(out);
    const failed = nextMessage(caught);
    fb.receive({ topic: 'board' });
    const msg = await got;
    msg.payload.map((e) => e.mailbox).should.eql([sim.users.lee.upn, sim.users.alex.upn]);
    const error = await failed;
    error.error.code.should.equal('ErrorAccessDenied');
    error.error.message.should.match(/Place\.Read\.All/);
    error.error.message.should.match(/admin consent/);
    error.error.message.should.match(/scopes/);
    error.error.cause.status.should.equal(403);
    error.topic.should.equal('board');
    lastStatus(fb).fill.should.equal('red');
    lastStatus(fb).text.should.match(/Place\.Read\.All/);
    scheduleRequests(sim).should.have.length(1);
    bodyOf(scheduleRequests(sim)[0]).schedules.should.eql([sim.users.lee.upn, sim.users.alex.upn]);
  });

  it('without Place.Read.All and no typed mailboxes: only the error', async () => {
    const { fb, out, caught } = await load(sim, { allRooms: true });
    const messages = collect(out);
    const failed = nextMessage(caught);
    fb.receive({});
    (await failed).error.message.should.match(/Place\.Read\.All/);
    await new Promise((r) => setTimeout(r, 100));
    messages.should.be.empty();
    scheduleRequests(sim).should.be.empty();
  });

  it('busy, current, next, freeUntil and busyUntil against known schedules: overlapping, touching, spanning the window', async () => {
    const t = minuteNow();
    const at = (ms) => new Date(ms);
    // adele: busy now, the block runs on through a touching tentative and an overlapping oof, then a gap.
    sim.addEvent('adele', null, {
      subject: 'A',
      start: at(t - 30 * MINUTE),
      end: at(t + 10 * MINUTE),
      showAs: 'busy',
    });
    sim.addEvent('adele', null, {
      subject: 'B',
      start: at(t + 10 * MINUTE),
      end: at(t + 40 * MINUTE),
      showAs: 'tentative',
    });
    sim.addEvent('adele', null, {
      subject: 'C',
      start: at(t + 30 * MINUTE),
      end: at(t + 60 * MINUTE),
      showAs: 'oof',
    });
    sim.addEvent('adele', null, {
      subject: 'D',
      start: at(t + 90 * MINUTE),
      end: at(t + 120 * MINUTE),
      showAs: 'busy',
    });
    // lee: free now; free and working-elsewhere items do not count; the first busy one sets freeUntil.
    sim.addEvent('lee', null, {
      subject: 'E',
      start: at(t - 10 * MINUTE),
      end: at(t + 50 * MINUTE),
      showAs: 'free',
    });
    sim.addEvent('lee', null, {
      subject: 'F',
      start: at(t + 20 * MINUTE),
      end: at(t + 45 * MINUTE),
      showAs: 'workingElsewhere',
    });
    sim.addEvent('lee', null, {
      subject: 'G',
      start: at(t + 75 * MINUTE),
      end: at(t + 100 * MINUTE),
      showAs: 'busy',
    });
    // A mailbox booked by one item that starts before the window and ends after it.
    const long = sim.createBulkMailbox('long@contoso.onmicrosoft.com', 1, { start: t + 30 * DAY });
    sim.addEvent(long.upn, null, {
      subject: 'H',
      start: at(t - 3 * HOUR),
      end: at(t + 5 * HOUR),
      showAs: 'oof',
    });
    // A free mailbox whose only item lies beyond the window: nothing next, freeUntil null.
    const { fb, out } = await load(sim, {
      mailboxes: [sim.users.adele.upn, sim.users.lee.upn, long.upn, sim.users.megan.upn].join('\n'),
      start: 'now',
      end: 'now+2h',
      timezone: 'UTC',
    });
    const got = nextMessage(out);
    fb.receive({});
    const [adele, lee, spanning, megan] = (await got).payload;
    const iso = (ms) => new Date(ms).toISOString().replace('.000Z', '+00:00');

    adele.busy.should.be.true();
    adele.current.map((i) => i.start.ms).should.eql([t - 30 * MINUTE]);
    adele.busyUntil.should.equal(iso(t + 60 * MINUTE));
    should(adele.freeUntil).be.null();
    adele.next.start.ms.should.equal(t + 10 * MINUTE);
    adele.next.status.should.equal('tentative');
    adele.items.should.have.length(4);
    adele.items[0].start.should.have.properties({ ms: t - 30 * MINUTE, iso: iso(t - 30 * MINUTE) });
    adele.items[0].end.iso.should.equal(iso(t + 10 * MINUTE));

    lee.busy.should.be.false();
    lee.current.should.eql([]);
    should(lee.busyUntil).be.null();
    lee.freeUntil.should.equal(iso(t + 75 * MINUTE));
    lee.next.end.ms.should.equal(t + 100 * MINUTE);

    spanning.busy.should.be.true();
    spanning.busyUntil.should.equal(iso(t + 5 * HOUR));
    spanning.current[0].status.should.equal('oof');
    should(spanning.next).be.null();

    // megan's seeded calendar may hold meetings now: whatever it holds, the fields agree with each other.
    if (megan.busy) should(megan.freeUntil).be.null();
    else should(megan.busyUntil).be.null();
  });

  it('reads schedule items in the node’s zone: Prefer in Windows terms, instants right across the offset', async () => {
    const t = minuteNow();
    sim.addEvent('adele', null, { start: new Date(t + HOUR), end: new Date(t + 2 * HOUR), showAs: 'busy' });
    const { fb, out } = await load(sim, {
      mailboxes: sim.users.adele.upn,
      timezone: 'America/New_York',
      end: 'now+4h',
    });
    const got = nextMessage(out);
    fb.receive({});
    const [entry] = (await got).payload;
    scheduleRequests(sim)[0].headers.prefer.should.equal('outlook.timezone="Eastern Standard Time"');
    const item = entry.items[0];
    item.start.timeZone.should.equal('Eastern Standard Time');
    item.start.ms.should.equal(t + HOUR);
    item.end.ms.should.equal(t + 2 * HOUR);
    item.start.iso.should.match(/-0[45]:00$/);
    Date.parse(item.start.iso).should.equal(t + HOUR);
    // The wall-clock reading Graph sent is New York's.
    item.start.dateTime.slice(0, 16).should.equal(item.start.iso.slice(0, 16));
    entry.freeUntil.should.equal(item.start.iso);
  });

  describe('bad input: an error naming the field, and no request at all', () => {
    const cases = [
      ['no mailboxes and no rooms', { mailboxes: '' }, {}, 'INVALID_INPUT', 'mailboxes', /No mailboxes/],
      [
        'a bad address',
        { mailboxes: 'alex@contoso.onmicrosoft.com\nnot-an-address' },
        {},
        'INVALID_INPUT',
        'mailboxes',
        /"not-an-address" is not an SMTP address/,
      ],
      [
        'a window of 62 days',
        { mailboxes: 'alex@contoso.onmicrosoft.com' },
        { start: 'today', end: 'today+62d' },
        'INVALID_WINDOW',
        'end',
        /less than 62 days/,
      ],
      [
        'an interval below 5',
        { mailboxes: 'alex@contoso.onmicrosoft.com', interval: 4 },
        {},
        'INVALID_INPUT',
        'interval',
        /from 5 to 1440/,
      ],
      [
        'an interval above 1440',
        { mailboxes: 'alex@contoso.onmicrosoft.com', interval: '1441' },
        {},
        'INVALID_INPUT',
        'interval',
        /from 5 to 1440/,
      ],
      ['a bad room list', { roomList: 'building 1' }, {}, 'INVALID_INPUT', 'roomList', /not an SMTP address/],
    ];
    for (const [what, props, msg, code, field, message] of cases) {
      it(what, async () => {
        const { fb, caught, out } = await load(sim, props, { places: true });
        const messages = collect(out);
        sim.clearLog();
        const failed = nextMessage(caught);
        fb.receive(msg);
        const { error } = await failed;
        error.code.should.equal(code);
        error.cause.field.should.equal(field);
        error.message.should.match(message);
        graphRequests(sim).should.be.empty();
        messages.should.be.empty();
        lastStatus(fb).fill.should.equal('red');
      });
    }

    it('a window of just under 62 days is sent', async () => {
      const { fb, out } = await load(sim, { mailboxes: sim.users.alex.upn });
      const got = nextMessage(out);
      fb.receive({ start: 'today', end: 'today+61d' });
      await got;
      scheduleRequests(sim).should.have.length(1);
    });
  });

  it('allowMsgMailbox off ignores msg.payload; on, a list of addresses in msg.payload chooses, and is checked', async () => {
    let { fb, out } = await load(sim, { mailboxes: sim.users.lee.upn });
    let got = nextMessage(out);
    fb.receive({ payload: [sim.users.alex.upn, sim.users.adele.upn] });
    (await got).payload.map((e) => e.mailbox).should.eql([sim.users.lee.upn]);
    bodyOf(scheduleRequests(sim)[0]).schedules.should.eql([sim.users.lee.upn]);
    await helper.unload();

    let caught;
    ({ fb, out, caught } = await load(sim, { mailboxes: sim.users.lee.upn, allowMsgMailbox: true }));
    got = nextMessage(out);
    fb.receive({ payload: [sim.users.alex.upn, sim.users.adele.upn] });
    (await got).payload.map((e) => e.mailbox).should.eql([sim.users.alex.upn, sim.users.adele.upn]);
    // An inject node's timestamp is no list: the node's own mailboxes.
    got = nextMessage(out);
    fb.receive({ payload: Date.now() });
    (await got).payload.map((e) => e.mailbox).should.eql([sim.users.lee.upn]);
    sim.clearLog();
    const failed = nextMessage(caught);
    fb.receive({ payload: ['alex@contoso.onmicrosoft.com', { evil: true }] });
    const { error } = await failed;
    error.code.should.equal('INVALID_INPUT');
    error.cause.field.should.equal('payload');
    graphRequests(sim).should.be.empty();
  });

  it('output each: one message per mailbox with msg.parts, which the join node turns back into the array', async () => {
    const typed = [sim.users.lee.upn, sim.users.alex.upn, sim.users.adele.upn];
    const flow = scheduleFlow(
      sim,
      { mailboxes: typed.join(','), output: 'each' },
      {
        extra: [
          { id: 'join', type: 'join', mode: 'auto', wires: [['joined']] },
          { id: 'joined', type: 'helper' },
        ],
      },
    );
    flow.find((n) => n.id === 'fb').wires = [['out', 'join']];
    const { NODES } = require('../lib/nodes');
    await helper.load([...NODES, coreNode('sequence/17-split.js')], flow, {
      cfg: signedInCredentials(sim, 'cfg').cfg,
    });
    const messages = collect(helper.getNode('out'));
    const joined = nextMessage(helper.getNode('joined'));
    helper.getNode('fb').receive({ topic: 'x' });
    const whole = await joined;
    messages.map((m) => m.payload.mailbox).should.eql(typed);
    messages.map((m) => m.parts.index).should.eql([0, 1, 2]);
    messages
      .every((m) => m.parts.count === 3 && m.parts.type === 'array' && m.topic === 'x')
      .should.be.true();
    whole.payload.map((e) => e.mailbox).should.eql(typed);
  });

  it('application mode: needs the mailbox to ask as, then calls /users/{id}/calendar/getSchedule', async () => {
    sim.knobs.appPlaceReadAll = true;
    const first = await load(sim, { mailboxes: sim.users.room202.upn }, { app: true });
    const failed = nextMessage(first.caught);
    first.fb.receive({});
    const { error } = await failed;
    error.cause.field.should.equal('user');
    graphRequests(sim).should.be.empty();
    await helper.unload();

    const { fb, out } = await load(
      sim,
      {
        user: sim.users.megan.upn,
        mailboxes: sim.users.room202.upn,
        roomList: sim.schedule.roomLists[0].emailAddress,
      },
      { app: true },
    );
    const got = nextMessage(out);
    fb.receive({});
    const msg = await got;
    msg.user.should.equal(sim.users.megan.upn);
    msg.payload[0].mailbox.should.equal(sim.users.room202.upn);
    msg.payload.length.should.equal(
      1 + sim.schedule.rooms({ roomList: sim.schedule.roomLists[0].emailAddress }).length,
    );
    scheduleRequests(sim)[0].rawPath.should.equal(
      `/v1.0/users/${encodeURIComponent(sim.users.megan.upn)}/calendar/getSchedule`,
    );
  });

  it('a national cloud has no places API: a clear error before any request', async () => {
    // The check looks at the Graph endpoint; a custom cloud at the US Government host stands in for it.
    const props = { allRooms: true };
    const { node } = configFor(sim, { graphEndpoint: 'https://graph.microsoft.us' });
    const flow = scheduleFlow(sim, props);
    flow[1] = node;
    await loadFlow(flow, { cfg: signedInCredentials(sim, 'cfg').cfg });
    const fb = helper.getNode('fb');
    const failed = nextMessage(helper.getNode('caught'));
    fb.receive({});
    const { error } = await failed;
    error.code.should.equal('PLACES_UNAVAILABLE');
    error.message.should.match(/global cloud/);
    graphRequests(sim).should.be.empty();
  });

  it('polls on its own, with msg.topic "poll"', async () => {
    const { out } = await load(sim, { mailboxes: sim.users.lee.upn, pollMinutes: 0.01 });
    const first = await nextMessage(out, 5000);
    first.topic.should.equal('poll');
    await nextMessage(out, 5000);
    scheduleRequests(sim).length.should.be.aboveOrEqual(2);
  });

  it('the "Room board" example: every room, free ones first, by name, with until and next (no function node)', async () => {
    const fs = require('fs');
    const path = require('path');
    const example = JSON.parse(
      fs.readFileSync(path.join(__dirname, '..', '..', 'examples', 'Room board.json'), 'utf8'),
    );
    example.some((n) => n.type === 'function').should.be.false();
    const { node: config } = configFor(sim, { scopes: PLACES_SCOPES });
    const flow = example
      .filter((n) => n.type !== 'o365-config' && n.type !== 'comment')
      .map((n) => {
        if (n.type === 'o365-schedule') return { ...n, config: config.id, wires: [[...n.wires[0], 'raw']] };
        if (n.type === 'debug') return { id: n.id, z: n.z, x: n.x, y: n.y, type: 'helper' };
        return n;
      });
    flow.push(config, { id: 'raw', z: 'ex-rooms', x: 500, y: 200, type: 'helper' });
    const { NODES } = require('../lib/nodes');
    const cores = ['function/15-change.js', 'sequence/18-sort.js', 'common/25-catch.js'].map(coreNode);
    await helper.load([...NODES, ...cores], flow, {
      cfg: signedInCredentials(sim, 'cfg', 'confidential', PLACES_SCOPES).cfg,
    });
    // The example polls every minute; the first read comes right after the deploy.
    const [raw, board] = await Promise.all([
      nextMessage(helper.getNode('raw'), 20000),
      nextMessage(helper.getNode('ex-rooms-d'), 20000),
    ]);
    raw.payload.should.have.length(sim.schedule.rooms().length);
    board.payload.should.have.length(raw.payload.length);
    const rank = { free: 0, busy: 1, unknown: 2 };
    for (let i = 1; i < board.payload.length; i++) {
      const [a, b] = [board.payload[i - 1], board.payload[i]];
      (rank[a.state] < rank[b.state] || (a.state === b.state && a.room <= b.room)).should.be.true(
        `${JSON.stringify(a)} before ${JSON.stringify(b)}`,
      );
    }
    const byName = new Map(raw.payload.map((e) => [e.name, e]));
    for (const row of board.payload) {
      const entry = byName.get(row.room);
      row.state.should.equal(entry.busy ? 'busy' : 'free');
      row.until.should.equal(((entry.busy ? entry.busyUntil : entry.freeUntil) || '').slice(11, 16));
      row.next.should.equal(entry.next ? entry.next.start.iso.slice(11, 16) : '');
      row.now.should.equal(entry.busy ? entry.current[0].subject || 'busy' : '');
    }
    board.payload.filter((r) => r.state === 'free').length.should.be.above(0);
    board.payload.filter((r) => r.state === 'busy').length.should.be.above(0);
  });

  describe('editor pickers (admin API)', () => {
    const post = (path, body, type = 'application/json') =>
      helper
        .request()
        .post(path)
        .set('Content-Type', type)
        .send(typeof body === 'string' ? body : JSON.stringify(body));

    it('lists the rooms, a room list’s rooms and the room lists for a signed-in config node', async () => {
      await load(sim, { mailboxes: sim.users.lee.upn }, { places: true });
      let res = await post('/o365/places/rooms', { id: 'cfg' });
      res.status.should.equal(200);
      res.body.map((r) => r.emailAddress).should.eql(sim.schedule.rooms().map((r) => r.emailAddress));
      res.body[0].should.have.properties({
        displayName: 'Room 1.01',
        capacity: 8,
        building: '1',
        floorNumber: 1,
      });
      res = await post('/o365/places/roomlists', { id: 'cfg' });
      res.status.should.equal(200);
      res.body.map((l) => l.displayName).should.containDeep(['Building 1', 'Building 6']);
      res = await post('/o365/places/rooms', { id: 'cfg', roomList: res.body[2].emailAddress });
      res.body.every((r) => r.building === '3').should.be.true();
    });

    it('JSON only, small bodies, known config nodes; a missing permission is named', async () => {
      await load(sim, { mailboxes: sim.users.lee.upn });
      (await post('/o365/places/rooms', 'id=cfg', 'application/x-www-form-urlencoded')).status.should.equal(
        415,
      );
      (await post('/o365/places/rooms', { id: 'cfg', roomList: 'x'.repeat(2000) })).status.should.equal(413);
      (await post('/o365/places/rooms', { id: 'nope' })).status.should.equal(404);
      (await post('/o365/places/roomlists', { id: '../x' })).status.should.equal(400);
      const denied = await post('/o365/places/rooms', { id: 'cfg' });
      denied.status.should.equal(400);
      denied.body.message.should.match(/Place\.Read\.All/);
      JSON.stringify(denied.body).should.not.match(/eyJ/);
      const cross = await helper
        .request()
        .post('/o365/places/rooms')
        .set('Content-Type', 'application/json')
        .set('Origin', 'https://evil.example')
        .send('{"id":"cfg"}');
      cross.status.should.equal(403);
    });
  });
});
