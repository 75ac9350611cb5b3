// The simulated getSchedule and places API: shapes, availabilityView digits, per-schedule errors, limits,
// permissions and paging, as Microsoft documents them.
'use strict';
require('should');
const { startSimulator } = require('./simulator');
const { availabilityView } = require('./schedule');
const h = require('./helpers');

const D0 = Date.UTC(2026, 10, 27); // the anchor's date, a Friday
const HOUR = 3_600_000;
const MINUTE = 60_000;

describe('simulator: getSchedule and places', function () {
  let sim;
  let megan;
  before(async () => {
    sim = await startSimulator({ seed: 7, eventCount: 100, anchor: h.ANCHOR, roomCount: 250 });
    megan = sim.issueTokens({ scope: `${h.SCOPES} Place.Read.All` });
  });
  after(() => sim.close());
  h.restoreKnobs(() => sim);

  async function post(path, body, { token = megan.access_token, headers = {} } = {}) {
    const res = await fetch(`${sim.url}${path}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json(), headers: res.headers };
  }
  const utc = (ms) => ({ dateTime: new Date(ms).toISOString().slice(0, 19), timeZone: 'UTC' });
  const schedule = (schedules, from, to, extra = {}, options) =>
    post(
      '/v1.0/me/calendar/getSchedule',
      { schedules, startTime: utc(from), endTime: utc(to), ...extra },
      options,
    );

  describe('getSchedule', function () {
    it('answers one scheduleInformation per address in order, digits derived from the mailbox’s events', async function () {
      const adele = sim.users.adele.upn;
      const day = D0 + 3 * h.DAY;
      sim.addEvent('adele', null, {
        subject: 'Busy',
        start: new Date(day + 9 * HOUR),
        end: new Date(day + 10 * HOUR),
        showAs: 'busy',
      });
      sim.addEvent('adele', null, {
        subject: 'Maybe',
        start: new Date(day + 9 * HOUR + 30 * MINUTE),
        end: new Date(day + 11 * HOUR),
        showAs: 'tentative',
      });
      sim.addEvent('adele', null, {
        subject: 'Away',
        start: new Date(day + 12 * HOUR),
        end: new Date(day + 12 * HOUR + 15 * MINUTE),
        showAs: 'oof',
      });
      sim.addEvent('adele', null, {
        subject: 'Elsewhere',
        start: new Date(day + 13 * HOUR),
        end: new Date(day + 14 * HOUR),
        showAs: 'workingElsewhere',
      });
      sim.addEvent('adele', null, {
        subject: 'Cancelled',
        start: new Date(day + 15 * HOUR),
        end: new Date(day + 16 * HOUR),
        isCancelled: true,
      });
      const { status, body } = await schedule([adele, sim.users.lee.upn], day + 8 * HOUR, day + 16 * HOUR, {
        availabilityViewInterval: 60,
      });
      status.should.equal(200);
      body['@odata.context'].should.endWith('$metadata#Collection(microsoft.graph.scheduleInformation)');
      body.value.map((v) => v.scheduleId).should.eql([adele, sim.users.lee.upn]);
      // 08 free, 09 busy (tentative at 09:30 is weaker), 10 tentative, 11 free, 12 oof, 13 elsewhere, 14-15 free.
      body.value[0].availabilityView.should.equal('02103400');
      body.value[1].availabilityView.should.equal('00000000');
      body.value[1].scheduleItems.should.eql([]);
      const items = body.value[0].scheduleItems;
      items.map((i) => i.status).should.eql(['busy', 'tentative', 'oof', 'workingElsewhere']);
      items[0].start.should.eql({ dateTime: '2026-11-30T09:00:00.0000000', timeZone: 'UTC' });
      // Adele's calendar is not shared with megan: free/busy only, no subject or location.
      items.every((i) => i.subject === undefined && i.location === undefined).should.be.true();
      body.value[0].workingHours.daysOfWeek.should.have.length(5);
    });

    it('shows subject and location only where the calendar is shared with the caller, never of private items', async function () {
      const room = sim.users.room101.upn;
      const day = D0 + 4 * h.DAY;
      sim.addEvent('room101', null, {
        subject: 'Board',
        start: new Date(day + HOUR),
        end: new Date(day + 2 * HOUR),
        location: 'Room 1.01',
      });
      sim.addEvent('room101', null, {
        subject: 'Secret',
        start: new Date(day + 3 * HOUR),
        end: new Date(day + 4 * HOUR),
        sensitivity: 'private',
      });
      let { body } = await schedule([room], day, day + 6 * HOUR);
      const items = body.value[0].scheduleItems;
      items[0].should.containEql({
        subject: 'Board',
        location: 'Room 1.01',
        isPrivate: false,
        status: 'busy',
      });
      items[1].isPrivate.should.be.true();
      (items[1].subject === undefined).should.be.true();
      sim.knobs.roomSharedWithMegan = false;
      ({ body } = await schedule([room], day, day + 6 * HOUR));
      body.value[0].scheduleItems.every((i) => i.subject === undefined).should.be.true();
    });

    it('gives an address it cannot resolve its own error; the others still answer', async function () {
      const { status, body } = await schedule(
        [sim.users.alex.upn, 'nobody@contoso.onmicrosoft.com', sim.users.lee.upn],
        D0,
        D0 + h.DAY,
      );
      status.should.equal(200);
      body.value.should.have.length(3);
      body.value[1].should.eql({
        scheduleId: 'nobody@contoso.onmicrosoft.com',
        error: {
          message:
            'Unable to resolve e-mail address nobody@contoso.onmicrosoft.com to an Active Directory object.',
          responseCode: '5009',
        },
      });
      body.value[0].availabilityView.should.have.length(48);
      body.value[2].availabilityView.should.equal('0'.repeat(48));
    });

    it('refuses more than 20 schedules, a span of 62 days or more, an interval outside 5–1440', async function () {
      const rooms = sim.schedule.rooms().map((r) => r.emailAddress);
      let answer = await schedule(rooms.slice(0, 21), D0, D0 + h.DAY);
      answer.status.should.equal(400);
      answer.body.error.code.should.equal('ErrorMailboxDataArrayTooBig');
      answer.body.error.message.should.match(/allowed size = 20; the actual size = 21/);
      (await schedule(rooms.slice(0, 20), D0, D0 + h.DAY)).status.should.equal(200);

      answer = await schedule([rooms[0]], D0, D0 + 62 * h.DAY);
      answer.status.should.equal(400);
      answer.body.error.code.should.equal('ErrorTimeIntervalTooBig');
      (await schedule([rooms[0]], D0, D0 + 62 * h.DAY - MINUTE)).status.should.equal(200);

      for (const interval of [4, 1441, 7.5, 'x']) {
        answer = await schedule([rooms[0]], D0, D0 + h.DAY, { availabilityViewInterval: interval });
        answer.status.should.equal(400, String(interval));
        answer.body.error.code.should.equal('ErrorInvalidParameter');
      }
      for (const interval of [5, 1440, '15']) {
        (
          await schedule([rooms[0]], D0, D0 + h.DAY, { availabilityViewInterval: interval })
        ).status.should.equal(200);
      }
      answer = await schedule([rooms[0]], D0, D0 + h.DAY, { availabilityViewInterval: 1440 });
      answer.body.value[0].availabilityView.should.have.length(1);
      answer = await post('/v1.0/me/calendar/getSchedule', '{"schedules":');
      answer.status.should.equal(400);
    });

    it('reads times in their zone, answers in the Prefer zone, and takes the documented capitalised names', async function () {
      const day = D0 + 5 * h.DAY;
      sim.addEvent('lee', null, { start: new Date(day + 9 * HOUR), end: new Date(day + 10 * HOUR) });
      const { body } = await post(
        '/v1.0/me/calendar/getSchedule',
        {
          Schedules: [sim.users.lee.upn],
          StartTime: { dateTime: '2026-12-02T08:00:00', timeZone: 'W. Europe Standard Time' },
          EndTime: { dateTime: '2026-12-02T12:00:00', timeZone: 'W. Europe Standard Time' },
          availabilityViewInterval: '60',
        },
        { headers: { Prefer: 'outlook.timezone="Pacific Standard Time"' } },
      );
      // 09:00-10:00 UTC is 10:00-11:00 in Berlin (slot 2 of 08..12) and 01:00 in Pacific time.
      body.value[0].availabilityView.should.equal('0020');
      body.value[0].scheduleItems[0].start.should.eql({
        dateTime: '2026-12-02T01:00:00.0000000',
        timeZone: 'Pacific Standard Time',
      });
    });

    it('works for application tokens on /users/{id}, refuses /me for them, and needs a Calendars permission', async function () {
      const app = sim.issueTokens({ appOnly: true }).access_token;
      const path = `/v1.0/users/${encodeURIComponent(sim.users.megan.upn)}/calendar/getSchedule`;
      const body = { schedules: [sim.users.room202.upn], startTime: utc(D0), endTime: utc(D0 + h.DAY) };
      (await post(path, body, { token: app })).status.should.equal(200);
      (await post('/v1.0/me/calendar/getSchedule', body, { token: app })).status.should.equal(400);
      const noCalendars = sim.issueTokens({ scope: 'openid User.Read' }).access_token;
      const denied = await post('/v1.0/me/calendar/getSchedule', body, { token: noCalendars });
      denied.status.should.equal(403);
      denied.body.error.code.should.equal('ErrorAccessDenied');
      (await post('/v1.0/me/calendar/getSchedule', body, { token: 'nope' })).status.should.equal(401);
    });

    it('counts requests and the calls in flight, and keeps Graph’s 4-per-mailbox limit', async function () {
      sim.knobs.graphLatencyMs = 60;
      sim.schedule.resetStats();
      const rooms = sim.schedule.rooms().map((r) => r.emailAddress);
      const answers = await Promise.all(
        [0, 1, 2, 3, 4].map((i) => schedule(rooms.slice(i * 20, i * 20 + 20), D0, D0 + h.DAY)),
      );
      answers
        .map((a) => a.status)
        .sort()
        .should.eql([200, 200, 200, 200, 429]);
      sim.schedule.stats.getSchedule.should.equal(4);
      sim.schedule.stats.maxInFlight.should.equal(4);
    });

    it('derives the digits by the strongest status per slot (unit)', function () {
      const blocks = [
        { from: 0, to: 30 * MINUTE, status: 'tentative' },
        { from: 15 * MINUTE, to: 45 * MINUTE, status: 'busy' },
        { from: 60 * MINUTE, to: 61 * MINUTE, status: 'oof' },
        { from: 90 * MINUTE, to: 120 * MINUTE, status: 'free' },
      ];
      availabilityView(blocks, 0, 120 * MINUTE, 30).should.equal('2230');
      availabilityView(blocks, 0, 100 * MINUTE, 30).should.equal('2230');
    });
  });

  describe('places', function () {
    const get = (path, token = megan.access_token) => h.graph(sim, path, token);

    it('lists a few hundred rooms in pages of 100, following @odata.nextLink, hidden rooms left out', async function () {
      const first = await get('/v1.0/places/microsoft.graph.room');
      first.status.should.equal(200);
      first.body['@odata.context'].should.endWith('$metadata#places/microsoft.graph.room');
      first.body.value.should.have.length(100);
      first.body['@odata.nextLink'].should.match(/\$skip=100/);
      const { items, requests } = await h.graphAll(
        sim,
        '/v1.0/places/microsoft.graph.room',
        megan.access_token,
      );
      items.should.have.length(252);
      requests.should.equal(3);
      items[0].should.containEql({ emailAddress: sim.users.room101.upn, displayName: 'Room 1.01' });
      items.map((r) => r.emailAddress).should.not.containEql(`room.hidden@${sim.tenantDomain}`);
      items[5].should.have.properties('id', 'capacity', 'building', 'floorNumber', 'address', 'tags');
      new Set(items.map((r) => r.emailAddress)).size.should.equal(252);
      const lean = await get('/v1.0/places/microsoft.graph.room?$top=300&$select=emailAddress,displayName');
      lean.body.value.should.have.length(252);
      Object.keys(lean.body.value[3]).should.eql(['id', 'emailAddress', 'displayName']);
      (await get('/v1.0/places/microsoft.graph.room?$select=nope')).status.should.equal(400);
    });

    it('lists the room lists and a list’s rooms (by its address); an unknown list is 404', async function () {
      const lists = await get('/v1.0/places/microsoft.graph.roomlist');
      lists.body.value
        .map((l) => l.displayName)
        .should.eql(['Building 1', 'Building 2', 'Building 3', 'Building 4', 'Building 5', 'Building 6']);
      const email = lists.body.value[1].emailAddress;
      const { items } = await h.graphAll(
        sim,
        `/v1.0/places/${encodeURIComponent(email)}/microsoft.graph.roomlist/rooms`,
        megan.access_token,
      );
      items.every((r) => r.building === '2').should.be.true();
      items.map((r) => r.emailAddress).should.containEql(sim.users.room202.upn);
      items.length.should.equal(sim.schedule.rooms({ roomList: email }).length);
      items.length.should.be.above(30);
      const unknown = await get(
        '/v1.0/places/nowhere%40contoso.onmicrosoft.com/microsoft.graph.roomlist/rooms',
      );
      unknown.status.should.equal(404);
    });

    it('needs Place.Read.All: 403 without it, delegated or application', async function () {
      const plain = sim.issueTokens({}).access_token;
      const denied = await get('/v1.0/places/microsoft.graph.room', plain);
      denied.status.should.equal(403);
      denied.body.error.code.should.equal('ErrorAccessDenied');
      const app = sim.issueTokens({ appOnly: true }).access_token;
      (await get('/v1.0/places/microsoft.graph.room', app)).status.should.equal(403);
      sim.knobs.appPlaceReadAll = true;
      (await get('/v1.0/places/microsoft.graph.room', app)).status.should.equal(200);
    });

    it('books generated rooms round the clock: the calendar view and getSchedule agree', async function () {
      const room = sim.schedule.rooms()[10].emailAddress;
      const from = D0;
      const to = D0 + h.DAY;
      // A room shares only free/busy with colleagues: its calendar is read with an app token.
      const view = await get(
        `/v1.0/users/${encodeURIComponent(room)}/calendar/calendarView?startDateTime=${h.iso(from)}&endDateTime=${h.iso(to)}&$top=1000`,
        sim.issueTokens({ appOnly: true }).access_token,
      );
      view.status.should.equal(200);
      view.body.value.length.should.be.above(4);
      const { body } = await schedule([room], from, to);
      body.value[0].scheduleItems.length.should.equal(view.body.value.length);
      body.value[0].availabilityView.should.match(/2/);
      body.value[0].availabilityView.should.match(/0/);
    });
  });
});
