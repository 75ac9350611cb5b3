// Hardening, crash safety: Node-RED killed with SIGKILL at named points of a token refresh (O365_CRASH_POINT), then
// started again on the same user directory without it. With Microsoft's behaviour (used refresh tokens stay valid)
// the store holds the old or the new token set, never a torn one, and events arrive; with used refresh tokens
// revoked, a crash after the temp file was written still recovers (the complete temp file is adopted), and a crash
// before it says "sign-in required" without looping.
//
// The first loop of every point sets O365_CRASH_POINT in the environment of a fresh start; the others arm the same
// variable at run time through the probe in settings.js (it is read at each arrival), which saves a restart.
'use strict';
const fs = require('fs');
const path = require('path');
require('should');
const {
  MAJORS,
  NODE_OF,
  CRASH_LOOPS,
  summary,
  sleep,
  simulator,
  setOf,
  bearerOf,
  graphRequests,
  refreshRequests,
  seededWeek,
  nodeRed,
  advanceClock,
  stopQuietly,
  configNode,
  eventsEndpoint,
  probeEndpoint,
  tab,
  callEvents,
  isCatchable,
  probe,
  storeDir,
  storeStem,
  signInViaCallback,
} = require('./lib');

const HOUR = 3_600_000;
const POINTS = ['refresh:after-token-response', 'store:after-temp-write', 'store:after-rename'];
const MODES = [
  { key: 'keep', name: 'used refresh tokens stay valid (Microsoft)', revoke: false },
  { key: 'revoke', name: 'used refresh tokens revoked', revoke: true },
];

/** What a restart must show: the old set, the new set, or "sign-in required". */
function expectation(point, mode) {
  if (point === 'refresh:after-token-response') return mode.revoke ? 'sign-in required' : 'old set';
  return 'new set';
}

function settles(promise, ms) {
  let timer;
  return Promise.race([
    promise.then((v) => v || true),
    new Promise((resolve) => (timer = setTimeout(resolve, ms, false))),
  ]).finally(() => clearTimeout(timer));
}

for (const major of MAJORS) {
  describe(`hardening: crash safety (Node-RED ${major} on Node ${NODE_OF[major]}, ${CRASH_LOOPS} loops per point)`, function () {
    this.timeout(Math.max(600000, CRASH_LOOPS * 60000));
    let sim;
    let nr;
    let week;
    let weekIds;

    before(async function () {
      sim = await simulator();
      nr = await nodeRed({ section: 'crash', major });
      await nr.start();
      summary.recordRuntime(major, nr);
      week = seededWeek(sim);
      weekIds = sim.expectedView({ user: 'megan', ...week, timeZone: 'UTC' });
    });

    after(async function () {
      await stopQuietly(nr);
      if (sim) await sim.close();
    });

    function storeFiles(key) {
      const stem = storeStem(key);
      const dir = storeDir(nr);
      return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.startsWith(stem)) : [];
    }

    /** One loop: deploy a fresh signed-in config with a 1 s access token, crash in its refresh, restart, check. */
    async function crashLoop(point, mode, loop) {
      const t0 = Date.now();
      const id = `crash${major}-${POINTS.indexOf(point)}-${mode.key}-${loop}`;
      const { node, tokens } = configNode(sim, nr, { id, lifetime: 1 });
      const flow = [
        tab('crash'),
        node,
        ...eventsEndpoint({ id: 'cr', z: 'crash', url: '/crash', config: id }),
        ...probeEndpoint('crash'),
      ];
      await nr.deploy(flow);
      // The deployed sign-in is saved (generation 1) right after the start: wait for it, so the crash point is
      // reached by the refresh and not by that first save.
      const stem = storeStem(id);
      for (let waited = 0; !storeFiles(id).includes(`${stem}.json`); waited += 50) {
        if (waited > 10000) throw new Error(`${id}: the deployed sign-in was not saved within 10 s`);
        await sleep(50);
      }
      const viaEnv = loop === 0;
      if (viaEnv) {
        await nr.stop();
        nr.env.O365_CRASH_POINT = point;
        nr.env.O365_CRASH_AFTER = '1';
        await nr.start();
      } else {
        (await probe(nr, 'arm', point)).should.eql({ armed: point });
      }
      // Wait until the 1 s access token has expired by both clocks: the next read must refresh.
      const dueAt = Number(node.credentials.expiresAt) + 150;
      if (sim.now() < dueAt) await sleep(dueAt - sim.now());

      const oldSet = setOf(sim, { refresh: tokens.refresh_token });
      const issuedBefore = sim.issued.length;
      const mark = sim.requests.length;
      const exited = nr.exited;
      let crashed;
      try {
        const res = await nr.http('POST', '/crash', week, { timeout: 30000 });
        crashed = `answered HTTP ${res.status}`;
      } catch (err) {
        crashed = err.message;
      }
      const exit = await settles(exited, 15000);
      if (!exit || exit.signal !== 'SIGKILL') {
        throw new Error(
          `${id}: Node-RED was not killed at ${point} (${crashed}; exit ${JSON.stringify(exit)})`,
        );
      }
      delete nr.env.O365_CRASH_POINT;
      delete nr.env.O365_CRASH_AFTER;
      const refreshed = refreshRequests(sim, mark);
      refreshed.length.should.equal(1, `${id}: one refresh before the crash`);
      refreshed[0].status.should.equal(200);
      refreshed[0].form.refresh_token.should.equal(tokens.refresh_token);
      sim.issued.length.should.equal(issuedBefore + 1); // the answer the process got just before it died
      const newSet = issuedBefore;
      graphRequests(sim, mark).should.be.empty(); // killed before any Graph request
      const filesAtCrash = storeFiles(id);
      if (point === 'store:after-temp-write') filesAtCrash.should.containEql(`${storeStem(id)}.enc.tmp`);

      // Restart on the same user directory, without the crash point.
      await nr.start();
      const from = nr.log.length;
      const restart = sim.requests.length;
      const expected = expectation(point, mode);
      let outcome;
      let refreshes;
      const first = await callEvents(nr, '/crash', week);
      if (expected === 'sign-in required') {
        if (first.ok) throw new Error(`${id}: events arrived with a refresh token that was revoked`);
        isCatchable(first.error).should.be.true();
        first.error.code.should.equal('SIGN_IN_REQUIRED');
        for (let i = 0; i < 3; i++) {
          const again = await callEvents(nr, '/crash', week);
          again.ok.should.be.false();
          again.error.code.should.equal('SIGN_IN_REQUIRED');
        }
        refreshes = refreshRequests(sim, restart).length;
        refreshes.should.be.within(1, 2, `${id}: refresh attempts after the restart`);
        graphRequests(sim, restart).should.be.empty();
        const status = await nr.admin('GET', `/o365/auth/status/${id}`);
        status.body.state.should.equal('sign-in-required');
        // A new sign-in recovers without a redeploy.
        const callback = await signInViaCallback(nr, node);
        callback.status.should.equal(200, String(callback.body));
        const recovered = await callEvents(nr, '/crash', week);
        if (!recovered.ok)
          throw new Error(`${id}: no events after a new sign-in: ${JSON.stringify(recovered.error)}`);
        recovered.ids.should.eql(weekIds);
        outcome =
          `"sign-in required" (${refreshes} refresh attempt${refreshes === 1 ? '' : 's'} for 4 messages), ` +
          'a new sign-in recovers without a redeploy';
      } else {
        if (!first.ok) throw new Error(`${id}: no events after the restart: ${JSON.stringify(first.error)}`);
        first.ids.should.eql(weekIds);
        // Which set did the store give back? The first refresh's token, else the first bearer.
        const r = refreshRequests(sim, restart)[0];
        const g = graphRequests(sim, restart)[0];
        const set = r ? setOf(sim, { refresh: r.form.refresh_token }) : setOf(sim, { access: bearerOf(g) });
        const which = set === oldSet ? 'old set' : set === newSet ? 'new set' : `set #${set}`;
        which.should.equal(expected, `${id}: the store held the ${which}`);
        // Never torn: force a refresh; the refresh token must belong to the access token just used.
        const lastBearer = bearerOf(graphRequests(sim, restart).pop());
        const beforeJump = sim.requests.length;
        await advanceClock(nr, [sim], 2 * HOUR);
        const second = await callEvents(nr, '/crash', week);
        if (!second.ok) throw new Error(`${id}: the forced refresh failed: ${JSON.stringify(second.error)}`);
        second.ids.should.eql(weekIds);
        const forced = refreshRequests(sim, beforeJump);
        forced.length.should.equal(1);
        setOf(sim, { refresh: forced[0].form.refresh_token }).should.equal(
          setOf(sim, { access: lastBearer }),
          `${id}: torn token set (refresh token of another set than the access token)`,
        );
        refreshes = refreshRequests(sim, restart).length;
        outcome = `${which}, events arrive`;
      }
      // The restart finished what the crash left: no temp file stays.
      const tmp = storeFiles(id).filter((f) => f.endsWith('.tmp'));
      tmp.should.be.empty();
      const problems = nr.log.slice(from).filter((l) => /unhandled|uncaught|TypeError|RangeError/i.test(l));
      problems.should.be.empty();
      summary.recordCrash({
        runtime: major,
        point,
        mode: mode.name,
        ok: true,
        outcome,
        refreshes,
        ms: Date.now() - t0,
      });
      return { outcome, files: filesAtCrash };
    }

    for (const point of POINTS) {
      for (const mode of MODES) {
        it(`${point}, ${mode.name} → ${expectation(point, mode)} (${CRASH_LOOPS} loops)`, async function () {
          sim.knobs.revokeUsedRefreshTokens = mode.revoke;
          try {
            for (let loop = 0; loop < CRASH_LOOPS; loop++) {
              try {
                await crashLoop(point, mode, loop);
              } catch (err) {
                summary.recordCrash({
                  runtime: major,
                  point,
                  mode: mode.name,
                  ok: false,
                  outcome: `FAILED: ${err.message.split('\n')[0].slice(0, 120)}`,
                });
                if (!nr.child) await nr.start().catch(() => undefined);
                throw err;
              }
            }
          } finally {
            sim.knobs.revokeUsedRefreshTokens = false;
          }
        });
      }
    }

    it('leaves no store file of a crashed refresh unreadable: every key opens after the loops', function () {
      const dir = storeDir(nr);
      const names = fs.readdirSync(dir);
      names.filter((n) => n.endsWith('.tmp')).should.be.empty();
      for (const name of names.filter((n) => n.endsWith('.json'))) {
        const index = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'));
        index.should.have.properties(['generation', 'seen', 'salt']);
      }
    });
  });
}
