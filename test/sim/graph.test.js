// The simulated Graph calendar API: views, paging, $select/$orderby, time zones, access, throttling, faults, log.
'use strict';
require('should');
const { startSimulator } = require('./simulator');
const h = require('./helpers');

const D0 = Date.UTC(2026, 10, 27); // the anchor's date, a Friday
const WIDE = `startDateTime=${h.iso(D0 - 30 * h.DAY)}&endDateTime=${h.iso(D0 + 90 * h.DAY)}`;

describe('simulator: Graph calendar API', function () {
  let sim;
  let megan; // a delegated token set for megan (confidential app)
  before(async () => {
    sim = await startSimulator({ seed: 11, eventCount: 600, anchor: h.ANCHOR });
    megan = sim.issueTokens({});
  });
  after(() => sim.close());
  h.restoreKnobs(() => sim);

  const get = (path, headers) => h.graph(sim, path, megan.access_token, headers);
  const appToken = () => sim.issueTokens({ appOnly: true }).access_token;

  function shouldBeGraphError(answer, status, code) {
    answer.status.should.equal(status);
    answer.body.error.code.should.equal(code);
    answer.body.error.innerError.should.have.properties('date', 'request-id', 'client-request-id');
    answer.headers.get('request-id').should.equal(answer.body.error.innerError['request-id']);
  }

  describe('calendarView', function () {
    it('expands the stand-up series: occurrences, exceptions (moved, renamed, cancelled), deleted ones absent', async function () {
      const f = sim.fixtures.standup;
      const window = `startDateTime=${h.iso(D0 + 3 * h.DAY)}&endDateTime=${h.iso(D0 + 10 * h.DAY)}`;
      const { body } = await get(`/v1.0/me/calendarView?${window}&$top=1000`);
      const series = body.value.filter((e) => e.seriesMasterId === f.seriesMasterId);
      const byId = new Map(series.map((e) => [e.id, e]));
      series.every((e) => e.type === 'occurrence' || e.type === 'exception').should.be.true();
      byId.get(f.movedId).type.should.equal('exception');
      byId.get(f.movedId).start.dateTime.should.equal('2026-11-30T10:00:00.0000000'); // 11:00 W. Europe
      byId.get(f.changedId).subject.should.equal('Stand-up (demo day)');
      byId.get(f.cancelledId).isCancelled.should.be.true();
      byId.get(f.movedToOtherDayId).start.dateTime.should.equal('2026-12-05T15:00:00.0000000');
      byId.has(f.deleted.id).should.be.false();
      // Mon 30 Nov .. Fri 4 Dec: five occurrences, one deleted (Friday's, moved to Saturday, is still in the window).
      series.length.should.equal(4);
      series
        .filter((e) => e.type === 'occurrence')
        .every((e) => e.start.dateTime.endsWith('T08:15:00.0000000'))
        .should.be.true();
      body.value.filter((e) => e.type === 'seriesMaster').should.be.empty();
    });

    it('keeps a cancelled single meeting in the view with isCancelled', async function () {
      const { body } = await get(`/v1.0/me/calendarView?${WIDE}&$top=1000&$select=isCancelled,subject`);
      const cancelled = body.value.find((e) => e.id === sim.fixtures.cancelled[0]);
      cancelled.isCancelled.should.be.true();
      cancelled.subject.should.startWith('Canceled:');
    });

    it('returns the events overlapping [start, end) only, which is what expectedView computes', async function () {
      const start = D0 + 1 * h.DAY + 9 * 3600000;
      const end = D0 + 2 * h.DAY + 13 * 3600000;
      const { items } = await h.graphAll(
        sim,
        `/v1.0/me/calendarView?startDateTime=${h.iso(start)}&endDateTime=${h.iso(end)}&$top=7&$orderby=start/dateTime`,
        megan.access_token,
      );
      items.map((e) => e.id).should.eql(sim.expectedView({ start, end }));
      for (const e of items.filter((x) => !x.isAllDay)) {
        (Date.parse(`${e.start.dateTime.slice(0, 23)}Z`) < end).should.be.true();
        (Date.parse(`${e.end.dateTime.slice(0, 23)}Z`) > start).should.be.true();
      }
    });

    it('requires startDateTime and endDateTime (ErrorInvalidParameter)', async function () {
      shouldBeGraphError(await get('/v1.0/me/calendarView'), 400, 'ErrorInvalidParameter');
      shouldBeGraphError(
        await get(`/v1.0/me/calendarView?startDateTime=${h.iso(D0)}`),
        400,
        'ErrorInvalidParameter',
      );
    });

    it("honours an offset sent as %2B and refuses a literal '+', which arrives as a space", async function () {
      const z = await get(
        `/v1.0/me/calendarView?startDateTime=2026-11-27T08:00:00Z&endDateTime=2026-11-28T08:00:00Z&$top=100`,
      );
      const plus = await get(
        '/v1.0/me/calendarView?startDateTime=2026-11-27T09:00:00%2B01:00&endDateTime=2026-11-28T09:00:00%2B01:00&$top=100',
      );
      plus.status.should.equal(200);
      plus.body.value.map((e) => e.id).should.eql(z.body.value.map((e) => e.id));
      const literal = await get(
        '/v1.0/me/calendarView?startDateTime=2026-11-27T09:00:00+01:00&endDateTime=2026-11-28T09:00:00+01:00',
      );
      shouldBeGraphError(literal, 400, 'ErrorInvalidParameter');
    });

    it('treats a time without offset as UTC', async function () {
      const a = await get(
        '/v1.0/me/calendarView?startDateTime=2026-11-27T08:00:00&endDateTime=2026-11-28T08:00:00&$top=100',
      );
      const b = await get(
        '/v1.0/me/calendarView?startDateTime=2026-11-27T08:00:00Z&endDateTime=2026-11-28T08:00:00Z&$top=100',
      );
      a.body.value.map((e) => e.id).should.eql(b.body.value.map((e) => e.id));
    });

    it('refuses a window over 1825 days (ErrorInvalidRequest)', async function () {
      const start = Date.UTC(2026, 0, 1);
      const over = await get(
        `/v1.0/me/calendarView?startDateTime=${h.iso(start)}&endDateTime=${h.iso(start + 1826 * h.DAY)}`,
      );
      shouldBeGraphError(over, 400, 'ErrorInvalidRequest');
      over.body.error.message.should.containEql('Maximum number of days: 1825');
      (
        await get(
          `/v1.0/me/calendarView?startDateTime=${h.iso(start)}&endDateTime=${h.iso(start + 1825 * h.DAY)}`,
        )
      ).status.should.equal(200);
    });
  });

  describe('events', function () {
    it('lists single events and series masters (with recurrence), never occurrences', async function () {
      const { items } = await h.graphAll(sim, '/v1.0/me/events?$top=1000', megan.access_token);
      items.map((e) => e.id).should.eql(sim.expectedEvents({}));
      new Set(items.map((e) => e.type)).should.eql(new Set(['singleInstance', 'seriesMaster']));
      const master = items.find((e) => e.id === sim.fixtures.standup.seriesMasterId);
      master.recurrence.pattern.type.should.equal('weekly');
      master.recurrence.pattern.daysOfWeek.should.have.length(5);
      master.recurrence.range.should.have.properties({
        type: 'endDate',
        recurrenceTimeZone: 'W. Europe Standard Time',
      });
      items
        .filter((e) => e.type === 'singleInstance')
        .every((e) => e.recurrence === null)
        .should.be.true();
    });
  });

  describe('paging and query options', function () {
    it('pages with $top and an absolute @odata.nextLink that carries the same query', async function () {
      const first = await get(`/v1.0/me/calendarView?${WIDE}&$top=250&$orderby=start/dateTime`);
      const next = first.body['@odata.nextLink'];
      next.should.startWith(`${sim.url}/v1.0/me/calendarView?`);
      next.should.containEql(WIDE).and.containEql('$top=250').and.containEql('$skip=250');
      first.body['@odata.context'].should.startWith(`${sim.url}/v1.0/$metadata#users(`);
      const { items, requests } = await h.graphAll(
        sim,
        `/v1.0/me/calendarView?${WIDE}&$top=250&$orderby=start/dateTime`,
        megan.access_token,
      );
      requests.should.equal(3);
      items.length.should.equal(600);
      items.map((e) => e.id).should.eql(sim.expectedView({ start: D0 - 30 * h.DAY, end: D0 + 90 * h.DAY }));
    });

    it('pages by 10 without $top', async function () {
      const { body } = await get(`/v1.0/me/calendarView?${WIDE}`);
      body.value.should.have.length(10);
      body['@odata.nextLink'].should.containEql('$skip=10');
    });

    it('accepts $top from 1 to 1000 only', async function () {
      for (const top of ['0', '1001', 'abc', '-1']) {
        shouldBeGraphError(
          await get(`/v1.0/me/calendarView?${WIDE}&$top=${top}`),
          400,
          'ErrorInvalidParameter',
        );
      }
      const max = await get(`/v1.0/me/calendarView?${WIDE}&$top=1000`);
      max.body.value.should.have.length(600);
      max.body.should.not.have.property('@odata.nextLink');
    });

    it('trims objects to $select plus id and @odata.etag, and saves bytes', async function () {
      const full = await get(`/v1.0/me/calendarView?${WIDE}&$top=50`);
      const slim = await get(`/v1.0/me/calendarView?${WIDE}&$top=50&$select=subject,start,end`);
      for (const e of slim.body.value)
        Object.keys(e).sort().should.eql(['@odata.etag', 'end', 'id', 'start', 'subject']);
      (slim.text.length * 5).should.be.below(full.text.length);
      slim.body['@odata.context'].should.endWith('(subject,start,end)');
      full.body.value[0].should.have.properties(
        'body',
        'attendees',
        'organizer',
        'iCalUId',
        'changeKey',
        'webLink',
      );
      full.body.value[0].body.contentType.should.equal('html');
    });

    it("refuses an unknown $select property with Graph's message", async function () {
      const answer = await get(`/v1.0/me/calendarView?${WIDE}&$select=subject,fooBar`);
      answer.status.should.equal(400);
      answer.body.error.message.should.equal(
        "Could not find a property named 'fooBar' on type 'microsoft.graph.event'.",
      );
    });

    it('sorts by start with $orderby=start/dateTime and keeps storage order without it', async function () {
      const sorted = (
        await get(`/v1.0/me/calendarView?${WIDE}&$top=1000&$orderby=start/dateTime&$select=start`)
      ).body.value;
      const plain = (await get(`/v1.0/me/calendarView?${WIDE}&$top=1000&$select=start`)).body.value;
      const starts = sorted.map((e) => e.start.dateTime);
      starts.should.eql(starts.slice().sort());
      const plainStarts = plain.map((e) => e.start.dateTime);
      plainStarts.should.not.eql(plainStarts.slice().sort());
      new Set(plain.map((e) => e.id)).should.eql(new Set(sorted.map((e) => e.id)));
    });
  });

  describe('time zones', function () {
    const window = `startDateTime=${h.iso(D0 + 3 * h.DAY)}&endDateTime=${h.iso(D0 + 4 * h.DAY)}&$top=100`;
    const greek = (answer) => answer.body.value.find((e) => e.id === sim.fixtures.nonAscii.greek);

    it('answers in UTC without Prefer', async function () {
      const answer = await get(`/v1.0/me/calendarView?${window}`);
      greek(answer).start.should.eql({ dateTime: '2026-11-30T09:00:00.0000000', timeZone: 'UTC' });
      (answer.headers.get('preference-applied') === null).should.be.true();
    });

    it('converts to a Windows zone named in Prefer and says so in Preference-Applied', async function () {
      const answer = await get(`/v1.0/me/calendarView?${window}`, {
        Prefer: 'outlook.timezone="Pacific Standard Time"',
      });
      greek(answer).start.should.eql({
        dateTime: '2026-11-30T01:00:00.0000000',
        timeZone: 'Pacific Standard Time',
      });
      greek(answer).end.dateTime.should.equal('2026-11-30T01:30:00.0000000');
      answer.headers.get('preference-applied').should.equal('outlook.timezone="Pacific Standard Time"');
    });

    it('accepts the IANA names Microsoft lists (Europe/London, Asia/Kolkata) and refuses others with 400 TimeZoneNotSupportedException', async function () {
      const london = await get(`/v1.0/me/calendarView?${window}`, {
        Prefer: 'outlook.timezone="Europe/London"',
      });
      greek(london).start.should.eql({ dateTime: '2026-11-30T09:00:00.0000000', timeZone: 'Europe/London' });
      london.headers.get('preference-applied').should.equal('outlook.timezone="Europe/London"');
      const kolkata = await get(`/v1.0/me/calendarView?${window}`, {
        Prefer: 'outlook.timezone="Asia/Kolkata"',
      });
      greek(kolkata).start.should.eql({ dateTime: '2026-11-30T14:30:00.0000000', timeZone: 'Asia/Kolkata' });
      for (const zone of ['Europe/Zurich', 'Australia Eastern Standard Time', '+01:00', 'undefined']) {
        const refused = await get(`/v1.0/me/calendarView?${window}`, {
          Prefer: `outlook.timezone="${zone}"`,
        });
        refused.status.should.equal(400, zone);
        refused.body.error.code.should.equal('TimeZoneNotSupportedException');
        refused.body.error.message.should.equal(
          `A valid TimeZone value must be specified. The following TimeZone value is not supported: '${zone}'.`,
        );
      }
      const events = await get(`/v1.0/me/events?$top=1`, { Prefer: 'outlook.timezone="Mars/Olympus"' });
      events.status.should.equal(400);
    });

    it('serves all-day events as floating dates: midnight in the zone asked, and in the window by that zone', async function () {
      const holiday = sim.fixtures.allDay.holiday; // Sunday 29 November
      const wide = `startDateTime=${h.iso(D0)}&endDateTime=${h.iso(D0 + 4 * h.DAY)}&$top=200`;
      for (const zone of ['UTC', 'Tokyo Standard Time', 'Pacific Standard Time']) {
        const answer = await get(`/v1.0/me/calendarView?${wide}`, { Prefer: `outlook.timezone="${zone}"` });
        const e = answer.body.value.find((x) => x.id === holiday);
        e.isAllDay.should.be.true();
        e.start.should.eql({ dateTime: '2026-11-29T00:00:00.0000000', timeZone: zone });
        e.end.should.eql({ dateTime: '2026-11-30T00:00:00.0000000', timeZone: zone });
      }
      // The evening of 28 November in UTC is already 29 November in Tokyo, not yet in UTC.
      const evening = `startDateTime=2026-11-28T16:00:00Z&endDateTime=2026-11-28T23:00:00Z&$top=100`;
      const utc = await get(`/v1.0/me/calendarView?${evening}`);
      utc.body.value.map((e) => e.id).should.not.containEql(holiday);
      const tokyo = await get(`/v1.0/me/calendarView?${evening}`, {
        Prefer: 'outlook.timezone="Tokyo Standard Time"',
      });
      tokyo.body.value.map((e) => e.id).should.containEql(holiday);
      sim
        .expectedView({
          start: '2026-11-28T16:00:00Z',
          end: '2026-11-28T23:00:00Z',
          timeZone: 'Tokyo Standard Time',
        })
        .should.containEql(holiday);
    });

    it('returns plain-text bodies with Prefer: outlook.body-content-type="text"', async function () {
      const answer = await get(`/v1.0/me/calendarView?${window}&$select=body`, {
        Prefer: 'outlook.body-content-type="text"',
      });
      answer.body.value[0].body.contentType.should.equal('text');
      answer.headers.get('preference-applied').should.equal('outlook.body-content-type="text"');
    });
  });

  describe('paths and access', function () {
    it("reads a calendar by its URL-safe id ('-', '_', '='), and reads %2F as a path separator, as Graph does", async function () {
      const team = sim.fixtures.teamCalendarId;
      team.should.match(/-/).and.match(/_/).and.match(/=/).and.not.match(/[/+]/);
      const encoded = encodeURIComponent(team);
      const answer = await get(
        `/v1.0/me/calendars/${encoded}/calendarView?${WIDE}&$top=1000&$orderby=start/dateTime`,
      );
      answer.status.should.equal(200);
      answer.body.value
        .map((e) => e.id)
        .should.eql(sim.expectedView({ calendarId: team, start: D0 - 30 * h.DAY, end: D0 + 90 * h.DAY }));
      answer.body.value.every((e) => /^[A-Za-z0-9_-]+=*$/.test(e.id)).should.be.true();
      (await get(`/v1.0/users/${sim.users.megan.id}/calendars/${encoded}/events`)).status.should.equal(200);
      // The same id as EWS writes it ('/' for '_'), percent-encoded: Graph splits the path there.
      const ews = encodeURIComponent(team.replace(/_/g, '/'));
      ews.should.containEql('%2F');
      const split = await get(`/v1.0/me/calendars/${ews}/calendarView?${WIDE}`);
      shouldBeGraphError(split, 400, 'BadRequest');
      split.body.error.message.should.startWith('Resource not found for the segment');
    });

    it("addresses a UPN that starts with '$' only in the key form users('$x@y')", async function () {
      const desk = sim.createBulkMailbox('$desk@contoso.onmicrosoft.com', 5);
      const plain = await get(`/v1.0/users/${encodeURIComponent(desk.upn)}/calendar/calendarView?${WIDE}`);
      shouldBeGraphError(plain, 400, 'BadRequest');
      const keyed = await get(`/v1.0/users('${encodeURIComponent(desk.upn)}')/calendar/calendarView?${WIDE}`);
      keyed.status.should.equal(200);
      keyed.body.value.should.have.length(5);
      (await get(`/v1.0/users('${sim.users.alex.upn}')/calendar`)).status.should.equal(200);
      (await get(`/v1.0/users('o''brien@contoso.onmicrosoft.com')/calendar`)).status.should.equal(404);
    });

    it('serves the path variants of the default calendar alike', async function () {
      const paths = [
        '/v1.0/me/calendarView',
        '/v1.0/me/calendar/calendarView',
        `/v1.0/users/${sim.users.megan.upn}/calendarView`,
      ];
      const ids = [];
      for (const p of paths) ids.push((await get(`${p}?${WIDE}&$top=30`)).body.value.map((e) => e.id));
      ids[1].should.eql(ids[0]);
      ids[2].should.eql(ids[0]);
    });

    it('lists megan’s calendars with her copy of alex’s shared one; alex’s own list and ids are not hers to read', async function () {
      const mine = await get('/v1.0/me/calendars');
      mine.body.value.map((c) => c.name).should.eql(['Calendar', 'Team', 'Projects']);
      mine.body.value[0].should.have.properties({ isDefaultCalendar: true });
      mine.body.value[0].owner.should.eql({ name: 'Megan Bowen', address: sim.users.megan.upn });
      const copy = mine.body.value[2];
      copy.id.should.equal(sim.fixtures.sharedProjects.copyId);
      copy.should.have.properties({ isDefaultCalendar: false, canShare: false, canEdit: false });
      copy.owner.should.eql({ name: 'Alex Wilber', address: sim.users.alex.upn });

      // The owner's ids, and the owner's calendar list, through the owner's mailbox: 404.
      const alex = sim.users.alex.upn;
      const ownerId = encodeURIComponent(sim.fixtures.sharedProjects.ownerCalendarId);
      shouldBeGraphError(await get(`/v1.0/users/${alex}/calendars`), 404, 'ErrorItemNotFound');
      shouldBeGraphError(
        await get(`/v1.0/users/${alex}/calendars/${ownerId}/calendarView?${WIDE}`),
        404,
        'ErrorItemNotFound',
      );
      // The default calendar by its shortcut, and the shared one through megan's copy: 200.
      (await get(`/v1.0/users/${alex}/calendar`)).body.owner.address.should.equal(alex);
      const through = await get(
        `/v1.0/me/calendars/${encodeURIComponent(copy.id)}/calendarView?${WIDE}&$top=1000&$orderby=start/dateTime`,
      );
      through.status.should.equal(200);
      through.body.value.length.should.be.above(0);
      through.body.value
        .map((e) => e.id)
        .should.eql(
          sim.expectedView({
            user: 'alex',
            calendarId: sim.fixtures.sharedProjects.ownerCalendarId,
            start: D0 - 30 * h.DAY,
            end: D0 + 90 * h.DAY,
          }),
        );
      // An application token reads any calendar by id.
      const app = await h.graph(sim, `/v1.0/users/${alex}/calendars`, appToken());
      app.body.value.map((c) => c.name).should.eql(['Calendar', 'Projects']);
    });

    it('refuses /me with an application token (400)', async function () {
      const answer = await h.graph(sim, `/v1.0/me/calendarView?${WIDE}`, appToken());
      shouldBeGraphError(answer, 400, 'BadRequest');
      answer.body.error.message.should.equal('/me request is only valid with delegated authentication flow.');
    });

    it('lets megan read the shared room 1.01 but not room 2.02 (403)', async function () {
      (await get(`/v1.0/users/${sim.users.room101.upn}/calendarView?${WIDE}`)).status.should.equal(200);
      const denied = await get(`/v1.0/users/${sim.users.room202.upn}/calendarView?${WIDE}`);
      shouldBeGraphError(denied, 403, 'ErrorAccessDenied');
      denied.body.error.message.should.equal('Access is denied. Check credentials and try again.');
      sim.knobs.roomSharedWithMegan = false;
      shouldBeGraphError(
        await get(`/v1.0/users/${sim.users.room101.upn}/calendarView?${WIDE}`),
        403,
        'ErrorAccessDenied',
      );
    });

    it('needs Calendars.Read.Shared for another user’s shared calendar', async function () {
      (await get(`/v1.0/users/${sim.users.alex.upn}/calendar/calendarView?${WIDE}`)).status.should.equal(200);
      const narrow = sim.issueTokens({ scope: 'offline_access openid Calendars.Read' }).access_token;
      const answer = await h.graph(
        sim,
        `/v1.0/users/${sim.users.alex.upn}/calendar/calendarView?${WIDE}`,
        narrow,
      );
      shouldBeGraphError(answer, 403, 'ErrorAccessDenied');
    });

    it("limits application tokens to rooms with appAccess 'rooms'", async function () {
      const token = appToken();
      (
        await h.graph(sim, `/v1.0/users/${sim.users.megan.upn}/calendarView?${WIDE}`, token)
      ).status.should.equal(200);
      sim.knobs.appAccess = 'rooms';
      shouldBeGraphError(
        await h.graph(sim, `/v1.0/users/${sim.users.megan.upn}/calendarView?${WIDE}`, token),
        403,
        'ErrorAccessDenied',
      );
      (
        await h.graph(sim, `/v1.0/users/${sim.users.room202.upn}/calendarView?${WIDE}`, token)
      ).status.should.equal(200);
    });

    it('answers 401 InvalidAuthenticationToken with WWW-Authenticate for a missing or unknown token', async function () {
      const none = await h.graph(sim, `/v1.0/me/calendarView?${WIDE}`);
      shouldBeGraphError(none, 401, 'InvalidAuthenticationToken');
      none.body.error.message.should.equal('Access token is empty.');
      none.headers.get('www-authenticate').should.startWith('Bearer ');
      shouldBeGraphError(
        await h.graph(sim, `/v1.0/me/calendarView?${WIDE}`, 'a.b.c'),
        401,
        'InvalidAuthenticationToken',
      );
    });

    it('refuses a token without a Calendars scope (403)', async function () {
      const token = sim.issueTokens({ scope: 'openid profile User.Read' }).access_token;
      shouldBeGraphError(
        await h.graph(sim, `/v1.0/me/calendarView?${WIDE}`, token),
        403,
        'ErrorAccessDenied',
      );
      (await h.graph(sim, '/v1.0/me', token)).body.userPrincipalName.should.equal(sim.users.megan.upn);
    });

    it('answers 404 for an unknown user (ErrorInvalidUser) or calendar (ErrorItemNotFound)', async function () {
      shouldBeGraphError(
        await get(`/v1.0/users/nobody@contoso.onmicrosoft.com/calendarView?${WIDE}`),
        404,
        'ErrorInvalidUser',
      );
      shouldBeGraphError(
        await get(`/v1.0/me/calendars/AAMkAGnothere%3D/calendarView?${WIDE}`),
        404,
        'ErrorItemNotFound',
      );
    });

    it('sends request-id and echoes client-request-id on every answer', async function () {
      const ok = await get(`/v1.0/me/calendarView?${WIDE}&$top=1`, { 'client-request-id': 'abc-123' });
      ok.headers.get('client-request-id').should.equal('abc-123');
      ok.headers.get('request-id').should.match(/^[0-9a-f-]{36}$/);
      const bad = await get('/v1.0/me/calendarView', { 'client-request-id': 'abc-456' });
      bad.body.error.innerError['client-request-id'].should.equal('abc-456');
    });
  });

  describe('throttling and faults', function () {
    it('answers 429 ApplicationThrottled beyond 4 concurrent requests per mailbox', async function () {
      sim.knobs.graphLatencyMs = 250;
      sim.knobs.concurrencyRetryAfter = 2;
      const answers = await Promise.all(
        Array.from({ length: 6 }, () => get(`/v1.0/me/calendarView?${WIDE}&$top=5`)),
      );
      answers.filter((a) => a.status === 200).should.have.length(4);
      const throttled = answers.filter((a) => a.status === 429);
      throttled.should.have.length(2);
      throttled[0].headers.get('retry-after').should.equal('2');
      throttled[0].body.error.code.should.equal('ApplicationThrottled');
      throttled[0].body.error.message.should.equal('Application is over its MailboxConcurrency limit.');
      sim.stats.maxInFlight[sim.users.megan.upn].should.equal(4);
    });

    it('counts concurrency per mailbox, not per client', async function () {
      sim.knobs.graphLatencyMs = 150;
      const paths = [sim.users.megan.upn, sim.users.alex.upn, sim.users.room101.upn].flatMap((u) => [
        `/v1.0/users/${u}/calendarView?${WIDE}&$top=1`,
        `/v1.0/users/${u}/calendarView?${WIDE}&$top=1`,
        `/v1.0/users/${u}/calendarView?${WIDE}&$top=1`,
      ]);
      const answers = await Promise.all(paths.map((p) => get(p)));
      answers.every((a) => a.status === 200).should.be.true();
    });

    for (const [type, status, code] of [
      ['429', 429, 'TooManyRequests'],
      ['503', 503, 'ServiceNotAvailable'],
      ['504', 504, 'GatewayTimeout'],
      ['500', 500, 'InternalServerError'],
      ['401', 401, 'InvalidAuthenticationToken'],
    ]) {
      it(`injects a ${type} fault`, async function () {
        const before = sim.stats.faultsInjected;
        sim.fault({ on: 'graph', type, retryAfter: 3 });
        const answer = await get(`/v1.0/me/calendarView?${WIDE}`);
        shouldBeGraphError(answer, status, code);
        if (type === '429' || type === '503') answer.headers.get('retry-after').should.equal('3');
        else (answer.headers.get('retry-after') === null).should.be.true();
        sim.stats.faultsInjected.should.equal(before + 1);
        sim.requests[sim.requests.length - 1].fault.should.equal(type);
        (await get(`/v1.0/me/calendarView?${WIDE}`)).status.should.equal(200);
      });
    }

    it('omits Retry-After on a 429 fault when none is given', async function () {
      sim.fault({ on: 'graph', type: '429' });
      const answer = await get(`/v1.0/me/calendarView?${WIDE}`);
      answer.status.should.equal(429);
      (answer.headers.get('retry-after') === null).should.be.true();
    });

    it('injects a connection reset', async function () {
      sim.fault({ on: 'graph', type: 'reset' });
      await get(`/v1.0/me/calendarView?${WIDE}`).should.be.rejected();
    });

    it('injects a slow answer', async function () {
      sim.fault({ on: 'graph', type: 'slow', delayMs: 200 });
      const t0 = Date.now();
      (await get(`/v1.0/me/calendarView?${WIDE}`)).status.should.equal(200);
      (Date.now() - t0).should.be.aboveOrEqual(190);
    });

    it('injects a truncated JSON body with status 200', async function () {
      sim.fault({ on: 'graph', type: 'brokenJson' });
      const answer = await get(`/v1.0/me/calendarView?${WIDE}`);
      answer.status.should.equal(200);
      (answer.body === undefined).should.be.true();
      answer.text.should.startWith('{"@odata.context"');
    });

    it('hits `times` requests, only those whose path matches', async function () {
      sim.fault({ on: 'graph', type: '503', times: 2, match: '/calendars' });
      (await get(`/v1.0/me/calendarView?${WIDE}`)).status.should.equal(200);
      (await get('/v1.0/me/calendars')).status.should.equal(503);
      (await get('/v1.0/me/calendars')).status.should.equal(503);
      (await get('/v1.0/me/calendars')).status.should.equal(200);
    });
  });

  describe('request log', function () {
    it('records kind, paths, query, headers, form, grant type, mailbox, status and fault', async function () {
      sim.clearLog();
      await h.token(sim, {
        client_id: sim.apps.confidential.clientId,
        client_secret: sim.apps.confidential.secret,
        grant_type: 'client_credentials',
        scope: `${sim.url}/.default`,
      });
      const team = encodeURIComponent(sim.fixtures.teamCalendarId);
      await get(`/v1.0/me/calendars/${team}/calendarView?${WIDE}&$top=3`, { 'X-Test': 'yes' });
      sim.fault({ on: 'graph', type: '500' });
      await get('/v1.0/me/calendars');
      sim.requests.should.have.length(3);
      const [tok, view, faulted] = sim.requests;
      tok.should.have.properties({
        kind: 'token',
        method: 'POST',
        grantType: 'client_credentials',
        status: 200,
      });
      tok.form.client_id.should.equal(sim.apps.confidential.clientId);
      view.should.have.properties({
        kind: 'graph',
        method: 'GET',
        mailbox: sim.users.megan.upn,
        status: 200,
      });
      view.rawPath.should.equal(`/v1.0/me/calendars/${team}/calendarView`);
      view.path.should.equal(`/v1.0/me/calendars/${sim.fixtures.teamCalendarId}/calendarView`);
      view.query.should.have.properties({ $top: '3', startDateTime: h.iso(D0 - 30 * h.DAY) });
      view.headers['x-test'].should.equal('yes');
      view.headers.authorization.should.startWith('Bearer ');
      (view.fault === undefined).should.be.true();
      faulted.should.have.properties({ status: 500, fault: '500' });
      view.seq.should.be.above(tok.seq);
      sim.clearLog();
      sim.requests.should.be.empty();
    });
  });
});
