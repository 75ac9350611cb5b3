// Hardening, faults: the simulator's knobs one by one and mixed, against the packed package in a real node-red.
// For every fault the node either delivers the full, correct result (ids equal the simulator's calendarView) or a
// catchable error with a code and a cause, and the next message works again.
'use strict';
require('should');
const {
  MAJORS,
  NODE_OF,
  DAY,
  FAULT_ROUNDS,
  summary,
  simulator,
  bearerOf,
  graphRequests,
  refreshRequests,
  seededWeek,
  nodeRed,
  advanceClock,
  stopQuietly,
  configNode,
  eventsEndpoint,
  tab,
  callEvents,
  isCatchable,
} = require('./lib');

const HOUR = 3_600_000;
/** Attempts per Graph request (GraphClient's maxAttempts): a storm of faults meets exactly this many. */
const GRAPH_ATTEMPTS = 5;
const PARALLEL = [1, 2, 3, 4, 5];
const BULK = 'bulk.paging@contoso.onmicrosoft.com';

/** A small deterministic PRNG (mulberry32) for the mixed rounds. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

for (const major of MAJORS) {
  describe(`hardening: faults (Node-RED ${major} on Node ${NODE_OF[major]})`, function () {
    this.timeout(600000);
    let sim;
    let nr;
    let week;
    let weekIds;
    let bulkWindow;
    let bulkIds;

    before(async function () {
      sim = await simulator();
      sim.createBulkMailbox(BULK, 2500);
      nr = await nodeRed({ section: 'faults', major });
      await nr.start();
      summary.recordRuntime(major, nr);
      const { node } = configNode(sim, nr);
      await nr.deploy([
        tab('faults'),
        node,
        ...eventsEndpoint({ id: 'ev', z: 'faults', url: '/events', config: 'cfg' }),
        // More events nodes on the same config node, for what only shows with several at once.
        ...PARALLEL.flatMap((n) =>
          eventsEndpoint({ id: `ev${n}`, z: 'faults', url: `/events${n}`, config: 'cfg' }),
        ),
      ]);
      week = seededWeek(sim);
      weekIds = sim.expectedView({ user: 'megan', ...week, timeZone: 'UTC' });
      weekIds.length.should.be.above(10);
      bulkWindow = {
        start: new Date(sim.anchor - DAY).toISOString(),
        end: new Date(sim.anchor + 91 * DAY).toISOString(),
      };
      bulkIds = sim.expectedView({ user: BULK, ...bulkWindow, timeZone: 'UTC' });
      bulkIds.length.should.equal(2500);
      // Sanity: without faults both reads are complete and take 1 and 3 pages.
      const plain = await callEvents(nr, '/events', week);
      plain.ok.should.be.true();
      plain.ids.should.eql(weekIds);
      const mark = sim.requests.length;
      const paged = await callEvents(nr, '/events', { user: BULK, ...bulkWindow });
      paged.ok.should.be.true();
      paged.ids.should.eql(bulkIds);
      graphRequests(sim, mark).length.should.equal(3);
    });

    after(async function () {
      await stopQuietly(nr);
      if (sim) await sim.close();
    });

    /**
     * Runs one scenario: set-up, the faults queued, one message, the faults cleared, and the next (plain) message.
     * Returns what happened; records it in the summary.
     */
    async function scenario(def) {
      const t0 = Date.now();
      sim.clearFaults();
      const injectedBefore = sim.stats.faultsInjected;
      const refreshesBefore = sim.stats.refreshes;
      const mark = sim.requests.length;
      if (def.setup) await def.setup();
      for (const f of def.faults || []) sim.fault({ on: 'graph', ...f });
      const target = def.bulk ? { user: BULK, ...bulkWindow } : week;
      const expected = def.bulk ? bulkIds : weekIds;
      let result;
      try {
        result = await callEvents(nr, '/events', target);
      } finally {
        if (def.teardown) await def.teardown();
      }
      const ms = Date.now() - t0;
      const requests = sim.requests.slice(mark);
      // Faults made with knobs or the clock are not counted by the simulator: the scenario counts their answers.
      const knobFaults = def.knobFaults ? def.knobFaults(requests) : 0;
      const injected = sim.stats.faultsInjected - injectedBefore + knobFaults;
      const leftover = sim.faults.length;
      sim.clearFaults();
      // A fault scenario in which no fault happened proves nothing (a typo in `match`, a fault the path never meets).
      if (injected === 0) throw new Error(`${def.name}: no fault was injected, the scenario proves nothing`);
      let outcome;
      if (result.ok) outcome = result.ids.join() === expected.join() ? 'survived' : 'failed';
      else outcome = isCatchable(result.error) ? 'reported' : 'failed';
      const next = await callEvents(nr, '/events', week);
      const nextOk = next.ok && next.ids.join() === weekIds.join();
      if (!nextOk) outcome = 'failed';
      summary.recordFault({
        runtime: major,
        name: def.name,
        injected,
        outcome,
        code: result.ok ? undefined : result.error.code,
        ms,
      });
      return {
        result,
        outcome,
        injected,
        leftover,
        next,
        nextOk,
        requests,
        refreshes: sim.stats.refreshes - refreshesBefore,
        ms,
      };
    }

    function expectSurvived(run, name) {
      if (!run.result.ok) {
        throw new Error(`${name}: expected the full result, got ${JSON.stringify(run.result.error)}`);
      }
      run.outcome.should.equal('survived', `${name}: ids differ from the simulator's`);
      run.nextOk.should.be.true(`${name}: the next message failed`);
    }

    function expectReported(run, name, code, status) {
      run.result.ok.should.be.false(
        `${name}: expected an error, got ${run.result.ids && run.result.ids.length} events`,
      );
      isCatchable(run.result.error).should.be.true(
        `${name}: not a catchable error: ${JSON.stringify(run.result.error)}`,
      );
      if (code) run.result.error.code.should.equal(code, `${name}: code`);
      if (status) run.result.error.cause.status.should.equal(status, `${name}: cause.status`);
      run.result.error.message.should.not.be.empty();
      run.outcome.should.equal('reported', `${name}: the next message failed`);
    }

    /** The token endpoint's 503 answers while knobs.tokenEndpointDown was on. */
    function tokenEndpointDown(requests) {
      return requests.filter((r) => r.kind === 'token' && r.status === 503 && !r.fault).length;
    }

    /** Gaps (ms) between consecutive arrivals of Graph requests to one URL. */
    function gaps(requests) {
      const graph = requests.filter((r) => r.kind === 'graph');
      return graph.slice(1).map((r, i) => r.time - graph[i].time);
    }

    // ----- Graph faults, one kind at a time -----------------------------------------------------------------

    it('429 twice with Retry-After: 1 → waits the 1 s each time, then the full result', async function () {
      const run = await scenario({
        name: '429 ×2, Retry-After: 1',
        faults: [{ type: '429', retryAfter: 1, times: 2 }],
      });
      expectSurvived(run, '429 ×2');
      run.injected.should.equal(2);
      const waits = gaps(run.requests);
      waits.length.should.equal(2);
      for (const wait of waits) wait.should.be.aboveOrEqual(950);
    });

    it('a 429 storm (8 × Retry-After: 0) → a catchable TooManyRequests after a bounded number of tries', async function () {
      const run = await scenario({
        name: '429 storm ×8',
        faults: [{ type: '429', retryAfter: 0, times: 8 }],
      });
      expectReported(run, '429 storm', 'TooManyRequests', 429);
      run.injected.should.equal(GRAPH_ATTEMPTS); // bounded: no endless retrying
      run.result.error.cause.should.have.property('requestId').which.is.a.String();
    });

    it('429 twice without Retry-After → exponential backoff with jitter, then the full result', async function () {
      const run = await scenario({ name: '429 ×2, no Retry-After', faults: [{ type: '429', times: 2 }] });
      expectSurvived(run, '429 no Retry-After');
      run.injected.should.equal(2);
    });

    it('429 with Retry-After as an HTTP date (2 s ahead) → waits until then, then the full result', async function () {
      const run = await scenario({
        name: '429 ×1, Retry-After: HTTP date',
        setup: () => {
          sim.fault({
            on: 'graph',
            type: '429',
            retryAfter: new Date(Date.now() + 2000).toUTCString(),
            times: 1,
          });
        },
      });
      expectSurvived(run, '429 HTTP date');
      run.injected.should.equal(1);
      gaps(run.requests)[0].should.be.aboveOrEqual(500); // whole seconds in the date: 1 to 2 s
    });

    it('503 with Retry-After: 1 → waits, then the full result', async function () {
      const run = await scenario({
        name: '503 ×1, Retry-After: 1',
        faults: [{ type: '503', retryAfter: 1, times: 1 }],
      });
      expectSurvived(run, '503');
      run.injected.should.equal(1);
      gaps(run.requests)[0].should.be.aboveOrEqual(950);
    });

    it('a 503 storm → a catchable ServiceNotAvailable', async function () {
      const run = await scenario({ name: '503 storm ×8', faults: [{ type: '503', times: 8 }] });
      expectReported(run, '503 storm', 'ServiceNotAvailable', 503);
      run.injected.should.equal(GRAPH_ATTEMPTS);
    });

    it('504 twice → retried, the full result', async function () {
      const run = await scenario({ name: '504 ×2', faults: [{ type: '504', times: 2 }] });
      expectSurvived(run, '504 ×2');
      run.injected.should.equal(2);
      graphRequests(run.requests)
        .map((r) => r.status)
        .should.eql([504, 504, 200]);
    });

    it('a 504 storm → a catchable GatewayTimeout', async function () {
      const run = await scenario({ name: '504 storm ×8', faults: [{ type: '504', times: 8 }] });
      expectReported(run, '504 storm', 'GatewayTimeout', 504);
      run.injected.should.equal(GRAPH_ATTEMPTS);
    });

    it('500 → not retried, a catchable InternalServerError', async function () {
      const run = await scenario({ name: '500 ×1', faults: [{ type: '500', times: 1 }] });
      expectReported(run, '500', 'InternalServerError', 500);
      run.injected.should.equal(1);
    });

    it('connection reset twice → retried, the full result', async function () {
      const run = await scenario({ name: 'connection reset ×2', faults: [{ type: 'reset', times: 2 }] });
      expectSurvived(run, 'reset ×2');
      run.injected.should.equal(2);
    });

    it('connection resets without end → a catchable NETWORK_ERROR naming ECONNRESET', async function () {
      const run = await scenario({
        name: 'connection reset storm ×8',
        faults: [{ type: 'reset', times: 8 }],
      });
      expectReported(run, 'reset storm', 'NETWORK_ERROR');
      run.result.error.cause.code.should.equal('ECONNRESET');
      run.injected.should.equal(GRAPH_ATTEMPTS);
    });

    it('an answer slower than the request timeout (3 s > 1.5 s) → retried, the full result', async function () {
      const run = await scenario({
        name: 'slow answer 3 s ×1 (timeout 1.5 s)',
        faults: [{ type: 'slow', delayMs: 3000, times: 1 }],
      });
      expectSurvived(run, 'slow ×1');
      run.injected.should.equal(1);
      // The slow answer was given up (no status: the package closed the connection), then one retry.
      graphRequests(run.requests)
        .map((r) => r.status)
        .should.eql([0, 200]);
    });

    it('answers always slower than the timeout → a catchable TIMEOUT, in bounded time', async function () {
      const run = await scenario({
        name: 'slow answers 3 s ×6 (timeout 1.5 s)',
        faults: [{ type: 'slow', delayMs: 3000, times: 6 }],
      });
      expectReported(run, 'slow storm', 'TIMEOUT');
      run.injected.should.equal(GRAPH_ATTEMPTS);
      run.ms.should.be.below(20000);
    });

    it('broken JSON in a 200 answer → a catchable BAD_RESPONSE, never a crash', async function () {
      const run = await scenario({ name: 'broken JSON ×1', faults: [{ type: 'brokenJson', times: 1 }] });
      expectReported(run, 'broken JSON', 'BAD_RESPONSE', 200);
      run.injected.should.equal(1);
      graphRequests(run.requests).should.have.length(1); // a broken answer is not asked again
    });

    // ----- Paging -------------------------------------------------------------------------------------------

    it('401 on page 2 of 3 (2,500 events) → one refresh, the page again, all 2,500 in order', async function () {
      const run = await scenario({
        name: '401 on page 2 of 3',
        bulk: true,
        faults: [{ type: '401', match: '$skip=1000', times: 1 }],
      });
      expectSurvived(run, '401 mid-paging');
      run.refreshes.should.equal(1);
      const pages = graphRequests(run.requests);
      const bearers = pages.map(bearerOf);
      // Pages 1 and 2 (401) with the old token; page 2 again and page 3 with the refreshed one.
      pages.length.should.equal(4);
      bearers[0].should.equal(bearers[1]);
      bearers[2].should.not.equal(bearers[1]);
      bearers[3].should.equal(bearers[2]);
      pages[2].rawQuery.should.equal(pages[1].rawQuery);
    });

    it('401 twice on page 2 → one refresh only, then a catchable InvalidAuthenticationToken (no partial list)', async function () {
      const run = await scenario({
        name: '401 ×2 on page 2 of 3',
        bulk: true,
        faults: [{ type: '401', match: '$skip=1000', times: 2 }],
      });
      expectReported(run, '401 twice', 'InvalidAuthenticationToken', 401);
      run.refreshes.should.equal(1);
      run.injected.should.equal(2);
    });

    it('401 on page 2 while the token endpoint is down → a catchable error, not 1,000 of 2,500 events', async function () {
      const run = await scenario({
        name: '401 on page 2 of 3, token endpoint down',
        bulk: true,
        faults: [{ type: '401', match: '$skip=1000', times: 1 }],
        knobFaults: tokenEndpointDown,
        setup: () => {
          sim.knobs.tokenEndpointDown = true;
        },
        teardown: () => {
          sim.knobs.tokenEndpointDown = false;
        },
      });
      expectReported(run, '401 + token endpoint down', 'temporarily_unavailable', 503);
      // The 401, then three refresh attempts (the rejected token is never sent again).
      run.injected.should.equal(1 + 3);
      graphRequests(run.requests)
        .map((r) => r.status)
        .should.eql([200, 401]);
    });

    it('broken JSON on page 3 of 3 → a catchable error, not 2,000 of 2,500 events', async function () {
      const run = await scenario({
        name: 'broken JSON on page 3 of 3',
        bulk: true,
        faults: [{ type: 'brokenJson', match: '$skip=2000', times: 1 }],
      });
      expectReported(run, 'broken JSON page 3', 'BAD_RESPONSE', 200);
      run.injected.should.equal(1);
    });

    it('mixed on one paged read: 429, reset + 401, 503 + slow on pages 1, 2, 3 → all 2,500 in order', async function () {
      const run = await scenario({
        name: 'mixed: 429 / reset+401 / 503+slow on 3 pages',
        bulk: true,
        faults: [
          { type: '429', retryAfter: 0, match: BULK, times: 1 },
          { type: 'reset', match: '$skip=1000', times: 1 },
          { type: '401', match: '$skip=1000', times: 1 },
          { type: '503', match: '$skip=2000', times: 1 },
          { type: 'slow', delayMs: 2500, match: '$skip=2000', times: 1 },
        ],
      });
      expectSurvived(run, 'mixed paging');
      run.injected.should.equal(5);
      run.leftover.should.equal(0);
    });

    // ----- Token endpoint and clock -------------------------------------------------------------------------

    it('the clock moved forward past expiry (Node-RED and simulator 2 h on) → one refresh, the full result', async function () {
      const run = await scenario({
        name: 'clock +2 h past expiry',
        setup: () => advanceClock(nr, [sim], 2 * HOUR),
        knobFaults: () => 1, // the jump itself
      });
      expectSurvived(run, 'clock jump');
      run.refreshes.should.equal(1);
      // No expired token was ever sent: the refresh came first.
      run.requests.filter((r) => r.kind === 'graph' && r.status === 401).should.be.empty();
    });

    it("the simulator's clock ahead (Graph says expired, the package does not know) → 401, refresh, the full result", async function () {
      const run = await scenario({
        name: 'Graph clock 2 h ahead (401 on a token the package thinks valid)',
        setup: () => sim.advanceClock(2 * HOUR),
        knobFaults: (requests) => requests.filter((r) => r.kind === 'graph' && r.status === 401).length,
      });
      expectSurvived(run, 'skewed clock');
      run.refreshes.should.equal(1);
      run.requests.filter((r) => r.kind === 'graph' && r.status === 401).length.should.equal(1);
      // Back in step: the package's clock catches up (its next refresh comes early, which is harmless).
      await advanceClock(nr, [], 2 * HOUR);
    });

    it('token endpoint down while the access token is expired → a catchable temporarily_unavailable; up again → works', async function () {
      const run = await scenario({
        name: 'token endpoint down, access token expired',
        knobFaults: tokenEndpointDown,
        setup: async () => {
          await advanceClock(nr, [sim], 2 * HOUR);
          sim.knobs.tokenEndpointDown = true;
        },
        teardown: () => {
          sim.knobs.tokenEndpointDown = false;
        },
      });
      expectReported(run, 'token endpoint down', 'temporarily_unavailable', 503);
      run.result.error.cause.aadsts.should.eql([90033]);
      run.injected.should.equal(3); // three refresh attempts with backoff, then the error: no hammering
      run.requests.filter((r) => r.kind === 'graph').should.be.empty();
    });

    it('token endpoint down inside the refresh window (token still valid) → the valid token keeps working', async function () {
      let current;
      const run = await scenario({
        name: 'token endpoint down, access token still valid',
        knobFaults: tokenEndpointDown,
        setup: async () => {
          current = sim.issued[sim.issued.length - 1];
          // 2 minutes before expiry: refresh due (5 minutes before), token still good.
          await advanceClock(nr, [sim], current.at + (3599 - 120) * 1000 - sim.now());
          sim.knobs.tokenEndpointDown = true;
        },
        teardown: () => {
          sim.knobs.tokenEndpointDown = false;
        },
      });
      expectSurvived(run, 'token endpoint down, valid token');
      // Three refresh attempts, all refused, then the token that was current all along (no other, no new one).
      refreshRequests(run.requests)
        .map((r) => r.status)
        .should.eql([503, 503, 503]);
      run.injected.should.equal(3);
      const used = graphRequests(run.requests).map(bearerOf);
      used.should.eql([current.access]);
    });

    // One bad answer from the token endpoint is an outage the refresh rides out (it tries 3 times).
    for (const type of ['reset', '429', '500', 'brokenJson']) {
      it(`token endpoint ${type} once during a refresh of an expired token → the retry delivers the full result`, async function () {
        const run = await scenario({
          name: `token endpoint ${type}, access token expired`,
          setup: async () => {
            await advanceClock(nr, [sim], 2 * HOUR);
            sim.fault({ on: 'token', type, times: 1, retryAfter: type === '429' ? 1 : undefined });
          },
        });
        expectSurvived(run, `token ${type}`);
        run.injected.should.equal(1);
        refreshRequests(run.requests).length.should.equal(2);
      });
    }

    // ----- Several nodes at once ---------------------------------------------------------------------------

    /** The same read from every parallel node at once; records one fault scenario. */
    async function parallel(name, target, expected, knobFaults) {
      const t0 = Date.now();
      const mark = sim.requests.length;
      const refreshesBefore = sim.stats.refreshes;
      const results = await Promise.all(PARALLEL.map((n) => callEvents(nr, `/events${n}`, target)));
      const requests = sim.requests.slice(mark);
      const complete = results.filter((r) => r.ok && r.ids.join() === expected.join()).length;
      const reported = results.filter((r) => !r.ok && isCatchable(r.error)).length;
      const next = await callEvents(nr, '/events', week);
      const nextOk = next.ok && next.ids.join() === weekIds.join();
      const outcome =
        !nextOk || complete + reported < results.length ? 'failed' : reported ? 'reported' : 'survived';
      summary.recordFault({
        runtime: major,
        name,
        injected: knobFaults(requests),
        outcome,
        code: results.filter((r) => !r.ok).map((r) => r.error.code)[0],
        ms: Date.now() - t0,
      });
      return {
        results,
        complete,
        reported,
        requests,
        outcome,
        refreshes: sim.stats.refreshes - refreshesBefore,
      };
    }

    it(`${PARALLEL.length} nodes at once with an expired access token → one refresh (single flight), all complete`, async function () {
      await advanceClock(nr, [sim], 2 * HOUR);
      const run = await parallel(
        `${PARALLEL.length} nodes at once, clock +2 h past expiry`,
        week,
        weekIds,
        () => 1,
      );
      run.complete.should.equal(PARALLEL.length);
      run.refreshes.should.equal(1);
      refreshRequests(run.requests).length.should.equal(1);
    });

    it(`${PARALLEL.length} nodes read one mailbox at once (3 pages each): never more than 4 in flight, no throttling`, async function () {
      sim.knobs.graphLatencyMs = 150;
      sim.stats.maxInFlight = {};
      try {
        const run = await parallel(
          `${PARALLEL.length} nodes × 3 pages of one mailbox at once`,
          { user: BULK, ...bulkWindow },
          bulkIds,
          (requests) => requests.filter((r) => r.kind === 'graph' && r.status === 429).length,
        );
        run.complete.should.equal(PARALLEL.length);
        sim.stats.maxInFlight[BULK].should.be.within(2, 4);
        run.requests.filter((r) => r.kind === 'graph' && r.status === 429).should.be.empty();
      } finally {
        sim.knobs.graphLatencyMs = 0;
      }
    });

    it('Graph takes only 2 at once (429 ApplicationThrottled, Retry-After: 1) → every node still gets the full result', async function () {
      sim.knobs.graphLatencyMs = 150;
      sim.knobs.mailboxConcurrency = 2;
      try {
        const run = await parallel(
          `${PARALLEL.length} nodes, Graph's MailboxConcurrency limit at 2`,
          { user: BULK, ...bulkWindow },
          bulkIds,
          (requests) => requests.filter((r) => r.kind === 'graph' && r.status === 429).length,
        );
        run.requests.filter((r) => r.kind === 'graph' && r.status === 429).length.should.be.above(0);
        run.complete.should.equal(
          PARALLEL.length,
          run.results.map((r) => (r.ok ? 'ok' : r.error.code)).join(),
        );
      } finally {
        sim.knobs.graphLatencyMs = 0;
        sim.knobs.mailboxConcurrency = 4;
      }
    });

    // ----- Mixed, seeded ------------------------------------------------------------------------------------

    it(`${FAULT_ROUNDS} seeded rounds of mixed faults (Graph and token endpoint, clock jumps) → each survived or reported`, async function () {
      const random = prng(20261127);
      const pick = (list) => list[Math.floor(random() * list.length)];
      const failures = [];
      for (let round = 1; round <= FAULT_ROUNDS; round++) {
        const bulk = random() < 0.4;
        const faults = [];
        const count = 1 + Math.floor(random() * 3);
        for (let i = 0; i < count; i++) {
          const type = pick(['429', '503', '504', '500', 'reset', 'slow', 'brokenJson', '401']);
          const f = { type, times: 1 + Math.floor(random() * 2) };
          if (type === '429' || type === '503') f.retryAfter = pick([0, 1, undefined]);
          if (type === 'slow') f.delayMs = 2000;
          if (bulk) f.match = pick([BULK, '$skip=1000', '$skip=2000']);
          faults.push(f);
        }
        const jump = random() < 0.3;
        const tokenFault = jump && random() < 0.5 ? pick(['429', '503', 'reset', '500']) : undefined;
        const name = `mixed round ${round}: ${faults.map((f) => `${f.type}×${f.times}`).join(' + ')}${
          jump ? ` + clock +2 h${tokenFault ? ` + token ${tokenFault}` : ''}` : ''
        }${bulk ? ' (3 pages)' : ''}`;
        const run = await scenario({
          name,
          bulk,
          faults,
          knobFaults: () => (jump ? 1 : 0),
          setup: async () => {
            if (jump) await advanceClock(nr, [sim], 2 * HOUR);
            if (tokenFault) sim.fault({ on: 'token', type: tokenFault, times: 1 });
          },
        });
        if (run.outcome === 'failed')
          failures.push(`${name}: ${JSON.stringify(run.result.error || run.result.ids.length)}`);
      }
      failures.should.be.empty();
    });
  });
}
