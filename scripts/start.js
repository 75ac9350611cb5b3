#!/usr/bin/env node
// `npm start`: builds the package, starts the simulated Microsoft 365 tenant and a local Node-RED (user dir in
// .demo/, git-ignored) with this package linked in, signs the demo account in as the editor's "Sign in with
// Microsoft" does, deploys the demo flow, prints the editor URL and stops everything on Ctrl-C. No Azure account.
//
// Adding to the demo: put nodes into demoFlow() with the builders below (injectNode, debugNode: every property the
// editor validates, so the first deploy asks nothing), ids starting with `demo-`, `config: 'demo-config'`. An inject
// node with `once: true` fires at deploy and again each time an editor opens (scripts/demo/editor-opened.js).
// test/browser/newcomer.test.js runs this script and checks that every demo node is valid and errs nowhere.
'use strict';
const fs = require('fs');
const path = require('path');
const net = require('net');
const { spawn, spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..');
// O365_DEMO_DIR: another user dir (the browser test uses a temporary one, so a running demo is left alone).
const demoDir = path.resolve(process.env.O365_DEMO_DIR || path.join(root, '.demo'));
const port = Number(process.env.PORT || 1880);
const credentialSecret = 'o365-calendar demo only: not a real secret';
const CONFIG_ID = 'demo-config';

function build() {
  const result = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.js')], { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status || 1);
}

function portFree(p) {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(p, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** The user dir: settings, and this package linked into node_modules the way `npm link` would. */
function prepareUserDir() {
  fs.mkdirSync(path.join(demoDir, 'node_modules'), { recursive: true });
  // The last run's flows point at a simulator that is gone; the demo flow replaces them anyway (full deploy).
  for (const file of ['flows.json', 'flows_cred.json']) fs.rmSync(path.join(demoDir, file), { force: true });
  const link = path.join(demoDir, 'node_modules', 'node-red-contrib-o365-calendar');
  fs.rmSync(link, { recursive: true, force: true });
  fs.symlinkSync(root, link, 'dir');
  fs.writeFileSync(
    path.join(demoDir, 'package.json'),
    JSON.stringify({ name: 'o365-calendar-demo', private: true, dependencies: {} }, null, 2),
  );
  fs.writeFileSync(
    path.join(demoDir, 'settings.js'),
    `module.exports = ${JSON.stringify(
      {
        uiHost: '127.0.0.1',
        uiPort: port,
        flowFile: 'flows.json',
        credentialSecret,
        editorTheme: {
          tours: false,
          palette: { catalogues: [] },
          // Presses the demo's start-up inject buttons when an editor opens: the debug sidebar is never empty.
          page: { scripts: [path.join(root, 'scripts', 'demo', 'editor-opened.js')] },
        },
        diagnostics: { enabled: false },
        telemetry: { enabled: false },
        logging: { console: { level: 'info' } },
      },
      null,
      2,
    )};\n`,
  );
}

/** An inject node with every property the editor validates (a missing `repeat` makes a node invalid). */
function injectNode(id, { z = 'demo-tab', name, topic = '', once = false, x, y, wires }) {
  return {
    id,
    type: 'inject',
    z,
    name,
    props: [{ p: 'payload' }, { p: 'topic', vt: 'str' }],
    repeat: '',
    crontab: '',
    once,
    onceDelay: 0.5,
    topic,
    payload: '',
    payloadType: 'date',
    x,
    y,
    wires,
  };
}

/** A debug node to the sidebar, as the editor saves it. */
function debugNode(id, { z = 'demo-tab', name, complete = 'payload', x, y }) {
  return {
    id,
    type: 'debug',
    z,
    name,
    active: true,
    tosidebar: true,
    console: false,
    tostatus: false,
    complete,
    targetType: 'msg',
    statusVal: '',
    statusType: 'auto',
    x,
    y,
    wires: [],
  };
}

/** The demo account: the custom cloud pointing at the simulator. Its sign-in is made by signIn(), not deployed. */
function demoConfig(sim) {
  const { simConfigProps, simCredentials, DEMO_SCOPES } = require(
    path.join(root, 'test', 'lib', 'sim-config.js'),
  );
  // Reading, listing rooms and writing (DEMO_SCOPES): one account for everything, which the examples take when
  // they are imported.
  const scopes = DEMO_SCOPES;
  return {
    id: CONFIG_ID,
    type: 'o365-config',
    name: 'Contoso (simulated)',
    ...simConfigProps(sim, { scopes, redirectUri: `http://localhost:${port}/o365/auth/callback` }),
    credentials: simCredentials(sim, { signedIn: false }).credentials,
  };
}

/** The demo flow: events and sign-in, the living demo room (trigger, state), and the "Rooms" tab. */
function demoFlow(sim, demoRoom) {
  const { DEFAULT_SELECT } = require(path.join(root, 'dist', 'nodes', 'shared', 'node-red', 'defaults.js'));
  return [
    { id: 'demo-tab', type: 'tab', label: 'Microsoft 365 demo', disabled: false, info: '' },
    {
      id: 'demo-comment',
      type: 'comment',
      z: 'demo-tab',
      name: 'Simulated tenant: the debug sidebar shows what arrives; click an inject button to read again',
      info:
        'The account points at the local simulator (custom cloud) and Megan Bowen is signed in. The inject ' +
        'buttons fire when the flow starts and each time the editor opens; open the debug sidebar (the bug icon ' +
        'on the right) to see the events and the sign-in. Import → Examples → node-red-contrib-o365-calendar ' +
        'has more flows: they use this account.',
      x: 410,
      y: 40,
      wires: [],
    },
    demoConfig(sim),
    injectNode('demo-inject', { name: 'Next 7 days', once: true, x: 150, y: 100, wires: [['demo-events']] }),
    {
      id: 'demo-events',
      type: 'o365-events',
      z: 'demo-tab',
      name: '',
      config: CONFIG_ID,
      user: '',
      calendarId: '',
      calendarName: '',
      view: 'calendarView',
      start: 'now',
      end: 'now+7d',
      select: DEFAULT_SELECT,
      timezone: '',
      maxEvents: 0,
      output: 'array',
      pollMinutes: 0,
      changesOnly: false,
      allowMsgMailbox: false,
      x: 350,
      y: 100,
      wires: [['demo-debug']],
    },
    debugNode('demo-debug', { name: 'events', x: 560, y: 100 }),
    injectNode('demo-status-inject', {
      name: 'Sign-in status',
      topic: 'status',
      once: true,
      x: 150,
      y: 160,
      wires: [['demo-auth']],
    }),
    {
      id: 'demo-auth',
      type: 'o365-auth',
      z: 'demo-tab',
      name: '',
      config: CONFIG_ID,
      x: 350,
      y: 160,
      wires: [['demo-debug-auth']],
    },
    debugNode('demo-debug-auth', { name: 'sign-in', x: 560, y: 160 }),
    // The living calendar (test/sim/demo.js): a trigger at each meeting's start and end, and the room's state.
    {
      id: 'demo-trigger',
      type: 'o365-trigger',
      z: 'demo-tab',
      name: 'demo room: start and end',
      config: CONFIG_ID,
      user: demoRoom,
      edge: 'both',
      offset: '0m',
      pollMinutes: 1,
      catchUpMinutes: 10,
      x: 370,
      y: 240,
      wires: [['demo-debug-trigger']],
    },
    {
      ...debugNode('demo-debug-trigger', { name: 'trigger', complete: 'true', x: 580, y: 240 }),
      targetType: 'full',
    },
    {
      id: 'demo-state',
      type: 'o365-state',
      z: 'demo-tab',
      name: 'demo room: busy or free',
      config: CONFIG_ID,
      user: demoRoom,
      pollMinutes: 1,
      x: 370,
      y: 300,
      wires: [['demo-debug-state']],
    },
    debugNode('demo-debug-state', { name: 'state', x: 580, y: 300 }),
    ...roomsFlow(sim),
  ];
}

/**
 * The "Rooms" tab: the "Room board" example as shipped (the simulated tenant has a few hundred rooms in six room
 * lists), and today's free/busy of two colleagues and a room.
 */
function roomsFlow(sim) {
  const example = JSON.parse(fs.readFileSync(path.join(root, 'examples', 'Room board.json'), 'utf8'));
  // Ids of their own: importing the example into the demo must not meet its nodes already there (the editor would
  // ask whether to replace them).
  const own = (id) => `demo-${id}`;
  const board = example
    .filter((n) => n.type !== 'tab' && n.type !== 'o365-config')
    .map((n) => ({
      ...n,
      id: own(n.id),
      z: 'rooms-tab',
      ...('config' in n ? { config: CONFIG_ID } : {}),
      ...(n.wires ? { wires: n.wires.map((port) => port.map(own)) } : {}),
      ...(Array.isArray(n.scope) ? { scope: n.scope.map(own) } : {}),
    }));
  return [
    { id: 'rooms-tab', type: 'tab', label: 'Rooms', disabled: false, info: '' },
    ...board,
    injectNode('rooms-inject', {
      z: 'rooms-tab',
      name: 'Who is free?',
      once: true,
      x: 150,
      y: 240,
      wires: [['rooms-people']],
    }),
    {
      id: 'rooms-people',
      type: 'o365-schedule',
      z: 'rooms-tab',
      name: '',
      config: CONFIG_ID,
      user: '',
      mailboxes: [sim.users.alex.upn, sim.users.adele.upn, sim.users.room101.upn].join('\n'),
      allRooms: false,
      roomList: '',
      start: 'today',
      end: 'tomorrow',
      interval: 30,
      timezone: '',
      pollMinutes: 0,
      output: 'array',
      allowMsgMailbox: false,
      x: 350,
      y: 240,
      wires: [['rooms-people-debug']],
    },
    debugNode('rooms-people-debug', { z: 'rooms-tab', name: 'free/busy', x: 560, y: 240 }),
  ];
}

async function postJson(url, body) {
  const answer = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await answer.text();
  if (!answer.ok) throw new Error(`POST ${new URL(url).pathname}: HTTP ${answer.status} ${text}`);
  return JSON.parse(text);
}

/**
 * Signs the demo account in the way the editor's "Sign in with Microsoft" does: the sign-in URL from
 * /o365/auth/start, the simulated Microsoft answering it at once with a redirect to this Node-RED's callback. The
 * token answer carries Megan's id_token, so she is "Signed in as Megan Bowen" (a token set put into the deployed
 * credentials has no account). The token store keeps the sign-in; the deploy after it uses it.
 */
async function signIn(editor, config) {
  const { id, type, name, credentials, ...settings } = config;
  const { url } = await postJson(`${editor}/o365/auth/start`, {
    id,
    settings: { ...settings, clientId: credentials.clientId },
    clientSecret: credentials.clientSecret,
  });
  const authorize = await fetch(url, { redirect: 'manual' });
  const callback = authorize.headers.get('location') || '';
  if (!callback.startsWith(config.redirectUri)) {
    throw new Error(`signing the demo account in: the simulator answered HTTP ${authorize.status}`);
  }
  // The redirect URI names localhost (what Microsoft registers); this Node-RED listens on 127.0.0.1.
  const landed = await fetch(`${editor}${new URL(callback).pathname}${new URL(callback).search}`);
  const status = await (await fetch(`${editor}/o365/auth/status/${id}`)).json();
  if (!landed.ok || status.state !== 'signed-in') {
    throw new Error(`signing the demo account in failed: HTTP ${landed.status}, ${JSON.stringify(status)}`);
  }
  return status;
}

async function waitForEditor(url, child) {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error('Node-RED exited during start-up');
    try {
      const answer = await fetch(`${url}/settings`);
      if (answer.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('Node-RED did not start within 60 s');
}

async function main() {
  if (!process.argv.includes('--no-build')) build();
  if (!(await portFree(port))) {
    console.error(`Port ${port} is in use: stop whatever uses it, or run PORT=1881 npm start`);
    process.exit(1);
  }
  const { startSimulator } = require(path.join(root, 'test', 'sim', 'simulator.js'));
  const sim = await startSimulator({});
  const demoCalendar = require(path.join(root, 'test', 'sim', 'demo.js')).startDemoCalendar(sim);
  prepareUserDir();
  const redJs = path.join(path.dirname(require.resolve('node-red/package.json')), 'red.js');
  const child = spawn(
    process.execPath,
    [redJs, '--userDir', demoDir, '--settings', path.join(demoDir, 'settings.js')],
    {
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    child.kill('SIGTERM');
    demoCalendar.stop();
    await sim.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  child.on('exit', (code) => {
    if (!stopping) {
      console.error(`Node-RED stopped (exit code ${code})`);
      sim.close().then(() => process.exit(code || 1));
    }
  });

  const editor = `http://127.0.0.1:${port}`;
  await waitForEditor(editor, child);
  const flow = demoFlow(sim, demoCalendar.upn);
  await signIn(
    editor,
    flow.find((n) => n.id === CONFIG_ID),
  );
  const deployed = await fetch(`${editor}/flows`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      'Node-RED-API-Version': 'v2',
      'Node-RED-Deployment-Type': 'full',
    },
    body: JSON.stringify({ flows: flow }),
  });
  if (!deployed.ok) throw new Error(`deploying the demo flow failed: HTTP ${deployed.status}`);
  console.log(`
  Simulated Microsoft 365 tenant: ${sim.url}
  Node-RED editor:                ${editor}/
  The "Microsoft 365 demo" tab reads the next 7 days of Megan Bowen's calendar each time the editor opens;
  open the debug sidebar (the bug icon on the right).
  The demo room has a meeting every few minutes: its calendar trigger and calendar state report there too.
  The "Rooms" tab shows a board of every room (free ones first) and today's free/busy of two colleagues.
  Press Ctrl-C to stop.
`);
}

main().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
