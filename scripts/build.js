#!/usr/bin/env node
// Builds the package: compiles nodes/**/*.ts with tsc into dist/, then copies each node's .html,
// locales/ and the shared icons/ next to its compiled .js (Node-RED only looks beside the node file).
'use strict';
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..');
// O365_DIST lets parallel work build elsewhere; tsc writes there with --outDir.
const dist = process.env.O365_DIST ? path.resolve(process.env.O365_DIST) : path.join(root, 'dist');
const NODES = ['o365-config', 'o365-auth', 'o365-events'];

function compile() {
  fs.rmSync(dist, { recursive: true, force: true });
  const tsc = require.resolve('typescript/bin/tsc');
  const run = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.json'), '--outDir', dist], {
    stdio: 'inherit',
  });
  if (run.status !== 0) {
    console.error('build: tsc failed');
    process.exit(run.status || 1);
  }
}

function copyAssets() {
  for (const name of NODES) {
    const src = path.join(root, 'nodes', name);
    const out = path.join(dist, 'nodes', name);
    fs.mkdirSync(out, { recursive: true });
    fs.copyFileSync(path.join(src, `${name}.html`), path.join(out, `${name}.html`));
    fs.cpSync(path.join(src, 'locales'), path.join(out, 'locales'), { recursive: true });
    fs.cpSync(path.join(root, 'icons'), path.join(out, 'icons'), { recursive: true });
  }
}

compile();
copyAssets();
console.log('build: dist/ ready');
