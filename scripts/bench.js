#!/usr/bin/env node
// `npm run bench`: 10,000 events through o365-events in the real Node-RED runtime (node-red-node-test-helper, the
// compiled dist/) and, in the same run, the same pages through a bare HTTP loop (the floor: what any client must
// do). Prints requests, median and min wall time of each, their ratio and peak memory. Never gates anything on
// time: the exit code is 0 whether or not the ratio meets the target. Then 200 calendar trigger nodes over 50
// calendars (scripts/bench/triggers.js): reads per poll, timers, fire latency.
//
//   node scripts/bench.js [--rounds N] [--timezone NAME] [--profile] [--triggers-only]
//
// --rounds N       measured rounds of each (default 9, after one warm-up of each)
// --timezone NAME  the node's `timezone` (default UTC); a zone with DST shows the cost of local time math
// --profile        afterwards, profiles a few more rounds of each with the inspector and prints where time goes
// --rooms-only     only the free/busy bench (200 rooms) at the end
// O365_NODE_RED=node-red-5 (with Node 24) benches on Node-RED 5; O365_DIST a build made elsewhere.
'use strict';
const fs = require('fs');
const http = require('http');
const path = require('path');
const v8 = require('v8');
const vm = require('vm');
const { performance } = require('perf_hooks');
const { spawnSync } = require('child_process');

const EVENTS = 10_000;
const TARGET_RATIO = 1.25;
const TARGET_REQUESTS = 10;
const DAY = 86_400_000;
/** A fixed Monday, so every run asks for exactly the same window and pages. */
const WINDOW_START = Date.UTC(2026, 0, 5);
const WINDOW_END = WINDOW_START + 7 * DAY;
const BULK_UPN = 'bench10k@contoso.onmicrosoft.com';
const FETCH_TIMEOUT_MS = 30_000;
const WATCHDOG_MS = 115_000;
const SAMPLE_EVERY_MS = 20;

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = process.argv[i + 1];
  if (value === undefined || value.startsWith('--')) throw new Error(`--${name} needs a value`);
  return value;
}
const ROUNDS = Number(option('rounds', '9'));
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error('--rounds needs a whole number, 1 or more');
const TIMEZONE = option('timezone', 'UTC');
const PROFILE = process.argv.includes('--profile');
// --triggers-only: only the calendar trigger part (200 nodes over 50 calendars), which also runs after the events.
const TRIGGERS_ONLY = process.argv.includes('--triggers-only');

// ---- set-up ------------------------------------------------------------------------------------------------------

const { distPath } = require('../test/lib/dist');
if (!fs.existsSync(distPath('nodes/o365-events/o365-events.js'))) {
  console.log('bench: dist/ is missing, building it first');
  const build = spawnSync(process.execPath, [path.join(__dirname, 'build.js')], { stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status || 1);
}
const { startSimulator } = require('../test/sim/simulator');
const { helper, runtimePackage } = require('../test/lib/runtime');
const { NODES, freshUserDir, onTab, configFor, signedInCredentials } = require('../test/lib/nodes');

/** A full collection before each round, so no round pays for the garbage of the one before. */
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');

function runtimeVersion() {
  try {
    return require(`${runtimePackage}/package.json`).version;
  } catch {
    return '?';
  }
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// ---- the node ----------------------------------------------------------------------------------------------------

async function loadNode(sim, userDir) {
  const { node: config } = configFor(sim);
  const creds = signedInCredentials(sim);
  const flow = onTab([
    config,
    {
      id: 'events',
      type: 'o365-events',
      config: config.id,
      user: BULK_UPN,
      timezone: TIMEZONE,
      wires: [['out']],
    },
    { id: 'out', type: 'helper' },
  ]);
  helper.settings({ userDir, o365Calendar: { requestTimeout: FETCH_TIMEOUT_MS } });
  await helper.load(NODES, flow, { cfg: creds.cfg });
  await helper.getNode('cfg').ready;
  const events = helper.getNode('events');
  const out = helper.getNode('out');
  const window = { start: new Date(WINDOW_START).toISOString(), end: new Date(WINDOW_END).toISOString() };

  /** One fetch: from receive() to the output message; resolves with the events. */
  return async function fetchThroughNode() {
    let onMessage;
    let onError;
    const got = new Promise((resolve, reject) => {
      onMessage = (msg) => resolve(msg.payload);
      // done(err) reaches node.error, which the test helper re-emits as `call:error`.
      onError = (call) => reject(new Error(`the node failed: ${call.args[0]}`));
      out.once('input', onMessage);
      events.once('call:error', onError);
    });
    events.receive({ ...window });
    try {
      return await withTimeout(got, FETCH_TIMEOUT_MS, 'o365-events');
    } finally {
      out.off('input', onMessage);
      events.off('call:error', onError);
    }
  };
}

// ---- the floor ---------------------------------------------------------------------------------------------------

/** Headers as the node sent them, less those that belong to one connection. */
function replayableHeaders(headers) {
  const out = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!['host', 'connection', 'content-length'].includes(name)) out[name] = value;
  }
  return out;
}

/** One GET's body as text; a kept-alive socket the server closed meanwhile is retried once, as Node advises. */
function getText(url, headers, agent, retried = false) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`floor: HTTP ${res.statusCode} for ${url}`));
        else resolve(Buffer.concat(chunks).toString('utf8'));
      });
      res.on('error', reject);
    });
    req.setTimeout(FETCH_TIMEOUT_MS, () => req.destroy(new Error(`floor: no answer for ${url}`)));
    req.on('error', (err) => {
      if (req.reusedSocket && err.code === 'ECONNRESET' && !retried) {
        resolve(getText(url, headers, agent, true));
      } else reject(err);
    });
  });
}

/** The minimum: the node's own first URL and headers, JSON.parse of each page, @odata.nextLink to the end. */
function floorFetcher(firstUrl, headers, agent) {
  return async function fetchBare() {
    const events = [];
    let next = firstUrl;
    while (next) {
      const page = JSON.parse(await getText(next, headers, agent));
      for (const event of page.value) events.push(event);
      next = page['@odata.nextLink'];
    }
    return events;
  };
}

// ---- measuring ---------------------------------------------------------------------------------------------------

/** Peak RSS and heap used, sampled every 20 ms (and at both ends) while `fn` runs. */
async function sampled(fn) {
  const peak = { rss: 0, heapUsed: 0 };
  const sample = () => {
    const m = process.memoryUsage();
    peak.rss = Math.max(peak.rss, m.rss);
    peak.heapUsed = Math.max(peak.heapUsed, m.heapUsed);
  };
  sample();
  const timer = setInterval(sample, SAMPLE_EVERY_MS);
  try {
    const value = await fn();
    sample();
    return { value, peak };
  } finally {
    clearInterval(timer);
  }
}

function graphRequests(sim) {
  return sim.requests.filter((r) => r.kind === 'graph');
}

/** Time the simulator spends answering (its share is in both columns: the same pages are served to both). */
function serverClock(sim) {
  const clock = { ms: 0 };
  sim.server.prependListener('request', (req, res) => {
    const t0 = performance.now();
    res.once('finish', () => {
      clock.ms += performance.now() - t0;
    });
  });
  return clock;
}

async function round(kind, fetch, sim, clock, results) {
  gc();
  sim.clearLog();
  const serverBefore = clock.ms;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const { value: events, peak } = await sampled(fetch);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  if (events.length !== EVENTS) throw new Error(`${kind}: ${events.length} events instead of ${EVENTS}`);
  const failed = graphRequests(sim).find((r) => r.status !== 200);
  if (failed) throw new Error(`${kind}: Graph answered ${failed.status} to ${failed.rawPath}`);
  if (!results) return;
  const r = results[kind];
  r.ms.push(ms);
  r.cpuMs.push((cpu.user + cpu.system) / 1000);
  r.serverMs.push(clock.ms - serverBefore);
  r.requests.add(graphRequests(sim).length);
  r.events.add(events.length);
  r.rss = Math.max(r.rss, peak.rss);
  r.heapUsed = Math.max(r.heapUsed, peak.heapUsed);
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

// ---- report ------------------------------------------------------------------------------------------------------

const mb = (bytes) => (bytes / 1024 / 1024).toFixed(1);

function table(rows) {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => String(row[c]).length)));
  return rows
    .map((row) =>
      row
        .map((cell, c) => (c === 0 ? String(cell).padEnd(widths[c]) : String(cell).padStart(widths[c])))
        .join('  '),
    )
    .join('\n');
}

function report(results, baseline) {
  const node = results.node;
  const floor = results.floor;
  const ratio = median(node.ms) / median(floor.ms);
  const line = (name, r) => [
    name,
    [...r.requests].join('/'),
    median(r.ms).toFixed(1),
    Math.min(...r.ms).toFixed(1),
    median(r.cpuMs).toFixed(1),
    median(r.serverMs).toFixed(1),
    [...r.events].join('/'),
    mb(r.rss),
    mb(r.heapUsed),
  ];
  console.log(
    table([
      ['', 'requests', 'median ms', 'min ms', 'CPU ms', 'sim ms', 'events', 'peak RSS MB', 'peak heap MB'],
      line('o365-events (runtime)', node),
      line('floor (bare http loop)', floor),
    ]),
  );
  console.log(
    `\nbefore the rounds: RSS ${mb(baseline.rss)} MB, heap used ${mb(baseline.heapUsed)} MB ` +
      `(simulator, runtime and 10,000 stored events included in every figure above)`,
  );
  console.log(
    '"CPU ms": median CPU time of the whole process per fetch (steadier than wall time on a busy machine); ' +
      '"sim ms": median time the in-process simulator spent answering, part of both',
  );
  const cpuRatio = median(node.cpuMs) / median(floor.cpuMs);
  console.log(
    `\nratio node/floor (median wall time): ${ratio.toFixed(2)}   (median CPU time: ${cpuRatio.toFixed(2)})`,
  );
  console.log(`target ratio ≤ ${TARGET_RATIO}: ${ratio <= TARGET_RATIO ? 'met' : 'NOT met'}`);
  const requestsOk = [node, floor].every((r) => r.requests.size === 1 && r.requests.has(TARGET_REQUESTS));
  console.log(`target requests = ${TARGET_REQUESTS}: ${requestsOk ? 'met' : 'NOT met'}`);
}

// ---- main --------------------------------------------------------------------------------------------------------

async function main() {
  if (!TRIGGERS_ONLY) await benchEvents();
  const { benchTriggers } = require('./bench/triggers');
  await benchTriggers({
    distPath,
    startSimulator,
    helper,
    NODES,
    freshUserDir,
    onTab,
    configFor,
    signedInCredentials,
  });
}

async function benchEvents() {
  console.log(
    `bench: ${EVENTS} events in a 7-day window, timezone ${TIMEZONE}, ` +
      `${ROUNDS} measured rounds each (after 1 warm-up), ` +
      `Node ${process.version}, Node-RED ${runtimeVersion()} (${runtimePackage})`,
  );
  const sim = await startSimulator({ seed: 42, anchor: WINDOW_START, eventCount: 100 });
  const agent = new http.Agent({ keepAlive: true });
  const userDir = freshUserDir();
  const stop = async () => {
    await helper.unload().catch(() => undefined);
    agent.destroy();
    await sim.close();
    fs.rmSync(userDir, { recursive: true, force: true });
  };
  const watchdog = setTimeout(() => {
    console.error(`bench: gave up after ${WATCHDOG_MS / 1000} s`);
    stop().finally(() => process.exit(1));
  }, WATCHDOG_MS);
  watchdog.unref();
  try {
    sim.createBulkMailbox(BULK_UPN, EVENTS, { start: WINDOW_START, end: WINDOW_END });
    const clock = serverClock(sim);
    const fetchThroughNode = await loadNode(sim, userDir);

    // Warm-up: the node's first fetch also gives the floor its URL and headers.
    await round('node', fetchThroughNode, sim, clock);
    const first = graphRequests(sim)[0];
    const firstUrl = `${sim.url}${first.rawPath}?${first.rawQuery}`;
    const fetchBare = floorFetcher(firstUrl, replayableHeaders(first.headers), agent);
    await round('floor', fetchBare, sim, clock);
    console.log(`first request: GET ${first.rawPath}?${first.rawQuery}`);
    console.log(`  Prefer: ${first.headers.prefer}\n`);

    gc();
    const baseline = process.memoryUsage();
    const results = {};
    for (const kind of ['node', 'floor']) {
      results[kind] = {
        ms: [],
        cpuMs: [],
        serverMs: [],
        requests: new Set(),
        events: new Set(),
        rss: 0,
        heapUsed: 0,
      };
    }
    const fetchers = { node: fetchThroughNode, floor: fetchBare };
    for (let i = 0; i < ROUNDS; i++) {
      // Alternate which goes first, so drift and warmth hit both alike.
      const order = i % 2 ? ['floor', 'node'] : ['node', 'floor'];
      for (const kind of order) await round(kind, fetchers[kind], sim, clock, results);
    }
    report(results, baseline);

    if (PROFILE) {
      const { profileRounds } = require('./bench/profile');
      await profileRounds({
        rounds: Math.min(ROUNDS, 5),
        node: () => round('node', fetchThroughNode, sim, clock),
        floor: () => round('floor', fetchBare, sim, clock),
      });
    }
  } finally {
    clearTimeout(watchdog);
    await stop();
  }
}

// ---- free/busy: 200 rooms ----------------------------------------------------------------------------------------
// One refresh of a room board: o365-schedule with allRooms in the runtime (10 getSchedule calls of 20 rooms, at
// most 4 in flight; the places listing is cached, so it is paid once an hour, shown apart) against the floor (the
// node's own 10 POSTs replayed by a bare HTTP loop, 4 in flight, JSON.parse) and against what a flow does without
// the node: read each room's calendarView through o365-events (an application-mode config, allowMsgMailbox, one
// message per room). `--rooms-only` skips the events bench above.

const ROOMS = 200;
const ROOM_ROUNDS = ROUNDS;
const ROOM_WINDOW = {
  start: new Date(WINDOW_START + 8 * 3_600_000),
  end: new Date(WINDOW_START + 16 * 3_600_000),
};

/** POSTs a JSON body; resolves with the parsed answer (status 200 only). A reused socket the server closed is retried once. */
function postJson(url, headers, body, agent, retried = false) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`rooms floor: HTTP ${res.statusCode}`));
        else resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      });
      res.on('error', reject);
    });
    req.setTimeout(FETCH_TIMEOUT_MS, () => req.destroy(new Error('rooms floor: no answer')));
    req.on('error', (err) => {
      if (req.reusedSocket && err.code === 'ECONNRESET' && !retried) {
        resolve(postJson(url, headers, body, agent, true));
      } else reject(err);
    });
    req.end(body);
  });
}

/** Runs `work` over `items`, `limit` at a time. */
async function inFlight(items, limit, work) {
  let next = 0;
  const out = [];
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await work(items[i]);
      }
    }),
  );
  return out;
}

async function benchRooms() {
  const { SIM_SCOPES } = require('../test/lib/sim-config');
  const scope = `${SIM_SCOPES} Place.Read.All`;
  const sim = await startSimulator({ seed: 42, anchor: WINDOW_START, eventCount: 100, roomCount: ROOMS - 2 });
  const agent = new http.Agent({ keepAlive: true });
  const userDir = freshUserDir();
  const watchdog = setTimeout(() => {
    console.error(`bench rooms: gave up after ${WATCHDOG_MS / 1000} s`);
    process.exit(1);
  }, WATCHDOG_MS);
  watchdog.unref();
  try {
    const rooms = sim.schedule.rooms().map((r) => r.emailAddress);
    if (rooms.length !== ROOMS) throw new Error(`rooms: ${rooms.length} rooms instead of ${ROOMS}`);
    const { node: config } = configFor(sim, { scopes: scope });
    const { node: appConfig, credentials: appCredentials } = configFor(sim, {
      id: 'cfgapp',
      mode: 'application',
    });
    const flow = onTab([
      config,
      appConfig,
      {
        id: 'fb',
        type: 'o365-schedule',
        config: 'cfg',
        allRooms: true,
        timezone: TIMEZONE,
        wires: [['fbout']],
      },
      { id: 'fbout', type: 'helper' },
      {
        id: 'ev',
        type: 'o365-events',
        config: 'cfgapp',
        allowMsgMailbox: true,
        timezone: TIMEZONE,
        wires: [['evout']],
      },
      { id: 'evout', type: 'helper' },
    ]);
    helper.settings({ userDir, o365Calendar: { requestTimeout: FETCH_TIMEOUT_MS } });
    await helper.load(NODES, flow, {
      cfg: signedInCredentials(sim, 'cfg', 'confidential', scope).cfg,
      ...appCredentials,
    });
    await helper.getNode('cfg').ready;
    await helper.getNode('cfgapp').ready;
    const fb = helper.getNode('fb');
    const window = { start: ROOM_WINDOW.start.toISOString(), end: ROOM_WINDOW.end.toISOString() };

    const viaNode = () =>
      withTimeout(
        new Promise((resolve) => {
          helper.getNode('fbout').once('input', (msg) => resolve(msg.payload));
          fb.receive({ ...window });
        }),
        FETCH_TIMEOUT_MS,
        'o365-schedule',
      );
    const viaCalendarView = () =>
      withTimeout(
        new Promise((resolve) => {
          let left = rooms.length;
          const all = [];
          const out = helper.getNode('evout');
          const onMessage = (msg) => {
            all.push(msg.payload);
            if (--left === 0) {
              out.off('input', onMessage);
              resolve(all);
            }
          };
          out.on('input', onMessage);
          for (const room of rooms) helper.getNode('ev').receive({ user: room, ...window });
        }),
        FETCH_TIMEOUT_MS * 4,
        'o365-events per room',
      );

    // Warm-up: the first read lists the rooms (places pages) and gives the floor the node's exact calls.
    sim.clearLog();
    const first = await viaNode();
    if (first.length !== ROOMS || first.some((e) => e.error))
      throw new Error('rooms: the warm-up read failed');
    const placesPages = sim.requests.filter(
      (r) => r.kind === 'graph' && r.path.startsWith('/v1.0/places/'),
    ).length;
    const calls = sim.requests.filter((r) => r.kind === 'graph' && /getSchedule$/.test(r.path));
    const floor = async () => {
      const answers = await inFlight(calls, 4, (r) =>
        postJson(`${sim.url}${r.rawPath}`, replayableHeaders(r.headers), r.rawBody, agent),
      );
      return answers.flatMap((a) => a.value);
    };
    await floor();
    await viaCalendarView();

    const kinds = { node: viaNode, floor, calendarView: viaCalendarView };
    const results = {};
    for (const kind of Object.keys(kinds)) results[kind] = { ms: [], cpuMs: [], requests: new Set() };
    for (let i = 0; i < ROOM_ROUNDS; i++) {
      const order = i % 2 ? ['calendarView', 'floor', 'node'] : ['node', 'floor', 'calendarView'];
      for (const kind of order) {
        gc();
        sim.clearLog();
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        const got = await kinds[kind]();
        const ms = performance.now() - t0;
        const cpu = process.cpuUsage(cpu0);
        if (got.length !== ROOMS) throw new Error(`rooms ${kind}: ${got.length} answers instead of ${ROOMS}`);
        const requests = sim.requests.filter((r) => r.kind === 'graph');
        const failed = requests.find((r) => r.status !== 200);
        if (failed) throw new Error(`rooms ${kind}: Graph answered ${failed.status} to ${failed.rawPath}`);
        results[kind].ms.push(ms);
        results[kind].cpuMs.push((cpu.user + cpu.system) / 1000);
        results[kind].requests.add(requests.length);
      }
    }
    const line = (name, r) => [
      name,
      [...r.requests].join('/'),
      median(r.ms).toFixed(1),
      Math.min(...r.ms).toFixed(1),
      median(r.cpuMs).toFixed(1),
    ];
    console.log(
      `\nbench rooms: ${ROOMS} rooms, one refresh (${window.start} … ${window.end}, interval 30), ` +
        `${ROOM_ROUNDS} measured rounds each, timezone ${TIMEZONE}`,
    );
    console.log(
      table([
        ['', 'requests', 'median ms', 'min ms', 'CPU ms'],
        line('o365-schedule (runtime)', results.node),
        line('floor (same getSchedule calls, bare http)', results.floor),
        line('o365-events, calendarView per room', results.calendarView),
      ]),
    );
    const ratio = median(results.node.ms) / median(results.floor.ms);
    const minRatio = Math.min(...results.node.ms) / Math.min(...results.floor.ms);
    const cpuRatio = median(results.node.cpuMs) / median(results.floor.cpuMs);
    console.log(`places pages on the first read (then cached for an hour): ${placesPages}`);
    console.log(
      `ratio o365-schedule/floor (median wall time): ${ratio.toFixed(2)}   (min wall time: ${minRatio.toFixed(2)}, ` +
        `median CPU time: ${cpuRatio.toFixed(2)})   target ≤ ${TARGET_RATIO}: ${ratio <= TARGET_RATIO ? 'met' : 'NOT met'}`,
    );
    console.log(
      `calendarView per room / o365-schedule: ${(median(results.calendarView.ms) / median(results.node.ms)).toFixed(1)}× ` +
        `the wall time, ${[...results.calendarView.requests][0] / [...results.node.requests][0]}× the requests`,
    );
  } finally {
    clearTimeout(watchdog);
    await helper.unload().catch(() => undefined);
    agent.destroy();
    await sim.close();
    fs.rmSync(userDir, { recursive: true, force: true });
  }
}

(process.argv.includes('--rooms-only') ? Promise.resolve() : main()).then(benchRooms).then(
  () => process.exit(0),
  (err) => {
    console.error(`bench: ${err.stack || err}`);
    process.exit(1);
  },
);
