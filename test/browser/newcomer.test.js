// The first ten minutes of a newcomer (issue 14), in Chromium: `npm start` run as the README says (Node-RED 4 from
// this checkout, the simulated tenant), and a Node-RED 5 with the packed package and one account. In both, every
// example (whatever examples/*.json holds) is imported with Import → Examples, takes the account there is, deploys
// without "Are you sure you want to deploy?" and runs without an error in the debug sidebar; an error's cause reads
// as its fields in the sidebar. Screenshots in test-artifacts/browser/newcomer/.
/* global RED -- the Node-RED editor's global, inside page.evaluate() callbacks */
'use strict';
require('should');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');
const { packPackage, NodeRed } = require('../harness/nodered');
const { startSimulator } = require('../sim/simulator');
const { configNode } = require('../e2e/flows');
const { DEMO_SCOPES, simCredentials } = require('../lib/sim-config');
const { root, distPath } = require('../lib/dist');
const { launchChromium, deadPort, ConsoleWatch, Screenshots, Editor, VIEWPORT } = require('./editor');

const MODULE = 'node-red-contrib-o365-calendar';
const EXAMPLES = fs
  .readdirSync(path.join(root, 'examples'))
  .filter((f) => f.endsWith('.json'))
  .sort();
/** Debug nodes that must have spoken after the deploy (examples that read at once); others get the general checks. */
const FIRST_MESSAGES = {
  'Upcoming week.json': ['ex-week-d', 'ex-week-d2'],
  'Changes only.json': ['ex-changes-a'],
  'Room mailbox.json': ['ex-room-d'],
};
const SETTLE_MS = 1500; // the sidebar counts as settled after this long without a new message
const SETTLE_LIMIT_MS = 45000;

function exampleFlow(file) {
  return JSON.parse(fs.readFileSync(path.join(root, 'examples', file), 'utf8'));
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `node scripts/start.js` (what `npm start` runs, without its build: the tests run on the built dist/). */
class Demo {
  constructor() {
    this.log = [];
    this.child = null;
    this.userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'o365-demo-'));
  }

  async start(port) {
    if (!fs.existsSync(distPath('nodes/o365-config/o365-config.js'))) {
      throw new Error('dist/ is missing: run `npm run build` first');
    }
    this.child = spawn(process.execPath, [path.join(root, 'scripts', 'start.js'), '--no-build'], {
      cwd: root,
      env: { ...process.env, PORT: String(port), O365_DEMO_DIR: this.userDir },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group: Node-RED, started by it, goes down with it
    });
    this.exited = new Promise((resolve) => this.child.once('exit', resolve));
    const child = this.child;
    process.once('exit', () => this.kill('SIGKILL'));
    return new Promise((resolve, reject) => {
      let buffered = '';
      const onData = (data) => {
        buffered += data;
        const lines = buffered.split('\n');
        buffered = lines.pop();
        this.log.push(...lines);
        const ready = lines.map((l) => /Node-RED editor:\s+(\S+)/.exec(l)).find(Boolean);
        if (ready) resolve(ready[1]);
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      const timer = setTimeout(
        () => reject(new Error(`npm start: no editor URL within 120 s\n${this.tail()}`)),
        120000,
      );
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`npm start exited (code ${code})\n${this.tail()}`));
      });
      this.exited.then(() => clearTimeout(timer));
    });
  }

  tail(n = 25) {
    return this.log.slice(-n).join('\n');
  }

  kill(signal) {
    try {
      if (this.child && this.child.exitCode === null) process.kill(-this.child.pid, signal);
    } catch {
      // already gone
    }
  }

  async stop() {
    if (!this.child) return;
    this.kill('SIGTERM');
    const exited = await Promise.race([this.exited.then(() => true), sleep(10000).then(() => false)]);
    if (!exited) this.kill('SIGKILL');
    fs.rmSync(this.userDir, { recursive: true, force: true });
  }
}

/**
 * The checks both majors share: a browser page on an editor that has exactly one account, `accountId`.
 * `session` is filled in by the describe block's before hook.
 */
function sharedChecks(session) {
  it('imports every example from Import → Examples: each takes the one account, the deploy asks nothing, and they run without errors', async function () {
    this.timeout(60000 + EXAMPLES.length * 20000);
    const { page, editor, watch, shots, accountId } = session;
    for (const file of EXAMPLES) {
      const name = file.replace(/\.json$/, '');
      const flow = exampleFlow(file);
      flow.filter((n) => n.type === 'o365-config').should.eql([], `${file} brings its own account node`);
      await editor.importExample(
        MODULE,
        name,
        flow.map((n) => n.id),
      );
      // Every node of the package in the example now uses the account.
      const ours = flow.filter((n) => /^o365-/.test(n.type)).map((n) => n.id);
      const imported = await page.evaluate((ids) => ids.map((id) => RED.nodes.node(id)), ours);
      imported.forEach((node, i) => {
        (node !== null && node !== undefined).should.be.true(`${file}: ${ours[i]} was not imported`);
      });
      const configs = await page.evaluate(
        (ids) =>
          ids.map((id) => ({ id, config: RED.nodes.node(id).config, valid: RED.nodes.node(id).valid })),
        ours,
      );
      configs.should.eql(
        ours.map((id) => ({ id, config: accountId, valid: true })),
        file,
      );
    }
    await shots.take(page, 'examples-imported');
    (await invalidNodes(page)).should.eql([]);

    await editor.showDebug();
    await editor.clearDebug();
    await editor.deployWithoutWarning();
    const expected = EXAMPLES.flatMap((f) => FIRST_MESSAGES[f] || []);
    const messages = await settledMessages(editor, expected);
    await shots.take(page, 'examples-deployed');
    for (const id of expected) messages.map((m) => m.source).should.containEql(id);
    const errors = messages.filter((m) => m.level === 20 || m.level === 30 || /^msg\.error\b/.test(m.topic));
    errors.should.eql([], 'no error or warning in the debug sidebar');
    // No node of the package shows a red status either (a failed read by a node no debug node listens to).
    const red = await page.evaluate(() => {
      const found = [];
      RED.nodes.eachNode((n) => {
        // A red ring is an error; a red dot is a state (calendar state: busy).
        if (/^o365-/.test(n.type) && n.status && n.status.fill === 'red' && n.status.shape === 'ring')
          found.push(`${n.id}: ${n.status.text}`);
      });
      return found;
    });
    red.should.eql([]);
    watch.assertClean('while importing and deploying the examples');
  });

  it("shows an error's cause as its fields in the debug sidebar, and as an object to a Catch node", async function () {
    const { page, editor, watch, shots } = session;
    await editor.importText(JSON.stringify(causeFlow()));
    await editor.deployWithoutWarning();
    await settledMessages(editor, []); // the examples' messages after the (full) deploy
    await editor.showDebug();
    await editor.clearDebug();
    await editor.showFlow('cause-tab');
    await editor.clickInject('cause-inject');
    await editor.clickInject('cause-inject-caught');
    const messages = await settledMessages(editor, ['cause-e1', 'cause-debug']);

    // Uncaught: Node-RED puts the Error itself in the sidebar and prints its cause with `cause + ""`.
    const uncaught = editor.debugMessage('red-ui-debug-msg-level-20');
    messages.filter((m) => m.level === 20).length.should.equal(1);
    await uncaught.locator('.red-ui-debug-msg-object-handle').first().click();
    const cause = uncaught.locator('.red-ui-debug-msg-object-entry', {
      has: page.locator('.red-ui-debug-msg-object-key', { hasText: /^cause$/ }),
    });
    const causeText = await cause.locator('.red-ui-debug-msg-object-value').first().innerText();
    // The sidebar shows 80 characters of a string: the whole line, the code being on the line above.
    causeText.should.match(/^"status: 404 · requestId: [0-9a-f-]{36}"$/);
    await cause.evaluate((e) => e.scrollIntoView({ block: 'center' }));
    await shots.take(page, 'error-cause-in-sidebar');

    // Caught: msg.error.cause stays the object DESIGN.md fixes, with nothing added to it.
    const caught = editor.debugMessage('red-ui-debug-msg-node-cause-debug');
    await caught.locator('.red-ui-debug-msg-object-handle').first().click();
    const caughtCause = caught.locator('.red-ui-debug-msg-object-entry', {
      has: page.locator('.red-ui-debug-msg-object-key', { hasText: /^cause$/ }),
    });
    await caughtCause.locator('.red-ui-debug-msg-object-handle').first().click();
    const keys = await caughtCause
      .locator('.red-ui-debug-msg-object-entry .red-ui-debug-msg-object-key')
      .allInnerTexts();
    const shown = keys.map((k) => k.trim());
    shown.should.containDeep(['status', 'code', 'requestId']);
    shown.forEach((k) =>
      ['status', 'code', 'requestId', 'aadsts', 'field', 'retryAfterSeconds'].should.containEql(k),
    );
    await shots.take(page, 'error-cause-caught');
    watch.assertClean('while provoking an error');
  });
}

/** Two reads of a mailbox the tenant does not have: one with nobody catching the error, one with a Catch node. */
function causeFlow() {
  const inject = (id, y, target) => ({
    id,
    type: 'inject',
    z: 'cause-tab',
    name: '',
    props: [{ p: 'payload' }],
    repeat: '',
    crontab: '',
    once: false,
    onceDelay: 0.1,
    topic: '',
    payload: '',
    payloadType: 'date',
    x: 120,
    y,
    wires: [[target]],
  });
  const events = (id, y) => ({
    id,
    type: 'o365-events',
    z: 'cause-tab',
    name: '',
    config: '',
    user: 'nobody@contoso.onmicrosoft.com',
    x: 320,
    y,
    wires: [[]],
  });
  return [
    { id: 'cause-tab', type: 'tab', label: 'errors', disabled: false, info: '' },
    inject('cause-inject', 60, 'cause-e1'),
    events('cause-e1', 60),
    inject('cause-inject-caught', 140, 'cause-e2'),
    events('cause-e2', 140),
    {
      id: 'cause-catch',
      type: 'catch',
      z: 'cause-tab',
      name: '',
      scope: ['cause-e2'],
      uncaught: false,
      x: 120,
      y: 200,
      wires: [['cause-debug']],
    },
    {
      id: 'cause-debug',
      type: 'debug',
      z: 'cause-tab',
      name: 'caught',
      active: true,
      tosidebar: true,
      console: false,
      tostatus: false,
      complete: 'error',
      targetType: 'msg',
      statusVal: '',
      statusType: 'auto',
      x: 320,
      y: 200,
      wires: [],
    },
  ];
}

/** Nodes (flow and config) the editor considers invalid, with its reasons. */
function invalidNodes(page) {
  return page.evaluate(() => {
    const found = [];
    const check = (n) => {
      RED.editor.validateNode(n);
      if (!n.valid) found.push({ id: n.id, type: n.type, errors: n.validationErrors });
    };
    RED.nodes.eachNode(check);
    RED.nodes.eachConfig(check);
    return found;
  });
}

/**
 * The debug sidebar's messages once those from `sources` (node ids) are there and no new one came for SETTLE_MS.
 * Bounded: fails naming what is missing after SETTLE_LIMIT_MS.
 */
async function settledMessages(editor, sources) {
  const deadline = Date.now() + SETTLE_LIMIT_MS;
  let last = -1;
  let quietSince = Date.now();
  for (;;) {
    const messages = await editor.debugMessages();
    if (messages.length !== last) {
      last = messages.length;
      quietSince = Date.now();
    }
    const missing = sources.filter((id) => !messages.some((m) => m.source === id));
    if (!missing.length && Date.now() - quietSince >= SETTLE_MS) return messages;
    if (Date.now() > deadline) {
      throw new Error(
        `no message from ${missing.join(', ') || '(none missing)'} or no quiet moment within ${SETTLE_LIMIT_MS} ms; ` +
          `the sidebar holds:\n${messages.map((m) => `  ${m.text.replace(/\s+/g, ' ').slice(0, 160)}`).join('\n')}`,
      );
    }
    await sleep(250);
  }
}

describe('a newcomer’s first ten minutes in the editor (Chromium)', function () {
  this.timeout(60000);
  let browser;

  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    if (browser) await browser.close();
  });

  /** A page on `url` with the console watch and screenshots; failures leave a screenshot and the logs. */
  async function openEditor(session, url, folder) {
    session.shots = new Screenshots(folder);
    session.context = await browser.newContext({ viewport: VIEWPORT, locale: 'en-US' });
    session.context.setDefaultTimeout(20000);
    session.page = await session.context.newPage();
    session.watch = new ConsoleWatch(session.page);
    session.editor = new Editor(session.page);
    await session.editor.open(url);
    // The info sidebar's rotating tips: Node-RED 5.0's editor throws from their timer now and then ("reading
    // 'html'" in its infotips code), which the console watch would pin on whatever step is running.
    await session.page.evaluate(() => RED.actions.invoke('core:toggle-show-tips', false));
  }

  async function onFailure(session, test, log) {
    if (test.state !== 'failed' || !session.page) return;
    await session.shots.tryTake(session.page, `FAILED-${test.title.replace(/\W+/g, '-').slice(0, 50)}`);
    await session.editor.recover(session.context); // an open dialog would block the next step
    console.log(
      `      editor console (last lines):\n        ${session.watch.lines.slice(-10).join('\n        ')}`,
    );
    console.log(`      Node-RED log (last lines):\n        ${log().slice(-20).join('\n        ')}`);
  }

  describe('npm start (Node-RED 4, this checkout)', function () {
    const session = {};
    const demo = new Demo();

    before(async function () {
      this.timeout(180000);
      const url = await demo.start(await deadPort());
      await openEditor(session, url, 'newcomer-npm-start');
      session.accountId = 'demo-config';
    });
    afterEach(async function () {
      await onFailure(session, this.currentTest, () => demo.log);
    });
    after(async () => {
      if (session.context) await session.context.close();
      await demo.stop();
    });

    it('shows the week’s events and Megan’s sign-in in the debug sidebar before anything is clicked', async () => {
      const { page, editor, watch, shots } = session;
      await editor.showDebug();
      const messages = await settledMessages(editor, ['demo-debug', 'demo-debug-auth']);
      messages.filter((m) => m.level !== null).should.eql([]);
      const events = messages.find((m) => m.source === 'demo-debug');
      events.topic.should.match(/^msg\.payload : array\[\d+\]$/);
      Number(/\[(\d+)\]/.exec(events.topic)[1]).should.be.above(0);
      // The sign-in message names the account.
      const signIn = editor.debugMessage('red-ui-debug-msg-node-demo-debug-auth');
      await signIn.locator('.red-ui-debug-msg-object-handle').first().click();
      const account = signIn.locator('.red-ui-debug-msg-object-entry', {
        has: page.locator('.red-ui-debug-msg-object-key', { hasText: /^account$/ }),
      });
      await account.locator('.red-ui-debug-msg-object-handle').first().click();
      await account.locator('.red-ui-debug-msg-object-value', { hasText: '"Megan Bowen"' }).waitFor();
      await shots.take(page, 'demo-first-sight');
      watch.assertClean('when the demo opened');
    });

    it('says "Signed in as Megan Bowen" in the account dialog, as the README shows', async () => {
      const { page, editor, watch, shots } = session;
      await editor.edit('demo-events');
      await page.locator('#node-input-btn-config-edit').click();
      await page.locator('#o365-config-state.o365-state-signed-in').waitFor();
      (await page.locator('#o365-config-state').innerText()).should.match(/Signed in as Megan Bowen/);
      await shots.take(page, 'demo-account-dialog');
      await editor.closeTray('node-config-dialog-cancel');
      await editor.closeTray('node-dialog-cancel');
      watch.assertClean('while opening the account');
    });

    it('has no node the editor calls invalid (the first deploy would ask "Are you sure?")', async () => {
      (await invalidNodes(session.page)).should.eql([]);
    });

    sharedChecks(session);
  });

  describe('Node-RED 5, the packed package, one signed-in account', function () {
    const session = {};
    let sim;
    let nr;

    before(async function () {
      this.timeout(300000); // packing, installing into Node-RED 5
      sim = await startSimulator({});
      nr = new NodeRed({
        major: 5,
        tarball: await packPackage(),
        settings: { editorTheme: { tours: false, palette: { catalogues: [] } } },
      });
      await nr.start();
      session.accountId = 'account';
      await nr.deploy([
        { id: 'start-tab', type: 'tab', label: 'Flow 1', disabled: false, info: '' },
        // The demo account's scopes (test/lib/sim-config.js): the examples list rooms and write.
        configNode(sim, {
          id: session.accountId,
          name: 'Contoso',
          scopes: DEMO_SCOPES,
          credentials: simCredentials(sim, { scope: DEMO_SCOPES }).credentials,
        }),
      ]);
      await openEditor(session, `${nr.url}/`, 'newcomer-node-red-5');
    });
    afterEach(async function () {
      await onFailure(session, this.currentTest, () => (nr ? nr.log : []));
    });
    after(async () => {
      if (session.context) await session.context.close();
      if (nr) await nr.stop();
      if (sim) await sim.close();
    });

    sharedChecks(session);
  });
});
