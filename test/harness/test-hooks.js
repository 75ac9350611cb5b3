// The test-only behaviour the package does not ship, preloaded into the Node-RED processes the tests start
// (`node --require test/harness/test-hooks.js red.js …`, see nodered.js) and required by in-process tests:
// - a forced kill: with O365_CRASH_POINT=<name> the process kills itself with SIGKILL when the package publishes
//   that point on diagnostics_channel 'o365-calendar:point' (with O365_CRASH_AFTER=n only on the n-th arrival).
//   The variables are read at each arrival, so a running process can be armed (test/hardening/lib.js does).
// - a moved clock: with O365_TEST_CLOCK_FILE=<file>, Date.now() runs ahead by the milliseconds the file holds
//   (looked at no more than every 250 ms; missing or unparsable counts as 0). The package reads its time through
//   Date.now() (nodes/shared/time/clock.ts), so this moves the package's clock and the rest of the process alike.
'use strict';
const diagnostics = require('node:diagnostics_channel');
const fs = require('fs');
const { performance } = require('perf_hooks');

const POINT_CHANNEL = 'o365-calendar:point';
const CLOCK_CHECK_MS = 250;
const realNow = Date.now.bind(Date);

// ---------------------------------------------------------------------------------------------------------
// Forced kill at a named point.

const arrivals = new Map();

function onPoint(message) {
  const name = message && message.name;
  if (!name || process.env.O365_CRASH_POINT !== name) return;
  const count = (arrivals.get(name) || 0) + 1;
  arrivals.set(name, count);
  const wanted = Number(process.env.O365_CRASH_AFTER);
  const after = Number.isInteger(wanted) && wanted > 0 ? wanted : 1;
  if (count === after) process.kill(process.pid, 'SIGKILL');
}

// One subscription per process, however often this module is required (mocha may load it from several files).
const installed = Symbol.for('o365-calendar.test-hooks');
if (!globalThis[installed]) {
  globalThis[installed] = true;
  diagnostics.subscribe(POINT_CHANNEL, onPoint);
}

// ---------------------------------------------------------------------------------------------------------
// Moved clock.

let fixedOffset = 0;
let clockFile;

function readClockFile(file, checkedAt, previous) {
  try {
    const stat = fs.statSync(file);
    const signature = `${stat.mtimeMs}:${stat.size}:${stat.ino}`;
    if (previous && previous.signature === signature) return { ...previous, checkedAt };
    const offset = Number(fs.readFileSync(file, 'utf8').trim());
    return { file, checkedAt, signature, offset: Number.isFinite(offset) ? offset : 0 };
  } catch {
    return { file, checkedAt, signature: 'missing', offset: 0 };
  }
}

/** The offset now: the one set in this process, plus the clock file's when the variable names one. */
function currentOffset() {
  const file = process.env.O365_TEST_CLOCK_FILE;
  if (!file) return fixedOffset;
  const checkedAt = performance.now();
  if (!clockFile || clockFile.file !== file || checkedAt - clockFile.checkedAt >= CLOCK_CHECK_MS) {
    clockFile = readClockFile(file, checkedAt, clockFile && clockFile.file === file ? clockFile : undefined);
  }
  return fixedOffset + clockFile.offset;
}

Date.now = function now() {
  return realNow() + currentOffset();
};

/** Moves this process's clock `ms` ahead of real time (in-process tests; a child takes the clock file). */
function setClockOffset(ms) {
  fixedOffset = Number(ms) || 0;
}

function resetClock() {
  fixedOffset = 0;
}

module.exports = { POINT_CHANNEL, CLOCK_CHECK_MS, realNow, setClockOffset, resetClock, currentOffset };
