// The simulated Graph writes: create, update, delete, the answers and cancel as Microsoft documents them, the
// permissions behind them, transactionId reuse in its three modes, and faults after a write was applied.
'use strict';
const should = require('should');
const { startSimulator } = require('./simulator');
const h = require('./helpers');

const RW = 'offline_access openid profile Calendars.ReadWrite Calendars.ReadWrite.Shared';
const BERLIN = 'W. Europe Standard Time';

describe('simulator: Graph calendar writes', function () {
  let sim;
  let token;
  before(async () => {
    sim = await startSimulator({ seed: 5, eventCount: 200, anchor: h.ANCHOR });
    token = sim.issueTokens({ scope: RW }).access_token;
  });
  after(() => sim.close());
  h.restoreKnobs(() => sim);

  /** One request with a JSON body: {status, body, headers, text}. */
  async function send(method, path, body, { bearer = token, headers = {} } = {}) {
    const res = await fetch(`${sim.url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${bearer}`, 'Content-Type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, body: json, headers: res.headers, text };
  }

  const event = (subject, extra = {}) => ({
    subject,
    start: { dateTime: '2026-12-07T10:00:00', timeZone: BERLIN },
    end: { dateTime: '2026-12-07T11:00:00', timeZone: BERLIN },
    ...extra,
  });
  const view = (path = '/v1.0/me/calendarView') =>
    h.graph(
      sim,
      `${path}?startDateTime=2026-12-07T00:00:00Z&endDateTime=2026-12-08T00:00:00Z&$top=1000`,
      token,
    );
  const invitation = (subject) =>
    sim.addEvent('megan', null, {
      subject,
      start: '2026-12-09T10:00:00Z',
      end: '2026-12-09T11:00:00Z',
      organizer: { emailAddress: { name: 'Alex Wilber', address: sim.users.alex.upn } },
    });

  function graphError(answer, status, code) {
    answer.status.should.equal(status);
    answer.body.error.code.should.equal(code);
    answer.body.error.innerError.should.have.properties('request-id', 'client-request-id');
  }

  describe('create (POST …/events)', function () {
    it('answers 201 with the event in the Prefer zone, logs the body as received, and lists the event in calendarView', async () => {
      const answer = await send(
        'POST',
        '/v1.0/me/events',
        event('Created', { transactionId: 'tx-created' }),
        {
          headers: { Prefer: `outlook.timezone="${BERLIN}"` },
        },
      );
      answer.status.should.equal(201);
      answer.headers.get('preference-applied').should.equal(`outlook.timezone="${BERLIN}"`);
      answer.body['@odata.context'].should.endWith('/events/$entity');
      answer.body.should.containEql({
        subject: 'Created',
        transactionId: 'tx-created',
        type: 'singleInstance',
      });
      answer.body.start.should.eql({ dateTime: '2026-12-07T10:00:00.0000000', timeZone: BERLIN });
      answer.body.id.should.startWith('AAMkA');
      sim.requests[sim.requests.length - 1].json.should.eql(
        event('Created', { transactionId: 'tx-created' }),
      );
      (await view()).body.value.map((e) => e.id).should.containEql(answer.body.id);
    });

    it('creates in a named calendar, in /me/calendar/events, and in a shared user’s calendar with .Shared', async () => {
      const team = sim.calendars('megan').find((c) => !c.isDefaultCalendar);
      (
        await send('POST', `/v1.0/me/calendars/${encodeURIComponent(team.id)}/events`, event('In team'))
      ).status.should.equal(201);
      sim
        .calendarOf('megan', team.id)
        .items.some((i) => i.subject === 'In team')
        .should.be.true();
      (await send('POST', '/v1.0/me/calendar/events', event('In default'))).status.should.equal(201);
      (await send('POST', `/v1.0/users/${sim.users.alex.upn}/events`, event('For Alex'))).status.should.equal(
        201,
      );
      sim
        .calendarOf('alex', null)
        .items.some((i) => i.subject === 'For Alex')
        .should.be.true();
    });

    it('refuses a property the event type does not have (400 RequestBodyRead) and ignores read-only ones', async () => {
      const unknown = await send('POST', '/v1.0/me/events', event('x', { room: 'A' }));
      graphError(unknown, 400, 'RequestBodyRead');
      unknown.body.error.message.should.match(
        /The property 'room' does not exist on type 'Microsoft\.OutlookServices\.Event'/,
      );
      const readOnly = await send(
        'POST',
        '/v1.0/me/events',
        event('Read-only', { id: 'mine', changeKey: 'x', '@odata.etag': 'W/"x"' }),
      );
      readOnly.status.should.equal(201);
      readOnly.body.id.should.not.equal('mine');
    });

    it('refuses bad times: an unknown zone, an end before the start, an all-day event off midnight, no end', async () => {
      const zone = await send('POST', '/v1.0/me/events', {
        ...event('x'),
        start: { dateTime: '2026-12-07T10:00:00', timeZone: 'Mars Standard Time' },
      });
      graphError(zone, 400, 'TimeZoneNotSupportedException');
      zone.body.error.message.should.match(/'Mars Standard Time'/);
      const backwards = await send('POST', '/v1.0/me/events', {
        ...event('x'),
        end: { dateTime: '2026-12-07T09:00:00', timeZone: BERLIN },
      });
      graphError(backwards, 400, 'ErrorPropertyValidationFailure');
      graphError(
        await send('POST', '/v1.0/me/events', event('x', { isAllDay: true })),
        400,
        'ErrorPropertyValidationFailure',
      );
      graphError(
        await send('POST', '/v1.0/me/events', { subject: 'x', start: event('x').start }),
        400,
        'ErrorInvalidRequest',
      );
      const broken = await fetch(`${sim.url}/v1.0/me/events`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: '{"subject":',
      });
      broken.status.should.equal(400);
    });

    it('creates all-day events on midnights as floating dates', async () => {
      const answer = await send('POST', '/v1.0/me/events', {
        subject: 'Day off',
        isAllDay: true,
        start: { dateTime: '2026-12-07T00:00:00', timeZone: BERLIN },
        end: { dateTime: '2026-12-08T00:00:00', timeZone: BERLIN },
      });
      answer.status.should.equal(201);
      answer.body.isAllDay.should.be.true();
      answer.body.start.dateTime.should.equal('2026-12-07T00:00:00.0000000');
    });
  });

  describe('permissions from the token', function () {
    it('a read-only delegated token gets 403 for every write; reads still work', async () => {
      const readOnly = sim.issueTokens({}).access_token;
      graphError(
        await send('POST', '/v1.0/me/events', event('x'), { bearer: readOnly }),
        403,
        'ErrorAccessDenied',
      );
      const existing = invitation('Read only');
      graphError(
        await send(
          'PATCH',
          `/v1.0/me/events/${encodeURIComponent(existing.id)}`,
          { subject: 'y' },
          { bearer: readOnly },
        ),
        403,
        'ErrorAccessDenied',
      );
      graphError(
        await send('DELETE', `/v1.0/me/events/${encodeURIComponent(existing.id)}`, undefined, {
          bearer: readOnly,
        }),
        403,
        'ErrorAccessDenied',
      );
      graphError(
        await send(
          'POST',
          `/v1.0/me/events/${encodeURIComponent(existing.id)}/accept`,
          {},
          { bearer: readOnly },
        ),
        403,
        'ErrorAccessDenied',
      );
      (
        await h.graph(sim, `/v1.0/me/events/${encodeURIComponent(existing.id)}`, readOnly)
      ).status.should.equal(200);
    });

    it('another user’s calendar needs Calendars.ReadWrite.Shared and a calendar shared with the user', async () => {
      const own = sim.issueTokens({ scope: 'offline_access Calendars.ReadWrite' }).access_token;
      graphError(
        await send('POST', `/v1.0/users/${sim.users.alex.upn}/events`, event('x'), { bearer: own }),
        403,
        'ErrorAccessDenied',
      );
      graphError(
        await send('POST', `/v1.0/users/${sim.users.room202.upn}/events`, event('x')),
        403,
        'ErrorAccessDenied',
      );
      sim.knobs.sharedCalendarsWritable = false;
      graphError(
        await send('POST', `/v1.0/users/${sim.users.alex.upn}/events`, event('x')),
        403,
        'ErrorAccessDenied',
      );
    });

    it('an app token needs the role Calendars.ReadWrite', async () => {
      const app = sim.issueTokens({ appOnly: true }).access_token;
      graphError(
        await send('POST', `/v1.0/users/${sim.users.room101.upn}/events`, event('x'), { bearer: app }),
        403,
        'ErrorAccessDenied',
      );
      sim.identity.accessTokens.get(app).roles.push('Calendars.ReadWrite');
      (
        await send('POST', `/v1.0/users/${sim.users.room101.upn}/events`, event('App'), { bearer: app })
      ).status.should.equal(201);
      graphError(await send('POST', '/v1.0/me/events', event('x'), { bearer: app }), 400, 'BadRequest');
    });
  });

  describe('update, delete, get', function () {
    it('PATCH answers 200 with the changed event and a new changeKey; a changed transactionId is refused', async () => {
      const created = (await send('POST', '/v1.0/me/events', event('Before', { transactionId: 'tx-patch' })))
        .body;
      const answer = await send(
        'PATCH',
        `/v1.0/me/events/${encodeURIComponent(created.id)}`,
        {
          subject: 'After',
          end: { dateTime: '2026-12-07T12:30:00', timeZone: BERLIN },
        },
        { headers: { Prefer: `outlook.timezone="${BERLIN}"` } },
      );
      answer.status.should.equal(200);
      answer.body.subject.should.equal('After');
      answer.body.end.dateTime.should.equal('2026-12-07T12:30:00.0000000');
      answer.body.changeKey.should.not.equal(created.changeKey);
      const immutable = await send('PATCH', `/v1.0/me/events/${encodeURIComponent(created.id)}`, {
        transactionId: 'other',
      });
      graphError(immutable, 400, 'ErrorInvalidRequest');
      immutable.body.error.message.should.match(/TransactionId is immutable/);
      graphError(await send('PATCH', '/v1.0/me/events/AAMkNope', { subject: 'x' }), 404, 'ErrorItemNotFound');
      graphError(
        await send('PATCH', `/v1.0/me/events/${encodeURIComponent(created.id)}`, { colour: 'x' }),
        400,
        'RequestBodyRead',
      );
    });

    it('DELETE answers 204 without a body, then 404; the event leaves calendarView', async () => {
      const created = (await send('POST', '/v1.0/me/events', event('Delete me'))).body;
      const answer = await send('DELETE', `/v1.0/me/events/${encodeURIComponent(created.id)}`);
      answer.status.should.equal(204);
      answer.text.should.equal('');
      (await view()).body.value.map((e) => e.id).should.not.containEql(created.id);
      graphError(
        await send('DELETE', `/v1.0/me/events/${encodeURIComponent(created.id)}`),
        404,
        'ErrorItemNotFound',
      );
    });

    it('an event id under the wrong calendar is not found', async () => {
      const team = sim.calendars('megan').find((c) => !c.isDefaultCalendar);
      const created = (await send('POST', '/v1.0/me/events', event('Default only'))).body;
      graphError(
        await send(
          'DELETE',
          `/v1.0/me/calendars/${encodeURIComponent(team.id)}/events/${encodeURIComponent(created.id)}`,
        ),
        404,
        'ErrorItemNotFound',
      );
    });

    it('GET one event by id, with $select', async () => {
      const created = (await send('POST', '/v1.0/me/events', event('Get me', { transactionId: 'tx-get' })))
        .body;
      const answer = await h.graph(
        sim,
        `/v1.0/me/events/${encodeURIComponent(created.id)}?$select=subject,transactionId`,
        token,
      );
      answer.status.should.equal(200);
      answer.body.should.containEql({ id: created.id, subject: 'Get me', transactionId: 'tx-get' });
      should(answer.body.start).be.undefined();
    });
  });

  describe('answers and cancel', function () {
    for (const [action, response] of [
      ['accept', 'accepted'],
      ['tentativelyAccept', 'tentativelyAccepted'],
      ['decline', 'declined'],
    ]) {
      it(`${action}: 202 without a body; responseStatus is ${response}; a response mail unless sendResponse is false`, async () => {
        const invite = invitation(`Invite ${action}`);
        sim.writes.sent.length = 0;
        const answer = await send('POST', `/v1.0/me/events/${encodeURIComponent(invite.id)}/${action}`, {
          comment: 'ok',
          sendResponse: true,
        });
        answer.status.should.equal(202);
        answer.text.should.equal('');
        const read = await h.graph(sim, `/v1.0/me/events/${encodeURIComponent(invite.id)}`, token);
        read.body.responseStatus.response.should.equal(response);
        read.body.changeKey.should.not.equal(invite.changeKey);
        sim.writes.sent.should.containDeep([
          { kind: 'response', response, comment: 'ok', to: [sim.users.alex.upn] },
        ]);
        await send('POST', `/v1.0/me/events/${encodeURIComponent(invite.id)}/${action}`, {
          sendResponse: false,
        });
        sim.writes.sent.should.have.length(1);
      });
    }

    it('refuses unknown parameters, wrong types, a proposal without a response, and the organizer answering', async () => {
      const invite = invitation('Strict');
      const path = `/v1.0/me/events/${encodeURIComponent(invite.id)}`;
      graphError(await send('POST', `${path}/accept`, { note: 'x' }), 400, 'RequestBodyRead');
      graphError(await send('POST', `${path}/accept`, { sendResponse: 'yes' }), 400, 'RequestBodyRead');
      graphError(await send('POST', `${path}/accept`, { proposedNewTime: {} }), 400, 'RequestBodyRead');
      const slot = {
        start: { dateTime: '2026-12-10T10:00:00', timeZone: BERLIN },
        end: { dateTime: '2026-12-10T11:00:00', timeZone: BERLIN },
      };
      graphError(
        await send('POST', `${path}/decline`, { sendResponse: false, proposedNewTime: slot }),
        400,
        'ErrorInvalidRequest',
      );
      (await send('POST', `${path}/decline`, { proposedNewTime: slot })).status.should.equal(202);
      const own = (await send('POST', '/v1.0/me/events', event('Mine'))).body;
      graphError(
        await send('POST', `/v1.0/me/events/${encodeURIComponent(own.id)}/accept`, {}),
        400,
        'ErrorInvalidRequest',
      );
      graphError(await send('POST', `${path}/snooze`, {}), 400, 'BadRequest');
    });

    it('cancel: only the organizer (400 with Microsoft’s message otherwise); the event leaves the calendar; attendees get the comment', async () => {
      const invite = invitation('Not mine');
      const refused = await send('POST', `/v1.0/me/events/${encodeURIComponent(invite.id)}/cancel`, {
        comment: 'x',
      });
      graphError(refused, 400, 'ErrorInvalidRequest');
      refused.body.error.message.should.equal(
        "Your request can't be completed. You need to be an organizer to cancel a meeting.",
      );
      const own = (
        await send(
          'POST',
          '/v1.0/me/events',
          event('Mine to cancel', { attendees: [{ emailAddress: { address: sim.users.alex.upn } }] }),
        )
      ).body;
      sim.writes.sent.length = 0;
      const answer = await send('POST', `/v1.0/me/events/${encodeURIComponent(own.id)}/cancel`, {
        comment: 'Off sick',
      });
      answer.status.should.equal(202);
      (await view()).body.value.map((e) => e.id).should.not.containEql(own.id);
      sim.writes.sent.should.eql([
        { kind: 'cancellation', eventId: own.id, comment: 'Off sick', to: [sim.users.alex.upn] },
      ]);
      graphError(
        await send('POST', `/v1.0/me/events/${encodeURIComponent(own.id)}/cancel`, {}),
        404,
        'ErrorItemNotFound',
      );
    });
  });

  describe('transactionId reuse', function () {
    const countNamed = (subject) =>
      sim.calendarOf('megan', null).items.filter((i) => i.subject === subject).length;

    it("'replay' (observed): the same request again answers 201 with the one event; a different event with the id is refused", async () => {
      const first = await send('POST', '/v1.0/me/events', event('Replay', { transactionId: 'tx-replay' }));
      const again = await send('POST', '/v1.0/me/events', event('Replay', { transactionId: 'tx-replay' }));
      again.status.should.equal(201);
      again.body.id.should.equal(first.body.id);
      countNamed('Replay').should.equal(1);
      const other = await send('POST', '/v1.0/me/events', event('Other', { transactionId: 'tx-replay' }));
      graphError(other, 400, 'ErrorDuplicateTransactionId');
      other.body.error.message.should.match(/has already been used to create a different event/);
      countNamed('Other').should.equal(0);
    });

    it("'error': any reuse is refused; 'ignore': a second event (Graph not honouring the id at all)", async () => {
      sim.knobs.transactionIdReuse = 'error';
      await send('POST', '/v1.0/me/events', event('Strict reuse', { transactionId: 'tx-strict' }));
      graphError(
        await send('POST', '/v1.0/me/events', event('Strict reuse', { transactionId: 'tx-strict' })),
        400,
        'ErrorDuplicateTransactionId',
      );
      countNamed('Strict reuse').should.equal(1);
      sim.knobs.transactionIdReuse = 'ignore';
      (
        await send('POST', '/v1.0/me/events', event('Strict reuse', { transactionId: 'tx-strict' }))
      ).status.should.equal(201);
      countNamed('Strict reuse').should.equal(2);
    });

    it('an id whose event was deleted is free again; ids are per mailbox', async () => {
      const first = (await send('POST', '/v1.0/me/events', event('Freed', { transactionId: 'tx-freed' })))
        .body;
      await send('DELETE', `/v1.0/me/events/${encodeURIComponent(first.id)}`);
      const again = await send('POST', '/v1.0/me/events', event('Freed', { transactionId: 'tx-freed' }));
      again.status.should.equal(201);
      again.body.id.should.not.equal(first.id);
      (
        await send(
          'POST',
          `/v1.0/users/${sim.users.alex.upn}/events`,
          event('Freed', { transactionId: 'tx-freed' }),
        )
      ).status.should.equal(201);
    });
  });

  describe('faults after a write was applied', function () {
    it("'slow': the event exists although the answer comes late; '503': the event exists although the answer is an error", async () => {
      sim.writes.faultAfterCommit({ type: 'slow', delayMs: 400 });
      const controller = new AbortController();
      const late = fetch(`${sim.url}/v1.0/me/events`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(event('Late')),
        signal: controller.signal,
      }).catch((err) => err);
      await h.graph(sim, '/v1.0/me', token); // let the POST arrive first
      await new Promise((r) => setTimeout(r, 100));
      sim
        .calendarOf('megan', null)
        .items.some((i) => i.subject === 'Late')
        .should.be.true();
      controller.abort();
      (await late).name.should.equal('AbortError');

      sim.writes.faultAfterCommit({ type: '503', method: 'POST' });
      const answer = await send('POST', '/v1.0/me/events', event('Failed but made'));
      graphError(answer, 503, 'ServiceNotAvailable');
      sim
        .calendarOf('megan', null)
        .items.some((i) => i.subject === 'Failed but made')
        .should.be.true();
      sim.requests[sim.requests.length - 1].fault.should.equal('after:503');
    });

    it('refuses unknown fault types', () => {
      (() => sim.writes.faultAfterCommit({ type: 'teapot' })).should.throw(/type must be one of/);
    });
  });
});
