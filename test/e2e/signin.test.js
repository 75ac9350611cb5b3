// Sign in once, keep working through refreshes, deploys and restarts: the packed package in a real node-red
// process (Node-RED 4 on this Node), the simulator revoking every used refresh token unless said otherwise.
'use strict';
require('should');
const fs = require('fs');
const path = require('path');
const { packPackage, NodeRed } = require('../harness/nodered');
const { startSimulator } = require('../sim/simulator');
const { configNode, credentialsFor, eventsTab } = require('./flows');
const { simConfigProps } = require('../lib/sim-config');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function refreshes(sim) {
  return sim.requests.filter((r) => r.kind === 'token' && r.grantType === 'refresh_token');
}

/** Everything secret the simulator ever handed out, plus the app secrets. */
function secretsOf(sim) {
  return [
    ...sim.identity.codes.keys(),
    ...sim.identity.refreshTokens.keys(),
    ...sim.identity.accessTokens.keys(),
    sim.apps.confidential.secret,
    sim.apps.confidential.secretId,
  ].filter((s) => typeof s === 'string' && s.length >= 8);
}

function filesUnder(dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.name === 'node_modules') continue;
    if (entry.isDirectory()) out.push(...filesUnder(full));
    else out.push(full);
  }
  return out;
}

/** Looks for every secret in the log, the answers received and every file of the user dir (node_modules aside). */
function scanForSecrets(sim, nr, answers) {
  const secrets = secretsOf(sim);
  const haystacks = [
    ['log', nr.log.join('\n')],
    ['answers', JSON.stringify(answers)],
    ...filesUnder(nr.userDir).map((file) => [
      path.relative(nr.userDir, file),
      fs.readFileSync(file, 'latin1'),
    ]),
  ];
  const found = [];
  for (const [where, text] of haystacks)
    for (const secret of secrets) if (text.includes(secret)) found.push(where);
  return { secrets: secrets.length, places: haystacks.length, found };
}

describe('sign-in that survives refreshes, deploys and restarts (full process, Node-RED 4)', function () {
  this.timeout(240000);
  let tarball;
  let sim;
  let nr;
  const answers = [];

  async function events(query = '') {
    const res = await nr.http('GET', `/events${query}`);
    answers.push(res.body);
    return res;
  }

  async function expectEvents() {
    const res = await events();
    res.status.should.equal(200, JSON.stringify(res.body));
    res.body.should.be.an.Array();
    return res.body;
  }

  before(async () => {
    tarball = await packPackage();
  });
  beforeEach(async () => {
    sim = await startSimulator({ eventCount: 300 });
    sim.knobs.revokeUsedRefreshTokens = true;
    // Access tokens of 4 s: each fetch 2 s later refreshes (min(5 min, half the lifetime) before expiry).
    sim.knobs.accessTokenLifetime = 4;
  });
  afterEach(async () => {
    if (nr) await nr.stop();
    nr = null;
    await sim.close();
  });

  async function refreshOnce() {
    const before = refreshes(sim).length;
    await sleep(2100);
    await expectEvents();
    refreshes(sim).length.should.equal(before + 1);
  }

  it('three refreshes, an unrelated deploy, two more, a restart: events arrive without signing in again', async () => {
    nr = new NodeRed({ major: 4, tarball });
    await nr.start();
    await nr.deploy([configNode(sim, { credentials: credentialsFor(sim) }), ...eventsTab()]);
    await expectEvents();
    for (let i = 0; i < 3; i++) await refreshOnce();

    // An unrelated change, deployed as the editor does: no credentials sent for the config node.
    const flows = await nr.getFlows();
    flows.push({
      id: 'note',
      type: 'comment',
      z: 'tab-events',
      name: 'unrelated',
      x: 100,
      y: 200,
      wires: [],
    });
    await nr.deploy(flows);
    await expectEvents();
    for (let i = 0; i < 2; i++) await refreshOnce();

    await nr.restart();
    await sleep(2100);
    await expectEvents();
    refreshes(sim)
      .every((r) => r.status === 200)
      .should.be.true();
    refreshes(sim).should.have.length(6);
    const scan = scanForSecrets(sim, nr, answers);
    scan.found.should.eql([]);
  });

  it('sign-out survives a restart; a newly deployed refresh token replaces the stored chain for good', async () => {
    nr = new NodeRed({ major: 4, tarball });
    await nr.start();
    await nr.deploy([configNode(sim, { credentials: credentialsFor(sim) }), ...eventsTab()]);
    await refreshOnce();
    const signout = await nr.admin('POST', '/o365/auth/signout', { id: 'cfg' });
    signout.status.should.equal(200);
    signout.body.state.should.equal('signed-out');
    let res = await events();
    res.status.should.equal(500);
    res.body.code.should.equal('SIGN_IN_REQUIRED');
    await nr.restart();
    res = await events();
    res.status.should.equal(500);
    (await nr.admin('GET', '/o365/auth/status/cfg')).body.state.should.equal('signed-out');

    // A person deploys a fresh refresh token: it wins over the signed-out store.
    const oldChain = new Set(refreshes(sim).map((r) => r.form.refresh_token));
    const flows = await nr.getFlows();
    const cfg = flows.find((n) => n.id === 'cfg');
    const fresh = credentialsFor(sim);
    cfg.credentials = {
      refreshToken: fresh.refreshToken,
      accessToken: fresh.accessToken,
      expiresAt: fresh.expiresAt,
    };
    await nr.deploy(flows);
    await expectEvents();
    await refreshOnce();
    await nr.restart();
    await refreshOnce();
    for (const r of refreshes(sim).slice(-2)) oldChain.has(r.form.refresh_token).should.be.false();
    refreshes(sim)
      .every((r) => r.status === 200)
      .should.be.true();
  });

  it('setting credentialSecret after signing in keeps the sign-in (store re-encrypted with the new key)', async () => {
    nr = new NodeRed({ major: 4, tarball, settings: { credentialSecret: undefined } });
    await nr.start();
    await nr.deploy([configNode(sim, { credentials: credentialsFor(sim) }), ...eventsTab()]);
    await refreshOnce();
    await refreshOnce();
    JSON.parse(fs.readFileSync(nr.file('.config.runtime.json'), 'utf8')).should.have.property(
      '_credentialSecret',
    );

    await nr.stop();
    nr.settings.credentialSecret = 'a secret the user chose later';
    await nr.start();
    await refreshOnce();
    // A deploy makes Node-RED drop _credentialSecret; a second restart must not need it.
    const flows = await nr.getFlows();
    await nr.deploy(flows);
    JSON.parse(fs.readFileSync(nr.file('.config.runtime.json'), 'utf8')).should.not.have.property(
      '_credentialSecret',
    );
    await nr.restart();
    await refreshOnce();
  });

  it('signing in from the dialog of a config node not deployed yet, a restart, then the deploy: signed in', async () => {
    nr = new NodeRed({ major: 4, tarball });
    await nr.start();
    await nr.deploy(eventsTab('newcfg'));
    const registration = sim.apps.confidential;
    const settings = simConfigProps(sim, {
      redirectUri: `http://localhost:${nr.port}/o365/auth/callback`,
      clientId: registration.clientId,
    });
    const start = await nr.admin('POST', '/o365/auth/start', {
      id: 'newcfg',
      settings,
      clientSecret: registration.secret,
    });
    start.status.should.equal(200, JSON.stringify(start.body));
    const consent = await fetch(start.body.url, { redirect: 'manual' });
    const location = new URL(consent.headers.get('location'));
    location.host.should.equal(`localhost:${nr.port}`);
    const page = await fetch(`${nr.url}${location.pathname}${location.search}`);
    page.status.should.equal(200);
    (await page.text()).should.match(/Signed in as Megan Bowen/);
    (await nr.admin('GET', '/o365/auth/status/newcfg')).body.state.should.equal('signed-in');

    await nr.restart();
    (await nr.admin('GET', '/o365/auth/status/newcfg')).body.state.should.equal('signed-in');
    const { redirectUri, clientId, ...props } = settings;
    await nr.deploy([
      configNode(sim, {
        id: 'newcfg',
        ...props,
        redirectUri,
        credentials: { clientId, clientSecret: registration.secret },
      }),
      ...eventsTab('newcfg'),
    ]);
    await expectEvents();
    await refreshOnce();
  });

  it('flows.json and flows_cred.json copied to a new machine keep the sign-in while that refresh token is valid', async () => {
    sim.knobs.revokeUsedRefreshTokens = false; // as Microsoft: the copied (older) refresh token still works
    nr = new NodeRed({ major: 4, tarball });
    await nr.start();
    await nr.deploy([configNode(sim, { credentials: credentialsFor(sim) }), ...eventsTab()]);
    await refreshOnce();
    await nr.deploy(await nr.getFlows()); // the deploy writes the mirrored tokens into flows_cred.json
    await nr.stop();

    const moved = new NodeRed({ major: 4, tarball });
    fs.mkdirSync(moved.userDir, { recursive: true });
    for (const file of ['flows.json', 'flows_cred.json']) fs.copyFileSync(nr.file(file), moved.file(file));
    nr = moved;
    await nr.start();
    await expectEvents();
    await refreshOnce();
  });
});
