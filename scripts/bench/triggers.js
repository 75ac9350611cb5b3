// `npm run bench`, second part: 200 calendar trigger nodes over 50 calendars in the real Node-RED runtime (the
// compiled dist/), against the simulator on loopback. Prints the reads per poll (goal: one per calendar), the
// timers the nodes hold (goal: one per node, plus one poll timer per calendar) and the fire latency p50/p99 (goal:
// p99 < 1 s), measured from each firing's planned instant to its arrival at a helper node. Never asserts.
'use strict';
const fs = require('fs');

const CALENDARS = 50;
const PER_CALENDAR = 4;
const SECOND = 1000;

function percentile(values, p) {
  const sorted = values.slice().sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/**
 * Counts the timers the package's controllers hold: the shared systemClock (dist/nodes/shared/time/clock.js, the
 * same module instance the nodes use) wrapped for the bench only.
 */
function countTimers(distPath) {
  const { systemClock } = require(distPath('nodes/shared/time/clock.js'));
  const live = new Set();
  const { setTimeout: set, clearTimeout: clear } = systemClock;
  systemClock.setTimeout = (callback, ms) => {
    const handle = set((...args) => {
      live.delete(handle);
      callback(...args);
    }, ms);
    live.add(handle);
    return handle;
  };
  systemClock.clearTimeout = (handle) => {
    live.delete(handle);
    clear(handle);
  };
  return () => live.size;
}

async function benchTriggers({
  distPath,
  startSimulator,
  helper,
  NODES,
  freshUserDir,
  onTab,
  configFor,
  signedInCredentials,
}) {
  const sim = await startSimulator({ eventCount: 0 });
  const userDir = freshUserDir();
  try {
    const { node: config } = configFor(sim);
    const creds = signedInCredentials(sim);
    const mailboxes = [];
    const start = Date.now() + 12 * SECOND;
    for (let c = 0; c < CALENDARS; c++) {
      const upn = `bench-trigger-${c}@contoso.onmicrosoft.com`;
      sim.createBulkMailbox(upn, 0);
      // One meeting per calendar, spread over two seconds; each of its 4 triggers fires 0-3 s before its start.
      const at = start + c * 40;
      sim.addEvent(upn, null, { subject: `Meeting ${c}`, start: at, end: at + 30 * 60 * SECOND });
      mailboxes.push(upn);
    }
    const nodes = [config];
    for (let c = 0; c < CALENDARS; c++) {
      for (let j = 0; j < PER_CALENDAR; j++) {
        const id = `t-${c}-${j}`;
        nodes.push({
          id,
          type: 'o365-trigger',
          config: config.id,
          user: mailboxes[c],
          timezone: 'UTC',
          offset: `-${j}s`,
          wires: [['out']],
        });
      }
    }
    nodes.push({ id: 'out', type: 'helper' });
    const activeTimers = countTimers(distPath);
    helper.settings({ userDir });
    await helper.load(NODES, onTab(nodes), { cfg: creds.cfg });
    await helper.getNode('cfg').ready;
    const arrivals = [];
    helper.getNode('out').on('input', (msg) => arrivals.push(Date.now() - Date.parse(msg.trigger.at)));
    const views = () => sim.requests.filter((r) => r.kind === 'graph' && r.path.endsWith('/calendarView'));
    for (let i = 0; i < 500 && views().length < CALENDARS; i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 1000));
    const reads = views().length;
    const timers = activeTimers();
    for (let i = 0; i < 1000 && arrivals.length < CALENDARS * PER_CALENDAR; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    console.log(`\nbench: ${CALENDARS * PER_CALENDAR} calendar trigger nodes over ${CALENDARS} calendars`);
    console.log(
      `  reads for the first poll: ${reads} (${(reads / CALENDARS).toFixed(2)} per calendar; goal 1)`,
    );
    console.log(
      `  timers held after planning: ${timers} for ${CALENDARS * PER_CALENDAR} nodes and ${CALENDARS} shared ` +
        `poll timers (goal ${CALENDARS * PER_CALENDAR + CALENDARS}: one per node, one per calendar)`,
    );
    console.log(
      `  firings: ${arrivals.length} of ${CALENDARS * PER_CALENDAR}; latency from the planned instant ` +
        `p50 ${percentile(arrivals, 50)} ms, p99 ${percentile(arrivals, 99)} ms, max ${Math.max(...arrivals)} ms, ` +
        `min ${Math.min(...arrivals)} ms (goal p99 < 1000 ms, never below 0)`,
    );
  } finally {
    await helper.unload().catch(() => undefined);
    await sim.close();
    fs.rmSync(userDir, { recursive: true, force: true });
  }
}

module.exports = { benchTriggers };
