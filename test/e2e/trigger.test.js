// The calendar trigger and calendar state in a real node-red process (the packed package, Node-RED 4 on Node 20 and
// 5 on Node 24) on the REAL clock: an event created 5 s ahead fires within a second of its start, the state flips
// busy and free by timer, and a process killed after a firing and started again on the same user directory does
// not fire it a second time.
'use strict';
require('should');
const http = require('http');
const { packPackage, NodeRed } = require('../harness/nodered');
const { startSimulator } = require('../sim/simulator');
const { configNode, credentialsFor } = require('./flows');

const MAILBOX = 'e2e-watched@contoso.onmicrosoft.com';
const SECOND = 1000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A server on 127.0.0.1 that records every POST body with the time it arrived. */
async function collector() {
  const received = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      received.push({ at: Date.now(), path: req.url, body: JSON.parse(body || 'null') });
      res.end('ok');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { received, url: `http://127.0.0.1:${server.address().port}`, close: () => server.close() };
}

/** inject → trigger and state → change (the fields to report) → http request POST to the collector. */
function flow(sim, sink) {
  const tab = 'e2e-trigger';
  const post = (id, pathName) => ({
    id,
    type: 'http request',
    z: tab,
    method: 'POST',
    ret: 'txt',
    url: `${sink}/${pathName}`,
    x: 700,
    y: 100,
    wires: [[]],
  });
  const report = (id, expression, next) => ({
    id,
    type: 'change',
    z: tab,
    rules: [{ t: 'set', p: 'payload', pt: 'msg', to: expression, tot: 'jsonata' }],
    x: 500,
    y: 100,
    wires: [[next]],
  });
  return [
    { id: tab, type: 'tab', label: 'trigger e2e' },
    configNode(sim, { credentials: credentialsFor(sim) }),
    {
      id: 'read-now',
      type: 'inject',
      z: tab,
      props: [{ p: 'payload' }],
      payload: '',
      payloadType: 'date',
      x: 100,
      y: 100,
      wires: [['trig', 'state']],
    },
    {
      id: 'trig',
      type: 'o365-trigger',
      z: tab,
      config: 'cfg',
      user: MAILBOX,
      timezone: 'UTC',
      edge: 'start',
      offset: '0m',
      pollMinutes: 5,
      catchUpMinutes: 10,
      x: 300,
      y: 100,
      wires: [['trig-report']],
    },
    report('trig-report', '{"id": payload.id, "topic": topic, "trigger": trigger}', 'trig-post'),
    post('trig-post', 'fired'),
    {
      id: 'state',
      type: 'o365-state',
      z: tab,
      config: 'cfg',
      user: MAILBOX,
      timezone: 'UTC',
      pollMinutes: 5,
      x: 300,
      y: 200,
      wires: [['state-report']],
    },
    report('state-report', '{"topic": topic, "until": payload.until}', 'state-post'),
    post('state-post', 'state'),
  ];
}

async function waitUntil(probe, ms, what) {
  const until = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

for (const major of [4, 5]) {
  describe(`calendar trigger and state on the real clock (full process, Node-RED ${major})`, function () {
    this.timeout(300000);
    let sim;
    let sink;
    let nr;

    before(async () => {
      sim = await startSimulator({ eventCount: 0 });
      sim.createBulkMailbox(MAILBOX, 0);
      sink = await collector();
      nr = new NodeRed({ major, tarball: await packPackage() });
      await nr.start();
      await nr.deploy(flow(sim, sink.url));
    });
    after(async () => {
      if (nr) await nr.stop();
      if (sink) sink.close();
      if (sim) await sim.close();
    });

    it('an event created 5 s ahead fires within a second of its start; the state flips busy and free by timer', async () => {
      await waitUntil(() => sink.received.some((r) => r.path === '/state'), 30000, 'the first state');
      const start = Date.now() + 5 * SECOND;
      const event = sim.addEvent(MAILBOX, null, { subject: 'E2E', start, end: start + 3 * SECOND });
      const res = await nr.admin('POST', '/inject/read-now');
      res.status.should.equal(200);
      await waitUntil(() => sink.received.some((r) => r.path === '/fired'), 15000, 'the firing');
      const fired = sink.received.find((r) => r.path === '/fired');
      fired.body.id.should.equal(event.id);
      fired.body.topic.should.equal('start');
      fired.body.trigger.late.should.be.false();
      (fired.at - start).should.be.within(0, SECOND);

      const states = () => sink.received.filter((r) => r.path === '/state');
      const afterBusy = () => states().slice(states().findIndex((r) => r.body.topic === 'busy'));
      await waitUntil(
        () => afterBusy().length > 1 && afterBusy()[0].body.topic === 'busy',
        15000,
        'busy, then free again',
      );
      const [busy, freeAgain, ...more] = afterBusy();
      more.should.eql([]);
      (busy.at - start).should.be.within(0, SECOND);
      Date.parse(busy.body.until).should.equal(start + 3 * SECOND);
      freeAgain.body.should.eql({ topic: 'free', until: null });
      (freeAgain.at - (start + 3 * SECOND)).should.be.within(0, SECOND);
    });

    it('killed after a firing and started again on the same user directory, it does not fire a second time', async () => {
      const start = Date.now() + 4 * SECOND;
      const event = sim.addEvent(MAILBOX, null, { subject: 'Exactly once', start, end: start + 60 * SECOND });
      await nr.admin('POST', '/inject/read-now');
      await waitUntil(
        () => sink.received.some((r) => r.path === '/fired' && r.body.id === event.id),
        15000,
        'the firing',
      );
      // A power cut right after the message: the fired set was written before it was sent.
      nr.kill('SIGKILL');
      await nr.exited;
      const reads = sim.requests.filter((r) => r.path.endsWith('/calendarView')).length;
      await nr.start();
      await waitUntil(
        () => sim.requests.filter((r) => r.path.endsWith('/calendarView')).length > reads,
        30000,
        'the read after the restart',
      );
      await sleep(1500);
      sink.received.filter((r) => r.path === '/fired' && r.body.id === event.id).should.have.length(1);
    });
  });
}
