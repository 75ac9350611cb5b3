// `npm run bench -- --profile`: CPU profiles of a few extra rounds of the node and of the floor (inspector, in
// process, after the timed rounds so the profiler never slows them), summed per function: self time, and inclusive
// time for the package's own functions, per fetch.
'use strict';
const inspector = require('inspector');
const path = require('path');

const { dist } = require('../../test/lib/dist');

const ROOT = path.resolve(__dirname, '..', '..');
const DIST = where(`file://${dist}`);
const SAMPLING_INTERVAL_US = 100;

function post(session, method, params = {}) {
  return new Promise((resolve, reject) =>
    session.post(method, params, (err, result) => (err ? reject(err) : resolve(result))),
  );
}

async function profile(session, rounds, fn) {
  await post(session, 'Profiler.setSamplingInterval', { interval: SAMPLING_INTERVAL_US });
  await post(session, 'Profiler.start');
  for (let i = 0; i < rounds; i++) await fn();
  const { profile: result } = await post(session, 'Profiler.stop');
  return result;
}

function where(url) {
  if (!url) return '';
  const file = url.startsWith('file://') ? url.slice('file://'.length) : url;
  return file.startsWith(ROOT) ? path.relative(ROOT, file) : file;
}

/** Which part of the process a function belongs to, for the coarse breakdown. */
function area(frame) {
  const file = where(frame.url);
  const name = frame.functionName;
  if (name === '(garbage collector)') return 'GC';
  if (name === '(idle)') return 'idle (waiting for the socket)';
  if (name === '(program)' || name === '(root)') return 'V8/native (program)';
  if (file.startsWith('test/sim/')) return 'simulator (same for both)';
  if (file.startsWith(`${DIST}/`)) return 'this package (dist/)';
  if (file.includes('node_modules/axios/')) return 'axios';
  if (file.includes('node_modules/node-red') || file.includes('node_modules/@node-red/'))
    return 'Node-RED runtime';
  if (file.includes('node_modules/')) return `other packages`;
  if (file.startsWith('node:')) return 'Node core (http, streams, …)';
  if (file.startsWith('scripts/')) return 'bench loop';
  if (!file) return `native: ${name || '(anonymous)'}`;
  return 'other';
}

function keyOf(frame) {
  const file = where(frame.url);
  const name = frame.functionName || '(anonymous)';
  return file ? `${name}  ${file}:${frame.lineNumber + 1}` : name;
}

/** Self time per function and per area, and inclusive time per function (recursion counted once), in ms. */
function summarize(result) {
  const byId = new Map(result.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of result.nodes) for (const child of n.children || []) parent.set(child, n.id);
  const self = new Map();
  const inclusive = new Map();
  const areas = new Map();
  const add = (map, key, ms) => map.set(key, (map.get(key) || 0) + ms);
  let total = 0;
  result.samples.forEach((id, i) => {
    const ms = (result.timeDeltas[i] || 0) / 1000;
    const node = byId.get(id);
    total += ms;
    add(self, keyOf(node.callFrame), ms);
    add(areas, area(node.callFrame), ms);
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const key = keyOf(byId.get(cur).callFrame);
      if (!seen.has(key)) {
        seen.add(key);
        add(inclusive, key, ms);
      }
    }
  });
  return { self, inclusive, areas, total };
}

function top(map, n, rounds, filter = () => true) {
  return [...map.entries()]
    .filter(([key]) => filter(key))
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([key, ms]) => `  ${(ms / rounds).toFixed(1).padStart(8)} ms  ${key}`)
    .join('\n');
}

async function profileRounds({ rounds, node, floor }) {
  const session = new inspector.Session();
  session.connect();
  try {
    await post(session, 'Profiler.enable');
    const profiles = {
      node: summarize(await profile(session, rounds, node)),
      floor: summarize(await profile(session, rounds, floor)),
    };
    console.log(
      `\nCPU profile: ${rounds} more rounds of each, ${SAMPLING_INTERVAL_US} µs sampling, ms per fetch`,
    );
    const names = new Set([...profiles.node.areas.keys(), ...profiles.floor.areas.keys()]);
    const rows = [...names]
      .map((name) => [
        name,
        (profiles.node.areas.get(name) || 0) / rounds,
        (profiles.floor.areas.get(name) || 0) / rounds,
      ])
      .sort((a, b) => b[1] - a[1]);
    console.log(`  ${'area'.padEnd(34)} ${'node'.padStart(8)} ${'floor'.padStart(8)}`);
    for (const [name, a, b] of rows) {
      console.log(`  ${name.padEnd(34)} ${a.toFixed(1).padStart(8)} ${b.toFixed(1).padStart(8)}`);
    }
    console.log(
      `  ${'total'.padEnd(34)} ${(profiles.node.total / rounds).toFixed(1).padStart(8)} ${(profiles.floor.total / rounds).toFixed(1).padStart(8)}`,
    );
    console.log('\nnode: top functions by self time');
    console.log(top(profiles.node.self, 20, rounds, (key) => !/^\((idle|program|root)\)/.test(key)));
    console.log('\nnode: this package, axios and Node-RED by inclusive time');
    console.log(
      top(
        profiles.node.inclusive,
        25,
        rounds,
        (key) => key.includes(`${DIST}/`) || /axios|node-red/.test(key),
      ),
    );
    console.log('\nfloor: top functions by self time');
    console.log(top(profiles.floor.self, 10, rounds, (key) => !/^\((idle|program|root)\)/.test(key)));
    await post(session, 'Profiler.disable');
  } finally {
    session.disconnect();
  }
}

module.exports = { profileRounds };
