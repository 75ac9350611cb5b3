// o365-trigger and o365-state in the real Node-RED runtime against the simulator, on the real clock: firings with
// the event and msg.trigger, moved / cancelled / deleted events, an outage while a timer is pending, once-only
// across full and modified-nodes deploys, catch-up after a redeploy, one shared read for several nodes, the state
// flipping by timer, and settings that cannot work.
'use strict';
const fs = require('fs');
const path = require('path');
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
  lastStatus,
  statuses,
} = require('../lib/nodes');

const MAILBOX = 'watched@contoso.onmicrosoft.com';
const SECOND = 1000;
const MIN = 60 * SECOND;

function views(sim) {
  return sim.requests.filter((r) => r.kind === 'graph' && r.path.endsWith('/calendarView'));
}

/** A flow with one config node (signed in) and the given trigger/state nodes, each wired to a helper `<id>-out`. */
function flowWith(sim, nodes) {
  const { node } = configFor(sim);
  return onTab([
    node,
    ...nodes.flatMap((n) => [
      { config: node.id, user: MAILBOX, timezone: 'UTC', ...n, wires: [[`${n.id}-out`]] },
      { id: `${n.id}-out`, type: 'helper' },
    ]),
    { id: 'catch', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper' },
  ]);
}

async function load(sim, nodes, userDir) {
  const creds = signedInCredentials(sim);
  const dir = await loadFlow(flowWith(sim, nodes), { cfg: creds.cfg }, userDir ? { userDir } : {});
  await helper.getNode('cfg').ready;
  return dir;
}

/** Adds a single event to the watched mailbox, `startIn` ms from now, `minutes` long. */
function addEvent(sim, subject, startIn, durationMs = 30 * MIN, extra = {}) {
  const start = Date.now() + startIn;
  return sim.addEvent(MAILBOX, null, { subject, start, end: start + durationMs, ...extra });
}

describe('o365-trigger and o365-state (runtime, real clock)', function () {
  this.timeout(30000);
  let sim;

  beforeEach(async () => {
    sim = await startSimulator({ eventCount: 0 });
    sim.createBulkMailbox(MAILBOX, 0);
  });
  afterEach(async () => {
    await helper.unload();
    await sim.close();
  });

  it('fires at the start with the event (instants added) and msg.trigger; status names the next firing', async () => {
    const event = addEvent(sim, 'Stand-up', 2 * SECOND);
    await load(sim, [{ id: 'trig', type: 'o365-trigger', timezone: 'Europe/Berlin' }]);
    const trig = helper.getNode('trig');
    await waitFor(
      () => lastStatus(trig) && /^next: start «Stand-up» \d\d:\d\d \(in 1 min\)$/.test(lastStatus(trig).text),
    );
    const msg = await nextMessage(helper.getNode('trig-out'), 5000);
    const start = Date.parse(event.start.dateTime + 'Z');
    (Date.now() - start).should.be.within(0, SECOND);
    msg.topic.should.equal('start');
    msg.payload.id.should.equal(event.id);
    msg.payload.start.ms.should.equal(start);
    msg.payload.start.iso.should.match(/\+01:00$/);
    msg.trigger.should.containEql({ edge: 'start', offset: '0m', late: false });
    Date.parse(msg.trigger.at).should.equal(start);
    Date.parse(msg.trigger.edgeAt).should.equal(start);
    (Date.parse(msg.trigger.firedAt) - start).should.be.within(0, SECOND);
    msg.user.should.equal(MAILBOX);
    msg.calendarId.should.equal('');
    await waitFor(() => lastStatus(trig).text === 'no events in the next 24 h');
  });

  it('a negative offset fires before the start; edge both fires start and end', async () => {
    const event = addEvent(sim, 'Review', 62 * SECOND, 2 * SECOND);
    await load(sim, [
      { id: 'early', type: 'o365-trigger', offset: '-1m' },
      { id: 'both', type: 'o365-trigger', edge: 'both', offset: '-60s' },
    ]);
    const out = collect(helper.getNode('both-out'));
    const early = await nextMessage(helper.getNode('early-out'), 5000);
    Date.parse(early.trigger.at).should.equal(Date.parse(event.start.dateTime + 'Z') - MIN);
    early.trigger.offset.should.equal('-1m');
    await waitFor(() => out.length >= 2, 6000, 'start and end');
    out.map((m) => m.topic).should.eql(['start', 'end']);
  });

  it('an event moved, cancelled or deleted while its timer is pending: the plan follows the next read', async () => {
    const moved = addEvent(sim, 'Moved', 2 * SECOND);
    const cancelled = addEvent(sim, 'Cancelled', 2 * SECOND);
    const deleted = addEvent(sim, 'Deleted', 2 * SECOND);
    const declined = addEvent(sim, 'Declined', 2 * SECOND, 30 * MIN, {
      organizer: 'boss@contoso.onmicrosoft.com',
    });
    await load(sim, [{ id: 'trig', type: 'o365-trigger' }]);
    const trig = helper.getNode('trig');
    await waitFor(() => views(sim).length === 1);
    const out = collect(helper.getNode('trig-out'));
    sim.updateEvent(MAILBOX, moved.id, { start: Date.now() + 4 * SECOND, end: Date.now() + 10 * MIN });
    sim.updateEvent(MAILBOX, cancelled.id, { isCancelled: true });
    sim.updateEvent(MAILBOX, declined.id, { responseStatus: { response: 'declined' } });
    sim.removeEvent(MAILBOX, deleted.id);
    trig.receive({ payload: 'read now' });
    await waitFor(() => views(sim).length === 2);
    await new Promise((r) => setTimeout(r, 5 * SECOND));
    out.map((m) => m.payload.subject).should.eql(['Moved']);
  });

  it('an outage while a timer is pending keeps the plan: the error reaches Catch and the status, the event still fires', async () => {
    addEvent(sim, 'Despite the outage', 3 * SECOND);
    await load(sim, [{ id: 'trig', type: 'o365-trigger' }]);
    const trig = helper.getNode('trig');
    await waitFor(() => views(sim).length === 1);
    sim.fault({ on: 'graph', type: '500', times: 20 });
    const caught = nextMessage(helper.getNode('caught'), 10000);
    trig.receive({ payload: 'read now' });
    const err = await caught;
    err.error.message.should.match(/500/);
    should(err.error.source.id).equal('trig');
    await waitFor(() => lastStatus(trig).fill === 'red');
    const msg = await nextMessage(helper.getNode('trig-out'), 6000);
    msg.payload.subject.should.equal('Despite the outage');
  });

  it('fires once across a full redeploy and a modified-nodes deploy, and catches up what passed during one', async () => {
    const first = addEvent(sim, 'Once', 2 * SECOND);
    const userDir = await load(sim, [{ id: 'trig', type: 'o365-trigger' }]);
    await nextMessage(helper.getNode('trig-out'), 5000);
    const flow = flowWith(sim, [{ id: 'trig', type: 'o365-trigger' }]);
    const creds = { cfg: signedInCredentials(sim).cfg };
    // Full redeploy: a new node with the same id reads the same event, now past: nothing.
    await helper.setFlows(flow, 'full', creds);
    const out = collect(helper.getNode('trig-out'));
    await waitFor(() => views(sim).length >= 2);
    // Modified-nodes deploy of the trigger (its name changed) while an instant passes during the restart.
    const during = addEvent(sim, 'During the deploy', 300);
    const changed = flow.map((n) => (n.id === 'trig' ? { ...n, name: 'renamed' } : n));
    await new Promise((r) => setTimeout(r, 600));
    await helper.setFlows(changed, 'nodes', creds);
    const late = collect(helper.getNode('trig-out'));
    await waitFor(() => late.length === 1, 5000, 'the catch-up firing');
    late[0].payload.id.should.equal(during.id);
    late[0].trigger.late.should.be.true();
    await new Promise((r) => setTimeout(r, 500));
    out
      .concat(late)
      .filter((m) => m.payload.id === first.id)
      .should.have.length(0);
    const files = fs.readdirSync(path.join(userDir, 'o365-calendar', 'default', 'triggers'));
    files.should.have.length(1);
  });

  it('two triggers and a state node on one calendar share one read per poll; another calendar reads on its own', async () => {
    await load(sim, [
      { id: 't1', type: 'o365-trigger' },
      { id: 't2', type: 'o365-trigger', edge: 'end', offset: '+2h', catchUpMinutes: 30 },
      { id: 's1', type: 'o365-state' },
      { id: 'other', type: 'o365-trigger', user: '', calendarId: '' },
    ]);
    await waitFor(() => views(sim).length === 2);
    await new Promise((r) => setTimeout(r, 500));
    const reads = views(sim);
    reads.should.have.length(2);
    const shared = reads.find(
      (r) => r.path.includes(encodeURIComponent(MAILBOX)) || r.path.includes(MAILBOX),
    );
    // The union: back 30 min + 2 h (t2), ahead 24 h + 2 h, a day wider for all-day events.
    const span = Date.parse(shared.query.endDateTime) - Date.parse(shared.query.startDateTime);
    span.should.be.approximately((24 + 2 + 2 + 0.5 + 48) * 60 * MIN, 5 * SECOND);
    shared.headers.prefer.should.equal('outlook.timezone="UTC"');
  });

  it('the state node flips busy and free by timer within a second, and an input always sends', async () => {
    const event = addEvent(sim, 'Planning', 2 * SECOND, 2 * SECOND);
    await load(sim, [{ id: 'state', type: 'o365-state' }]);
    const out = collect(helper.getNode('state-out'));
    const arrived = [];
    helper.getNode('state-out').on('input', () => arrived.push(Date.now()));
    await waitFor(() => out.length === 3, 8000, 'free, busy, free');
    const start = Date.parse(event.start.dateTime + 'Z');
    out
      .map((m) => [m.topic, m.payload.busy])
      .should.eql([
        ['free', false],
        ['busy', true],
        ['free', false],
      ]);
    (arrived[1] - start).should.be.within(0, SECOND);
    (arrived[2] - (start + 2 * SECOND)).should.be.within(0, SECOND);
    out[0].payload.next.id.should.equal(event.id);
    Date.parse(out[0].payload.until).should.equal(start);
    out[1].payload.current.map((e) => e.id).should.eql([event.id]);
    Date.parse(out[1].payload.until).should.equal(start + 2 * SECOND);
    out[1]._receivedAt = Date.now(); // for the tolerance below, measured by the collector order
    should(out[2].payload.until).be.null();
    const state = helper.getNode('state');
    statuses(state)
      .some((s) => /^busy until \d\d:\d\d · Planning$/.test(s.text))
      .should.be.true();
    lastStatus(state).text.should.equal('free');
    const answer = nextMessage(helper.getNode('state-out'));
    state.receive({ payload: 'now?', keep: 'me' });
    const msg = await answer;
    msg.topic.should.equal('free');
    msg.keep.should.equal('me');
  });

  it('settings that cannot work: a bad offset or match is an error naming the field, on the status and on input', async () => {
    await load(sim, [
      { id: 'bad', type: 'o365-trigger', offset: '10 minutes' },
      { id: 'regex', type: 'o365-state', match: '/(unclosed/' },
    ]);
    const bad = helper.getNode('bad');
    lastStatus(bad).text.should.match(/^offset: "10 minutes" is not an offset/);
    lastStatus(helper.getNode('regex')).text.should.match(/^match: \/\(unclosed\/ is not a valid regular/);
    const caught = nextMessage(helper.getNode('caught'));
    bad.receive({ payload: 1 });
    const err = await caught;
    err.error.code.should.equal('INVALID_CONFIG');
    err.error.cause.field.should.equal('offset');
    views(sim).should.have.length(0);
  });
});
