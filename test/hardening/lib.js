// Shared pieces of the hardening suite: the packed package in a real node-red process (harness), simulators that
// remember every token they issue, flows that expose o365-events over HTTP, a clock both sides share, and the
// record of everything the suite saw (logs, answers, user directories) for the secrets scan at the end.
'use strict';
const { simConfigProps } = require('../lib/sim-config');
const fs = require('fs');
const http = require('http');
const path = require('path');
const { packPackage, NodeRed, raw } = require('../harness/nodered');
const { startSimulator } = require('../sim/simulator');
const summary = require('./summary');

const FULL = process.env.O365_HARDENING_FULL === '1';
const SOAK_MINUTES = Number(process.env.O365_HARDENING_SOAK_MINUTES) || (FULL ? 10 : 2);
const CRASH_LOOPS = Number(process.env.O365_HARDENING_CRASH_LOOPS) || (FULL ? 50 : 2);
const FAULT_ROUNDS = Number(process.env.O365_HARDENING_FAULT_ROUNDS) || (FULL ? 40 : 6);
/** Node-RED majors every section runs on: 4 (Node 20) by default, 4 and 5 (Node 24) in the full run. */
const MAJORS = (process.env.O365_HARDENING_MAJORS || (FULL ? '4,5' : '4'))
  .split(',')
  .map((s) => Number(s.trim()))
  .filter((n) => n === 4 || n === 5);
const NODE_OF = { 4: 20, 5: 24 };
const DAY = 86_400_000;

/** Everything the suite saw, for the secrets scan: simulators, Node-RED processes, every answer received. */
const registry = { sims: [], nodeReds: [], answers: [] };

// The summary is printed once, after every file of the run (a root hook: this module is loaded once, by mocha).
// The Node-RED logs go to test-artifacts/hardening-logs/ (the secrets section checked that they hold none).
if (typeof after === 'function') {
  after(function () {
    summary.finish({ full: FULL, soakMinutes: SOAK_MINUTES, crashLoops: CRASH_LOOPS, majors: MAJORS });
    const dir = path.join(path.resolve(__dirname, '..', '..'), 'test-artifacts', 'hardening-logs');
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    for (const nr of registry.nodeReds) {
      fs.writeFileSync(
        path.join(dir, `${nr.section || 'node-red'}-${path.basename(nr.userDir)}.log`),
        `${nr.log.join('\n')}\n`,
      );
    }
  });
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------------------------------------------------------------------------------------------------------
// Simulators that remember what they issued.

/**
 * A simulator whose token endpoint answers are recorded in `sim.issued` ({access, refresh, id, at}), in order:
 * the test's own accessor to the tokens (the simulator keeps them only as map keys).
 */
async function simulator(options = {}) {
  const sim = await startSimulator({ eventCount: 1500, ...options });
  sim.issued = [];
  const identity = sim.identity;
  const delegated = identity.issueDelegated.bind(identity);
  identity.issueDelegated = (args) => {
    const out = delegated(args);
    sim.issued.push({
      access: out.access_token,
      refresh: out.refresh_token,
      id: out.id_token,
      at: sim.now(),
    });
    return out;
  };
  const app = identity.issueApp.bind(identity);
  identity.issueApp = (registration) => {
    const out = app(registration);
    sim.issued.push({ access: out.access_token, at: sim.now() });
    return out;
  };
  registry.sims.push(sim);
  return sim;
}

/** The issued set an access or refresh token belongs to (index in sim.issued), or -1. */
function setOf(sim, { access, refresh }) {
  return sim.issued.findIndex((s) => (access && s.access === access) || (refresh && s.refresh === refresh));
}

function bearerOf(request) {
  const m = /^Bearer\s+(.+)$/i.exec(request.headers.authorization || '');
  return m ? m[1] : undefined;
}

/** A simulator's request log (or a slice of it) from `since` on. */
function requestsOf(source, since = 0) {
  return (Array.isArray(source) ? source : source.requests).slice(since);
}

function graphRequests(source, since = 0) {
  return requestsOf(source, since).filter((r) => r.kind === 'graph');
}

function refreshRequests(source, since = 0) {
  return requestsOf(source, since).filter((r) => r.kind === 'token' && r.grantType === 'refresh_token');
}

/** A fixed week of the seeded data (Monday to Monday, UTC), independent of any clock moved later. */
function seededWeek(sim) {
  const monday = new Date(sim.anchor);
  monday.setUTCHours(0, 0, 0, 0);
  monday.setUTCDate(monday.getUTCDate() - ((monday.getUTCDay() + 6) % 7) + 7);
  return { start: monday.toISOString(), end: new Date(monday.getTime() + 7 * DAY).toISOString() };
}

// ---------------------------------------------------------------------------------------------------------
// Node-RED processes.

// Runs inside the Node-RED process (settings.js functionGlobalContext), reached from a function node: memory after
// a full GC, the active timers, and arming a crash point at run time (O365_CRASH_POINT is read at each arrival).
const PROBE = `(function () {
  const v8 = require('v8');
  v8.setFlagsFromString('--expose-gc');
  const gc = require('vm').runInNewContext('gc');
  // Live timers, unref'd ones included (getActiveResourcesInfo lists only those that keep the process alive).
  const timers = new Set();
  if (process.env.O365_HARDENING_TRACK_TIMERS === '1') {
    require('async_hooks')
      .createHook({
        init: function (id, type) { if (type === 'Timeout') timers.add(id); },
        destroy: function (id) { timers.delete(id); },
      })
      .enable();
  }
  return {
    memory: function () {
      gc();
      gc();
      const m = process.memoryUsage();
      return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external,
        timers: timers.size, resources: process.getActiveResourcesInfo().length };
    },
    arm: function (point) {
      process.env.O365_CRASH_POINT = String(point);
      process.env.O365_CRASH_AFTER = '1';
      return { armed: point };
    },
  };
})()`;

/**
 * A Node-RED process (not started) with the packed package, fast retries, the probe, and a clock file the package
 * reads its time offset from. Its log and every answer it gives go into the registry.
 */
async function nodeRed({ major = 4, section, settings = {}, env = {}, auth } = {}) {
  const tarball = await packPackage();
  const nr = new NodeRed({
    major,
    tarball,
    auth,
    settings: {
      o365Calendar: { requestTimeout: 1500, retryDelay: 50 },
      functionGlobalContext: { hardeningProbe: raw(PROBE) },
      ...settings,
    },
    env,
  });
  nr.section = section;
  nr.clockFile = nr.file('hardening-clock-offset');
  fs.writeFileSync(nr.clockFile, '0');
  nr.env.O365_TEST_CLOCK_FILE = nr.clockFile;
  for (const method of ['http', 'admin']) {
    const original = nr[method].bind(nr);
    nr[method] = async (...args) => {
      const res = await original(...args);
      registry.answers.push(typeof res.body === 'string' ? res.body : JSON.stringify(res.body));
      registry.answers.push(JSON.stringify(res.headers));
      return res;
    };
  }
  registry.nodeReds.push(nr);
  return nr;
}

/** Moves the package's clock (the clock file) and the simulators' clocks forward together. */
async function advanceClock(nr, sims, ms) {
  nr.clockOffset = (nr.clockOffset || 0) + ms;
  fs.writeFileSync(nr.clockFile, String(nr.clockOffset));
  for (const sim of sims) sim.advanceClock(ms);
  await sleep(400); // the package looks at the file at most every 250 ms
}

async function stopQuietly(nr) {
  if (!nr) return;
  try {
    await nr.stop();
  } catch {
    // already gone
  }
}

// ---------------------------------------------------------------------------------------------------------
// Flows.

/**
 * An o365-config node on the simulator's custom cloud, signed in with tokens the simulator issued (a shorter access
 * token lifetime with `lifetime`). `tokens` holds the issued answer.
 */
function configNode(sim, nr, { id = 'cfg', app = 'confidential', lifetime, user } = {}) {
  const registration = sim.apps[app];
  const keep = sim.knobs.accessTokenLifetime;
  if (lifetime !== undefined) sim.knobs.accessTokenLifetime = lifetime;
  let tokens;
  try {
    tokens = sim.issueTokens({ app, user });
  } finally {
    sim.knobs.accessTokenLifetime = keep;
  }
  const credentials = {
    clientId: registration.clientId,
    refreshToken: tokens.refresh_token,
    accessToken: tokens.access_token,
    // The package's clock is the simulator's (advanceClock moves both).
    expiresAt: String(sim.now() + tokens.expires_in * 1000),
    clientKind: registration.secret ? 'confidential' : 'public',
  };
  if (registration.secret) credentials.clientSecret = registration.secret;
  const node = {
    id,
    type: 'o365-config',
    name: `sim ${id}`,
    ...simConfigProps(sim, { redirectUri: `http://localhost:${nr.port}/o365/auth/callback` }),
    credentials,
  };
  return { node, tokens };
}

function fn(id, z, func, outputs, wires, name = id) {
  return {
    id,
    type: 'function',
    z,
    name,
    func,
    outputs,
    timeout: 0,
    noerr: 0,
    initialize: '',
    finalize: '',
    libs: [],
    x: 300,
    y: 100,
    wires,
  };
}

function debugNode(id, z, name) {
  return {
    id,
    type: 'debug',
    z,
    name,
    active: true,
    tosidebar: false,
    console: true,
    tostatus: false,
    complete: 'payload',
    targetType: 'msg',
    x: 700,
    y: 100,
    wires: [],
  };
}

// msg.payload of the POST (JSON) → msg.start/end/user/calendarId.
const PREP = `const p = msg.payload && typeof msg.payload === 'object' ? msg.payload : {};
for (const k of ['start', 'end', 'user', 'calendarId']) if (p[k] !== undefined) msg[k] = p[k];
delete msg.payload;
return msg;`;

// The whole message (but req/res) as the answer; a short copy for the debug node (console: true → the log).
const SHAPE = `const out = {};
for (const k of Object.keys(msg)) if (k !== 'req' && k !== 'res') out[k] = msg[k];
const events = Array.isArray(msg.payload) ? msg.payload : [];
const debug = Object.assign({}, out, { payload: undefined, count: events.length, sample: events.slice(0, 2) });
msg.payload = out;
msg.statusCode = 200;
return [msg, { payload: debug }];`;

// A caught error as JSON {error: {message, code, cause}} with status 500, plus everything else of the message.
const FAIL = `const e = msg.error || {};
const rest = {};
for (const k of Object.keys(msg)) if (!['req', 'res', 'error'].includes(k)) rest[k] = msg[k];
const body = { error: { message: e.message, code: e.code, cause: e.cause, stack: e.stack, source: e.source }, msg: rest };
msg.payload = body;
msg.statusCode = 500;
return msg.res ? [msg, { payload: body }] : [null, { payload: body }];`;

/** `POST <url>` (JSON {start, end, user, calendarId}) → o365-events → the message as JSON; errors as 500 JSON. */
function eventsEndpoint({ id, z, url, config, props = {} }) {
  const n = (s) => `${id}-${s}`;
  return [
    {
      id: n('in'),
      type: 'http in',
      z,
      name: '',
      url,
      method: 'post',
      upload: false,
      swaggerDoc: '',
      x: 100,
      y: 100,
      wires: [[n('prep')]],
    },
    fn(n('prep'), z, PREP, 1, [[n('events')]]),
    {
      id: n('events'),
      type: 'o365-events',
      z,
      name: id,
      config,
      user: '',
      calendarId: '',
      view: 'calendarView',
      start: 'now',
      end: 'now+7d',
      timezone: 'UTC',
      output: 'array',
      maxEvents: 0,
      pollMinutes: 0,
      changesOnly: false,
      allowMsgMailbox: true,
      x: 500,
      y: 100,
      ...props,
      wires: [[n('shape')]],
    },
    fn(n('shape'), z, SHAPE, 2, [[n('out')], [n('debug')]]),
    {
      id: n('out'),
      type: 'http response',
      z,
      name: '',
      statusCode: '',
      headers: {},
      x: 900,
      y: 100,
      wires: [],
    },
    debugNode(n('debug'), z, `${id} events`),
    {
      id: n('catch'),
      type: 'catch',
      z,
      name: '',
      scope: [n('events')],
      uncaught: false,
      x: 100,
      y: 200,
      wires: [[n('fail')]],
    },
    fn(n('fail'), z, FAIL, 2, [[n('out')], [n('errdebug')]]),
    debugNode(n('errdebug'), z, `${id} errors`),
  ];
}

/** `GET <url>?op=memory|arm&arg=…`: the probe inside the process. */
function probeEndpoint(z, url = '/hardening/probe') {
  return [
    {
      id: `${z}-probe-in`,
      type: 'http in',
      z,
      name: '',
      url,
      method: 'get',
      upload: false,
      swaggerDoc: '',
      x: 100,
      y: 300,
      wires: [[`${z}-probe-fn`]],
    },
    fn(
      `${z}-probe-fn`,
      z,
      `const probe = global.get('hardeningProbe');
msg.payload = probe[msg.req.query.op || 'memory'](msg.req.query.arg);
return msg;`,
      1,
      [[`${z}-probe-out`]],
    ),
    {
      id: `${z}-probe-out`,
      type: 'http response',
      z,
      name: '',
      statusCode: '',
      headers: {},
      x: 500,
      y: 300,
      wires: [],
    },
  ];
}

function tab(id, label = id) {
  return { id, type: 'tab', label, disabled: false, info: '' };
}

/** Sends one message through an events endpoint: {ok, ids, body} or {ok: false, error, body}. */
async function callEvents(nr, url, body, { timeout = 120000 } = {}) {
  const res = await nr.http('POST', url, body, { timeout });
  if (res.status === 200 && res.body && Array.isArray(res.body.payload)) {
    return { ok: true, ids: res.body.payload.map((e) => e.id), body: res.body, status: res.status };
  }
  if (res.status === 500 && res.body && res.body.error) {
    return { ok: false, error: res.body.error, body: res.body, status: res.status };
  }
  throw new Error(`${url}: unexpected answer HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 400)}`);
}

/** A caught error as the brief wants it: a code and a cause object. */
function isCatchable(error) {
  return (
    !!error &&
    typeof error.code === 'string' &&
    error.code.length > 0 &&
    typeof error.message === 'string' &&
    !!error.cause &&
    typeof error.cause === 'object'
  );
}

async function probe(nr, op = 'memory', arg) {
  const query = `op=${encodeURIComponent(op)}${arg === undefined ? '' : `&arg=${encodeURIComponent(arg)}`}`;
  const res = await nr.http('GET', `/hardening/probe?${query}`);
  if (res.status !== 200) throw new Error(`probe ${op}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

// ---------------------------------------------------------------------------------------------------------
// Interactive sign-in, as the editor does it: POST /o365/auth/start, the person at Microsoft, the callback.

/** What the config dialog holds for a deployed config node (the secret stays on the server: __PWRD__). */
function dialogSettings(node) {
  return {
    tenant: node.tenant,
    cloud: node.cloud,
    authorityHost: node.authorityHost,
    graphEndpoint: node.graphEndpoint,
    mode: node.mode,
    scopes: node.scopes,
    redirectUri: node.redirectUri,
    clientId: node.credentials.clientId,
  };
}

/** POST /o365/auth/start: {url, state}. */
async function startSignIn(nr, node) {
  const res = await nr.admin('POST', '/o365/auth/start', {
    id: node.id,
    settings: dialogSettings(node),
    clientSecret: '__PWRD__',
  });
  if (res.status !== 200) throw new Error(`sign-in start: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  return { url: res.body.url, state: new URL(res.body.url).searchParams.get('state') };
}

/** The person signs in at the simulated Microsoft: the redirect's {location, query, code, state}. */
function authorizeAt(url) {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode !== 302) return reject(new Error(`authorize: HTTP ${res.statusCode}`));
          const location = new URL(res.headers.location);
          resolve({
            location: res.headers.location,
            query: location.search.slice(1),
            code: location.searchParams.get('code'),
            state: location.searchParams.get('state'),
          });
        });
      })
      .on('error', reject);
  });
}

/** A whole sign-in through the callback; resolves with the callback's answer. */
async function signInViaCallback(nr, node) {
  const { url } = await startSignIn(nr, node);
  const granted = await authorizeAt(url);
  return nr.admin('GET', `/o365/auth/callback?${granted.query}`);
}

/** The token store folder of the default project. */
function storeDir(nr) {
  return nr.file(path.join('o365-calendar', 'default'));
}

/** The store's file stem for a key (as token-store.ts names it). */
function storeStem(key) {
  return require('crypto')
    .createHash('sha256')
    .update(`o365-calendar token store\0${key}`)
    .digest('hex')
    .slice(0, 32);
}

module.exports = {
  FULL,
  SOAK_MINUTES,
  CRASH_LOOPS,
  FAULT_ROUNDS,
  MAJORS,
  NODE_OF,
  DAY,
  registry,
  summary,
  sleep,
  simulator,
  setOf,
  bearerOf,
  graphRequests,
  refreshRequests,
  seededWeek,
  nodeRed,
  advanceClock,
  stopQuietly,
  configNode,
  eventsEndpoint,
  probeEndpoint,
  tab,
  fn,
  debugNode,
  callEvents,
  isCatchable,
  probe,
  storeDir,
  storeStem,
  dialogSettings,
  startSignIn,
  authorizeAt,
  signInViaCallback,
};
