// The Node-RED runtime the runtime tests load: Node-RED 4 by default, another one (node-red-5) by name.
'use strict';
const helper = require('node-red-node-test-helper');

const runtimePackage = process.env.O365_NODE_RED || 'node-red';
helper.init(require.resolve(runtimePackage));

module.exports = { helper, runtimePackage };
