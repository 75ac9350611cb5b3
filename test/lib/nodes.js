// Shared set-up for the runtime tests: the compiled nodes, a fresh user directory per test, flows wired to the
// simulator, and small waits that give up on their own.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { helper } = require('./runtime');
const { distPath } = require('./dist');
const { simConfigProps, simCredentials } = require('./sim-config');

const configModule = require(distPath('nodes/o365-config/o365-config.js'));
const authModule = require(distPath('nodes/o365-auth/o365-auth.js'));
const eventsModule = require(distPath('nodes/o365-events/o365-events.js'));
const triggerModule = require(distPath('nodes/o365-trigger/o365-trigger.js'));
const stateModule = require(distPath('nodes/o365-state/o365-state.js'));
const scheduleModule = require(distPath('nodes/o365-schedule/o365-schedule.js'));
const writeModule = require(distPath('nodes/o365-write/o365-write.js'));
const NODES = [
  configModule,
  authModule,
  eventsModule,
  triggerModule,
  stateModule,
  scheduleModule,
  writeModule,
];

/** A new user directory per test, so token stores never leak between tests. */
function freshUserDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'o365-rt-'));
}

/**
 * Puts flow nodes on a tab: Node-RED treats a node without x/y as a config node, so catch nodes and the
 * like would never be wired up otherwise.
 */
function onTab(nodes, tab = 'tab') {
  return [
    { id: tab, type: 'tab', label: tab },
    ...nodes.map((n, i) =>
      n.type.startsWith('o365-config') ? n : { z: tab, x: 100 + 10 * i, y: 100, ...n },
    ),
  ];
}

/** Loads a flow into the test helper with its own user dir; resolves once the flows started. */
async function loadFlow(flow, credentials = {}, settings = {}) {
  const userDir = settings.userDir || freshUserDir();
  helper.settings({ userDir, o365Calendar: { requestTimeout: 2000, retryDelay: 20 }, ...settings });
  await helper.load(NODES, flow, credentials);
  return userDir;
}

/** An o365-config node on the custom cloud pointing at the simulator, and its credentials. */
function configFor(sim, overrides = {}, app = 'confidential') {
  const id = overrides.id || 'cfg';
  const node = {
    id,
    type: 'o365-config',
    name: 'sim',
    ...simConfigProps(sim, { redirectUri: 'http://localhost:1880/o365/auth/callback', ...overrides }),
  };
  const { credentials } = simCredentials(sim, { app, signedIn: false });
  return { node, credentials: { [id]: credentials } };
}

/** Credentials of a config node that is already signed in (tokens issued by the simulator without HTTP). */
function signedInCredentials(sim, id = 'cfg', app = 'confidential', scope) {
  const { credentials, answer } = simCredentials(sim, { app, scope });
  return { [id]: credentials, answer };
}

/** Resolves with the first value `probe` returns that is truthy, polling every 10 ms for at most `ms`. */
async function waitFor(probe, ms = 5000, what = 'condition') {
  const until = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The next message a helper node receives. */
function nextMessage(node, ms = 5000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no message on ${node.id} within ${ms} ms`)), ms);
    node.once('input', (msg) => {
      clearTimeout(timer);
      resolve(msg);
    });
  });
}

/** Every message a helper node receives, collected. */
function collect(node) {
  const messages = [];
  node.on('input', (msg) => messages.push(msg));
  return messages;
}

/** Every status a node showed so far (the helper spies on Node.prototype.status, for all nodes at once). */
function statuses(node) {
  return node.status
    .getCalls()
    .filter((call) => call.thisValue === node)
    .map((call) => call.args[0]);
}

function lastStatus(node) {
  const all = statuses(node);
  return all[all.length - 1];
}

module.exports = {
  helper,
  NODES,
  freshUserDir,
  onTab,
  loadFlow,
  configFor,
  signedInCredentials,
  waitFor,
  nextMessage,
  collect,
  statuses,
  lastStatus,
};

/**
 * Moves this process's clock (Date.now(), which the package, the runtime and the simulators in it all read)
 * `offsetMs` ahead of real time; `resetClock()` puts it back. The hooks live in test/harness/test-hooks.js.
 */
const testHooks = require('../harness/test-hooks');
async function setClockOffset(offsetMs) {
  testHooks.setClockOffset(offsetMs);
}
function resetClock() {
  testHooks.resetClock();
}

module.exports.setClockOffset = setClockOffset;
module.exports.resetClock = resetClock;
