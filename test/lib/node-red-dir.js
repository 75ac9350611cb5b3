// Where each Node-RED runtime under test is installed: Node-RED 4 in the root node_modules (it runs on this
// machine's Node 20), Node-RED 5 in tools/node-red-5 (installed by scripts/tools.js with Node 24's npm).
'use strict';
const path = require('path');

const root = path.resolve(__dirname, '..', '..');
const DIRS = {
  'node-red': path.join(root, 'node_modules', 'node-red'),
  'node-red-5': path.join(root, 'tools', 'node-red-5', 'node_modules', 'node-red'),
};

/** The folder of a runtime by its name ('node-red' or 'node-red-5'). */
function nodeRedDir(name) {
  const dir = DIRS[name];
  if (!dir) throw new Error(`unknown Node-RED runtime ${name}; use node-red or node-red-5`);
  return dir;
}

module.exports = { nodeRedDir };
