#!/usr/bin/env node
// `npm start`: builds the package, starts the simulated Microsoft 365 tenant and a local Node-RED (user dir in
// .demo/, git-ignored) with this package linked in, deploys a demo flow that is already signed in, prints the
// editor URL and stops everything on Ctrl-C. No Azure account needed.
'use strict';
const fs = require('fs');
const path = require('path');
const net = require('net');
const { spawn, spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..');
const demoDir = path.join(root, '.demo');
const port = Number(process.env.PORT || 1880);
const credentialSecret = 'o365-calendar demo only: not a real secret';

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
        editorTheme: { tours: false, palette: { catalogues: [] } },
        diagnostics: { enabled: false },
        telemetry: { enabled: false },
        logging: { console: { level: 'info' } },
      },
      null,
      2,
    )};\n`,
  );
}

/** The demo flow: the config node on the custom cloud pointing at the simulator, already signed in. */
function demoFlow(sim, demoRoom) {
  const { simConfigProps, simCredentials } = require(path.join(root, 'test', 'lib', 'sim-config.js'));
  return [
    { id: 'demo-tab', type: 'tab', label: 'Microsoft 365 demo' },
    {
      id: 'demo-comment',
      type: 'comment',
      z: 'demo-tab',
      name: 'Simulated tenant: click the inject buttons, watch the debug sidebar',
      info: 'The config node points at the local simulator (custom cloud). Megan Bowen is already signed in.',
      x: 330,
      y: 40,
      wires: [],
    },
    {
      id: 'demo-config',
      type: 'o365-config',
      name: 'Contoso (simulated)',
      ...simConfigProps(sim, { redirectUri: `http://localhost:${port}/o365/auth/callback` }),
      credentials: simCredentials(sim).credentials,
    },
    {
      id: 'demo-inject',
      type: 'inject',
      z: 'demo-tab',
      name: 'Next 7 days',
      props: [],
      repeat: '',
      once: true,
      onceDelay: '1',
      x: 150,
      y: 100,
      wires: [['demo-events']],
    },
    {
      id: 'demo-events',
      type: 'o365-events',
      z: 'demo-tab',
      name: '',
      config: 'demo-config',
      user: '',
      calendarId: '',
      view: 'calendarView',
      start: 'now',
      end: 'now+7d',
      timezone: '',
      output: 'array',
      maxEvents: 0,
      pollMinutes: 0,
      changesOnly: false,
      allowMsgMailbox: false,
      x: 350,
      y: 100,
      wires: [['demo-debug']],
    },
    {
      id: 'demo-debug',
      type: 'debug',
      z: 'demo-tab',
      name: 'events',
      active: true,
      tosidebar: true,
      console: false,
      complete: 'payload',
      targetType: 'msg',
      x: 560,
      y: 100,
      wires: [],
    },
    // The living calendar (test/sim/demo.js): a trigger at each meeting's start and end, and the room's state.
    {
      id: 'demo-trigger',
      type: 'o365-trigger',
      z: 'demo-tab',
      name: 'demo room: start and end',
      config: 'demo-config',
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
      id: 'demo-debug-trigger',
      type: 'debug',
      z: 'demo-tab',
      name: 'trigger',
      active: true,
      tosidebar: true,
      console: false,
      complete: 'true',
      targetType: 'full',
      x: 580,
      y: 240,
      wires: [],
    },
    {
      id: 'demo-state',
      type: 'o365-state',
      z: 'demo-tab',
      name: 'demo room: busy or free',
      config: 'demo-config',
      user: demoRoom,
      pollMinutes: 1,
      x: 370,
      y: 300,
      wires: [['demo-debug-state']],
    },
    {
      id: 'demo-debug-state',
      type: 'debug',
      z: 'demo-tab',
      name: 'state',
      active: true,
      tosidebar: true,
      console: false,
      complete: 'payload',
      targetType: 'msg',
      x: 580,
      y: 300,
      wires: [],
    },
    {
      id: 'demo-status-inject',
      type: 'inject',
      z: 'demo-tab',
      name: 'Sign-in status',
      props: [{ p: 'topic', vt: 'str' }],
      topic: 'status',
      x: 150,
      y: 160,
      wires: [['demo-auth']],
    },
    {
      id: 'demo-auth',
      type: 'o365-auth',
      z: 'demo-tab',
      name: '',
      config: 'demo-config',
      x: 350,
      y: 160,
      wires: [['demo-debug-auth']],
    },
    {
      id: 'demo-debug-auth',
      type: 'debug',
      z: 'demo-tab',
      name: 'sign-in',
      active: true,
      tosidebar: true,
      console: false,
      complete: 'payload',
      targetType: 'msg',
      x: 560,
      y: 160,
      wires: [],
    },
    ...roomsFlow(sim),
  ];
}

/**
 * The "Rooms" tab: the "Room board" example as shipped, on a config node signed in with Place.Read.All (the
 * simulated tenant has a few hundred rooms in six room lists), and free/busy of two colleagues and a room.
 */
function roomsFlow(sim) {
  const { simConfigProps, simCredentials, SIM_SCOPES } = require(
    path.join(root, 'test', 'lib', 'sim-config.js'),
  );
  const scope = `${SIM_SCOPES} Place.Read.All`;
  const example = JSON.parse(fs.readFileSync(path.join(root, 'examples', 'Room board.json'), 'utf8'));
  const board = example
    .filter((n) => n.type !== 'tab' && n.type !== 'o365-config')
    .map((n) => ({ ...n, z: 'rooms-tab', ...(n.config ? { config: 'rooms-config' } : {}) }));
  return [
    { id: 'rooms-tab', type: 'tab', label: 'Rooms' },
    {
      id: 'rooms-config',
      type: 'o365-config',
      name: 'Contoso with rooms (simulated)',
      ...simConfigProps(sim, { scopes: scope, redirectUri: `http://localhost:${port}/o365/auth/callback` }),
      credentials: simCredentials(sim, { scope }).credentials,
    },
    ...board,
    {
      id: 'rooms-inject',
      type: 'inject',
      z: 'rooms-tab',
      name: 'Who is free?',
      props: [],
      repeat: '',
      once: true,
      onceDelay: '1',
      x: 150,
      y: 240,
      wires: [['rooms-people']],
    },
    {
      id: 'rooms-people',
      type: 'o365-schedule',
      z: 'rooms-tab',
      name: '',
      config: 'rooms-config',
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
    {
      id: 'rooms-people-debug',
      type: 'debug',
      z: 'rooms-tab',
      name: 'free/busy',
      active: true,
      tosidebar: true,
      console: false,
      complete: 'payload',
      targetType: 'msg',
      x: 560,
      y: 240,
      wires: [],
    },
  ];
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
  build();
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
  const deployed = await fetch(`${editor}/flows`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      'Node-RED-API-Version': 'v2',
      'Node-RED-Deployment-Type': 'full',
    },
    body: JSON.stringify({ flows: demoFlow(sim, demoCalendar.upn) }),
  });
  if (!deployed.ok) throw new Error(`deploying the demo flow failed: HTTP ${deployed.status}`);
  console.log(`
  Simulated Microsoft 365 tenant: ${sim.url}
  Node-RED editor:                ${editor}/
  The "Microsoft 365 demo" tab fetches the next 7 days of Megan Bowen's calendar; open the debug sidebar.
  The demo room has a meeting every few minutes: its calendar trigger and calendar state report there too.
  The "Rooms" tab shows a board of every room (free ones first) and today's free/busy of two colleagues.
  Press Ctrl-C to stop.
`);
}

main().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
