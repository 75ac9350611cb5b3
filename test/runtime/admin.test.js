// The editor's admin API (DESIGN.md's table) in the runtime: sign-in start → simulator → callback, device code,
// paste exchange, status, sign-out, the calendar picker, and the guards (JSON only, body size, escaping).
'use strict';
require('should');
const { startSimulator } = require('../sim/simulator');
const path = require('path');
const {
  helper,
  onTab,
  loadFlow,
  configFor,
  signedInCredentials,
  waitFor,
  nextMessage,
} = require('../lib/nodes');
const { simConfigProps } = require('../lib/sim-config');
const { distPath } = require('../lib/dist');

/** What the config dialog sends: its properties and the client ID. */
function dialogSettings(sim, overrides = {}) {
  return simConfigProps(sim, {
    redirectUri: 'http://localhost:1880/o365/auth/callback',
    clientId: sim.apps.confidential.clientId,
    ...overrides,
  });
}

function post(path, body) {
  return helper.request().post(path).set('Content-Type', 'application/json').send(JSON.stringify(body));
}

/** Start → consent in the simulator → the callback, as the popup does; resolves with the callback answer. */
async function popupSignIn(sim, id, body = {}) {
  const start = await post('/o365/auth/start', { id, settings: dialogSettings(sim), ...body });
  start.status.should.equal(200, JSON.stringify(start.body));
  const consent = await fetch(start.body.url, { redirect: 'manual' });
  consent.headers.get('cross-origin-opener-policy').should.equal('same-origin');
  const location = new URL(consent.headers.get('location'));
  return helper.request().get(`${location.pathname}${location.search}`);
}

describe('admin API (runtime)', function () {
  this.timeout(20000);
  let sim;

  beforeEach(async () => {
    sim = await startSimulator({ eventCount: 100 });
  });
  afterEach(async () => {
    await helper.unload();
    await sim.close();
  });

  it('signs in a config node that is not deployed: start, popup, callback page, status, calendar picker', async () => {
    await loadFlow(onTab([]));
    const page = await popupSignIn(sim, 'draft1', { clientSecret: sim.apps.confidential.secret });
    page.status.should.equal(200);
    page.headers['content-type'].should.match(/text\/html/);
    page.text.should.match(/Signed in as Megan Bowen/);
    page.text.should.match(/You can close this window/);
    const status = await helper.request().get('/o365/auth/status/draft1');
    status.body.state.should.equal('signed-in');
    // One status shape for the editor and for flows (o365-auth's output).
    status.body.signedIn.should.be.true();
    status.body.scopes.should.containEql('Calendars.Read');
    status.body.account.name.should.equal('Megan Bowen');
    JSON.stringify(status.body).should.not.match(/token/i);

    const calendars = await helper.request().get('/o365/calendars/draft1');
    calendars.status.should.equal(200);
    calendars.body.map((c) => c.name).should.eql(['Calendar', 'Team', 'Projects']);
    calendars.body.find((c) => c.name === 'Calendar').isDefaultCalendar.should.be.true();
    calendars.body.every((c) => c.user === '').should.be.true();
    // Another mailbox (delegated): only what a read reaches. Its default calendar by the shortcut (id ""), and
    // the signed-in user's copy of a calendar it shared, read through her own mailbox (user "").
    const room = await helper
      .request()
      .get(`/o365/calendars/draft1?user=${encodeURIComponent(sim.users.room101.upn)}`);
    room.status.should.equal(200);
    room.body.should.eql([
      {
        id: '',
        name: 'Calendar',
        isDefaultCalendar: true,
        owner: { name: 'Room 1.01', address: sim.users.room101.upn },
        user: sim.users.room101.upn,
      },
    ]);
    const alex = await helper
      .request()
      .get(`/o365/calendars/draft1?user=${sim.users.alex.upn.toUpperCase()}`);
    alex.body
      .map((c) => [c.id, c.name, c.user, c.owner.address])
      .should.eql([
        ['', 'Calendar', sim.users.alex.upn.toUpperCase(), sim.users.alex.upn],
        [sim.fixtures.sharedProjects.copyId, 'Projects', '', sim.users.alex.upn],
      ]);
    // Nothing shared: Graph's refusal comes back.
    const closed = await helper.request().get(`/o365/calendars/draft1?user=${sim.users.room202.upn}`);
    closed.status.should.not.equal(200);
  });

  it('a sign-in started in the dialog and left unfinished does not hide the running sign-in from the pickers', async () => {
    const { node } = configFor(sim);
    const creds = signedInCredentials(sim);
    await loadFlow([node], { cfg: creds.cfg });
    const cfg = helper.getNode('cfg');
    await cfg.ready;
    cfg.manager.status().state.should.equal('signed-in');
    // Another secret typed into the dialog makes a draft for this id; the popup is then closed without signing in.
    const start = await post('/o365/auth/start', {
      id: 'cfg',
      settings: dialogSettings(sim),
      clientSecret: 'typed-but-never-used',
    });
    start.status.should.equal(200, JSON.stringify(start.body));
    const calendars = await helper.request().get('/o365/calendars/cfg');
    calendars.status.should.equal(200, JSON.stringify(calendars.body));
    calendars.body.map((c) => c.name).should.containDeep(['Calendar']);
  });

  it('a secret the editor only holds as __PWRD__ is taken from the stored credentials', async () => {
    const { node, credentials } = configFor(sim);
    await loadFlow([node], credentials);
    sim.clearLog();
    const page = await popupSignIn(sim, 'cfg', { clientSecret: '__PWRD__' });
    page.text.should.match(/Signed in/);
    const redeem = sim.requests.find((r) => r.kind === 'token');
    redeem.form.client_secret.should.equal(sim.apps.confidential.secret);
    // The deployed node with the same settings now holds the sign-in without a redeploy.
    helper.getNode('cfg').manager.status().state.should.equal('signed-in');
  });

  it('the callback: missing, unknown and replayed state change nothing; error_description comes back escaped', async () => {
    await loadFlow(onTab([]));
    let page = await helper.request().get('/o365/auth/callback?code=abc');
    page.status.should.equal(400);
    page = await helper.request().get('/o365/auth/callback?code=abc&state=forged');
    page.status.should.equal(400);
    page.text.should.match(/unknown, used or older than 10 minutes/);

    const start = await post('/o365/auth/start', {
      id: 'x1',
      settings: dialogSettings(sim),
      clientSecret: sim.apps.confidential.secret,
    });
    const consent = await fetch(start.body.url, { redirect: 'manual' });
    const location = new URL(consent.headers.get('location'));
    (await helper.request().get(`${location.pathname}${location.search}`)).status.should.equal(200);
    const replay = await helper.request().get(`${location.pathname}${location.search}`);
    replay.status.should.equal(400);
    sim.requests.filter((r) => r.kind === 'token').should.have.length(1);

    const again = await post('/o365/auth/start', {
      id: 'x1',
      settings: dialogSettings(sim),
      clientSecret: 'x',
    });
    const state = new URL(again.body.url).searchParams.get('state');
    const evil = await helper
      .request()
      .get(
        `/o365/auth/callback?state=${state}&error=access_denied&error_description=${encodeURIComponent('<script>alert(1)</script>')}`,
      );
    evil.status.should.equal(400);
    evil.text.should.not.containEql('<script>alert(1)</script>');
    evil.text.should.containEql('&#60;script&#62;alert(1)&#60;/script&#62;');
  });

  it('refuses requests from another site’s page (Node-RED answers CORS * for the admin API)', async () => {
    const { node } = configFor(sim);
    const creds = signedInCredentials(sim);
    await loadFlow([node], { cfg: creds.cfg });
    for (const headers of [
      { Origin: 'https://evil.example' },
      { 'Sec-Fetch-Site': 'cross-site' },
      { Origin: 'null' },
    ]) {
      const list = await helper.request().get('/o365/calendars/cfg').set(headers);
      list.status.should.equal(403);
      const out = await post('/o365/auth/signout', { id: 'cfg' }).set(headers);
      out.status.should.equal(403);
    }
    (await helper.request().get('/o365/auth/status/cfg')).body.state.should.equal('signed-in');
    const same = await helper.request().get('/o365/calendars/cfg').set('Sec-Fetch-Site', 'same-origin');
    same.status.should.equal(200);
  });

  it('JSON bodies only, small bodies only, well-formed ids only', async () => {
    await loadFlow(onTab([]));
    for (const path of [
      '/o365/auth/start',
      '/o365/auth/device',
      '/o365/auth/exchange',
      '/o365/auth/signout',
    ]) {
      const form = await helper.request().post(path).type('form').send({ id: 'cfg', input: 'x' });
      form.status.should.equal(415, path);
    }
    const big = await post('/o365/auth/exchange', { id: 'cfg', input: 'x'.repeat(20000) });
    big.status.should.equal(413);
    const badId = await post('/o365/auth/signout', { id: '../../etc' });
    badId.status.should.equal(400);
    (await helper.request().get('/o365/auth/status/..%2Fx')).status.should.equal(400);
  });

  it('device code from the dialog: code and link, then signed in once approved', async () => {
    sim.knobs.deviceInterval = 1;
    sim.apps.confidential.allowPublicClient = true;
    await loadFlow(onTab([]));
    const started = await post('/o365/auth/device', { id: 'dev1', settings: dialogSettings(sim) });
    started.status.should.equal(200, JSON.stringify(started.body));
    started.body.userCode.should.match(/^[A-Z]{8}$/);
    started.body.verificationUri.should.equal(`${sim.url}/devicelogin`);
    (await helper.request().get('/o365/auth/status/dev1')).body.state.should.equal('pending');
    sim.approveDevice(started.body.userCode);
    await waitFor(
      async () => (await helper.request().get('/o365/auth/status/dev1')).body.state === 'signed-in',
      8000,
      'device sign-in',
    );
  });

  it('device code of an app without public client flows: Microsoft asks for the secret (7000218), it is sent, the sign-in is confidential', async () => {
    sim.knobs.deviceInterval = 1;
    const { node, credentials } = configFor(sim, {}, 'confidential');
    await loadFlow([node], credentials);
    const started = await post('/o365/auth/device', {
      id: 'cfg',
      settings: dialogSettings(sim),
      clientSecret: '__PWRD__',
    });
    started.status.should.equal(200);
    sim.approveDevice(started.body.userCode);
    await waitFor(
      async () => (await helper.request().get('/o365/auth/status/cfg')).body.state === 'signed-in',
      8000,
      'device sign-in',
    );
    const polls = sim.requests.filter((r) => r.grantType === 'urn:ietf:params:oauth:grant-type:device_code');
    polls[0].form.should.not.have.property('client_secret');
    polls[polls.length - 1].form.client_secret.should.equal(sim.apps.confidential.secret);
    const cfg = helper.getNode('cfg');
    await cfg.manager.getAccessToken(cfg.manager.tokens.accessToken);
    const [refresh] = sim.requests.filter((r) => r.grantType === 'refresh_token');
    refresh.form.client_secret.should.equal(sim.apps.confidential.secret);
    (sim.stats.devicePollsTooFast || 0).should.equal(0);
  });

  it('device code without public client flows and without a secret says what to switch on', async () => {
    sim.knobs.deviceInterval = 1;
    await loadFlow(onTab([]));
    const started = await post('/o365/auth/device', {
      id: 'dev2',
      settings: dialogSettings(sim),
      clientSecret: '',
    });
    started.status.should.equal(200);
    sim.approveDevice(started.body.userCode);
    const status = await waitFor(
      async () => {
        const answer = (await helper.request().get('/o365/auth/status/dev2')).body;
        return answer.attempt.state === 'failed' && answer;
      },
      8000,
      'device failure',
    );
    status.attempt.id.should.equal(started.body.attempt);
    status.attempt.reason.should.match(/Allow public client flows.*or enter the client secret/);
    status.state.should.equal('signed-out');
    const warned = helper
      .log()
      .args.map((a) => a[0])
      .find((e) => e.level === 30 && /Allow public client flows/.test(String(e.msg)));
    (warned !== undefined).should.be.true();
  });

  describe('a wrong client secret, in each way of signing in, reaches the dialog; the sign-in in use goes on', function () {
    async function signedInNode() {
      const { node } = configFor(sim);
      const creds = signedInCredentials(sim);
      await loadFlow([node], { cfg: creds.cfg });
      const cfg = helper.getNode('cfg');
      await cfg.ready;
      sim.clearLog();
      return cfg;
    }

    async function stillSignedIn(cfg, attemptId, reason) {
      const status = (await helper.request().get('/o365/auth/status/cfg')).body;
      status.state.should.equal('signed-in');
      status.attempt.id.should.equal(attemptId);
      status.attempt.state.should.equal('failed');
      status.attempt.reason.should.match(reason);
      JSON.stringify(status).should.not.containEql(sim.apps.confidential.secretId);
      cfg.manager.status().state.should.equal('signed-in');
      (await cfg.manager.getAccessToken(cfg.manager.tokens.accessToken)).should.be.a.String();
      return status;
    }

    it('popup: the callback page and the status both say why', async () => {
      const cfg = await signedInNode();
      const start = await post('/o365/auth/start', {
        id: 'cfg',
        settings: dialogSettings(sim),
        clientSecret: sim.apps.confidential.secretId,
      });
      const consent = await fetch(start.body.url, { redirect: 'manual' });
      const location = new URL(consent.headers.get('location'));
      const page = await helper.request().get(`${location.pathname}${location.search}`);
      page.status.should.equal(400);
      page.text.should.match(/AADSTS7000215/);
      await stillSignedIn(cfg, start.body.attempt, /AADSTS7000215.*Value column, not the Secret ID/);
    });

    it('pasted URL: the exchange answers the reason, and the status keeps it', async () => {
      const cfg = await signedInNode();
      const start = await post('/o365/auth/start', {
        id: 'cfg',
        settings: dialogSettings(sim),
        clientSecret: 'not-the-secret',
      });
      const consent = await fetch(start.body.url, { redirect: 'manual' });
      const exchanged = await post('/o365/auth/exchange', {
        id: 'cfg',
        input: consent.headers.get('location'),
      });
      exchanged.status.should.equal(400);
      exchanged.body.error.should.equal('invalid_client');
      exchanged.body.message.should.match(/AADSTS7000215/);
      await stillSignedIn(cfg, start.body.attempt, /AADSTS7000215/);
    });

    it('device code (an app without public client flows): the failure and the log blame the secret, not the app setting', async () => {
      sim.knobs.deviceInterval = 1;
      const cfg = await signedInNode();
      const started = await post('/o365/auth/device', {
        id: 'cfg',
        settings: dialogSettings(sim),
        clientSecret: 'not-the-secret',
      });
      started.status.should.equal(200);
      sim.approveDevice(started.body.userCode);
      await waitFor(
        async () => (await helper.request().get('/o365/auth/status/cfg')).body.attempt.state === 'failed',
        8000,
        'device failure',
      );
      await stillSignedIn(cfg, started.body.attempt, /AADSTS7000215/);
      const lines = helper
        .log()
        .args.map((a) => String(a[0].msg))
        .filter((m) => /Device-code sign-in ended/.test(m));
      lines.should.have.length(1);
      lines[0].should.match(/AADSTS7000215/);
      lines[0].should.not.match(/Allow public client flows/);
    });

    it('"Test secret": right, wrong, the secret ID, the stored one, and only JSON', async () => {
      await signedInNode();
      const test = (clientSecret) =>
        post('/o365/auth/test', { id: 'cfg', settings: dialogSettings(sim), clientSecret });
      const ok = await test(sim.apps.confidential.secret);
      ok.status.should.equal(200);
      ok.body.ok.should.be.true();
      ok.body.message.should.match(/works/);
      (await test('__PWRD__')).body.ok.should.be.true();
      const wrong = await test('not-the-secret');
      wrong.status.should.equal(400);
      wrong.body.message.should.match(/AADSTS7000215/);
      const id = await test(sim.apps.confidential.secretId);
      id.body.message.should.match(/Secret ID/);
      JSON.stringify(id.body).should.not.containEql(sim.apps.confidential.secretId);
      const none = await test('');
      none.status.should.equal(400);
      none.body.field.should.equal('clientSecret');
      const form = await helper.request().post('/o365/auth/test').type('form').send({ id: 'cfg' });
      form.status.should.equal(415);
      const tokens = sim.requests.filter((r) => r.kind === 'token');
      tokens.every((r) => r.grantType === 'client_credentials').should.be.true();
      helper.getNode('cfg').manager.status().state.should.equal('signed-in');
    });
  });

  it('an unreadable store is reported as "sign-in required" with the reason, not as signed out', async () => {
    const userDir = await loadFlow(onTab([]));
    const { TokenStore } = require(distPath('nodes/shared/auth/token-store.js'));
    const other = new TokenStore({
      dir: path.join(userDir, 'o365-calendar', 'default'),
      keySecrets: ['another key'],
    });
    await other.save(
      'gone1',
      {
        accessToken: 'a',
        refreshToken: 'r',
        expiresAt: Date.now() + 3600_000,
        scope: '',
        clientKind: 'public',
      },
      { authority: sim.url, tenant: sim.tenantId, clientId: 'x', clientKind: 'public', scopes: 'x' },
    );
    const status = (await helper.request().get('/o365/auth/status/gone1')).body;
    status.state.should.equal('sign-in-required');
    status.reason.should.match(/could not be read/);
  });

  it('a config node inside a subflow: the dialog reaches the running instance through its store key (_alias)', async () => {
    const { node, credentials } = configFor(sim, { id: 'sfcfg' });
    const flow = [
      {
        id: 'sf',
        type: 'subflow',
        name: 'calendar',
        in: [{ x: 50, y: 50, wires: [{ id: 'sfauth' }] }],
        out: [{ x: 300, y: 50, wires: [{ id: 'sfauth', port: 0 }] }],
      },
      { ...node, z: 'sf' },
      { id: 'sfauth', type: 'o365-auth', z: 'sf', config: 'sfcfg', x: 150, y: 50, wires: [[]] },
      { id: 'tab', type: 'tab', label: 'tab' },
      { id: 'inst', type: 'subflow:sf', z: 'tab', x: 100, y: 100, wires: [['out']] },
      { id: 'out', type: 'helper', z: 'tab', x: 300, y: 100 },
    ];
    await loadFlow(flow, credentials);
    const inst = helper.getNode('inst');
    const out = helper.getNode('out');
    const status = async () => {
      const got = nextMessage(out);
      inst.receive({ topic: 'status' });
      return (await got).payload;
    };
    (await status()).signedIn.should.be.false();
    const page = await popupSignIn(sim, 'sfcfg', { clientSecret: '__PWRD__' });
    page.text.should.match(/Signed in/);
    // The running copy inside the subflow instance uses the new sign-in at once, without a redeploy.
    (await status()).signedIn.should.be.true();
    (await helper.request().get('/o365/auth/status/sfcfg')).body.state.should.equal('signed-in');
  });

  it('paste exchange: the redirected URL signs the node in; sign-out signs it out', async () => {
    const { node } = configFor(sim);
    const creds = signedInCredentials(sim);
    await loadFlow([node], { cfg: creds.cfg });
    const start = await post('/o365/auth/start', {
      id: 'cfg',
      settings: dialogSettings(sim),
      clientSecret: '__PWRD__',
    });
    const consent = await fetch(start.body.url, { redirect: 'manual' });
    const exchanged = await post('/o365/auth/exchange', {
      id: 'cfg',
      input: consent.headers.get('location'),
    });
    exchanged.status.should.equal(200, JSON.stringify(exchanged.body));
    exchanged.body.state.should.equal('signed-in');
    const out = await post('/o365/auth/signout', { id: 'cfg' });
    out.body.state.should.equal('signed-out');
    (await helper.request().get('/o365/auth/status/cfg')).body.state.should.equal('signed-out');
  });

  it('token endpoint errors come back as the actionable message, never with the secret', async () => {
    await loadFlow(onTab([]));
    const start = await post('/o365/auth/start', {
      id: 'bad1',
      settings: dialogSettings(sim),
      clientSecret: sim.apps.confidential.secretId,
    });
    const consent = await fetch(start.body.url, { redirect: 'manual' });
    const location = new URL(consent.headers.get('location'));
    const page = await helper.request().get(`${location.pathname}${location.search}`);
    page.status.should.equal(400);
    page.text.should.match(/Secret ID/);
    page.text.should.not.containEql(sim.apps.confidential.secretId);

    const badTenant = await post('/o365/auth/start', {
      id: 'bad2',
      settings: dialogSettings(sim, { tenant: 'not a tenant' }),
    });
    badTenant.status.should.equal(400);
    badTenant.body.field.should.equal('tenant');
  });
});
