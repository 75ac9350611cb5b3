#!/usr/bin/env node
// Installs the test tools that live outside the root node_modules: Node 24 (tools/node24) and Node-RED 5
// (tools/node-red-5, installed by npm running on Node 24, so its engine check sees the Node it runs on).
// `node scripts/tools.js` installs what is missing; `--ci` reinstalls exactly from the lockfiles.
'use strict';
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..');
const node24 = path.join(root, 'tools', 'node24', 'node_modules', 'node', 'bin', 'node');
const nodeRed5 = path.join(root, 'tools', 'node-red-5', 'node_modules', 'node-red');

/** npm's own CLI script, so it can be run by another Node binary. */
function npmCli() {
  const candidates = [
    process.env.npm_execpath,
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js'),
    '/usr/lib/node_modules/npm/bin/npm-cli.js',
  ];
  const found = candidates.find((c) => c && /npm-cli\.js$/.test(c) && fs.existsSync(c));
  if (!found) throw new Error('tools: npm-cli.js not found; run this script through npm or set npm_execpath');
  return found;
}

function npmCi(nodeBinary, folder) {
  console.log(
    `tools: npm ci in ${path.relative(root, folder)} (Node ${nodeBinary === process.execPath ? process.versions.node : '24'})`,
  );
  const result = spawnSync(nodeBinary, [npmCli(), 'ci', '--no-audit', '--no-fund', '--prefix', folder], {
    cwd: root,
    stdio: 'inherit',
  });
  if (result.status !== 0) process.exit(result.status || 1);
}

function install({ force }) {
  if (force || !fs.existsSync(node24)) npmCi(process.execPath, path.join(root, 'tools', 'node24'));
  if (force || !fs.existsSync(nodeRed5)) npmCi(node24, path.join(root, 'tools', 'node-red-5'));
}

module.exports = { node24, nodeRed5, install };

if (require.main === module) install({ force: process.argv.includes('--ci') });
