#!/usr/bin/env node
// `npm run bench`: each scenario drives a node in the real Node-RED runtime (node-red-node-test-helper, the compiled
// dist/) and, in the same run, the same HTTP work through a bare loop (the floor: what any client must do). Rounds
// of the two are interleaved (round i of both back to back, the order alternating), so drift and a busy neighbour
// hit both alike. Per scenario it prints requests, wall time (min, quartiles, max), process CPU time per fetch
// (steady on a busy machine: a neighbour delays the process but does not make it compute more), peak memory, the
// ratios subject/floor (of the medians, of the minimums, per round) and a verdict that tells a regression from a
// noisy run. Never gates anything on time: the exit code is 0 whether or not a target is met.
//
//   node scripts/bench.js [--rounds N] [--timezone NAME] [--only TEXT] [--profile]
//
// --rounds N       measured rounds of each (default 9, after one warm-up of each)
// --timezone NAME  the events node's `timezone` (default UTC); a zone with DST shows the cost of local time math
// --only TEXT      only the scenarios whose name contains TEXT
// --profile        afterwards, profiles a few more rounds of each with the inspector and prints where time goes
// O365_NODE_RED=node-red-5 (with Node 24) benches on Node-RED 5; O365_DIST a build made elsewhere.
//
// A new scenario is one function in the SCENARIOS section (see eventsTenThousand) and a line in SCENARIOS.
'use strict';
const fs = require('fs');
const http = require('http');
const path = require('path');
const v8 = require('v8');
const vm = require('vm');
const { performance } = require('perf_hooks');
const { spawnSync } = require('child_process');
const { spread, relativeIqr, ratios, verdict } = require('./bench/stats');

const TARGET_RATIO = 1.25;
const DAY = 86_400_000;
const FETCH_TIMEOUT_MS = 30_000;
/** Per scenario: set-up, warm-up and the rounds. */
const WATCHDOG_MS = 180_000;
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
const ONLY = option('only', '').toLowerCase();
const PROFILE = process.argv.includes('--profile');

// ---- set-up ------------------------------------------------------------------------------------------------------

const { distPath } = require('../test/lib/dist');
if (!fs.existsSync(distPath('nodes/o365-events/o365-events.js'))) {
  console.log('bench: dist/ is missing, building it first');
  const build = spawnSync(process.execPath, [path.join(__dirname, 'build.js')], { stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status || 1);
}
const { startSimulator } = require('../test/sim/simulator');
const { helper, runtimePackage } = require('../test/lib/runtime');
const { nodeRedDir } = require('../test/lib/node-red-dir');
const { NODES, freshUserDir, onTab, configFor, signedInCredentials } = require('../test/lib/nodes');

/** A full collection before each round, so no round pays for the garbage of the one before. */
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');

function runtimeVersion() {
  try {
    return require(path.join(nodeRedDir(runtimePackage), 'package.json')).version;
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

// ---- building blocks for scenarios -----------------------------------------------------------------------------------

/** Loads a flow with a signed-in config node `cfg` (on the simulator); resolves once its sign-in is ready. */
async function loadSignedIn(ctx, nodes) {
  const { node: config } = configFor(ctx.sim);
  const creds = signedInCredentials(ctx.sim);
  helper.settings({ userDir: ctx.userDir, o365Calendar: { requestTimeout: FETCH_TIMEOUT_MS } });
  await helper.load(NODES, onTab([config, ...nodes]), { cfg: creds.cfg });
  await helper.getNode('cfg').ready;
}

/**
 * One message into `nodeId` and the first message out of `outId`, as a function: resolves with what `pick` takes
 * from the output message (default its payload), rejects when the node reports an error.
 */
function throughNode(nodeId, outId, input, pick = (msg) => msg.payload) {
  const node = helper.getNode(nodeId);
  const out = helper.getNode(outId);
  return async function fetchThroughNode() {
    let onMessage;
    let onError;
    const got = new Promise((resolve, reject) => {
      onMessage = (msg) => resolve(pick(msg));
      // done(err) reaches node.error, which the test helper re-emits as `call:error`.
      onError = (call) => reject(new Error(`${nodeId} failed: ${call.args[0]}`));
      out.once('input', onMessage);
      node.once('call:error', onError);
    });
    node.receive(typeof input === 'function' ? input() : { ...input });
    try {
      return await withTimeout(got, FETCH_TIMEOUT_MS, nodeId);
    } finally {
      out.off('input', onMessage);
      node.off('call:error', onError);
    }
  };
}

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

/**
 * The floor of a paged read: the node's own first request (URL and headers, from the simulator's log), JSON.parse
 * of each page, @odata.nextLink to the end.
 */
function pagedFloor(ctx, first) {
  const url = `${ctx.sim.url}${first.rawPath}?${first.rawQuery}`;
  const headers = replayableHeaders(first.headers);
  return async function fetchBare() {
    const items = [];
    let next = url;
    while (next) {
      const page = JSON.parse(await getText(next, headers, ctx.agent));
      for (const item of page.value) items.push(item);
      next = page['@odata.nextLink'];
    }
    return items;
  };
}

function graphRequests(sim) {
  return sim.requests.filter((r) => r.kind === 'graph');
}

// ---- SCENARIOS: one function each ---------------------------------------------------------------------------------
// A scenario gets ctx = {sim, userDir, agent} (a fresh simulator and user dir) and returns
// {subject: {name, fetch}, floor: {name, fetch}, items, requests, warmUp?, notes?}: `fetch` resolves with the items
// read (an array or a count), `items` and `requests` are what every round must show. `warmUp` runs once before
// the floor exists (e.g. to copy the node's first request into it).

/** o365-events: 10,000 events in one week of one mailbox (10 pages of 1,000), as one array. */
async function eventsTenThousand(ctx) {
  const EVENTS = 10_000;
  /** A fixed Monday, so every run asks for exactly the same window and pages. */
  const start = Date.UTC(2026, 0, 5);
  const end = start + 7 * DAY;
  const upn = 'bench10k@contoso.onmicrosoft.com';
  ctx.sim.createBulkMailbox(upn, EVENTS, { start, end });
  await loadSignedIn(ctx, [
    { id: 'events', type: 'o365-events', config: 'cfg', user: upn, timezone: TIMEZONE, wires: [['out']] },
    { id: 'out', type: 'helper' },
  ]);
  const window = { start: new Date(start).toISOString(), end: new Date(end).toISOString() };
  const subject = throughNode('events', 'out', window);
  const scenario = {
    name: `o365-events: ${EVENTS.toLocaleString('en')} events in 7 days, time zone ${TIMEZONE}`,
    subject: { name: 'o365-events (runtime)', fetch: subject },
    floor: { name: 'floor (bare http loop)', fetch: undefined },
    items: EVENTS,
    requests: 10,
    notes: [],
  };
  // The node's first fetch gives the floor its URL and headers.
  scenario.warmUp = async () => {
    ctx.sim.clearLog();
    await subject();
    const first = graphRequests(ctx.sim)[0];
    scenario.floor.fetch = pagedFloor(ctx, first);
    scenario.notes.push(`first request: GET ${first.rawPath}?${first.rawQuery}`);
    scenario.notes.push(`  Prefer: ${first.headers.prefer}`);
  };
  return scenario;
}

/** POSTs a JSON body; resolves with the parsed answer (200 only). A reused socket the server closed is retried once. */
function postJson(url, headers, body, agent, retried = false) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`floor: HTTP ${res.statusCode} for ${url}`));
        else resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      });
      res.on('error', reject);
    });
    req.setTimeout(FETCH_TIMEOUT_MS, () => req.destroy(new Error(`floor: no answer for ${url}`)));
    req.on('error', (err) => {
      if (req.reusedSocket && err.code === 'ECONNRESET' && !retried) {
        resolve(postJson(url, headers, body, agent, true));
      } else reject(err);
    });
    req.end(body);
  });
}

/** Runs `work` over `items`, `limit` at a time; resolves with the results in order. */
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

/**
 * o365-schedule: one refresh of a board of 200 rooms (allRooms: 10 getSchedule calls of 20, at most 4 in flight; the
 * places listing is cached for an hour, so it is paid in the warm-up and reported apart). The floor replays the
 * node's own getSchedule POSTs with a bare loop, 4 in flight. The notes add what a flow pays without the node: each
 * room's calendarView through o365-events (application mode, one message per room).
 */
async function roomsTwoHundred(ctx) {
  const ROOMS = 200;
  const { SIM_SCOPES } = require('../test/lib/sim-config');
  const scope = `${SIM_SCOPES} Place.Read.All`;
  const rooms = ctx.sim.schedule.rooms().map((r) => r.emailAddress);
  if (rooms.length !== ROOMS) throw new Error(`rooms: ${rooms.length} rooms instead of ${ROOMS}`);
  const { node: config } = configFor(ctx.sim, { scopes: scope });
  const { node: appConfig, credentials: appCredentials } = configFor(ctx.sim, {
    id: 'cfgapp',
    mode: 'application',
  });
  helper.settings({ userDir: ctx.userDir, o365Calendar: { requestTimeout: FETCH_TIMEOUT_MS } });
  await helper.load(
    NODES,
    onTab([
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
    ]),
    { cfg: signedInCredentials(ctx.sim, 'cfg', 'confidential', scope).cfg, ...appCredentials },
  );
  await helper.getNode('cfg').ready;
  await helper.getNode('cfgapp').ready;
  const day = Date.UTC(2026, 0, 5);
  const window = {
    start: new Date(day + 8 * 3_600_000).toISOString(),
    end: new Date(day + 16 * 3_600_000).toISOString(),
  };
  const subject = throughNode('fb', 'fbout', window);
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
  const scenario = {
    name: `o365-schedule: ${ROOMS} rooms, one refresh (8 h, interval 30), time zone ${TIMEZONE}`,
    subject: { name: 'o365-schedule (runtime)', fetch: subject },
    floor: { name: 'floor (same getSchedule calls, bare http)', fetch: undefined },
    items: ROOMS,
    requests: Math.ceil(ROOMS / 20),
    notes: [],
  };
  scenario.warmUp = async () => {
    ctx.sim.clearLog();
    const first = await subject();
    if (first.length !== ROOMS || first.some((e) => e.error))
      throw new Error('rooms: the warm-up read failed');
    const logged = graphRequests(ctx.sim);
    const places = logged.filter((r) => r.path.startsWith('/v1.0/places/')).length;
    const calls = logged.filter((r) => /getSchedule$/.test(r.path));
    scenario.floor.fetch = async () => {
      const answers = await inFlight(calls, 4, (r) =>
        postJson(`${ctx.sim.url}${r.rawPath}`, replayableHeaders(r.headers), r.rawBody, ctx.agent),
      );
      return answers.flatMap((a) => a.value);
    };
    scenario.notes.push(`places pages on the first read (then cached for an hour): ${places}`);
    // What a flow pays today without the node: each room's calendarView (3 rounds, median).
    const times = [];
    let requests = 0;
    for (let i = 0; i < 3; i++) {
      ctx.sim.clearLog();
      const t0 = performance.now();
      const got = await viaCalendarView();
      times.push(performance.now() - t0);
      requests = graphRequests(ctx.sim).length;
      if (got.length !== ROOMS) throw new Error(`rooms via calendarView: ${got.length} answers`);
    }
    times.sort((a, b) => a - b);
    scenario.notes.push(
      `without the node: calendarView per room through o365-events: ${requests} requests, ` +
        `median ${times[1].toFixed(0)} ms per refresh (compare the subject's median below)`,
    );
  };
  return scenario;
}
roomsTwoHundred.simOptions = { roomCount: 198 };

const SCENARIOS = [eventsTenThousand, roomsTwoHundred];

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

function emptyResult() {
  return { ms: [], cpuMs: [], serverMs: [], requests: new Set(), items: new Set(), rss: 0, heapUsed: 0 };
}

/** One fetch, checked (every item, every request answered 200), and recorded when `result` is given. */
async function round(name, fetch, ctx, scenario, result) {
  gc();
  ctx.sim.clearLog();
  const serverBefore = ctx.clock.ms;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const { value, peak } = await sampled(fetch);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const items = Array.isArray(value) ? value.length : value;
  if (items !== scenario.items) throw new Error(`${name}: ${items} items instead of ${scenario.items}`);
  const failed = graphRequests(ctx.sim).find((r) => r.status < 200 || r.status > 299);
  if (failed) throw new Error(`${name}: Graph answered ${failed.status} to ${failed.rawPath}`);
  if (!result) return;
  result.ms.push(ms);
  result.cpuMs.push((cpu.user + cpu.system) / 1000);
  result.serverMs.push(ctx.clock.ms - serverBefore);
  result.requests.add(graphRequests(ctx.sim).length);
  result.items.add(items);
  result.rss = Math.max(result.rss, peak.rss);
  result.heapUsed = Math.max(result.heapUsed, peak.heapUsed);
}

// ---- report ------------------------------------------------------------------------------------------------------

const mb = (bytes) => (bytes / 1024 / 1024).toFixed(1);
const f1 = (n) => n.toFixed(1);
const f2 = (n) => n.toFixed(2);
const pct = (n) => `${Math.round(n * 100)} %`;

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

function report(scenario, results, baseline) {
  const { subject, floor } = results;
  const line = (name, r) => {
    const wall = spread(r.ms);
    const cpu = spread(r.cpuMs);
    return [
      name,
      [...r.requests].join('/'),
      f1(wall.min),
      f1(wall.q1),
      f1(wall.median),
      f1(wall.q3),
      f1(wall.max),
      f1(cpu.median),
      `${f1(cpu.q1)}–${f1(cpu.q3)}`,
      f1(spread(r.serverMs).median),
      [...r.items].join('/'),
      mb(r.rss),
      mb(r.heapUsed),
    ];
  };
  console.log(
    table([
      [
        '',
        'requests',
        'wall: min',
        'q1',
        'median',
        'q3',
        'max',
        'CPU: median',
        'q1–q3',
        'sim',
        'items',
      ].concat(['peak RSS MB', 'peak heap MB']),
      line(scenario.subject.name, subject),
      line(scenario.floor.name, floor),
    ]),
  );
  console.log(
    `(ms per fetch; "CPU": process CPU time, user + system; "sim": time the in-process simulator spent ` +
      `answering, part of both)\nbefore the rounds: RSS ${mb(baseline.rss)} MB, heap used ${mb(baseline.heapUsed)} MB ` +
      `(simulator, runtime and stored data included in every figure above)`,
  );
  const wall = ratios(subject.ms, floor.ms);
  const cpu = ratios(subject.cpuMs, floor.cpuMs);
  const row = (name, r) => [
    name,
    f2(r.ofMedians),
    f2(r.ofMinimums),
    f2(r.paired.median),
    `${f2(r.paired.q1)}–${f2(r.paired.q3)}`,
    `${f2(r.paired.min)}–${f2(r.paired.max)}`,
  ];
  console.log(
    `\n${table([
      ['ratio subject/floor', 'of medians', 'of minimums', 'per round: median', 'q1–q3', 'min–max'],
      row('wall time', wall),
      row('CPU time', cpu),
    ])}`,
  );
  console.log(
    `spread of wall time over the rounds ((q3 − q1) / median): subject ${pct(relativeIqr(subject.ms))}, ` +
      `floor ${pct(relativeIqr(floor.ms))}`,
  );
  console.log(`target ratio ≤ ${TARGET_RATIO}: ${verdict(wall, cpu, TARGET_RATIO).text}`);
  const requestsOk = [subject, floor].every(
    (r) => r.requests.size === 1 && r.requests.has(scenario.requests),
  );
  console.log(`target requests = ${scenario.requests}: ${requestsOk ? 'met' : 'NOT met'}`);
}

// ---- running -------------------------------------------------------------------------------------------------------

async function runScenario(define) {
  const sim = await startSimulator({
    seed: 42,
    anchor: Date.UTC(2026, 0, 5),
    eventCount: 100,
    ...(define.simOptions || {}),
  });
  const agent = new http.Agent({ keepAlive: true });
  const userDir = freshUserDir();
  const ctx = { sim, agent, userDir, clock: serverClock(sim) };
  let watchdog;
  const stop = async () => {
    clearTimeout(watchdog);
    await helper.unload().catch(() => undefined);
    agent.destroy();
    await sim.close();
    fs.rmSync(userDir, { recursive: true, force: true });
  };
  watchdog = setTimeout(() => {
    console.error(`bench: ${define.name} gave up after ${WATCHDOG_MS / 1000} s`);
    stop().finally(() => process.exit(1));
  }, WATCHDOG_MS);
  watchdog.unref();
  try {
    const scenario = await define(ctx);
    console.log(`\n== ${scenario.name}`);
    // Warm-up: one unrecorded round of each (the scenario's own first, which may build the floor).
    if (scenario.warmUp) await scenario.warmUp();
    else await round('subject', scenario.subject.fetch, ctx, scenario);
    await round('floor', scenario.floor.fetch, ctx, scenario);
    for (const note of scenario.notes || []) console.log(note);
    gc();
    const baseline = process.memoryUsage();
    const results = { subject: emptyResult(), floor: emptyResult() };
    for (let i = 0; i < ROUNDS; i++) {
      // Interleaved, the order alternating, so drift and warmth hit both alike.
      const order = i % 2 ? ['floor', 'subject'] : ['subject', 'floor'];
      for (const kind of order) await round(kind, scenario[kind].fetch, ctx, scenario, results[kind]);
    }
    report(scenario, results, baseline);
    if (PROFILE) {
      const { profileRounds } = require('./bench/profile');
      await profileRounds({
        rounds: Math.min(ROUNDS, 5),
        node: () => round('subject', scenario.subject.fetch, ctx, scenario),
        floor: () => round('floor', scenario.floor.fetch, ctx, scenario),
      });
    }
  } finally {
    await stop();
  }
}

async function main() {
  const chosen = SCENARIOS.filter((define) => !ONLY || define.name.toLowerCase().includes(ONLY));
  if (chosen.length === 0 && !'triggers'.includes(ONLY))
    throw new Error(`no scenario matches --only ${ONLY}`);
  console.log(
    `bench: ${ROUNDS} measured rounds of each (after 1 warm-up), interleaved; ` +
      `Node ${process.version}, Node-RED ${runtimeVersion()} (${runtimePackage})`,
  );
  for (const define of chosen) await runScenario(define);
  if (!ONLY || 'triggers'.includes(ONLY)) {
    // 200 calendar trigger nodes over 50 calendars: reads per poll, timers, fire latency (no floor to compare).
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
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`bench: ${err.stack || err}`);
    process.exit(1);
  },
);
