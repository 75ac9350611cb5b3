// o365-write in a real node-red process (the packed package, Node-RED 4): an event written through an http flow is
// what o365-events reads next and what fires an o365-trigger on the real clock, and a create whose answer is lost
// (the simulator makes the event, then answers after the request timeout) still gives exactly one event.
'use strict';
require('should');
const { packPackage, NodeRed } = require('../harness/nodered');
const { startSimulator } = require('../sim/simulator');
const { simCredentials } = require('../lib/sim-config');
const { configNode, eventsTab } = require('./flows');

const RW = 'offline_access openid profile Calendars.ReadWrite Calendars.ReadWrite.Shared';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** inject (re-read now) → o365-trigger on the signed-in user's calendar → GET /fired answers what fired so far. */
function triggerTab(configId = 'cfg', tab = 'tab-trigger') {
  return [
    { id: tab, type: 'tab', label: 'trigger' },
    { id: 'reread', type: 'inject', z: tab, props: [], x: 100, y: 60, wires: [[`${tab}-t`]] },
    {
      id: `${tab}-t`,
      type: 'o365-trigger',
      z: tab,
      config: configId,
      timezone: 'UTC',
      edge: 'start',
      offset: '0m',
      pollMinutes: 5,
      catchUpMinutes: 10,
      x: 300,
      y: 60,
      wires: [[`${tab}-keep`]],
    },
    {
      id: `${tab}-keep`,
      type: 'change',
      z: tab,
      rules: [
        {
          t: 'set',
          p: 'fired',
          pt: 'flow',
          to: '$append($flowContext("fired") ? $flowContext("fired") : [], [{"id": payload.id, "at": $millis()}])',
          tot: 'jsonata',
        },
      ],
      x: 500,
      y: 60,
      wires: [[]],
    },
    {
      id: `${tab}-get`,
      type: 'http in',
      z: tab,
      url: '/fired',
      method: 'get',
      x: 100,
      y: 140,
      wires: [[`${tab}-read`]],
    },
    {
      id: `${tab}-read`,
      type: 'change',
      z: tab,
      rules: [{ t: 'set', p: 'payload', pt: 'msg', to: 'fired', tot: 'flow' }],
      x: 300,
      y: 140,
      wires: [[`${tab}-res`]],
    },
    { id: `${tab}-res`, type: 'http response', z: tab, statusCode: '', x: 500, y: 140, wires: [] },
  ];
}

/** POST /write with a JSON body → o365-write → the written event; a failure → 500 {message, code}. */
function writeTab(configId = 'cfg', tab = 'tab-write') {
  return [
    { id: tab, type: 'tab', label: 'write' },
    {
      id: `${tab}-in`,
      type: 'http in',
      z: tab,
      url: '/write',
      method: 'post',
      x: 100,
      y: 60,
      wires: [[`${tab}-w`]],
    },
    {
      id: `${tab}-w`,
      type: 'o365-write',
      z: tab,
      config: configId,
      action: 'create',
      timezone: 'UTC',
      x: 300,
      y: 60,
      wires: [[`${tab}-out`]],
    },
    { id: `${tab}-out`, type: 'http response', z: tab, statusCode: '', x: 500, y: 60, wires: [] },
    {
      id: `${tab}-catch`,
      type: 'catch',
      z: tab,
      scope: [`${tab}-w`],
      uncaught: false,
      x: 100,
      y: 140,
      wires: [[`${tab}-err`]],
    },
    {
      id: `${tab}-err`,
      type: 'function',
      z: tab,
      func: 'msg.statusCode = 500; msg.payload = { message: msg.error.message, code: msg.error.code }; return msg;',
      outputs: 1,
      x: 300,
      y: 140,
      wires: [[`${tab}-out`]],
    },
  ];
}

describe('calendar write seen by o365-events (full process, Node-RED 4)', function () {
  this.timeout(240000);
  let sim;
  let nr;

  before(async () => {
    sim = await startSimulator({ eventCount: 200 });
    const { credentials } = simCredentials(sim, { scope: RW });
    nr = new NodeRed({
      major: 4,
      tarball: await packPackage(),
      settings: { o365Calendar: { requestTimeout: 2000, retryDelay: 50 } },
    });
    await nr.start();
    await nr.deploy([
      configNode(sim, { credentials, scopes: RW }),
      ...writeTab(),
      ...eventsTab(),
      ...triggerTab(),
    ]);
  });
  after(async () => {
    if (nr) await nr.stop();
    if (sim) await sim.close();
  });

  const window = '?start=2027-04-01T00:00:00Z&end=2027-04-02T00:00:00Z';

  it('writes an event that the events node then reads, with the same id and times', async () => {
    const written = await nr.http('POST', '/write', {
      subject: 'Full process',
      start: '2027-04-01T09:00',
      end: '2027-04-01T09:45',
    });
    written.status.should.equal(200, JSON.stringify(written.body));
    written.body.subject.should.equal('Full process');
    written.body.start.iso.should.equal('2027-04-01T09:00:00+00:00');
    const read = await nr.http('GET', `/events${window}`);
    read.status.should.equal(200, JSON.stringify(read.body));
    const seen = read.body.find((e) => e.id === written.body.id);
    seen.subject.should.equal('Full process');
    seen.end.iso.should.equal('2027-04-01T09:45:00+00:00');
  });

  it('an event written 5 s ahead fires the calendar trigger on its start, once, within a second', async () => {
    const start = new Date(Math.ceil((Date.now() + 5000) / 1000) * 1000);
    const end = new Date(start.getTime() + 60_000);
    const written = await nr.http('POST', '/write', {
      subject: 'Written, then fired',
      start: start.toISOString(),
      end: end.toISOString(),
    });
    written.status.should.equal(200, JSON.stringify(written.body));
    (await nr.admin('POST', '/inject/reread')).status.should.equal(200);
    let fired = [];
    const until = Date.now() + 20_000;
    while (Date.now() < until) {
      const answer = await nr.http('GET', '/fired');
      fired = (Array.isArray(answer.body) ? answer.body : []).filter((f) => f.id === written.body.id);
      if (fired.length) break;
      await sleep(100);
    }
    fired.should.have.length(1, 'the written event fired');
    const late = fired[0].at - start.getTime();
    late.should.be.within(0, 1000 + 100); // never early; within a second (+ the 100 ms this loop may add)
    await sleep(1500);
    const again = await nr.http('GET', '/fired');
    again.body.filter((f) => f.id === written.body.id).should.have.length(1);
  });

  it('a create whose answer never arrives in time is found by its transactionId: one event, no second POST', async () => {
    sim.clearLog();
    sim.knobs.transactionIdReuse = 'ignore'; // the worst case: Graph would make a second event for a second POST
    sim.writes.faultAfterCommit({ type: 'slow', delayMs: 4000, method: 'POST' });
    const written = await nr.http('POST', '/write', {
      subject: 'Lost answer',
      start: '2027-04-01T11:00',
      end: '2027-04-01T11:30',
    });
    written.status.should.equal(200, JSON.stringify(written.body));
    sim
      .calendarOf('megan', null)
      .items.filter((i) => i.subject === 'Lost answer')
      .should.have.length(1);
    sim.requests.filter((r) => r.kind === 'graph' && r.method === 'POST').should.have.length(1);
    const read = await nr.http('GET', `/events${window}`);
    read.body
      .filter((e) => e.subject === 'Lost answer')
      .map((e) => e.id)
      .should.eql([written.body.id]);
  });

  it('a bad message is refused before any request, naming the field', async () => {
    sim.clearLog();
    const refused = await nr.http('POST', '/write', { subject: 'No end', start: '2027-04-01T11:00' });
    refused.status.should.equal(500);
    refused.body.code.should.equal('INVALID_INPUT');
    refused.body.message.should.match(/msg\.payload\.end/);
    sim.requests.filter((r) => r.kind === 'graph').should.have.length(0);
  });
});
