// The packed package installed as a user installs it (npm, --omit=dev) into a fresh user directory and loaded by
// a real node-red process: Node-RED 4 on Node 20 and Node-RED 5 on Node 24.
'use strict';
const fs = require('fs');
const path = require('path');
const should = require('should');
const { packPackage, NodeRed, timings } = require('../harness/nodered');

const MODULE = 'node-red-contrib-o365-calendar';
const TYPES = ['o365-config', 'o365-auth', 'o365-events', 'o365-trigger', 'o365-state', 'o365-write'];
const root = path.resolve(__dirname, '..', '..');

const RUNTIMES = [
  { major: 4, node: 20 },
  { major: 5, node: 24 },
];

/** Warning/error lines (or raw stderr, e.g. a stack) that name this package or one of its node types. */
function problemsAboutPackage(lines) {
  return lines
    .filter((line) => !line.startsWith('--- harness:'))
    .map((line) => line.split(root).join('<repo>')) // a clone's folder may itself be called …o365-calendar
    .filter((line) =>
      /node-red-contrib-o365-calendar|o365-(config|auth|events|trigger|state|write)/.test(line),
    )
    .filter((line) => !/\[(info|debug|trace)\]/.test(line));
}

function seconds(ms) {
  return ms === null || ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`;
}

const FLOW = [
  { id: 'e2e-tab', type: 'tab', label: 'load test', disabled: false, info: '' },
  {
    id: 'e2e-http-in',
    type: 'http in',
    z: 'e2e-tab',
    name: '',
    url: '/o365-e2e',
    method: 'get',
    upload: false,
    swaggerDoc: '',
    x: 120,
    y: 80,
    wires: [['e2e-http-out']],
  },
  {
    id: 'e2e-http-out',
    type: 'http response',
    z: 'e2e-tab',
    name: '',
    statusCode: '',
    headers: {},
    x: 320,
    y: 80,
    wires: [],
  },
  {
    id: 'e2e-config',
    type: 'o365-config',
    name: 'load test',
    tenant: 'contoso.onmicrosoft.com',
    cloud: 'global',
    mode: 'delegated',
    credentials: { clientId: 'x' },
  },
];

for (const { major, node } of RUNTIMES) {
  describe(`installed package in Node-RED ${major} on Node ${node}`, function () {
    this.timeout(300000);
    let nr;
    let startupLog;

    before(async function () {
      const tarball = await packPackage();
      nr = new NodeRed({ major, tarball });
      await nr.start();
      startupLog = nr.log.slice();
    });

    after(async function () {
      if (!nr) return;
      await nr.stop();
      const t = nr.timings;
      console.log(
        `      Node-RED ${major}: pack ${seconds(timings.pack)} (once per process), install ${seconds(t.install)}, ` +
          `start ${seconds(t.start[0])}, restart ${t.restart.map(seconds).join(', ') || '-'}`,
      );
    });

    it(`reports Node-RED ${major}.x running on Node ${node}`, async function () {
      const res = await nr.admin('GET', '/settings');
      res.status.should.equal(200);
      res.body.version.should.match(new RegExp(`^${major}\\.`));
      should(nr.version).match(new RegExp(`^v${major}\\.`));
      should(nr.nodeVersion).match(new RegExp(`^v${node}\\.`));
    });

    it('lists the module with its node types enabled and no load error', async function () {
      const list = await nr.admin('GET', '/nodes');
      list.status.should.equal(200);
      const sets = list.body.filter((set) => set.module === MODULE);
      sets.flatMap((set) => set.types).should.containDeep(TYPES);
      for (const set of sets) {
        set.should.have.property('enabled', true);
        set.should.not.have.property('err');
      }

      const mod = await nr.admin('GET', `/nodes/${MODULE}`);
      mod.status.should.equal(200);
      // user: listed in the user directory's package.json, so the palette manager can update and remove it.
      mod.body.should.have.properties({ local: true, user: true });
      path.resolve(mod.body.path).should.equal(nr.file(path.join('node_modules', MODULE)));

      const html = await nr.admin('GET', '/nodes', undefined, { headers: { Accept: 'text/html' } });
      html.status.should.equal(200);
      for (const type of TYPES) {
        html.body.should.match(new RegExp(`registerType\\(\\s*['"]${type}['"]`));
        html.body.should.match(new RegExp(`data-template-name=["']${type}["']`));
        html.body.should.match(new RegExp(`data-help-name=["']${type}["']`));
      }

      const icons = await nr.admin('GET', '/icons');
      icons.body.should.have.property(MODULE).which.is.an.Array().and.not.empty();

      const messages = await nr.admin('GET', '/nodes/messages?lng=en-US');
      for (const type of TYPES) {
        messages.body.should.have.property(`${MODULE}/${type}`).which.has.property(type);
      }
    });

    it('logs no warning or error about the package while loading', function () {
      problemsAboutPackage(startupLog).should.be.empty();
    });

    it('installs without devDependencies and ships the built nodes with locales and icons', function () {
      const userModules = nr.file('node_modules');
      const pkgDir = path.join(userModules, MODULE);
      const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));

      const devDependencies = new Set([...Object.keys(pkg.devDependencies || {}), 'typescript', 'node-red']);
      for (const dev of devDependencies) {
        for (const dir of [path.join(pkgDir, 'node_modules'), userModules]) {
          fs.existsSync(path.join(dir, dev)).should.equal(false, `devDependency ${dev} installed in ${dir}`);
        }
      }
      for (const dep of Object.keys(pkg.dependencies || {})) {
        const found = [path.join(pkgDir, 'node_modules', dep), path.join(userModules, dep)].some(
          fs.existsSync,
        );
        found.should.equal(true, `dependency ${dep} not installed`);
      }

      for (const type of TYPES) {
        const dir = path.join(pkgDir, 'dist', 'nodes', type);
        fs.existsSync(path.join(pkgDir, pkg['node-red'].nodes[type])).should.equal(
          true,
          `${type} runtime file`,
        );
        fs.existsSync(path.join(dir, `${type}.html`)).should.equal(true, `${type}.html`);
        fs.existsSync(path.join(dir, 'locales', 'en-US', `${type}.json`)).should.equal(
          true,
          `${type} locale`,
        );
        fs.readdirSync(path.join(dir, 'icons')).should.not.be.empty();
      }
      for (const unshipped of ['test', 'tsconfig.json', 'node_modules/.bin/tsc']) {
        fs.existsSync(path.join(pkgDir, unshipped)).should.equal(false, `${unshipped} shipped`);
      }
    });

    it('deploys a flow with credentials, serves its http endpoint and stores the credentials encrypted', async function () {
      const rev = await nr.deploy(FLOW);
      should(rev).be.a.String().and.not.empty();

      const res = await nr.http('GET', '/o365-e2e?probe=1');
      res.status.should.equal(200);
      res.body.should.eql({ probe: '1' });

      const flowsText = fs.readFileSync(nr.file('flows.json'), 'utf8');
      JSON.parse(flowsText)
        .map((n) => n.id)
        .should.containDeep(FLOW.map((n) => n.id));
      flowsText.should.not.match(/clientId/);

      const credText = fs.readFileSync(nr.file('flows_cred.json'), 'utf8');
      Object.keys(JSON.parse(credText)).should.eql(['$']); // Node-RED's encrypted form
      credText.should.not.match(/clientId/);
      credText.should.not.match(/"x"/);

      const cred = await nr.admin('GET', '/credentials/o365-config/e2e-config');
      cred.status.should.equal(200);
      cred.body.should.have.property('clientId', 'x');
    });

    it('keeps the flow and its credentials after a restart on the same user directory', async function () {
      await nr.restart();
      (await nr.getFlows()).map((n) => n.id).should.containDeep(FLOW.map((n) => n.id));
      const res = await nr.http('GET', '/o365-e2e?probe=2');
      res.status.should.equal(200);
      res.body.should.eql({ probe: '2' });
      const cred = await nr.admin('GET', '/credentials/o365-config/e2e-config');
      cred.body.should.have.property('clientId', 'x');
    });
  });
}
