#!/usr/bin/env node
// Builds the package: compiles nodes/**/*.ts with tsc into dist/, then copies each node's .html,
// locales/ and the shared icons/ next to its compiled .js (Node-RED only looks beside the node file).
// A `<script type="text/javascript" data-o365-inline="time/grammar"></script>` in a node's .html is replaced by
// the compiled module nodes/shared/time/grammar.ts, exposed as window.O365Calendar.grammar: the editor runs the
// very code the runtime runs (the module must be browser-safe: no require).
'use strict';
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..');
// O365_DIST lets parallel work build elsewhere; tsc writes there with --outDir.
const dist = process.env.O365_DIST ? path.resolve(process.env.O365_DIST) : path.join(root, 'dist');
const NODES = [
  'o365-config',
  'o365-auth',
  'o365-events',
  'o365-trigger',
  'o365-state',
  'o365-schedule',
  'o365-write',
];

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

const INLINE = /<script type="text\/javascript" data-o365-inline="([a-z-]+\/[a-z-]+)"><\/script>/g;

/**
 * The compiled shared module as a browser script that sets window.O365Calendar.<basename>. A browser-only module
 * written in JavaScript (nodes/shared/editor/*.js: jQuery, no types to check) is inlined from its source.
 */
function inlineModule(name) {
  const source = path.join(root, 'nodes', 'shared', `${name}.js`);
  const file = fs.existsSync(source) ? source : path.join(dist, 'nodes', 'shared', `${name}.js`);
  if (!fs.existsSync(file))
    throw new Error(`build: data-o365-inline names ${name}, but ${file} does not exist`);
  const code = fs.readFileSync(file, 'utf8');
  if (/\brequire\(/.test(code))
    throw new Error(`build: ${name} imports other modules; the editor cannot load it`);
  const key = path.basename(name).replace(/-([a-z])/g, (_, c) => c.toUpperCase());
  return [
    `<script type="text/javascript">`,
    `/* nodes/shared/${name}.ts, compiled and inlined by scripts/build.js */`,
    `(function () {`,
    `  var exports = {};`,
    code.replace(/^\/\/# sourceMappingURL=.*$/m, ''),
    `  var ns = (window.O365Calendar = window.O365Calendar || {});`,
    `  ns.${key} = exports;`,
    `})();`,
    `</script>`,
  ].join('\n');
}

function copyAssets() {
  for (const name of NODES) {
    const src = path.join(root, 'nodes', name);
    const out = path.join(dist, 'nodes', name);
    fs.mkdirSync(out, { recursive: true });
    const html = fs.readFileSync(path.join(src, `${name}.html`), 'utf8');
    fs.writeFileSync(
      path.join(out, `${name}.html`),
      html.replace(INLINE, (_, module) => inlineModule(module)),
    );
    fs.cpSync(path.join(src, 'locales'), path.join(out, 'locales'), { recursive: true });
    fs.cpSync(path.join(root, 'icons'), path.join(out, 'icons'), { recursive: true });
  }
}

compile();
copyAssets();
console.log('build: dist/ ready');
