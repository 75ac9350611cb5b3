// o365-events on a timer: fetches never overlap, polling errors reach Catch nodes, and close stops everything.
'use strict';
require('should');
const { startSimulator } = require('../sim/simulator');
const { helper, onTab, loadFlow, configFor, signedInCredentials, waitFor, collect } = require('../lib/nodes');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function calendarViews(sim) {
  return sim.requests.filter((r) => r.kind === 'graph' && r.path.endsWith('/calendarView'));
}

async function loadPolling(sim, props) {
  const { node } = configFor(sim);
  const creds = signedInCredentials(sim);
  await loadFlow(
    onTab([
      node,
      { id: 'events', type: 'o365-events', config: 'cfg', timezone: 'UTC', ...props, wires: [['out']] },
      { id: 'out', type: 'helper' },
      { id: 'catch', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper' },
    ]),
    { cfg: creds.cfg },
  );
  return { out: collect(helper.getNode('out')), caught: collect(helper.getNode('caught')) };
}

describe('o365-events polling (runtime)', function () {
  this.timeout(20000);
  let sim;
  beforeEach(async () => {
    sim = await startSimulator({ eventCount: 100 });
  });
  afterEach(async () => {
    await helper.unload();
    await sim.close();
  });

  it('fetches on the timer, skips a tick while a fetch runs, and stops on close', async () => {
    sim.knobs.graphLatencyMs = 700; // each fetch outlasts the 250 ms ticks
    const { out } = await loadPolling(sim, { pollMinutes: 0.25 / 60 });
    await sleep(2600);
    const made = calendarViews(sim).length;
    // 2.6 s of 250 ms ticks (~10) with 700 ms fetches: at most 4 could run back to back, never 10.
    made.should.be.within(2, 4);
    out.length.should.be.within(made - 1, made);
    const maxInFlight = sim.stats.maxInFlight[Object.keys(sim.stats.maxInFlight)[0]];
    maxInFlight.should.equal(1);
    // Skipped, not postponed: once Graph is fast again, reads come one per tick (250 ms apart). Ticks queued
    // behind the slow reads would run back to back, a few ms apart, as soon as the slow read in flight ends.
    sim.knobs.graphLatencyMs = 0;
    const fastFrom = sim.now();
    await sleep(1800); // the read in flight (700 ms), then about four ticks
    const fast = calendarViews(sim).filter((r) => r.time > fastFrom);
    fast.length.should.be.within(2, 8);
    for (let i = 1; i < fast.length; i++) {
      (fast[i].time - fast[i - 1].time).should.be.above(150, 'reads closer together than a tick');
    }
    await helper.unload();
    const after = sim.requests.length;
    await sleep(1200);
    sim.requests.length.should.equal(after);
  });

  it('a polling error reaches the Catch node with a message, and the next tick works again', async () => {
    sim.fault({ on: 'graph', type: '500', times: 1 });
    const { out, caught } = await loadPolling(sim, { pollMinutes: 0.3 / 60 });
    await waitFor(() => caught.length === 1 && out.length >= 1, 5000, 'an error, then events');
    caught[0].error.code.should.equal('InternalServerError');
    caught[0].error.cause.status.should.equal(500);
    caught[0].topic.should.equal('poll');
    out[0].payload.should.be.an.Array();
  });

  it('input messages queue behind a running fetch and run one after another: nothing is lost', async () => {
    const latency = 200;
    sim.knobs.graphLatencyMs = latency;
    const { node } = configFor(sim);
    const creds = signedInCredentials(sim);
    await loadFlow(
      onTab([
        node,
        { id: 'events', type: 'o365-events', config: 'cfg', timezone: 'UTC', wires: [['out']] },
        { id: 'out', type: 'helper' },
      ]),
      { cfg: creds.cfg },
    );
    const out = collect(helper.getNode('out'));
    for (let i = 0; i < 5; i++) helper.getNode('events').receive({ topic: `m${i}` });
    await waitFor(() => out.length === 5, 8000, 'five answers');
    out.map((m) => m.topic).should.eql(['m0', 'm1', 'm2', 'm3', 'm4']);
    // One after another: never two reads at Graph at once, and each asked only after the one before was answered
    // (a queue that started them together would also answer in order, each taking the same time).
    const views = calendarViews(sim);
    views.should.have.length(5);
    Object.values(sim.stats.maxInFlight).should.eql([1]);
    for (let i = 1; i < views.length; i++) {
      (views[i].time - views[i - 1].time).should.be.aboveOrEqual(latency - 5, `read ${i} started early`);
    }
  });

  it('a Windows zone name works like its IANA twin', async () => {
    const { node } = configFor(sim);
    const creds = signedInCredentials(sim);
    const flow = onTab([
      node,
      {
        id: 'win',
        type: 'o365-events',
        config: 'cfg',
        timezone: 'W. Europe Standard Time',
        wires: [['out']],
      },
      { id: 'iana', type: 'o365-events', config: 'cfg', timezone: 'Europe/Berlin', wires: [['out']] },
      { id: 'out', type: 'helper' },
    ]);
    await loadFlow(flow, { cfg: creds.cfg });
    const out = collect(helper.getNode('out'));
    helper.getNode('win').receive({ start: 'today', end: 'today+3d' });
    await waitFor(() => out.length === 1, 5000, 'windows');
    helper.getNode('iana').receive({ start: 'today', end: 'today+3d' });
    await waitFor(() => out.length === 2, 5000, 'iana');
    out[0].window.should.eql(out[1].window);
    out[0].payload.map((e) => e.id).should.eql(out[1].payload.map((e) => e.id));
    const prefers = calendarViews(sim).map((r) => r.headers.prefer);
    prefers.should.eql([
      'outlook.timezone="W. Europe Standard Time"',
      'outlook.timezone="W. Europe Standard Time"',
    ]);
  });
});
