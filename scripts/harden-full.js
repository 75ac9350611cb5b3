#!/usr/bin/env node
// `npm run harden:full`: the hardening suite at full length (about an hour on a 2-core machine): Node-RED 4 on
// Node 20 and Node-RED 5 on Node 24, 50 kill loops per crash point, a 10-minute soak per major, 40 rounds of mixed
// faults. CI runs the same suite shortened (`npm run test:hardening`, part of `npm test`). Run it before a release
// and on a schedule; its summary (test-artifacts/hardening-summary.md) is what the README's reliability table shows.
//
//   node scripts/harden-full.js [mocha arguments, e.g. --grep abuse]
//
// O365_HARDENING_MAJORS, _SOAK_MINUTES, _CRASH_LOOPS and _FAULT_ROUNDS still override single lengths.
'use strict';
const path = require('path');
const { spawn } = require('child_process');

const root = path.resolve(__dirname, '..');
const mocha = require.resolve('mocha/bin/mocha.js');
const args = [mocha, '--sort', '--timeout', '900000', ...process.argv.slice(2), 'test/hardening/*.test.js'];
const started = Date.now();
const child = spawn(process.execPath, args, {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, O365_HARDENING_FULL: '1' },
});
// Ctrl-C reaches mocha too (same process group); the harness kills the Node-RED processes it started.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('close', (code, signal) => {
  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  console.log(`harden:full: ${code === 0 ? 'passed' : `FAILED (${signal || code})`} after ${minutes} min`);
  process.exit(code === null ? 1 : code);
});
