// Sign-in through the o365-auth node and the token lifecycle of o365-config, in the real Node-RED runtime
// (node-red-node-test-helper) against the simulator over loopback HTTP.
'use strict';
require('should');
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
  statuses,
  lastStatus,
  setClockOffset,
  resetClock,
} = require('../lib/nodes');

/** Follows the authorize URL like a browser that consents at once; returns the redirected URL. */
async function consent(url) {
  const answer = await fetch(url, { redirect: 'manual' });
  answer.status.should.equal(302);
  return answer.headers.get('location');
}

function authFlow(sim, overrides = {}, app) {
  const { node, credentials } = configFor(sim, overrides, app);
  const flow = onTab([
    node,
    { id: 'auth', type: 'o365-auth', config: node.id, wires: [['out']] },
    { id: 'out', type: 'helper' },
    { id: 'catch', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper' },
  ]);
  return { flow, credentials };
}

function tokenRequests(sim, grantType) {
  return sim.requests.filter((r) => r.kind === 'token' && (!grantType || r.grantType === grantType));
}

describe('o365-auth and o365-config sign-in (runtime)', function () {
  this.timeout(20000);
  let sim;

  beforeEach(async () => {
    sim = await startSimulator({ eventCount: 200 });
  });
  afterEach(async () => {
    resetClock();
    await helper.unload();
    await sim.close();
  });

  it('sends an authorize URL with PKCE S256, offline_access and a state, and redeems the redirected URL', async () => {
    const { flow, credentials } = authFlow(sim);
    await loadFlow(flow, credentials);
    const auth = helper.getNode('auth');
    const out = helper.getNode('out');

    let got = nextMessage(out);
    auth.receive({ payload: '' });
    const url = new URL((await got).payload);
    url.pathname.should.equal(`/${sim.tenantId}/oauth2/v2.0/authorize`);
    url.searchParams.get('client_id').should.equal(sim.apps.confidential.clientId);
    url.searchParams.get('response_type').should.equal('code');
    url.searchParams.get('redirect_uri').should.equal('http://localhost:1880/o365/auth/callback');
    url.searchParams.get('scope').split(' ').should.containEql('offline_access');
    url.searchParams.get('code_challenge_method').should.equal('S256');
    url.searchParams.get('code_challenge').should.match(/^[A-Za-z0-9_-]{43}$/);
    url.searchParams.get('state').length.should.be.above(20);

    const redirected = await consent(url.toString());
    got = nextMessage(out);
    auth.receive({ payload: redirected });
    const done = await got;
    done.payload.signedIn.should.be.true();
    done.payload.account.name.should.equal('Megan Bowen');
    JSON.stringify(done).should.not.containEql(new URL(redirected).searchParams.get('code'));

    const [redeem] = tokenRequests(sim, 'authorization_code');
    redeem.form.grant_type.should.equal('authorization_code');
    redeem.form.redirect_uri.should.equal('http://localhost:1880/o365/auth/callback');
    redeem.form.code_verifier.should.match(/^[A-Za-z0-9_-]{43,128}$/);
    redeem.form.client_secret.should.equal(sim.apps.confidential.secret);
    lastStatus(auth).text.should.match(/Megan Bowen/);
  });

  it('accepts a bare code only while exactly one sign-in is pending', async () => {
    const { flow, credentials } = authFlow(sim);
    await loadFlow(flow, credentials);
    const auth = helper.getNode('auth');
    const out = helper.getNode('out');
    const caught = helper.getNode('caught');

    let got = nextMessage(out);
    auth.receive({});
    const first = (await got).payload;
    got = nextMessage(out);
    auth.receive({});
    await got;
    const code = new URL(await consent(first)).searchParams.get('code');
    const error = nextMessage(caught);
    auth.receive({ payload: code });
    const failed = await error;
    failed.error.message.should.match(/Several sign-ins are pending/);
    failed.should.not.have.property('payload');
    tokenRequests(sim).should.have.length(0);
  });

  it('a failed exchange removes the pasted URL before the error reaches Catch', async () => {
    const { flow, credentials } = authFlow(sim);
    await loadFlow(flow, credentials);
    const auth = helper.getNode('auth');
    const out = helper.getNode('out');
    const caught = helper.getNode('caught');
    const got = nextMessage(out);
    auth.receive({});
    const redirected = await consent((await got).payload);
    sim.advanceClock(11 * 60_000); // the code lives 10 minutes
    const error = nextMessage(caught);
    auth.receive({ payload: redirected, topic: 'paste' });
    const failed = await error;
    failed.should.not.have.property('payload');
    failed.error.code.should.equal('invalid_grant');
    failed.error.message.should.match(/AADSTS70008/);
    JSON.stringify(failed).should.not.containEql(new URL(redirected).searchParams.get('code'));
  });

  it('an unknown state and a URL with error= are clear errors', async () => {
    const { flow, credentials } = authFlow(sim);
    await loadFlow(flow, credentials);
    const auth = helper.getNode('auth');
    const caught = helper.getNode('caught');
    let error = nextMessage(caught);
    auth.receive({ payload: 'http://localhost:1880/o365/auth/callback?code=abc&state=nope' });
    (await error).error.code.should.equal('UNKNOWN_STATE');

    const out = helper.getNode('out');
    const got = nextMessage(out);
    auth.receive({});
    const state = new URL((await got).payload).searchParams.get('state');
    error = nextMessage(caught);
    auth.receive({
      payload: `http://localhost:1880/o365/auth/callback?error=access_denied&error_description=AADSTS65004%3A+declined&state=${state}`,
    });
    const failed = (await error).error;
    failed.code.should.equal('access_denied');
    failed.message.should.match(/AADSTS65004/);
  });

  it('20 and 50 concurrent token requests at expiry cost one refresh each', async () => {
    const { node } = configFor(sim);
    const creds = signedInCredentials(sim);
    await loadFlow([node], { cfg: creds.cfg });
    const cfg = helper.getNode('cfg');
    await cfg.ready;
    let offset = 0;
    for (const n of [20, 50]) {
      sim.clearLog();
      // The process's clock (the package's and the simulator's) moves past the access token's expiry.
      offset += 3600 * 1000;
      await setClockOffset(offset);
      const tokens = await Promise.all(Array.from({ length: n }, () => cfg.manager.getAccessToken()));
      new Set(tokens).size.should.equal(1);
      tokenRequests(sim, 'refresh_token').should.have.length(1);
    }
  });

  it('rotates the refresh token into the store and mirrors it into the credentials', async () => {
    const { node } = configFor(sim);
    const creds = signedInCredentials(sim);
    sim.knobs.revokeUsedRefreshTokens = true;
    await loadFlow([node], { cfg: creds.cfg });
    const cfg = helper.getNode('cfg');
    await cfg.ready;
    const before = creds.cfg.refreshToken;
    for (let i = 0; i < 3; i++) {
      await cfg.manager.getAccessToken(cfg.manager.tokens.accessToken); // as after a 401
    }
    tokenRequests(sim, 'refresh_token').should.have.length(3);
    const mirrored = helper._redNodes.getCredentials('cfg');
    mirrored.refreshToken.should.not.equal(before);
    mirrored.refreshToken.should.equal(cfg.manager.tokens.refreshToken);
    mirrored.clientId.should.equal(sim.apps.confidential.clientId);
  });

  it('a revoked grant shows "sign-in required" and a new sign-in recovers without a redeploy', async () => {
    const { flow } = authFlow(sim);
    const creds = signedInCredentials(sim);
    await loadFlow(flow, { cfg: creds.cfg });
    const cfg = helper.getNode('cfg');
    const auth = helper.getNode('auth');
    await cfg.ready;
    sim.revokeRefreshTokens({ code: 50173 });
    const failure = await cfg.manager.getAccessToken(cfg.manager.tokens.accessToken).then(
      () => null,
      (err) => err,
    );
    failure.code.should.equal('SIGN_IN_REQUIRED');
    failure.message.should.match(/Sign in again/);
    failure.cause.aadsts.should.containEql(50173);
    await waitFor(() => /sign-in required/.test(lastStatus(auth).text), 2000, 'red status');

    const out = helper.getNode('out');
    let got = nextMessage(out);
    auth.receive({});
    const redirected = await consent((await got).payload);
    got = nextMessage(out);
    auth.receive({ payload: redirected });
    (await got).payload.signedIn.should.be.true();
    (await cfg.manager.getAccessToken()).should.be.a.String();
    lastStatus(auth).fill.should.equal('green');
  });

  it('device code: code and link first, the signed-in message after, and a refresh that never sends the secret', async () => {
    sim.knobs.deviceInterval = 1;
    const { flow, credentials } = authFlow(sim, {}, 'public');
    await loadFlow(flow, credentials);
    const auth = helper.getNode('auth');
    const out = helper.getNode('out');
    const messages = collect(out);
    auth.receive({ topic: 'device' });
    await waitFor(() => messages.length === 1, 5000, 'device code message');
    const start = messages[0].payload;
    start.userCode.should.match(/^[A-Z]{8}$/);
    start.verificationUri.should.equal(`${sim.url}/devicelogin`);
    await waitFor(() => /waiting for device code/.test(lastStatus(auth).text), 2000, 'yellow status');
    sim.approveDevice(start.userCode);
    await waitFor(() => messages.length === 2, 8000, 'signed-in message');
    messages[1].payload.signedIn.should.be.true();
    const cfg = helper.getNode('cfg');
    await cfg.manager.getAccessToken(cfg.manager.tokens.accessToken);
    const [refresh] = tokenRequests(sim, 'refresh_token');
    refresh.form.should.not.have.property('client_secret');
  });

  it('a confidential registration with a secret still refreshes a device-code (public) sign-in without it', async () => {
    sim.knobs.deviceInterval = 1;
    sim.apps.confidential.allowPublicClient = true;
    const { flow, credentials } = authFlow(sim);
    await loadFlow(flow, credentials);
    const auth = helper.getNode('auth');
    const messages = collect(helper.getNode('out'));
    auth.receive({ topic: 'device' });
    await waitFor(() => messages.length === 1, 5000, 'device code message');
    sim.approveDevice(messages[0].payload.userCode);
    await waitFor(() => messages.length === 2, 8000, 'signed-in message');
    const cfg = helper.getNode('cfg');
    await cfg.manager.getAccessToken(cfg.manager.tokens.accessToken);
    tokenRequests(sim, 'refresh_token')[0].form.should.not.have.property('client_secret');
  });

  it('a pending device code beside a working sign-in: dependent nodes stay green and keep reading', async () => {
    sim.knobs.deviceInterval = 1;
    sim.apps.confidential.allowPublicClient = true;
    const { node } = configFor(sim);
    const creds = signedInCredentials(sim);
    await loadFlow(
      onTab([
        node,
        { id: 'auth', type: 'o365-auth', config: 'cfg', wires: [['out']] },
        { id: 'out', type: 'helper' },
        { id: 'events', type: 'o365-events', config: 'cfg', wires: [['read']] },
        { id: 'read', type: 'helper' },
      ]),
      { cfg: creds.cfg },
    );
    await helper.getNode('cfg').ready;
    const auth = helper.getNode('auth');
    const events = helper.getNode('events');
    const messages = collect(helper.getNode('out'));
    auth.receive({ topic: 'device' });
    await waitFor(() => messages.length === 1, 5000, 'device code message');
    const status = (await helper.request().get('/o365/auth/status/cfg')).body;
    status.state.should.equal('signed-in');
    status.attempt.state.should.equal('pending');
    status.attempt.way.should.equal('device');
    const got = nextMessage(helper.getNode('read'));
    events.receive({});
    (await got).payload.should.be.an.Array();
    for (const n of [events, auth]) {
      for (const shown of statuses(n)) shown.text.should.not.match(/waiting for device code/);
      lastStatus(n).fill.should.equal('green');
    }
    sim.approveDevice(messages[0].payload.userCode);
    await waitFor(() => messages.length === 2, 8000, 'signed-in message');
    messages[1].payload.signedIn.should.be.true();
  });

  it('without a usable sign-in, a pending device code is what the nodes wait for (yellow)', async () => {
    sim.knobs.deviceInterval = 1;
    const { flow, credentials } = authFlow(sim, {}, 'public');
    await loadFlow(flow, credentials);
    const auth = helper.getNode('auth');
    const messages = collect(helper.getNode('out'));
    auth.receive({ topic: 'device' });
    await waitFor(() => messages.length === 1, 5000, 'device code message');
    await waitFor(() => /waiting for device code/.test(lastStatus(auth).text), 2000, 'yellow status');
    lastStatus(auth).fill.should.equal('yellow');
  });

  it('a sign-in is bound to its own config node: a redirected URL or code from another node’s sign-in is refused', async () => {
    const a = configFor(sim, { id: 'cfgA' });
    const b = configFor(sim, { id: 'cfgB' });
    await loadFlow(
      onTab([
        a.node,
        b.node,
        { id: 'authA', type: 'o365-auth', config: 'cfgA', wires: [['out']] },
        { id: 'authB', type: 'o365-auth', config: 'cfgB', wires: [['out']] },
        { id: 'out', type: 'helper' },
        { id: 'catch', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
        { id: 'caught', type: 'helper' },
      ]),
      { ...a.credentials, ...b.credentials },
    );
    const out = helper.getNode('out');
    const caught = helper.getNode('caught');
    let got = nextMessage(out);
    helper.getNode('authA').receive({});
    const redirected = await consent((await got).payload);
    const code = new URL(redirected).searchParams.get('code');
    for (const payload of [redirected, code]) {
      const error = nextMessage(caught);
      helper.getNode('authB').receive({ payload });
      const failed = (await error).error;
      failed.code.should.equalOneOf('UNKNOWN_STATE', 'AMBIGUOUS_CODE');
    }
    const exchanged = await helper
      .request()
      .post('/o365/auth/exchange')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ id: 'cfgB', input: redirected }));
    exchanged.status.should.equal(400);
    exchanged.body.error.should.equal('UNKNOWN_STATE');
    tokenRequests(sim).should.have.length(0);
    helper.getNode('cfgB').manager.status().state.should.equal('signed-out');
    // The refusals used nothing up: A's own sign-in still completes.
    got = nextMessage(out);
    helper.getNode('authA').receive({ payload: redirected });
    (await got).payload.signedIn.should.be.true();
    helper.getNode('cfgB').manager.status().state.should.equal('signed-out');
  });

  it('refreshes once less than 5 minutes of a one-hour access token remain, not before', async () => {
    const { node } = configFor(sim);
    const creds = signedInCredentials(sim);
    await loadFlow([node], { cfg: creds.cfg });
    const cfg = helper.getNode('cfg');
    await cfg.ready;
    const lifetime = Number(creds.cfg.expiresAt) - Date.now();
    lifetime.should.be.above(50 * 60_000);
    for (const [minutesLeft, refreshes] of [
      [6, 0],
      [4, 1],
    ]) {
      sim.clearLog();
      await setClockOffset(lifetime - minutesLeft * 60_000);
      await cfg.manager.getAccessToken();
      tokenRequests(sim, 'refresh_token').should.have.length(refreshes, `${minutesLeft} minutes left`);
    }
  });

  for (const revocation of [
    { code: 50076, error: 'interaction_required' },
    { code: 50079 },
    { code: 65001 },
    { code: 700082 },
  ]) {
    it(`${revocation.error || 'invalid_grant'} AADSTS${revocation.code}: "sign-in required" with the reason on every dependent node; a new sign-in recovers without a redeploy`, async () => {
      const { node } = configFor(sim);
      const creds = signedInCredentials(sim);
      await loadFlow(
        onTab([
          node,
          { id: 'auth', type: 'o365-auth', config: 'cfg', wires: [['out']] },
          { id: 'out', type: 'helper' },
          { id: 'events', type: 'o365-events', config: 'cfg', wires: [['read']] },
          { id: 'read', type: 'helper' },
          { id: 'catch', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
          { id: 'caught', type: 'helper' },
        ]),
        { cfg: creds.cfg },
      );
      const cfg = helper.getNode('cfg');
      await cfg.ready;
      if (revocation.code === 700082) sim.advanceClock(91 * 86_400_000);
      else sim.revokeRefreshTokens(revocation);
      // As after Graph's 401: the refresh is refused; then a read fails with the reason.
      await cfg.manager.getAccessToken(cfg.manager.tokens.accessToken).catch(() => undefined);
      const failed = nextMessage(helper.getNode('caught'));
      const events = helper.getNode('events');
      events.receive({});
      const code = `AADSTS${revocation.code}`;
      (await failed).error.message.should.match(new RegExp(code));
      for (const n of [events, helper.getNode('auth')]) {
        await waitFor(
          () => lastStatus(n).text === `sign-in required (${code})` && lastStatus(n).fill === 'red',
          2000,
          `status of ${n.id}`,
        );
      }
      const status = cfg.manager.status();
      status.state.should.equal('sign-in-required');
      status.reason.should.match(new RegExp(code));

      const out = helper.getNode('out');
      let got = nextMessage(out);
      helper.getNode('auth').receive({});
      const redirected = await consent((await got).payload);
      got = nextMessage(out);
      helper.getNode('auth').receive({ payload: redirected });
      (await got).payload.signedIn.should.be.true();
      const read = nextMessage(helper.getNode('read'));
      events.receive({});
      (await read).payload.should.be.an.Array();
      lastStatus(events).fill.should.equal('green');
    });
  }

  it('an IPv6 loopback redirect URI ([::1]) is refused with a clear error naming the field', async () => {
    const { flow, credentials } = authFlow(sim, { redirectUri: 'http://[::1]:1880/o365/auth/callback' });
    await loadFlow(flow, credentials);
    const error = nextMessage(helper.getNode('caught'));
    helper.getNode('auth').receive({});
    const failed = (await error).error;
    failed.code.should.equal('INVALID_CONFIG');
    failed.cause.field.should.equal('redirectUri');
    failed.message.should.match(/IPv6 loopback address \[::1\].*http:\/\/localhost/);
    const start = await helper
      .request()
      .post('/o365/auth/start')
      .set('Content-Type', 'application/json')
      .send(
        JSON.stringify({
          id: 'cfg',
          settings: { ...flow.find((n) => n.id === 'cfg'), clientId: sim.apps.confidential.clientId },
        }),
      );
    start.status.should.equal(400);
    start.body.field.should.equal('redirectUri');
    sim.requests.should.have.length(0);
  });

  it('status and signout topics; sign-out clears the mirrored tokens', async () => {
    const { flow } = authFlow(sim);
    const creds = signedInCredentials(sim);
    await loadFlow(flow, { cfg: creds.cfg });
    await helper.getNode('cfg').ready;
    const auth = helper.getNode('auth');
    const out = helper.getNode('out');
    let got = nextMessage(out);
    auth.receive({ topic: 'status' });
    (await got).payload.state.should.equal('signed-in');
    got = nextMessage(out);
    auth.receive({ topic: 'signout' });
    (await got).payload.state.should.equal('signed-out');
    const mirrored = helper._redNodes.getCredentials('cfg');
    mirrored.should.not.have.property('refreshToken');
    mirrored.should.have.property('clientId');
  });

  it('application mode: client credentials with <graph>/.default, reused until near expiry; common refused', async () => {
    const { node, credentials } = configFor(sim, { mode: 'application' });
    await loadFlow([node], credentials);
    const cfg = helper.getNode('cfg');
    await cfg.ready;
    const a = await cfg.manager.getAccessToken();
    const b = await cfg.manager.getAccessToken();
    a.should.equal(b);
    const requests = tokenRequests(sim, 'client_credentials');
    requests.should.have.length(1);
    requests[0].form.scope.should.equal(`${sim.url}/.default`);
    await helper.unload();

    const common = configFor(sim, { mode: 'application', tenant: 'common' });
    await loadFlow([common.node], common.credentials);
    const bad = helper.getNode('cfg');
    bad.problem.code.should.equal('INVALID_CONFIG');
    bad.problem.message.should.match(/tenant/);
  });
});
