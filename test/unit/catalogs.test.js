// Every message key the code names exists in the en-US and the de catalog, and both catalogs hold the same keys:
// a missing key would show the key itself to the user (German users would get English or worse).
'use strict';
const fs = require('fs');
const path = require('path');
require('should');

const root = path.resolve(__dirname, '..', '..');
const nodesDir = path.join(root, 'nodes');
const LANGS = ['en-US', 'de'];

function filesUnder(dir, ext) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(full, ext));
    else if (entry.name.endsWith(ext) && !full.includes(`${path.sep}locales${path.sep}`)) out.push(full);
  }
  return out;
}

function catalog(node, lang) {
  return JSON.parse(fs.readFileSync(path.join(nodesDir, node, 'locales', lang, `${node}.json`), 'utf8'));
}

/** The value at a dotted key, or undefined. */
function lookup(tree, key) {
  let at = tree;
  for (const part of key.split('.')) {
    if (!at || typeof at !== 'object' || !(part in at)) return undefined;
    at = at[part];
  }
  return at;
}

function leaves(tree, prefix = '') {
  const out = [];
  for (const [name, value] of Object.entries(tree)) {
    const key = prefix ? `${prefix}.${name}` : name;
    if (value && typeof value === 'object') out.push(...leaves(value, key));
    else out.push(key);
  }
  return out.sort();
}

const nodeNames = fs
  .readdirSync(nodesDir)
  .filter((name) => fs.existsSync(path.join(nodesDir, name, 'locales', 'en-US', `${name}.json`)));
const runtime = Object.fromEntries(LANGS.map((lang) => [lang, catalog('o365-config', lang)]));
const sources = filesUnder(nodesDir, '.ts').map((file) => ({
  file: path.relative(root, file),
  text: fs.readFileSync(file, 'utf8'),
}));

// Helpers that put a prefix before the key they are given as their second argument.
const KEY_BUILDERS = {
  windowError: 'errors.window.',
  configError: 'errors.config.',
  invalidInput: 'errors.events.',
};

/** [{file, key, prefixOnly}] for every runtime message key the TypeScript names. */
function runtimeKeys() {
  const found = [];
  for (const { file, text } of sources) {
    for (const m of text.matchAll(/\bt\(\s*'([^']+)'/g)) found.push({ file, key: m[1] });
    // t(`errors.config.${key}`): the block must exist; its keys come in through the builders below.
    for (const m of text.matchAll(/\bt\(\s*`([^`$]+)\.\$\{/g)) found.push({ file, key: m[1], block: true });
    for (const [builder, prefix] of Object.entries(KEY_BUILDERS)) {
      const calls = new RegExp(`\\b${builder}\\(\\s*[^,()]+,\\s*'([^']+)'`, 'g');
      for (const m of text.matchAll(calls)) found.push({ file, key: prefix + m[1] });
    }
  }
  return found;
}

describe('message catalogs', function () {
  it('hold every key the runtime code names, in en-US and de', function () {
    const keys = runtimeKeys();
    keys.length.should.be.above(100);
    const missing = [];
    for (const { file, key, block } of keys) {
      for (const lang of LANGS) {
        const value = lookup(runtime[lang], `o365-config.${key}`);
        const ok = block ? value && typeof value === 'object' : typeof value === 'string';
        if (!ok) missing.push(`${lang}: ${key} (${file})`);
      }
    }
    missing.should.eql([]);
  });

  it('hold the words for every problem and hint the window grammar reports', function () {
    const grammar = sources.find((s) => s.file.endsWith(path.join('time', 'grammar.ts'))).text;
    const readIso = grammar.slice(
      grammar.indexOf('export function readIso'),
      grammar.indexOf('export function isProblem'),
    );
    const hints = grammar.slice(
      grammar.indexOf('export function windowHint'),
      grammar.indexOf('/** The words people'),
    );
    const keys = [...readIso.matchAll(/key: '(\w+)'/g), ...hints.matchAll(/return '(\w+)'/g)].map(
      (m) => m[1],
    );
    keys.should.containDeep(['notIso', 'noMonth', 'noDay', 'noTime', 'noOffset', 'hintSpaces', 'hintUnits']);
    const missing = [];
    for (const lang of LANGS) {
      for (const key of keys) {
        if (typeof lookup(runtime[lang], `o365-config.grammar.${key}`) !== 'string')
          missing.push(`${lang} ${key}`);
      }
      // The editor says the hints in its own words (its catalog), checked with the same grammar code.
      for (const key of keys.filter((k) => k.startsWith('hint'))) {
        if (typeof lookup(catalog('o365-events', lang), `o365-events.grammar.${key}`) !== 'string') {
          missing.push(`editor ${lang} ${key}`);
        }
      }
    }
    missing.should.eql([]);
  });

  for (const node of nodeNames) {
    it(`${node}: en-US and de hold the same keys`, function () {
      leaves(catalog(node, 'de')).should.eql(leaves(catalog(node, 'en-US')));
    });

    it(`${node}: every data-i18n key of the editor exists in both catalogs`, function () {
      const html = fs.readFileSync(path.join(nodesDir, node, `${node}.html`), 'utf8');
      const keys = [...html.matchAll(/data-i18n="(?:\[[a-z]+\])?([^"]+)"/g)].map((m) => m[1]);
      keys.length.should.be.above(3);
      const missing = [];
      for (const lang of LANGS) {
        const own = catalog(node, lang);
        for (const key of keys) if (typeof lookup(own, key) !== 'string') missing.push(`${lang}: ${key}`);
      }
      missing.should.eql([]);
    });
  }
});
