// o365-write in the real Node-RED runtime against the simulator: each action's request as Graph received it and
// the node's output; a create retried across a timeout or a 5xx that never doubles a meeting; read-only sign-ins;
// every bad message refused before any request, with the message intact for a retry.
'use strict';
const should = require('should');
const fs = require('fs');
const path = require('path');
const { startSimulator } = require('../sim/simulator');
const { coreNode } = require('../lib/runtime');
const { root } = require('../lib/dist');
const {
  helper,
  NODES,
  freshUserDir,
  onTab,
  loadFlow,
  configFor,
  signedInCredentials,
  nextMessage,
  collect,
  lastStatus,
  waitFor,
} = require('../lib/nodes');

const RW = 'offline_access openid profile Calendars.ReadWrite Calendars.ReadWrite.Shared';
const RO = 'offline_access openid profile Calendars.Read Calendars.Read.Shared';
const ZONE = 'Europe/Berlin';
const WINDOWS_ZONE = 'W. Europe Standard Time';

function writeFlow(sim, props, { scope = RW, config = {}, extra = [] } = {}) {
  const { node } = configFor(sim, { scopes: scope, ...config });
  return onTab([
    node,
    { id: 'write', type: 'o365-write', config: node.id, timezone: ZONE, ...props, wires: [['out']] },
    { id: 'out', type: 'helper' },
    { id: 'catch', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper' },
    ...extra,
  ]);
}

async function load(sim, props = {}, options = {}) {
  const scope = options.scope || RW;
  const appOnly = options.config && options.config.mode === 'application';
  const credentials = appOnly
    ? configFor(sim, options.config).credentials
    : { cfg: signedInCredentials(sim, 'cfg', 'confidential', scope).cfg };
  // An expired access token: the first write refreshes, and the sign-in learns its granted scopes.
  if (options.refreshFirst) credentials.cfg.expiresAt = String(Date.now() - 1000);
  await loadFlow(writeFlow(sim, props, { ...options, scope }), credentials);
  await helper.getNode('cfg').ready;
  return { write: helper.getNode('write'), out: helper.getNode('out'), caught: helper.getNode('caught') };
}

const graphRequests = (sim) => sim.requests.filter((r) => r.kind === 'graph');
const writes = (sim) => graphRequests(sim).filter((r) => r.method !== 'GET');
const itemsNamed = (sim, subject, user = 'megan', calendarId = null) =>
  sim.calendarOf(user, calendarId).items.filter((i) => i.subject === subject);

// Node-RED keeps every 'input' listener of a node (removeListener does not reach them): one listener pair per
// helper node, handing each output or caught error to the write that waits for it.
const harnesses = new WeakMap();
function harness(out, caught) {
  let waiting;
  const settle = (how, value) => {
    const w = waiting;
    waiting = undefined;
    if (w) w[how](value);
  };
  out.on('input', (m) => settle('resolve', m));
  caught.on('input', (m) => settle('reject', Object.assign(new Error(m.error.message), { msg: m })));
  return (node, msg, ms) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no output and no error')), ms);
      waiting = {
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      };
      node.receive(msg);
    });
}

/** Sends a message and resolves with the output message, or rejects with the error a Catch node got. */
function write(node, out, caught, msg, ms = 8000) {
  if (!harnesses.has(out)) harnesses.set(out, harness(out, caught));
  return harnesses.get(out)(node, msg, ms);
}

async function failure(node, out, caught, msg) {
  try {
    await write(node, out, caught, msg);
  } catch (err) {
    if (err.msg) return err.msg;
    throw err;
  }
  throw new Error('the write did not fail');
}

const tomorrowAt = (hour) => `tomorrow+${hour}h`;

describe('o365-write (runtime)', function () {
  this.timeout(30000);
  let sim;

  beforeEach(async () => {
    sim = await startSimulator({ eventCount: 300 });
  });
  afterEach(async () => {
    await helper.unload();
    await sim.close();
  });

  describe('each action: the request Graph received and the output', function () {
    it('create (short form): POST …/calendar/events with the converted body, the event out as o365-events emits it', async () => {
      const { write: node, out, caught } = await load(sim);
      const msg = await write(node, out, caught, {
        topic: 'focus',
        payload: {
          subject: 'Focus time',
          start: '2027-03-01T09:30',
          end: '2027-03-01T10:15',
          location: 'Room 1.01',
          attendees: ['alex@contoso.onmicrosoft.com'],
          body: 'Heads down',
          showAs: 'busy',
          categories: 'Blue category',
        },
      });
      const [post] = writes(sim);
      post.method.should.equal('POST');
      post.path.should.equal('/v1.0/me/calendar/events');
      post.headers.prefer.should.equal(`outlook.timezone="${WINDOWS_ZONE}"`);
      post.json.transactionId.should.match(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      const { transactionId: _tid, ...body } = post.json;
      body.should.eql({
        subject: 'Focus time',
        location: { displayName: 'Room 1.01' },
        attendees: [{ emailAddress: { address: 'alex@contoso.onmicrosoft.com' }, type: 'required' }],
        body: { contentType: 'text', content: 'Heads down' },
        showAs: 'busy',
        categories: ['Blue category'],
        start: { dateTime: '2027-03-01T09:30:00', timeZone: WINDOWS_ZONE },
        end: { dateTime: '2027-03-01T10:15:00', timeZone: WINDOWS_ZONE },
      });
      post.status.should.equal(201);
      // The output: Graph's event in the node's zone, with the instants, other message properties kept.
      msg.topic.should.equal('focus');
      msg.payload.subject.should.equal('Focus time');
      msg.payload.start.should.containEql({
        dateTime: '2027-03-01T09:30:00.0000000',
        timeZone: WINDOWS_ZONE,
      });
      msg.payload.start.iso.should.equal('2027-03-01T09:30:00+01:00');
      msg.payload.start.ms.should.equal(Date.parse('2027-03-01T08:30:00Z'));
      msg.payload.end.iso.should.equal('2027-03-01T10:15:00+01:00');
      msg.payload.transactionId.should.equal(post.json.transactionId);
      should(msg.payload['@odata.context']).be.undefined();
      itemsNamed(sim, 'Focus time').should.have.length(1);
      msg.payload.id.should.equal(itemsNamed(sim, 'Focus time')[0].id);
      lastStatus(node).should.containEql({ fill: 'green', shape: 'dot' });
      lastStatus(node).text.should.match(/^created «Focus time» · \d\d:\d\d$/);
    });

    it('create: window grammar, a Date and epoch ms for start/end; all-day dates; another calendar and a room', async () => {
      const team = sim.calendars('megan').find((c) => !c.isDefaultCalendar);
      const room = sim.users.room101.upn;
      const { write: node, out, caught } = await load(sim, { allowMsgMailbox: true });
      const start = Date.parse('2027-04-05T07:00:00Z');
      await write(node, out, caught, {
        calendarId: team.id,
        payload: { subject: 'Grammar', start: tomorrowAt(9), end: tomorrowAt(10) },
      });
      await write(node, out, caught, {
        user: room,
        payload: { subject: 'Date and ms', start: new Date(start), end: start + 45 * 60000 },
      });
      const allDay = await write(node, out, caught, {
        payload: { subject: 'Holiday', isAllDay: true, start: '2027-04-10' },
      });
      const [grammar, dated, holiday] = writes(sim);
      grammar.rawPath.should.equal(`/v1.0/me/calendars/${encodeURIComponent(team.id)}/events`);
      grammar.json.start.dateTime.should.match(/T09:00:00$/);
      grammar.json.end.dateTime.should.match(/T10:00:00$/);
      dated.path.should.equal(`/v1.0/users/${room}/calendar/events`);
      dated.json.start.should.eql({ dateTime: '2027-04-05T09:00:00', timeZone: WINDOWS_ZONE });
      dated.json.end.should.eql({ dateTime: '2027-04-05T09:45:00', timeZone: WINDOWS_ZONE });
      holiday.json.should.containEql({
        isAllDay: true,
        start: { dateTime: '2027-04-10T00:00:00', timeZone: WINDOWS_ZONE },
        end: { dateTime: '2027-04-11T00:00:00', timeZone: WINDOWS_ZONE },
      });
      allDay.payload.isAllDay.should.be.true();
      allDay.payload.start.iso.should.equal('2027-04-10T00:00:00+02:00');
      itemsNamed(sim, 'Grammar', 'megan', team.id).should.have.length(1);
      itemsNamed(sim, 'Date and ms', room).should.have.length(1);
    });

    it('update: PATCH …/events/{id} with only the fields given; an event from o365-events goes back without the read-only fields and the instants', async () => {
      const { write: node, out, caught } = await load(sim, { action: 'update' });
      const created = sim.addEvent('megan', null, {
        subject: 'Old subject',
        start: '2027-05-03T10:00:00Z',
        end: '2027-05-03T11:00:00Z',
      });
      let msg = await write(node, out, caught, {
        eventId: created.id,
        payload: { subject: 'New subject', end: '2027-05-03T13:30' },
      });
      let [patch] = writes(sim);
      patch.method.should.equal('PATCH');
      patch.rawPath.should.equal(`/v1.0/me/events/${encodeURIComponent(created.id)}`);
      patch.json.should.eql({
        subject: 'New subject',
        end: { dateTime: '2027-05-03T13:30:00', timeZone: WINDOWS_ZONE },
      });
      patch.status.should.equal(200);
      msg.payload.subject.should.equal('New subject');
      msg.payload.end.iso.should.equal('2027-05-03T13:30:00+02:00');
      lastStatus(node).text.should.match(/^updated «New subject» · /);

      // Round trip: the event as o365-events emits it (instants and all), changed, written back.
      sim.clearLog();
      const event = { ...msg.payload, subject: 'Round trip', showAs: 'oof' };
      const back = await write(node, out, caught, { payload: event });
      back.payload.subject.should.equal('Round trip');
      [patch] = writes(sim);
      for (const field of [
        'id',
        'changeKey',
        'createdDateTime',
        'webLink',
        'type',
        'transactionId',
        '@odata.etag',
        'responseStatus',
      ]) {
        patch.json.should.not.have.property(field);
      }
      patch.json.start.should.eql({ dateTime: event.start.dateTime, timeZone: event.start.timeZone });
      patch.json.end.should.not.have.properties('ms', 'iso');
      patch.json.should.containEql({ subject: 'Round trip', showAs: 'oof' });
      itemsNamed(sim, 'Round trip').should.have.length(1);
      itemsNamed(sim, 'Round trip')[0].showAs.should.equal('oof');
    });

    it('delete: DELETE …/events/{id}, {id, action} out, the event gone from calendarView', async () => {
      const { write: node, out, caught } = await load(sim, { action: 'delete' });
      const created = sim.addEvent('megan', null, {
        subject: 'Doomed',
        start: '2027-05-04T10:00:00Z',
        end: '2027-05-04T11:00:00Z',
      });
      const msg = await write(node, out, caught, { payload: { id: created.id } });
      const [request] = writes(sim);
      request.method.should.equal('DELETE');
      request.rawPath.should.equal(`/v1.0/me/events/${encodeURIComponent(created.id)}`);
      request.status.should.equal(204);
      msg.payload.should.eql({ id: created.id, action: 'delete' });
      sim
        .expectedView({ user: 'megan', start: '2027-05-04T00:00:00Z', end: '2027-05-05T00:00:00Z' })
        .should.not.containEql(created.id);
      lastStatus(node).text.should.match(/^deleted · \d\d:\d\d$/);
    });

    for (const [action, graphAction, response] of [
      ['accept', 'accept', 'accepted'],
      ['tentative', 'tentativelyAccept', 'tentativelyAccepted'],
      ['decline', 'decline', 'declined'],
    ]) {
      it(`${action}: POST …/events/{id}/${graphAction} with {comment, sendResponse}, 202, the response recorded`, async () => {
        const { write: node, out, caught } = await load(sim, { action });
        const invite = sim.addEvent('megan', null, {
          subject: `Invite ${action}`,
          start: '2027-05-06T10:00:00Z',
          end: '2027-05-06T11:00:00Z',
          organizer: { emailAddress: { name: 'Alex', address: sim.users.alex.upn } },
        });
        const msg = await write(node, out, caught, { eventId: invite.id, payload: { comment: 'Thanks' } });
        const [request] = writes(sim);
        request.method.should.equal('POST');
        request.rawPath.should.equal(`/v1.0/me/events/${encodeURIComponent(invite.id)}/${graphAction}`);
        request.json.should.eql({ comment: 'Thanks', sendResponse: true });
        request.status.should.equal(202);
        msg.payload.should.eql({ id: invite.id, action });
        sim.model.items.get(invite.id).response.should.equal(response);
        sim.writes.sent.filter((m) => m.kind === 'response').should.have.length(1);
      });
    }

    it('decline with a proposed new time and without a response mail', async () => {
      const { write: node, out, caught } = await load(sim, { action: 'msg' });
      const invite = sim.addEvent('megan', null, {
        subject: 'Propose',
        start: '2027-05-06T10:00:00Z',
        end: '2027-05-06T11:00:00Z',
        organizer: { emailAddress: { name: 'Alex', address: sim.users.alex.upn } },
      });
      await write(node, out, caught, {
        action: 'tentative',
        eventId: invite.id,
        payload: { proposedNewTime: { start: '2027-05-07T10:00', end: '2027-05-07T11:00' } },
      });
      await write(node, out, caught, {
        action: 'decline',
        eventId: invite.id,
        payload: { sendResponse: false },
      });
      const [tentative, decline] = writes(sim);
      tentative.json.should.eql({
        sendResponse: true,
        proposedNewTime: {
          start: { dateTime: '2027-05-07T10:00:00', timeZone: WINDOWS_ZONE },
          end: { dateTime: '2027-05-07T11:00:00', timeZone: WINDOWS_ZONE },
        },
      });
      decline.json.should.eql({ sendResponse: false });
      sim.writes.sent.should.have.length(1); // the tentative answer; the decline sent no mail
    });

    it('cancel: the organizer cancels with a comment (POST …/cancel, the event leaves the calendar); an attendee gets Graph’s 400', async () => {
      const { write: node, out, caught } = await load(sim, { action: 'cancel' });
      const own = sim.addEvent('megan', null, {
        subject: 'Own meeting',
        start: '2027-05-08T10:00:00Z',
        end: '2027-05-08T11:00:00Z',
        attendees: [{ emailAddress: { address: sim.users.alex.upn } }],
      });
      const msg = await write(node, out, caught, {
        eventId: own.id,
        payload: { comment: 'Sorry, off sick' },
      });
      const [request] = writes(sim);
      request.rawPath.should.equal(`/v1.0/me/events/${encodeURIComponent(own.id)}/cancel`);
      request.json.should.eql({ comment: 'Sorry, off sick' });
      request.status.should.equal(202);
      msg.payload.should.eql({ id: own.id, action: 'cancel' });
      should(sim.model.items.get(own.id)).be.undefined();
      sim.writes.sent.should.containDeep([{ kind: 'cancellation', comment: 'Sorry, off sick' }]);

      const theirs = sim.addEvent('megan', null, {
        subject: 'Their meeting',
        start: '2027-05-08T12:00:00Z',
        end: '2027-05-08T13:00:00Z',
        organizer: { emailAddress: { address: sim.users.alex.upn } },
      });
      const failed = await failure(node, out, caught, { eventId: theirs.id, payload: {} });
      failed.error.code.should.equal('ErrorInvalidRequest');
      failed.error.message.should.match(/need to be an organizer/);
      failed.error.cause.status.should.equal(400);
      lastStatus(node).fill.should.equal('red');
    });

    it('a written event is what o365-events reads next', async () => {
      const events = {
        id: 'events',
        type: 'o365-events',
        config: 'cfg',
        timezone: ZONE,
        start: '2027-06-01',
        end: '2027-06-02',
        wires: [['read']],
      };
      const read = { id: 'read', type: 'helper' };
      const { write: node, out, caught } = await load(sim, {}, { extra: [events, read] });
      const created = await write(node, out, caught, {
        payload: { subject: 'Seen', start: '2027-06-01T09:00', end: '2027-06-01T10:00' },
      });
      const got = nextMessage(helper.getNode('read'));
      helper.getNode('events').receive({});
      const seen = (await got).payload.find((e) => e.id === created.payload.id);
      seen.subject.should.equal('Seen');
      seen.start.iso.should.equal(created.payload.start.iso);
    });
  });

  describe('a create retried never doubles a meeting', function () {
    const payload = { subject: 'Book once', start: '2027-02-10T10:00', end: '2027-02-10T10:30' };

    for (const mode of ['replay', 'error', 'ignore']) {
      it(`across a timeout after the event was made (transactionId reuse: ${mode}): one event, found by its transactionId`, async () => {
        sim.knobs.transactionIdReuse = mode;
        const { write: node, out, caught } = await load(sim);
        // The simulator makes the event, then answers after the client's 2 s timeout.
        sim.writes.faultAfterCommit({ type: 'slow', delayMs: 3000, method: 'POST' });
        const msg = await write(node, out, caught, { payload });
        itemsNamed(sim, 'Book once').should.have.length(1);
        msg.payload.id.should.equal(itemsNamed(sim, 'Book once')[0].id);
        msg.payload.start.iso.should.equal('2027-02-10T10:00:00+01:00');
        const kinds = graphRequests(sim).map((r) => `${r.method} ${r.path.split('/').pop()}`);
        kinds.should.eql(['POST events', 'GET calendarView']);
      });
    }

    it('across a 5xx after the event was made: one event', async () => {
      sim.knobs.transactionIdReuse = 'ignore';
      const { write: node, out, caught } = await load(sim);
      sim.writes.faultAfterCommit({ type: '503', method: 'POST' });
      const msg = await write(node, out, caught, { payload });
      itemsNamed(sim, 'Book once').should.have.length(1);
      msg.payload.id.should.equal(itemsNamed(sim, 'Book once')[0].id);
      writes(sim).should.have.length(1);
    });

    it('across a 5xx before the event was made: looked up, not there, created once by the second POST', async () => {
      const { write: node, out, caught } = await load(sim);
      sim.fault({ on: 'graph', type: '500', match: '/calendar/events' });
      await write(node, out, caught, { payload });
      itemsNamed(sim, 'Book once').should.have.length(1);
      const posts = writes(sim);
      posts.map((r) => r.status).should.eql([500, 201]);
      posts[0].json.transactionId.should.equal(posts[1].json.transactionId);
    });

    it('the same message sent again by a Catch loop after the create stayed unclear: looked up first, one event', async () => {
      sim.knobs.transactionIdReuse = 'ignore';
      const { write: node, out, caught } = await load(sim);
      // The event is made, the answer is lost, and the look-ups fail too: the outcome stays unclear.
      sim.writes.faultAfterCommit({ type: 'slow', delayMs: 3000, method: 'POST' });
      sim.fault({ on: 'graph', type: '503', match: 'calendarView', times: 30 });
      const first = { _msgid: 'catch-me', payload };
      const failed = await failure(node, out, caught, first);
      failed.error.message.should.match(
        /may or may not have been created.*sending the same message again is safe/i,
      );
      failed.payload.should.eql(payload);
      sim.clearFaults();
      sim.clearLog();
      await write(node, out, caught, failed); // what a Catch → write wire sends: the same message
      itemsNamed(sim, 'Book once').should.have.length(1);
      writes(sim).should.have.length(0);
    });

    it('the same message twice books once; a new message books again; split parts each book', async () => {
      sim.knobs.transactionIdReuse = 'ignore';
      const { write: node, out, caught } = await load(sim);
      const a = await write(node, out, caught, { _msgid: 'one', payload });
      const b = await write(node, out, caught, { _msgid: 'one', payload });
      b.payload.id.should.equal(a.payload.id);
      itemsNamed(sim, 'Book once').should.have.length(1);
      await write(node, out, caught, { _msgid: 'two', payload });
      itemsNamed(sim, 'Book once').should.have.length(2);
      // A split node gives every part the same _msgid; the parts tell them apart.
      const part = (index, subject) => ({
        _msgid: 'split',
        parts: { id: 'p', index, count: 2 },
        payload: { ...payload, subject },
      });
      await write(node, out, caught, part(0, 'Part'));
      await write(node, out, caught, part(1, 'Part'));
      itemsNamed(sim, 'Part').should.have.length(2);
    });

    it('msg.transactionId is sent as given and repeats as one event', async () => {
      const { write: node, out, caught } = await load(sim);
      await write(node, out, caught, { transactionId: 'booking-42', payload });
      await write(node, out, caught, { transactionId: 'booking-42', payload });
      writes(sim)[0].json.transactionId.should.equal('booking-42');
      itemsNamed(sim, 'Book once').should.have.length(1);
    });

    it('ErrorDuplicateTransactionId (an earlier process made the event): the event with that id is the result', async () => {
      sim.knobs.transactionIdReuse = 'error';
      const { write: node, out, caught } = await load(sim);
      // Made before this process started (say, by the run that crashed before it saw the answer).
      const token = sim.issueTokens({ scope: RW }).access_token;
      const earlier = await fetch(`${sim.url}/v1.0/me/events`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({
          subject: 'Book once',
          start: { dateTime: '2027-02-10T10:00:00', timeZone: WINDOWS_ZONE },
          end: { dateTime: '2027-02-10T10:30:00', timeZone: WINDOWS_ZONE },
          transactionId: 'made-earlier',
        }),
      }).then((r) => r.json());
      sim.clearLog();
      const msg = await write(node, out, caught, { transactionId: 'made-earlier', payload });
      msg.payload.id.should.equal(earlier.id);
      writes(sim)
        .map((r) => r.status)
        .should.eql([400]);
      itemsNamed(sim, 'Book once').should.have.length(1);
      // A used id for a different event somewhere else stays Graph's error.
      const failed = await failure(node, out, caught, {
        transactionId: 'made-earlier',
        payload: { ...payload, start: '2027-02-11T10:00', end: '2027-02-11T11:00' },
      });
      failed.error.code.should.equal('ErrorDuplicateTransactionId');
    });

    it('a 429 on create is waited out and retried by the client (Graph answers it before acting): one event', async () => {
      const { write: node, out, caught } = await load(sim);
      sim.fault({ on: 'graph', type: '429', retryAfter: 0, match: '/calendar/events' });
      await write(node, out, caught, { payload });
      writes(sim)
        .map((r) => r.status)
        .should.eql([429, 201]);
      itemsNamed(sim, 'Book once').should.have.length(1);
    });
  });

  describe('updates, deletes and answers on unclear answers', function () {
    it('update is retried after a 503 (the same PATCH twice changes once)', async () => {
      const { write: node, out, caught } = await load(sim, { action: 'update' });
      const created = sim.addEvent('megan', null, {
        subject: 'Patch me',
        start: '2027-05-03T10:00:00Z',
        end: '2027-05-03T11:00:00Z',
      });
      sim.writes.faultAfterCommit({ type: '503', method: 'PATCH' });
      const msg = await write(node, out, caught, { eventId: created.id, payload: { subject: 'Patched' } });
      writes(sim)
        .map((r) => r.status)
        .should.eql([503, 200]);
      msg.payload.subject.should.equal('Patched');
    });

    it('delete whose answer was lost: the retry’s 404 means done', async () => {
      const { write: node, out, caught } = await load(sim, { action: 'delete' });
      const created = sim.addEvent('megan', null, {
        subject: 'Gone',
        start: '2027-05-03T10:00:00Z',
        end: '2027-05-03T11:00:00Z',
      });
      sim.writes.faultAfterCommit({ type: 'slow', delayMs: 3000, method: 'DELETE' });
      const msg = await write(node, out, caught, { eventId: created.id });
      writes(sim)
        .map((r) => r.status)
        .should.eql([0, 404]);
      msg.payload.should.eql({ id: created.id, action: 'delete' });
    });

    it('a delete of an event that is not there is an error (a 404 on the first attempt)', async () => {
      const { write: node, out, caught } = await load(sim, { action: 'delete' });
      const failed = await failure(node, out, caught, { eventId: 'AAMkNotThere=' });
      failed.error.code.should.equal('ErrorItemNotFound');
      failed.error.cause.status.should.equal(404);
    });

    it('an answer is sent once: a 503 is an error, not a second mail', async () => {
      const { write: node, out, caught } = await load(sim, { action: 'accept' });
      const invite = sim.addEvent('megan', null, {
        subject: 'Once',
        start: '2027-05-06T10:00:00Z',
        end: '2027-05-06T11:00:00Z',
        organizer: { emailAddress: { address: sim.users.alex.upn } },
      });
      sim.writes.faultAfterCommit({ type: '503', method: 'POST' });
      const failed = await failure(node, out, caught, { eventId: invite.id });
      failed.error.cause.status.should.equal(503);
      writes(sim).should.have.length(1);
      sim.writes.sent.should.have.length(1);
    });
  });

  describe('permissions', function () {
    it('a read-only sign-in: the write is refused naming Calendars.ReadWrite and the new sign-in; reading keeps working', async () => {
      const events = { id: 'events', type: 'o365-events', config: 'cfg', timezone: ZONE, wires: [['read']] };
      const read = { id: 'read', type: 'helper' };
      const {
        write: node,
        out,
        caught,
      } = await load(sim, {}, { scope: RO, extra: [events, read], refreshFirst: true });
      const original = { payload: { subject: 'Nope', start: '2027-02-10T10:00', end: '2027-02-10T10:30' } };
      const failed = await failure(node, out, caught, JSON.parse(JSON.stringify(original)));
      failed.error.code.should.equal('ErrorAccessDenied');
      failed.error.cause.should.containEql({ status: 403, permission: 'Calendars.ReadWrite' });
      failed.error.message.should.match(/delegated permission Calendars\.ReadWrite\b/);
      failed.error.message.should.match(/sign in again/);
      failed.error.message.should.match(/granted: Calendars\.Read Calendars\.Read\.Shared/);
      failed.payload.should.eql(original.payload);
      lastStatus(node).should.eql({
        fill: 'red',
        shape: 'ring',
        text: 'needs Calendars.ReadWrite · sign in again',
      });
      const got = nextMessage(helper.getNode('read'));
      helper.getNode('events').receive({});
      (await got).payload.should.be.an.Array();
    });

    it('another user’s calendar without Calendars.ReadWrite.Shared names that permission', async () => {
      const {
        write: node,
        out,
        caught,
      } = await load(
        sim,
        { user: sim.users.alex.upn },
        { scope: 'offline_access openid profile Calendars.ReadWrite' },
      );
      const failed = await failure(node, out, caught, {
        payload: { subject: 'x', start: '2027-02-10T10:00', end: '2027-02-10T10:30' },
      });
      failed.error.cause.permission.should.equal('Calendars.ReadWrite.Shared');
      lastStatus(node).text.should.equal('needs Calendars.ReadWrite.Shared · sign in again');
    });

    it('with the scope but a calendar not shared for editing: says so, no permission to add', async () => {
      const {
        write: node,
        out,
        caught,
      } = await load(sim, { user: sim.users.room202.upn }, { refreshFirst: true });
      const failed = await failure(node, out, caught, {
        payload: { subject: 'x', start: '2027-02-10T10:00', end: '2027-02-10T10:30' },
      });
      failed.error.message.should.match(/not shared with the signed-in user with permission to edit/);
      should(failed.error.cause.permission).be.undefined();
    });

    it('application mode: Calendars.Read only is refused naming the application permission; with Calendars.ReadWrite the room is booked', async () => {
      const room = sim.users.room101.upn;
      const {
        write: node,
        out,
        caught,
      } = await load(sim, { user: room }, { config: { mode: 'application' } });
      const msg = { payload: { subject: 'App booking', start: '2027-02-10T10:00', end: '2027-02-10T10:30' } };
      const failed = await failure(node, out, caught, msg);
      failed.error.message.should.match(/application permission Calendars\.ReadWrite with admin consent/);
      lastStatus(node).text.should.equal('app needs Calendars.ReadWrite (admin consent)');
      // The admin grants the permission: tokens issued from now on carry the role.
      const issue = sim.identity.issueApp.bind(sim.identity);
      sim.identity.issueApp = (app) => {
        const answer = issue(app);
        sim.identity.accessTokens.get(answer.access_token).roles.push('Calendars.ReadWrite');
        return answer;
      };
      for (const rec of sim.identity.accessTokens.values()) if (rec.kind === 'app') rec.exp = 0; // force a new token
      await write(node, out, caught, msg);
      itemsNamed(sim, 'App booking', room).should.have.length(1);
    });
  });

  describe('bad messages: an error naming the field, no request, the message intact', function () {
    const valid = { subject: 'S', start: '2027-02-10T10:00', end: '2027-02-10T11:00' };
    const cases = [
      [
        'create without a subject',
        {},
        { payload: { start: valid.start, end: valid.end } },
        'payload.subject',
        /needs a subject/,
      ],
      [
        'create with a blank subject',
        {},
        { payload: { ...valid, subject: '  ' } },
        'payload.subject',
        /needs a subject/,
      ],
      [
        'create without an end',
        {},
        { payload: { subject: 'S', start: valid.start } },
        'payload.end',
        /needs an end/,
      ],
      [
        'end before start',
        {},
        { payload: { ...valid, end: '2027-02-10T09:00' } },
        'payload.end',
        /after the start/,
      ],
      [
        'end equal to start',
        {},
        { payload: { ...valid, end: valid.start } },
        'payload.end',
        /after the start/,
      ],
      [
        'a start that is no time',
        {},
        { payload: { ...valid, start: 'soon' } },
        'payload.start',
        /"soon" is not a window value/,
      ],
      [
        'epoch seconds',
        {},
        { payload: { ...valid, start: 1700000000 } },
        'payload.start',
        /probably seconds/,
      ],
      ['all-day off midnight', {}, { payload: { ...valid, isAllDay: true } }, 'payload.start', /all-day/],
      [
        'an attendee that is no address',
        {},
        { payload: { ...valid, attendees: ['alex@contoso.com', 'bob'] } },
        'payload.attendees[1]',
        /"bob" is not an email address/,
      ],
      [
        'an attendee object without address',
        {},
        { payload: { ...valid, attendees: [{ emailAddress: { name: 'x' } }] } },
        'payload.attendees[0].emailAddress.address',
        /not an email address/,
      ],
      [
        'an unknown short-form field',
        {},
        { payload: { ...valid, room: 'A' } },
        'payload.room',
        /neither a short-form field/,
      ],
      [
        'a misspelt field',
        {},
        { payload: { ...valid, Subject: 'x' } },
        'payload.Subject',
        /neither a short-form field/,
      ],
      [
        'showAs not one of Graph’s',
        {},
        { payload: { ...valid, showAs: 'away' } },
        'payload.showAs',
        /must be one of free, tentative/,
      ],
      [
        'isAllDay not a boolean',
        {},
        { payload: { ...valid, isAllDay: 'yes' } },
        'payload.isAllDay',
        /true or false/,
      ],
      ['a payload that is no object', {}, { payload: 'Focus' }, 'payload', /must be an object/],
      [
        'msg.transactionId not text',
        {},
        { transactionId: 42, payload: valid },
        'transactionId',
        /must be text/,
      ],
      [
        'an unknown msg.action',
        { action: 'msg' },
        { action: 'book', payload: valid },
        'action',
        /msg\.action "book" is not an action/,
      ],
      ['no msg.action', { action: 'msg' }, { payload: valid }, 'action', /is not an action/],
      [
        'update without an event id',
        { action: 'update' },
        { payload: { subject: 'x' } },
        'eventId',
        /needs the event's id/,
      ],
      [
        'update with nothing to change',
        { action: 'update' },
        { eventId: 'AAMk1', payload: { id: 'AAMk1', changeKey: 'x' } },
        'payload',
        /nothing to change/,
      ],
      ['delete without an event id', { action: 'delete' }, { payload: 1 }, 'eventId', /needs the event's id/],
      [
        'accept with an event id that is no text',
        { action: 'accept' },
        { eventId: 12 },
        'eventId',
        /must be text/,
      ],
      [
        'decline with a comment that is no text',
        { action: 'decline' },
        { eventId: 'AAMk1', payload: { comment: { a: 1 } } },
        'payload.comment',
        /must be text/,
      ],
      [
        'sendResponse not a boolean',
        { action: 'accept' },
        { eventId: 'AAMk1', payload: { sendResponse: 'no' } },
        'payload.sendResponse',
        /true or false/,
      ],
      [
        'a proposal without a response',
        { action: 'decline' },
        {
          eventId: 'AAMk1',
          payload: { sendResponse: false, proposedNewTime: { start: 'now', end: 'now+1h' } },
        },
        'payload.proposedNewTime',
        /sendResponse true/,
      ],
      [
        'msg.user not text (allowMsgMailbox)',
        { allowMsgMailbox: true },
        { user: ['a'], payload: valid },
        'user',
        /must be a string/,
      ],
      [
        'a node zone that does not exist',
        { timezone: 'Mars/Olympus' },
        { payload: valid },
        undefined,
        /is not a time zone/,
      ],
    ];
    for (const [name, props, msg, field, message] of cases) {
      it(name, async () => {
        const { write: node, out, caught } = await load(sim, props);
        sim.clearLog();
        const sent = JSON.parse(JSON.stringify(msg));
        const failed = await failure(node, out, caught, sent);
        failed.error.message.should.match(message);
        if (field !== undefined) {
          failed.error.code.should.equal('INVALID_INPUT');
          failed.error.cause.field.should.equal(field);
        }
        graphRequests(sim).should.have.length(0);
        const { _msgid, error, ...back } = failed;
        back.should.eql(msg);
        lastStatus(node).fill.should.equal('red');
      });
    }

    it('the node keeps working after a bad message', async () => {
      const { write: node, out, caught } = await load(sim);
      await failure(node, out, caught, { payload: { subject: 'S' } });
      const msg = await write(node, out, caught, { payload: valid });
      msg.payload.subject.should.equal('S');
    });

    it('a Graph error (404 on update) leaves the message intact too', async () => {
      const { write: node, out, caught } = await load(sim, { action: 'update' });
      const msg = {
        eventId: 'AAMkNotThere=',
        payload: {
          subject: 'x',
          start: { dateTime: '2027-01-01T10:00:00', timeZone: 'UTC', ms: 1, iso: 'x' },
        },
      };
      const failed = await failure(node, out, caught, JSON.parse(JSON.stringify(msg)));
      failed.error.code.should.equal('ErrorItemNotFound');
      const { _msgid, error, ...back } = failed;
      back.should.eql(msg);
    });
  });

  describe('the examples, run against the simulator', function () {
    /**
     * An example flow as the editor gives it the one account there is (examples bring none): here an account
     * pointed at the simulator and signed in with write scopes; debug → helper.
     */
    async function loadExample(file, change = () => {}) {
      const flow = JSON.parse(fs.readFileSync(path.join(root, 'examples', file), 'utf8'))
        .filter((n) => n.type !== 'comment')
        .map((n) => (n.type === 'debug' ? { id: n.id, z: n.z, type: 'helper', x: n.x, y: n.y } : n));
      flow.filter((n) => n.type === 'o365-config').should.eql([]);
      const { node: config } = configFor(sim, { id: 'ex-cfg', scopes: RW });
      for (const n of flow) if (/^o365-/.test(n.type)) (n.config.should.equal(''), (n.config = config.id));
      flow.push(config);
      flow.forEach(change);
      helper.settings({ userDir: freshUserDir(), o365Calendar: { requestTimeout: 2000, retryDelay: 20 } });
      const credentials = { [config.id]: signedInCredentials(sim, config.id, 'confidential', RW)[config.id] };
      await helper.load(
        [...NODES, coreNode('common/20-inject.js'), coreNode('function/10-function.js')],
        flow,
        credentials,
      );
      await helper.getNode(config.id).ready;
    }

    it('"Book this room now for 30 minutes" books the room from now to now+30m', async () => {
      const room = sim.users.room101.upn;
      // The example names a room of the simulated tenant, so it runs as it is.
      await loadExample('Book this room now for 30 minutes.json', (n) => {
        if (n.type === 'o365-write') n.user.should.equal(room);
      });
      const booked = nextMessage(helper.getNode('ex-book-d'));
      const errors = collect(helper.getNode('ex-book-de'));
      const before = Date.now();
      helper.getNode('ex-book-i').receive({});
      await waitFor(() => errors.length || writes(sim).length, 5000, 'a write');
      errors.should.eql([]);
      const msg = await booked;
      writes(sim)[0].path.should.equal(`/v1.0/users/${room}/calendar/events`);
      itemsNamed(sim, 'Ad-hoc meeting', room).should.have.length(1);
      msg.payload.start.ms.should.be.within(before - 1000, Date.now());
      (msg.payload.end.ms - msg.payload.start.ms).should.be.within(30 * 60000 - 1000, 30 * 60000);
    });

    it('"Decline while on holiday" declines the unanswered holiday invitations with the comment, once each', async () => {
      const invite = (subject, start, extra = {}) =>
        sim.addEvent('megan', null, {
          subject,
          start,
          end: new Date(Date.parse(start) + 3600000).toISOString(),
          organizer: { emailAddress: { address: sim.users.alex.upn } },
          responseStatus: { response: 'notResponded' },
          ...extra,
        });
      const during = invite('Year planning', '2026-12-28T10:00:00Z');
      const accepted = invite('Party', '2026-12-22T18:00:00Z', { responseStatus: { response: 'accepted' } });
      const after = invite('Kick-off', '2027-01-12T09:00:00Z');
      const own = sim.addEvent('megan', null, {
        subject: 'Mine',
        start: '2026-12-29T10:00:00Z',
        end: '2026-12-29T11:00:00Z',
      });
      await loadExample('Decline while on holiday.json');
      const out = collect(helper.getNode('ex-holiday-d'));
      // The window holds the simulator's own invitations too: wait until the declines stop coming.
      let seen = -1;
      await waitFor(
        async () => {
          const settled = out.length > 0 && out.length === seen;
          seen = out.length;
          if (!settled) await new Promise((r) => setTimeout(r, 400));
          return settled;
        },
        15000,
        'the declines',
      );
      const ids = out.map((m) => m.payload.id);
      ids.should.containEql(during.id);
      new Set(ids).size.should.equal(ids.length);
      for (const other of [accepted, after, own]) ids.should.not.containEql(other.id);
      const holiday = [Date.parse('2026-12-20T00:00:00Z'), Date.parse('2027-01-08T00:00:00Z')];
      for (const id of ids) {
        const found = sim.model.find(sim.users.megan, id);
        found.item.isOrganizer.should.be.false();
        found.item.response.should.equal('declined');
        const start =
          found.day === undefined
            ? found.item.startMs
            : sim.model.seriesInstance(found.item, found.day, 'UTC').startMs;
        (start || found.item.startDay * 86400000).should.be.within(holiday[0], holiday[1]);
      }
      const requests = writes(sim);
      requests.should.have.length(ids.length);
      for (const request of requests) {
        request.path.should.endWith('/decline');
        request.json.should.eql({
          comment: 'I am on holiday until 6 January and will not attend. Thank you for the invitation.',
          sendResponse: true,
        });
      }
      sim.writes.sent.should.have.length(ids.length);
    });
  });

  it('writes one message at a time and reports throttling on the canvas', async () => {
    const { write: node, out, caught } = await load(sim);
    const received = collect(out);
    sim.fault({ on: 'graph', type: '429', retryAfter: 1, match: '/calendar/events' });
    for (let i = 0; i < 3; i++)
      node.receive({
        payload: { subject: `Queued ${i}`, start: '2027-02-10T10:00', end: '2027-02-10T11:00' },
      });
    await waitFor(() => received.length === 3, 10000, 'three writes');
    received.map((m) => m.payload.subject).should.eql(['Queued 0', 'Queued 1', 'Queued 2']);
    node.status
      .getCalls()
      .some((c) => c.thisValue === node && /throttled/.test(c.args[0].text))
      .should.be.true();
    caught.should.be.ok();
  });
});
