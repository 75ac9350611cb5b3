// Hardening, soak: months of uptime compressed. Access tokens live 4 s (the package refreshes at half the lifetime,
// as min(5 min, lifetime / 2) before expiry), the node polls every second, and halfway through the flow is deployed
// 50 times. Memory of the Node-RED process (after a full GC) must not grow, the poll rate after the redeploys must be
// one node's (no timer survives its node), and the number of refreshes must match the number of expiries. Used
// refresh tokens are revoked throughout, so a stale token used anywhere (a redeploy racing a refresh) shows.
// O365_HARDENING_SOAK_MINUTES sets the length (2 by default, 10 in the full run).
'use strict';
require('should');
const {
  MAJORS,
  NODE_OF,
  SOAK_MINUTES,
  summary,
  sleep,
  simulator,
  nodeRed,
  stopQuietly,
  configNode,
  fn,
  debugNode,
  probeEndpoint,
  tab,
  probe,
} = require('./lib');

const LIFETIME = 4;
const POLL_SECONDS = 1;
const REDEPLOYS = 50;
const REDEPLOY_GAP_MS = 300;
const MB = 1024 * 1024;

const COUNT = `const s = global.get('soak') || { outputs: 0, events: 0, errors: 0, lastError: null };
s.outputs += 1;
s.events = Array.isArray(msg.payload) ? msg.payload.length : -1;
global.set('soak', s);
return null;`;

const COUNT_ERROR = `const s = global.get('soak') || { outputs: 0, events: 0, errors: 0, lastError: null };
s.errors += 1;
s.lastError = { code: msg.error.code, message: msg.error.message };
global.set('soak', s);
return { payload: msg.error };`;

const STATS = `msg.payload = global.get('soak') || { outputs: 0, events: 0, errors: 0, lastError: null };
return msg;`;

function soakFlow(config, generation) {
  const z = 'soak';
  return [
    tab(z),
    config,
    {
      id: 'soak-events',
      type: 'o365-events',
      z,
      name: `soak (deploy ${generation})`,
      config: config.id,
      user: '',
      calendarId: '',
      view: 'calendarView',
      start: 'now',
      end: 'now+7d',
      select: 'subject,start,end',
      timezone: 'UTC',
      output: 'array',
      maxEvents: 0,
      pollMinutes: POLL_SECONDS / 60,
      changesOnly: false,
      allowMsgMailbox: false,
      x: 300,
      y: 100,
      wires: [['soak-count']],
    },
    fn('soak-count', z, COUNT, 1, [[]]),
    {
      id: 'soak-catch',
      type: 'catch',
      z,
      name: '',
      scope: ['soak-events'],
      uncaught: false,
      x: 100,
      y: 200,
      wires: [['soak-error']],
    },
    fn('soak-error', z, COUNT_ERROR, 1, [['soak-errdebug']]),
    debugNode('soak-errdebug', z, 'soak errors'),
    {
      id: 'soak-stats-in',
      type: 'http in',
      z,
      name: '',
      url: '/soak/stats',
      method: 'get',
      upload: false,
      swaggerDoc: '',
      x: 100,
      y: 400,
      wires: [['soak-stats']],
    },
    fn('soak-stats', z, STATS, 1, [['soak-stats-out']]),
    {
      id: 'soak-stats-out',
      type: 'http response',
      z,
      name: '',
      statusCode: '',
      headers: {},
      x: 500,
      y: 400,
      wires: [],
    },
    ...probeEndpoint(z),
  ];
}

function mb(bytes) {
  return `${(bytes / MB).toFixed(1)} MB`;
}

for (const major of MAJORS) {
  describe(`hardening: soak (Node-RED ${major} on Node ${NODE_OF[major]}, ${SOAK_MINUTES} min)`, function () {
    this.timeout(SOAK_MINUTES * 60000 + 300000);
    let sim;
    let nr;

    before(async function () {
      sim = await simulator();
      sim.knobs.accessTokenLifetime = LIFETIME;
      // Stricter than Microsoft: a refresh token works once. Any stale token used after a redeploy (an old node
      // refreshing with what it loaded, a mirrored credential winning over the store) would end the sign-in.
      sim.knobs.revokeUsedRefreshTokens = true;
      nr = await nodeRed({ section: 'soak', major, env: { O365_HARDENING_TRACK_TIMERS: '1' } });
      await nr.start();
      summary.recordRuntime(major, nr);
    });

    after(async function () {
      await stopQuietly(nr);
      if (sim) await sim.close();
    });

    it(`polls every ${POLL_SECONDS} s with ${LIFETIME} s access tokens: flat memory, one timer per node after ${REDEPLOYS} redeploys, one refresh per due token`, async function () {
      const duration = SOAK_MINUTES * 60000;
      const { node } = configNode(sim, nr, { id: 'soak-cfg' });
      const withoutCredentials = { ...node };
      delete withoutCredentials.credentials;
      const refreshesAtStart = sim.stats.refreshes;
      const mark = sim.requests.length;
      const t0 = Date.now();
      await nr.deploy(soakFlow(node, 0));
      const samples = [];
      const sample = async (label) => {
        const m = await probe(nr);
        samples.push({ at: Date.now() - t0, label, ...m });
        return m;
      };

      // Warm-up (JIT, first refreshes), then the first sample.
      await sleep(Math.min(15000, duration * 0.1));
      const memoryStart = await sample('start');
      const half = duration / 2;
      while (Date.now() - t0 < half - 10000) {
        await sleep(10000);
        await sample('polling');
      }

      // 50 full deploys, as the editor does them (credentials kept by Node-RED, not sent again).
      const timersBefore = (await sample('before redeploys')).timers;
      const tRedeploy = Date.now();
      const logFrom = nr.log.length;
      for (let i = 1; i <= REDEPLOYS; i++) {
        await nr.deploy(soakFlow(withoutCredentials, i));
        await sleep(REDEPLOY_GAP_MS); // each deployment polls (and refreshes when due) before the next replaces it
      }
      const redeploySeconds = (Date.now() - tRedeploy) / 1000;
      // Each was a full stop and start of the flows (so 50 events nodes and config nodes came and went).
      nr.log
        .slice(logFrom)
        .filter((l) => /\bStopped flows\b/.test(l))
        .length.should.equal(REDEPLOYS);
      await sleep(2500);
      const timersAfter = (await sample('after redeploys')).timers;
      const windowStart = sim.requests.length;
      const windowT = Date.now();
      await sleep(10000);
      const polled = sim.requests
        .slice(windowStart)
        .filter((r) => r.kind === 'graph' && r.path.endsWith('/calendarView')).length;
      const pollRate = polled / ((Date.now() - windowT) / 1000);

      while (Date.now() - t0 < duration - 10000) {
        await sleep(Math.min(10000, duration - 10000 - (Date.now() - t0)));
        await sample('polling');
      }
      await sleep(Math.max(0, duration - (Date.now() - t0)));
      const memoryEnd = await sample('end');
      const seconds = (Date.now() - t0) / 1000;

      const stats = (await nr.http('GET', '/soak/stats')).body;
      const requests = sim.requests.slice(mark);
      const graph = requests.filter((r) => r.kind === 'graph');
      const unauthorized = graph.filter((r) => r.status === 401).length;
      const refreshes = sim.stats.refreshes - refreshesAtStart;
      const refreshRequests = requests.filter((r) => r.kind === 'token' && r.grantType === 'refresh_token');
      const expiries = Math.floor(seconds / LIFETIME);
      // Each token must be replaced before it expires (≥ one per lifetime), and is replaced only when due (at
      // half its lifetime, so ≤ one per lifetime/2). With 1 s polls a refresh happens at the first poll after the
      // due time: about one per lifetime/2 + 1 s. One either way for the run's first and last token.
      const refreshMin = Math.floor(seconds / LIFETIME) - 1;
      const refreshMax = Math.ceil(seconds / (LIFETIME / 2)) + 1;
      const rssPeak = Math.max(...samples.map((s) => s.rss));

      summary.recordSoak({
        runtime: major,
        seconds,
        pollSeconds: POLL_SECONDS,
        lifetime: LIFETIME,
        polls: stats.outputs,
        errors: stats.errors,
        lastError: stats.lastError,
        unauthorized,
        memoryStart,
        memoryEnd,
        rssPeak,
        samples,
        expiries,
        refreshes,
        refreshMin,
        refreshMax,
        redeploys: REDEPLOYS,
        redeploySeconds,
        pollRate,
        timersBefore,
        timersAfter,
      });
      console.log(
        `      ${seconds.toFixed(0)} s: ${stats.outputs} polls, ${stats.errors} errors, ${refreshes} refreshes for ` +
          `${expiries} expiries; RSS ${mb(memoryStart.rss)} → ${mb(memoryEnd.rss)} (peak ${mb(rssPeak)}), heap ` +
          `${mb(memoryStart.heapUsed)} → ${mb(memoryEnd.heapUsed)}; after ${REDEPLOYS} redeploys (${redeploySeconds.toFixed(1)} s) ` +
          `${pollRate.toFixed(2)} polls/s, timers ${timersBefore} → ${timersAfter}`,
      );

      // Every poll delivered (a poll tick during a running fetch is skipped by design), none failed.
      stats.errors.should.equal(0, `errors: ${JSON.stringify(stats.lastError)}`);
      stats.outputs.should.be.aboveOrEqual(Math.floor((seconds - REDEPLOYS * 0.5) * 0.7));
      stats.events.should.be.above(0);
      unauthorized.should.equal(0); // no expired token ever reached Graph
      refreshRequests.filter((r) => r.status !== 200).should.be.empty();
      refreshes.should.be.within(refreshMin, refreshMax);
      // One node's rate, not 50 nodes'.
      pollRate.should.be.within(0.5, 1.5);
      timersAfter.should.be.belowOrEqual(timersBefore + 2);
      // Flat memory after GC: a leak of one manager, client, listener or timer per poll or per deploy would show.
      (memoryEnd.heapUsed - memoryStart.heapUsed).should.be.below(
        Math.max(8 * MB, memoryStart.heapUsed * 0.2),
      );
      (memoryEnd.rss - memoryStart.rss).should.be.below(64 * MB);
    });
  });
}
