// The Node-RED runtime the runtime tests load: Node-RED 4 by default, another one (node-red-5) by name.
'use strict';
const helper = require('node-red-node-test-helper');

const path = require('path');
const { nodeRedDir } = require('./node-red-dir');

const runtimePackage = process.env.O365_NODE_RED || 'node-red';
helper.init(require.resolve(nodeRedDir(runtimePackage)));

module.exports = { helper, runtimePackage };

/** A core node module of the runtime under test, e.g. coreNode('sequence/17-split.js') for split/join. */
function coreNode(file) {
  const base = path.dirname(require.resolve(nodeRedDir(runtimePackage)));
  return require(require.resolve(`@node-red/nodes/core/${file}`, { paths: [base] }));
}

module.exports.coreNode = coreNode;
