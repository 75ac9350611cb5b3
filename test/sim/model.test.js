// The simulator's data and test API: determinism, seeded contents, bulk mailboxes, editing events, expectedView, CLI.
'use strict';
require('should');
const path = require('path');
const { spawn } = require('child_process');
const { startSimulator } = require('./simulator');
const h = require('./helpers');

const D0 = Date.UTC(2026, 10, 27);

describe('simulator: data and test API', function () {
  let sim;
  let token;
  before(async () => {
    sim = await startSimulator({ seed: 42, eventCount: 800, anchor: h.ANCHOR });
    token = sim.issueTokens({}).access_token;
  });
  after(() => sim.close());
  h.restoreKnobs(() => sim);

  const view = (p, headers) => h.graphAll(sim, p, token, headers);

  it('gives the same data for the same seed and anchor, other data for another seed', async function () {
    const twin = await startSimulator({ seed: 42, eventCount: 800, anchor: h.ANCHOR });
    const other = await startSimulator({ seed: 43, eventCount: 800, anchor: h.ANCHOR });
    try {
      twin.expectedEvents({}).should.eql(sim.expectedEvents({}));
      twin.calendars('megan').should.eql(sim.calendars('megan'));
      twin.fixtures.should.eql(sim.fixtures);
      const q = `/v1.0/me/calendarView?startDateTime=${h.iso(D0)}&endDateTime=${h.iso(D0 + 7 * h.DAY)}&$top=1000`;
      const a = await h.graph(sim, q, token);
      const b = await h.graph(twin, q, twin.issueTokens({}).access_token);
      b.body.value
        .map((e) => [e.id, e.subject, e.start.dateTime, e.changeKey])
        .should.eql(a.body.value.map((e) => [e.id, e.subject, e.start.dateTime, e.changeKey]));
      other.expectedEvents({}).should.not.eql(sim.expectedEvents({}));
    } finally {
      await twin.close();
      await other.close();
    }
  });

  it('holds eventCount occurrences between 30 days before and 90 days after the anchor', function () {
    sim.expectedView({ start: D0 - 30 * h.DAY, end: D0 + 90 * h.DAY }).should.have.length(800);
  });

  it('has the advertised users, calendars and feature events', async function () {
    sim.users.megan.should.have.properties({
      upn: 'megan@contoso.onmicrosoft.com',
      displayName: 'Megan Bowen',
      isRoom: false,
    });
    sim.users.room101.should.have.properties({
      upn: 'room.101@contoso.onmicrosoft.com',
      displayName: 'Room 1.01',
      isRoom: true,
    });
    sim.users.megan.id.should.match(/^[0-9a-f-]{36}$/);
    sim.tenantId.should.match(/^[0-9a-f-]{36}$/);
    sim.tenantDomain.should.equal('contoso.onmicrosoft.com');
    sim
      .calendars('megan@contoso.onmicrosoft.com')
      .map((c) => [c.name, c.isDefaultCalendar, c.owner.address])
      .should.eql([
        ['Calendar', true, 'megan@contoso.onmicrosoft.com'],
        ['Team', false, 'megan@contoso.onmicrosoft.com'],
        ['Projects', false, 'alex@contoso.onmicrosoft.com'],
      ]);
    // Every id looks like Graph's: URL-safe base64, never '/' or '+'.
    for (const upn of ['megan', 'alex', 'room101']) {
      for (const c of sim.calendars(upn)) c.id.should.match(/^[A-Za-z0-9_-]+=*$/);
    }
    for (const app of Object.values(sim.apps)) {
      app.clientId.should.match(/^[0-9a-f-]{36}$/);
      [...app.redirectUris, ...(app.publicClientRedirectUris || [])].should.containEql(
        'http://localhost/o365/auth/callback',
      );
    }
    (sim.apps.public.secret === undefined).should.be.true();
    sim.apps.confidential.secretId.should.match(/^[0-9a-f-]{36}$/);
    const { items } = await view(
      `/v1.0/me/calendarView?startDateTime=${h.iso(D0 - 30 * h.DAY)}&endDateTime=${h.iso(D0 + 90 * h.DAY)}&$top=1000`,
    );
    const subjects = new Set(items.map((e) => e.subject));
    for (const s of [
      'Café Zürich – Planung',
      '会議 東京',
      'Ελληνικά',
      '🎉 Launch party 🚀',
      'Lunch & Learn – 会議',
    ]) {
      subjects.has(s).should.be.true(s);
    }
    new Set(items.map((e) => e.originalStartTimeZone)).should.containDeep(
      new Set([
        'Pacific Standard Time',
        'W. Europe Standard Time',
        'India Standard Time',
        'Tokyo Standard Time',
        'UTC',
      ]),
    );
    items
      .some(
        (e) =>
          e.isAllDay &&
          Date.parse(`${e.end.dateTime.slice(0, 10)}Z`) - Date.parse(`${e.start.dateTime.slice(0, 10)}Z`) >
            h.DAY,
      )
      .should.be.true();
    items
      .some((e) => e.onlineMeeting && e.onlineMeeting.joinUrl.startsWith('https://teams.microsoft.com/'))
      .should.be.true();
    items.filter((e) => e.isCancelled).length.should.be.aboveOrEqual(3);
    items.some((e) => /[/+=]/.test(e.id)).should.be.true();
    const rooms = await view(
      `/v1.0/users/${sim.users.room101.upn}/calendarView?startDateTime=${h.iso(D0 - 30 * h.DAY)}&endDateTime=${h.iso(D0 + 90 * h.DAY)}&$top=1000`,
    );
    rooms.items.should.have.length(40);
    rooms.items.every((e) => e.location.displayName === 'Room 1.01' && !e.isOrganizer).should.be.true();
    rooms.items.every((e) => e.organizer.emailAddress.address !== sim.users.room101.upn).should.be.true();
  });

  it('creates bulk mailboxes: 2,500 events cost 3 requests of 1,000', async function () {
    const start = Date.UTC(2027, 0, 1);
    const end = Date.UTC(2027, 2, 1);
    const user = sim.createBulkMailbox('bulk2500@contoso.onmicrosoft.com', 2500, {
      start,
      end: new Date(end).toISOString(),
    });
    user.upn.should.equal('bulk2500@contoso.onmicrosoft.com');
    const q = `/v1.0/users/${user.upn}/calendarView?startDateTime=${h.iso(start)}&endDateTime=${h.iso(end)}&$top=1000&$orderby=start/dateTime`;
    const { items, requests } = await view(q);
    requests.should.equal(3);
    items.should.have.length(2500);
    items.map((e) => e.id).should.eql(sim.expectedView({ user: user.upn, start, end }));
    const app = sim.issueTokens({ appOnly: true }).access_token;
    (await h.graph(sim, q, app)).status.should.equal(200);
    (await h.graph(sim, `/v1.0/users/${user.upn}/events?$top=1`, token)).body[
      '@odata.nextLink'
    ].should.be.a.String();
  });

  it('adds, updates and removes events, changing changeKey and lastModifiedDateTime', async function () {
    const window = `startDateTime=2027-03-01T00:00:00Z&endDateTime=2027-03-02T00:00:00Z&$top=100`;
    const added = sim.addEvent('megan', null, {
      subject: 'Added by a test',
      start: { dateTime: '2027-03-01T10:00:00', timeZone: 'W. Europe Standard Time' },
      end: { dateTime: '2027-03-01T11:00:00', timeZone: 'W. Europe Standard Time' },
      location: 'Room 1.01',
    });
    added.start.should.eql({ dateTime: '2027-03-01T09:00:00.0000000', timeZone: 'UTC' });
    const first = (await h.graph(sim, `/v1.0/me/calendarView?${window}`, token)).body.value.find(
      (e) => e.id === added.id,
    );
    first.subject.should.equal('Added by a test');
    first.originalStartTimeZone.should.equal('W. Europe Standard Time');
    sim.advanceClock(60000);
    const updated = sim.updateEvent('megan', added.id, { subject: 'Renamed', start: '2027-03-01T12:00:00Z' });
    updated.changeKey.should.not.equal(first.changeKey);
    updated.lastModifiedDateTime.should.not.equal(first.lastModifiedDateTime);
    updated.start.dateTime.should.equal('2027-03-01T12:00:00.0000000');
    updated.end.dateTime.should.equal('2027-03-01T13:00:00.0000000');
    const second = (await h.graph(sim, `/v1.0/me/calendarView?${window}`, token)).body.value.find(
      (e) => e.id === added.id,
    );
    second.subject.should.equal('Renamed');
    sim.removeEvent('megan', added.id).should.be.true();
    (await h.graph(sim, `/v1.0/me/calendarView?${window}`, token)).body.value
      .map((e) => e.id)
      .should.not.containEql(added.id);
  });

  it('turns an updated occurrence into an exception and removes a single occurrence', async function () {
    const series = sim.addEvent('megan', sim.fixtures.teamCalendarId, {
      subject: 'Weekly test series',
      start: { dateTime: '2027-04-05T09:00:00', timeZone: 'UTC' },
      end: { dateTime: '2027-04-05T09:30:00', timeZone: 'UTC' },
      recurrence: {
        pattern: { type: 'weekly', interval: 1, daysOfWeek: ['monday'] },
        range: { type: 'numbered', startDate: '2027-04-05', numberOfOccurrences: 4 },
      },
    });
    series.type.should.equal('seriesMaster');
    const cal = encodeURIComponent(sim.fixtures.teamCalendarId);
    const q = `/v1.0/me/calendars/${cal}/calendarView?startDateTime=2027-04-01T00:00:00Z&endDateTime=2027-05-15T00:00:00Z&$top=100&$orderby=start/dateTime`;
    const before = (await h.graph(sim, q, token)).body.value.filter((e) => e.seriesMasterId === series.id);
    before
      .map((e) => e.start.dateTime.slice(0, 10))
      .should.eql(['2027-04-05', '2027-04-12', '2027-04-19', '2027-04-26']);
    const changed = sim.updateEvent('megan', before[1].id, {
      subject: 'Moved one',
      start: '2027-04-13T15:00:00Z',
    });
    changed.type.should.equal('exception');
    sim.removeEvent('megan', before[2].id).should.be.true();
    const after = (await h.graph(sim, q, token)).body.value.filter((e) => e.seriesMasterId === series.id);
    after
      .map((e) => [e.type, e.subject, e.start.dateTime.slice(0, 16)])
      .should.eql([
        ['occurrence', 'Weekly test series', '2027-04-05T09:00'],
        ['exception', 'Moved one', '2027-04-13T15:00'],
        ['occurrence', 'Weekly test series', '2027-04-26T09:00'],
      ]);
    after
      .map((e) => e.id)
      .should.eql(
        sim
          .expectedView({
            calendarId: sim.fixtures.teamCalendarId,
            start: '2027-04-01T00:00:00Z',
            end: '2027-05-15T00:00:00Z',
          })
          .filter((id) => after.some((e) => e.id === id)),
      );
  });

  it('keeps a series at its local time across a DST change', async function () {
    const series = sim.addEvent('alex', null, {
      subject: 'DST check',
      start: { dateTime: '2027-03-01T09:00:00', timeZone: 'Pacific Standard Time' },
      end: { dateTime: '2027-03-01T09:45:00', timeZone: 'Pacific Standard Time' },
      recurrence: {
        pattern: { type: 'weekly', interval: 1, daysOfWeek: ['monday'] },
        range: { type: 'endDate', startDate: '2027-03-01', endDate: '2027-03-29' },
      },
    });
    const q = `/v1.0/users/${sim.users.alex.upn}/calendarView?startDateTime=2027-02-28T00:00:00Z&endDateTime=2027-04-05T00:00:00Z&$top=200&$orderby=start/dateTime`;
    const local = (
      await h.graph(sim, q, token, { Prefer: 'outlook.timezone="Pacific Standard Time"' })
    ).body.value.filter((e) => e.seriesMasterId === series.id);
    local
      .map((e) => e.start.dateTime)
      .should.eql(['01', '08', '15', '22', '29'].map((d) => `2027-03-${d}T09:00:00.0000000`));
    const utc = (await h.graph(sim, q, token)).body.value.filter((e) => e.seriesMasterId === series.id);
    utc[1].start.dateTime.should.equal('2027-03-08T17:00:00.0000000'); // PST
    utc[2].start.dateTime.should.equal('2027-03-15T16:00:00.0000000'); // PDT from 14 March
  });

  it('computes expectedView like calendarView for several calendars, windows and zones', async function () {
    const cases = [
      { user: 'megan', start: D0 - 2 * h.DAY, end: D0 + 5 * h.DAY, timeZone: 'Tokyo Standard Time' },
      { user: 'megan', start: D0 + 1.3 * h.DAY, end: D0 + 1.9 * h.DAY, timeZone: 'Pacific Standard Time' },
      {
        user: 'megan',
        calendarId: sim.fixtures.teamCalendarId,
        start: D0 - 30 * h.DAY,
        end: D0 + 90 * h.DAY,
      },
      { user: 'alex', start: D0, end: D0 + 30 * h.DAY, timeZone: 'W. Europe Standard Time' },
      { user: 'room101', start: D0 - 10 * h.DAY, end: D0 + 10 * h.DAY, timeZone: 'Europe/London' },
    ];
    for (const c of cases) {
      const u = sim.users[c.user];
      const cal = c.calendarId ? `/calendars/${encodeURIComponent(c.calendarId)}` : '/calendar';
      const headers = c.timeZone ? { Prefer: `outlook.timezone="${c.timeZone}"` } : {};
      const { items } = await view(
        `/v1.0/users/${u.upn}${cal}/calendarView?startDateTime=${h.iso(c.start)}&endDateTime=${h.iso(c.end)}&$top=100&$orderby=start/dateTime&$select=start`,
        headers,
      );
      items.map((e) => e.id).should.eql(sim.expectedView({ ...c, user: u.upn }), JSON.stringify(c));
      items.length.should.be.above(0);
    }
  });

  it('runs standalone, prints one JSON line and stops on SIGTERM', async function () {
    this.timeout(10000);
    const child = spawn(
      process.execPath,
      [path.join(__dirname, 'simulator.js'), '--port', '0', '--events', '50'],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const line = await new Promise((resolve, reject) => {
      let buffer = '';
      child.stdout.on('data', (chunk) => {
        buffer += chunk;
        if (buffer.includes('\n')) resolve(buffer.split('\n')[0]);
      });
      child.once('exit', (code) => reject(new Error(`exited with ${code}`)));
    });
    const info = JSON.parse(line);
    info.url.should.match(/^http:\/\/127\.0\.0\.1:\d+$/);
    info.tenantId.should.equal(sim.tenantId);
    info.apps.confidential.clientId.should.equal(sim.apps.confidential.clientId);
    const page = await fetch(`${info.url}/devicelogin`);
    page.status.should.equal(200);
    const code = await new Promise((resolve) => {
      child.once('exit', (c) => resolve(c));
      child.kill('SIGTERM');
    });
    code.should.equal(0);
  });
});
