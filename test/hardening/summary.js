// The hardening suite's figures: every section records what it measured here, and at the end of the run one table
// is printed and written to test-artifacts/hardening-summary.json and .md (for the README).
// `node test/hardening/summary.js` prints the table of the last run again from the JSON.
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..', '..');
const artifacts = path.join(root, 'test-artifacts');
const jsonFile = path.join(artifacts, 'hardening-summary.json');
const mdFile = path.join(artifacts, 'hardening-summary.md');

/** What the sections fill in; a section that did not run stays null and is left out of the table. */
const data = {
  startedAt: new Date().toISOString(),
  finishedAt: null,
  seconds: null,
  options: {},
  runtimes: {},
  faults: null,
  crash: null,
  soak: null,
  abuse: null,
  secrets: null,
};

function faults() {
  if (!data.faults) {
    data.faults = { scenarios: 0, injected: 0, survived: 0, reported: 0, failed: 0, cases: [] };
  }
  return data.faults;
}

/** One fault scenario: outcome 'survived' | 'reported' | 'failed'. */
function recordFault({ runtime, name, injected, outcome, code, ms }) {
  const f = faults();
  f.scenarios += 1;
  f.injected += injected;
  f[outcome] += 1;
  f.cases.push({ runtime, name, injected, outcome, code: code || undefined, ms });
}

/** One crash loop of a (runtime, point, mode); outcome is a short text such as 'new set, events'. */
function recordCrash({ runtime, point, mode, ok, outcome, refreshes, ms }) {
  if (!data.crash) data.crash = { rows: [] };
  let row = data.crash.rows.find((r) => r.runtime === runtime && r.point === point && r.mode === mode);
  if (!row) {
    row = { runtime, point, mode, loops: 0, passed: 0, outcomes: {}, maxRefreshes: 0, ms: 0 };
    data.crash.rows.push(row);
  }
  row.loops += 1;
  if (ok) row.passed += 1;
  row.outcomes[outcome] = (row.outcomes[outcome] || 0) + 1;
  row.maxRefreshes = Math.max(row.maxRefreshes, refreshes || 0);
  row.ms += ms || 0;
}

/** One soak run (one per runtime). */
function recordSoak(values) {
  if (!data.soak) data.soak = [];
  data.soak.push(values);
}

function abuse() {
  if (!data.abuse) data.abuse = { tried: 0, refused: 0, cases: [] };
  return data.abuse;
}

/** One abuse attempt; `refused` = it changed nothing (refused with the right status, or contained). */
function recordAbuse({ runtime, group, name, refused, detail }) {
  const a = abuse();
  a.tried += 1;
  if (refused) a.refused += 1;
  a.cases.push({ runtime, group, name, refused, detail });
}

function recordSecrets(values) {
  data.secrets = values;
}

function recordRuntime(major, nr) {
  if (nr && nr.version) data.runtimes[major] = { nodeRed: nr.version, node: nr.nodeVersion };
}

function mb(bytes) {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function runtimeLabel(major) {
  const r = data.runtimes[major];
  return r
    ? `Node-RED ${r.nodeRed.replace(/^v/, '')} on Node ${r.node.replace(/^v/, '')}`
    : `Node-RED ${major}`;
}

function runtimes() {
  return Object.keys(data.runtimes).map(runtimeLabel).join(' and ') || 'no runtime';
}

const MODE_SHORT = {
  'used refresh tokens stay valid (Microsoft)': 'used refresh tokens stay valid',
  'used refresh tokens revoked': 'used refresh tokens revoked',
};

/** The table rows: [section, measure, value]. A section names its runtime when the run had more than one. */
function rows() {
  const out = [];
  const several = Object.keys(data.runtimes).length > 1;
  const section = (name, major) => (several ? `${name} (NR ${major})` : name);
  const f = data.faults;
  if (f) {
    for (const major of [...new Set(f.cases.map((c) => c.runtime))]) {
      const cases = f.cases.filter((c) => c.runtime === major);
      const count = (outcome) => cases.filter((c) => c.outcome === outcome).length;
      const injected = cases.reduce((n, c) => n + c.injected, 0);
      const codes = {};
      for (const c of cases) if (c.outcome === 'reported') codes[c.code] = (codes[c.code] || 0) + 1;
      const list = Object.entries(codes)
        .map(([code, n]) => `${code} ×${n}`)
        .join(', ');
      out.push([
        section('Faults', major),
        'scenarios / faulty answers injected',
        `${cases.length} / ${injected}`,
      ]);
      out.push([section('Faults', major), 'survived: full, correct result', String(count('survived'))]);
      out.push([
        section('Faults', major),
        'reported: catchable error, code + cause',
        `${count('reported')}${list ? ` (${list})` : ''}`,
      ]);
      out.push([section('Faults', major), 'neither (failures)', String(count('failed'))]);
    }
  }
  const c = data.crash;
  if (c) {
    for (const row of c.rows) {
      const outcomes = Object.entries(row.outcomes)
        .map(([text, n]) => `${text} ×${n}`)
        .join('; ');
      out.push([
        section('Crash', row.runtime),
        `${row.point}, ${MODE_SHORT[row.mode] || row.mode}`,
        `${row.passed}/${row.loops} loops ok: ${outcomes}`,
      ]);
    }
  }
  for (const s of data.soak || []) {
    const name = section('Soak', s.runtime);
    out.push([
      name,
      `polling every ${s.pollSeconds} s, access tokens of ${s.lifetime} s`,
      `${(s.seconds / 60).toFixed(1)} min: ${s.polls} polls, ${s.errors} errors, ${s.unauthorized} Graph 401s`,
    ]);
    out.push([
      name,
      'memory start → end (after GC)',
      `RSS ${mb(s.memoryStart.rss)} → ${mb(s.memoryEnd.rss)} (peak ${mb(s.rssPeak)}), heap ${mb(
        s.memoryStart.heapUsed,
      )} → ${mb(s.memoryEnd.heapUsed)}`,
    ]);
    out.push([
      name,
      'refreshes: expected (token expiries) / seen',
      `${s.expiries} / ${s.refreshes} (allowed ${s.refreshMin}…${s.refreshMax}: one when due at ${s.lifetime / 2} s, at the next ${s.pollSeconds} s poll)`,
    ]);
    out.push([
      name,
      `after ${s.redeploys} redeploys`,
      `${s.pollRate.toFixed(2)} Graph polls/s (one node: 1/s), live timers ${s.timersBefore} → ${s.timersAfter}`,
    ]);
  }
  const a = data.abuse;
  if (a) {
    for (const major of [...new Set(a.cases.map((x) => x.runtime))]) {
      const cases = a.cases.filter((x) => x.runtime === major);
      const groups = {};
      for (const x of cases) {
        const g = (groups[x.group] = groups[x.group] || { tried: 0, refused: 0 });
        g.tried += 1;
        if (x.refused) g.refused += 1;
      }
      const refused = cases.filter((x) => x.refused).length;
      out.push([
        section('Abuse', major),
        'cases tried / refused (changed nothing)',
        `${cases.length} / ${refused}`,
      ]);
      for (const [group, g] of Object.entries(groups)) {
        out.push([section('Abuse', major), `· ${group}`, `${g.tried} / ${g.refused}`]);
      }
    }
  }
  const x = data.secrets;
  if (x) {
    out.push(['Secrets', 'searched in', x.places]);
    out.push(['Secrets', 'issued / found in plain text', `${x.secrets} (${x.kinds}) / ${x.found}`]);
  }
  return out;
}

function markdown() {
  const lines = [
    `Hardening run of ${data.finishedAt || new Date().toISOString()}` +
      (data.seconds ? `, ${Math.floor(data.seconds / 60)} min ${Math.round(data.seconds % 60)} s` : '') +
      (data.options.full ? ' (full run)' : '') +
      `, ${runtimes()}`,
    '',
    '| Section | Measure | Result |',
    '|---|---|---|',
    ...rows().map((r) => `| ${r.map((v) => v.replace(/\|/g, '\\|')).join(' | ')} |`),
  ];
  return `${lines.join('\n')}\n`;
}

function text() {
  const table = rows();
  const widths = [0, 1].map((i) => Math.max(...table.map((r) => r[i].length), 8));
  const line = (r) => `  ${r[0].padEnd(widths[0])}  ${r[1].padEnd(widths[1])}  ${r[2]}`;
  return [
    '',
    `  Hardening summary${data.seconds ? ` (${Math.round(data.seconds)} s)` : ''}: ${runtimes()}`,
    line(['Section', 'Measure', 'Result']),
    line(['-'.repeat(widths[0]), '-'.repeat(widths[1]), '------']),
    ...table.map(line),
    '',
  ].join('\n');
}

/** Prints the table and writes the JSON and markdown files; called once, after every section. */
function finish(options = {}) {
  data.finishedAt = new Date().toISOString();
  data.seconds = (Date.parse(data.finishedAt) - Date.parse(data.startedAt)) / 1000;
  data.options = options;
  fs.mkdirSync(artifacts, { recursive: true });
  fs.writeFileSync(jsonFile, `${JSON.stringify(data, null, 2)}\n`);
  fs.writeFileSync(mdFile, markdown());
  console.log(text());
  console.log(`  written to ${path.relative(root, jsonFile)} and ${path.relative(root, mdFile)}\n`);
}

module.exports = {
  data,
  recordFault,
  recordCrash,
  recordSoak,
  recordAbuse,
  recordSecrets,
  recordRuntime,
  finish,
  markdown,
  text,
};

if (require.main === module) {
  Object.assign(data, JSON.parse(fs.readFileSync(jsonFile, 'utf8')));
  console.log(process.argv.includes('--md') ? markdown() : text());
}
