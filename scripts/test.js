#!/usr/bin/env node
// `npm test`: build (strict type check), lint, format check, then the tests: unit and simulator tests, the
// runtime tests on Node-RED 4 (this Node) and on Node-RED 5 (Node 24 from tools/node24), the full-process
// tests and the browser test. Stops at the first failure. `--skip=nr5,e2e,hardening,browser` leaves steps out while developing.
'use strict';
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..');
const skip = new Set(
  process.argv
    .filter((a) => a.startsWith('--skip='))
    .flatMap((a) => a.slice(7).split(','))
    .filter(Boolean),
);
const tools = require('./tools');
const mocha = require.resolve('mocha/bin/mocha.js');
const bin = (pkg, file) => path.join(path.dirname(require.resolve(`${pkg}/package.json`)), file);

function run(title, command, args, env = {}) {
  const started = Date.now();
  console.log(`\n=== ${title}`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (result.status !== 0) {
    console.error(`\n=== FAILED: ${title} (${seconds} s)`);
    process.exit(result.status || 1);
  }
  console.log(`=== ok: ${title} (${seconds} s)`);
}

function ensureNode24() {
  if (fs.existsSync(tools.node24) && fs.existsSync(tools.nodeRed5)) return;
  run('install Node 24 and Node-RED 5 into tools/', process.execPath, [
    path.join(root, 'scripts', 'tools.js'),
  ]);
}

function existing(globs) {
  return globs.filter((g) => fs.existsSync(path.join(root, g.split('/*')[0])));
}

run('build (tsc strict)', process.execPath, ['scripts/build.js']);
run('lint (eslint)', process.execPath, [bin('eslint', 'bin/eslint.js'), '.']);
run('format (prettier --check)', process.execPath, [bin('prettier', 'bin/prettier.cjs'), '--check', '.']);

const fast = existing(['test/unit/**/*.test.js', 'test/sim/**/*.test.js', 'test/runtime/**/*.test.js']);
run('unit, simulator and runtime tests: Node-RED 4 on Node ' + process.versions.node, process.execPath, [
  mocha,
  ...fast,
]);

if (!skip.has('nr5')) {
  ensureNode24();
  run(
    'runtime tests: Node-RED 5 on Node 24',
    tools.node24,
    [mocha, ...existing(['test/runtime/**/*.test.js'])],
    {
      O365_NODE_RED: 'node-red-5',
    },
  );
}
if (!skip.has('e2e') && fs.existsSync(path.join(root, 'test', 'e2e'))) {
  run('full-process tests (packed tarball, node-red 4 and 5)', process.execPath, [
    mocha,
    '--timeout',
    '600000',
    'test/e2e/**/*.test.js',
  ]);
}
if (!skip.has('hardening') && fs.existsSync(path.join(root, 'test', 'hardening'))) {
  // --sort: the secrets scan (9-secrets) runs last, over everything the other sections left behind.
  run('hardening (packed tarball: faults, crashes, soak, abuse, secrets)', process.execPath, [
    mocha,
    '--sort',
    '--timeout',
    '900000',
    'test/hardening/*.test.js',
  ]);
}
if (!skip.has('browser') && fs.existsSync(path.join(root, 'test', 'browser'))) {
  run('browser test (Chromium)', process.execPath, [
    mocha,
    '--timeout',
    '600000',
    'test/browser/**/*.test.js',
  ]);
}
console.log('\nAll checks passed.');
