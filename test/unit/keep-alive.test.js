// The token manager's keep-alive with a controllable clock, against the simulator over loopback: a config node
// nobody reads from for months still refreshes before Microsoft ends its refresh token after 90 days unused.
'use strict';
require('should');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { startSimulator } = require('../sim/simulator');
const { distPath } = require('../lib/dist');

const { TokenManager, KEEP_ALIVE_IDLE_MS, KEEP_ALIVE_RETRY_MS } = require(
  distPath('nodes/shared/auth/token-manager.js'),
);
const { TokenStore } = require(distPath('nodes/shared/auth/token-store.js'));
const { MAX_TIMER_MS } = require(distPath('nodes/shared/time/clock.js'));

const DAY = 86_400_000;

/** A clock whose time only moves when told; its timers fire in order as it moves. */
function fakeClock(start) {
  let time = start;
  const timers = [];
  return {
    timers,
    now: () => time,
    setTimeout(callback, ms) {
      const timer = { at: time + ms, ms, callback };
      timers.push(timer);
      return timer;
    },
    clearTimeout(timer) {
      const i = timers.indexOf(timer);
      if (i >= 0) timers.splice(i, 1);
    },
    /** Moves to now + ms; returns the timers that fired on the way. */
    advance(ms) {
      const until = time + ms;
      const fired = [];
      for (;;) {
        timers.sort((a, b) => a.at - b.at);
        const next = timers[0];
        if (!next || next.at > until) break;
        timers.shift();
        time = next.at;
        fired.push(next);
        next.callback();
      }
      time = until;
      return fired;
    },
  };
}

async function settle(predicate, what, ms = 8000) {
  const until = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('token manager keep-alive (controllable clock)', function () {
  this.timeout(60000);
  let sim;
  let clock;
  let dir;
  let warnings;
  let manager;

  beforeEach(async () => {
    sim = await startSimulator({ eventCount: 10 });
    clock = fakeClock(sim.now());
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'o365-keepalive-'));
    warnings = [];
  });
  afterEach(async () => {
    manager?.close();
    manager = undefined;
    await sim.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A signed-in manager whose tokens the simulator issued now (by both clocks). */
  async function signedIn() {
    const app = sim.apps.confidential;
    const client = {
      authorityHost: sim.url,
      graphEndpoint: sim.url,
      tenant: sim.tenantId,
      clientId: app.clientId,
      clientSecret: app.secret,
      scopes: 'offline_access openid profile Calendars.Read',
      clock,
    };
    const store = new TokenStore({ dir, keySecrets: ['test secret'] });
    manager = new TokenManager(
      { id: 'cfg', key: 'cfg', mode: 'delegated', client },
      { store, clock, warn: (message) => warnings.push(message) },
    );
    const answer = sim.issueTokens({});
    await manager.acceptTokens({
      accessToken: answer.access_token,
      refreshToken: answer.refresh_token,
      expiresAt: clock.now() + answer.expires_in * 1000,
      scope: answer.scope,
      clientKind: 'confidential',
    });
    return manager;
  }

  /** Both clocks move by `ms`; a keep-alive that fires on the way is waited for. */
  async function pass(ms) {
    sim.advanceClock(ms);
    const before = sim.stats.refreshes;
    const fired = clock.advance(ms);
    if (fired.length) {
      await settle(
        () => clock.timers.length > 0 || manager.status().state !== 'signed-in',
        'the keep-alive to finish',
      );
    }
    return sim.stats.refreshes - before;
  }

  it('refreshes every few days with no reads at all: after 120 days the sign-in still works', async () => {
    await signedIn();
    clock.timers.should.have.length(1);
    const first = clock.timers[0];
    (first.at - manager.status().expiresAt).should.equal(KEEP_ALIVE_IDLE_MS);
    KEEP_ALIVE_IDLE_MS.should.be.belowOrEqual(7 * DAY);
    let refreshes = 0;
    for (let day = 0; day < 120; day++) refreshes += await pass(DAY);
    refreshes.should.be.within(Math.floor(120 / 4), Math.ceil(120 / 3));
    manager.status().state.should.equal('signed-in');
    (await manager.getAccessToken()).should.be.a.String();
    warnings.should.be.empty();
  });

  it('without the keep-alive the refresh token would have died: the simulator refuses one unused for 91 days', async () => {
    await signedIn();
    manager.close(); // stops the keep-alive
    clock.timers.should.have.length(0);
    sim.advanceClock(91 * DAY);
    clock.advance(91 * DAY);
    const failure = await manager.getAccessToken().then(
      () => null,
      (err) => err,
    );
    failure.cause.aadsts.should.containEql(700082);
  });

  it('chains timers past Node’s 24.8-day limit', async () => {
    sim.knobs.accessTokenLifetime = 30 * 86_400; // an access token due in 30 days: the keep-alive is 33 days out
    await signedIn();
    clock.timers.should.have.length(1);
    clock.timers[0].ms.should.equal(MAX_TIMER_MS);
    (await pass(MAX_TIMER_MS)).should.equal(0);
    clock.timers.should.have.length(1);
    clock.timers[0].ms.should.be.below(MAX_TIMER_MS);
    (await pass(33 * DAY - MAX_TIMER_MS)).should.equal(1);
  });

  it('an outage at keep-alive time: a warning and another try an hour later', async () => {
    await signedIn();
    sim.knobs.tokenEndpointDown = true;
    await pass(KEEP_ALIVE_IDLE_MS + 3600_000);
    manager.status().state.should.equal('signed-in');
    warnings.should.have.length(1);
    warnings[0].should.match(/keep-alive refresh .* failed .*tried again in an hour/);
    clock.timers.should.have.length(1);
    (clock.timers[0].at - clock.now()).should.equal(KEEP_ALIVE_RETRY_MS);
    sim.knobs.tokenEndpointDown = false;
    (await pass(KEEP_ALIVE_RETRY_MS)).should.equal(1);
  });

  it('a refresh token Microsoft revoked meanwhile: sign-in required, no further keep-alive', async () => {
    await signedIn();
    const states = [];
    manager.on('state', (status) => states.push(status.state));
    sim.revokeRefreshTokens({ code: 50173 });
    await pass(KEEP_ALIVE_IDLE_MS + 3600_000);
    manager.status().state.should.equal('sign-in-required');
    manager.status().reason.should.match(/AADSTS50173/);
    states.should.containEql('sign-in-required');
    clock.timers.should.have.length(0);
  });

  it('a read in between moves the keep-alive: it never refreshes a token that is in use', async () => {
    await signedIn();
    sim.advanceClock(2 * DAY);
    clock.advance(2 * DAY);
    (await manager.getAccessToken()).should.be.a.String(); // due: refreshes, which restarts the idle time
    sim.stats.refreshes.should.equal(1);
    clock.timers.should.have.length(1);
    (clock.timers[0].at - clock.now()).should.be.above(KEEP_ALIVE_IDLE_MS);
  });
});
