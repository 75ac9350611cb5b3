// Where the compiled package lives for the tests (O365_DIST overrides, for builds made elsewhere).
'use strict';
const path = require('path');

const root = path.resolve(__dirname, '..', '..');
const dist = process.env.O365_DIST ? path.resolve(process.env.O365_DIST) : path.join(root, 'dist');

/** Absolute path of a compiled file, e.g. distPath('nodes/shared/time/window.js'). */
function distPath(rel) {
  return path.join(dist, rel);
}

module.exports = { root, dist, distPath };
