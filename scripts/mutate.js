#!/usr/bin/env node
// `npm run mutate`: breaks the code on purpose, one place at a time (the list in scripts/mutants.js), and runs the
// tests that should notice. A mutant the tests do not notice "survives": the behaviour it breaks is not tested.
// Each mutant: the file changed in place, a build into a separate dist (O365_DIST=.test-work/mutate-dist, so
// dist/ is never touched), the named tests run against it, the file restored. Exit code 1 if any mutant survives,
// 2 if the list is wrong (a `find` that does not occur exactly once, a mutant that does not compile, tests that
// fail before any break).
//
//   node scripts/mutate.js [--only TEXT] [--list] [--no-baseline] [--verbose]
//
// --only TEXT     only the mutants whose name contains TEXT (case-insensitive; repeatable)
// --list          print the mutants and exit
// --no-baseline   skip the first run of every named test without a break (it proves they pass as they are)
// --verbose       show the mocha output of every run
//
// A source file is never left modified: it is restored in `finally`, on SIGINT/SIGTERM/SIGHUP, and, should this
// process be killed outright, from the journal (.test-work/mutate-journal.json) at the start of the next run.
'use strict';
const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');

const root = path.resolve(__dirname, '..');
const work = path.join(root, '.test-work');
// Inside the repository, so the compiled files find node_modules (axios, windows-iana) as dist/ does.
const DIST = path.join(work, 'mutate-dist');
const JOURNAL = path.join(work, 'mutate-journal.json');
const RUN_TIMEOUT_MS = 10 * 60_000;
const mocha = require.resolve('mocha/bin/mocha.js');

function options(argv) {
  const only = [];
  for (let i = 0; i < argv.length; i++) if (argv[i] === '--only') only.push(String(argv[++i] || ''));
  return {
    only: only.map((s) => s.toLowerCase()).filter(Boolean),
    list: argv.includes('--list'),
    baseline: !argv.includes('--no-baseline'),
    verbose: argv.includes('--verbose'),
  };
}

// ---- keeping the sources intact ------------------------------------------------------------------------------------

/** The file currently broken on purpose: {file, original}. */
let broken;
/** The child running now (a build or mocha), killed with its process group on a signal. */
let child;

function restore() {
  if (!broken) return;
  const { file, original } = broken;
  fs.writeFileSync(file, original);
  if (fs.readFileSync(file, 'utf8') !== original) throw new Error(`mutate: could not restore ${file}`);
  broken = undefined;
  fs.rmSync(JOURNAL, { force: true });
}

/** A journal left by a run that was killed outright: put the file back before anything else. */
function recoverFromJournal() {
  if (!fs.existsSync(JOURNAL)) return;
  const { file, original } = JSON.parse(fs.readFileSync(JOURNAL, 'utf8'));
  fs.writeFileSync(file, original);
  fs.rmSync(JOURNAL, { force: true });
  console.log(`mutate: restored ${path.relative(root, file)} left broken by an interrupted run`);
}

function breakFile(file, original, mutated) {
  fs.mkdirSync(work, { recursive: true });
  // The journal is written (and synced) before the file changes, so no moment exists where only memory knows.
  const fd = fs.openSync(JOURNAL, 'w');
  fs.writeSync(fd, JSON.stringify({ file, original }));
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  broken = { file, original };
  fs.writeFileSync(file, mutated);
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (child) killGroup(child);
    try {
      restore();
    } finally {
      console.error(`\nmutate: stopped by ${signal}; sources restored`);
      process.exit(130);
    }
  });
}
process.on('exit', () => restore());

// ---- running ---------------------------------------------------------------------------------------------------------

function killGroup(proc) {
  try {
    process.kill(-proc.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Runs a command in its own process group; resolves {code, output, timedOut}. */
function run(args, env, verbose) {
  return new Promise((resolve) => {
    const childEnv = { ...process.env, ...env };
    for (const [name, value] of Object.entries(childEnv)) if (value === undefined) delete childEnv[name];
    const proc = spawn(process.execPath, args, {
      cwd: root,
      env: childEnv,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    let output = '';
    const keep = (chunk) => {
      output += chunk;
      if (verbose) process.stdout.write(chunk);
    };
    proc.stdout.on('data', keep);
    proc.stderr.on('data', keep);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(proc);
    }, RUN_TIMEOUT_MS);
    proc.on('close', (code) => {
      clearTimeout(timer);
      child = undefined;
      resolve({ code, output, timedOut });
    });
  });
}

async function build(verbose) {
  const result = await run([path.join(__dirname, 'build.js')], { O365_DIST: DIST }, verbose);
  return { ok: result.code === 0, output: result.output };
}

/** Runs mocha on the files (with --grep when given) against the mutate dist; returns {passed, failures}. */
async function tests(mutant, verbose) {
  const report = path.join(work, `mutate-report-${process.pid}.json`);
  fs.rmSync(report, { force: true });
  const args = [mocha, '--timeout', String(mutant.timeout || 60_000), '--reporter', 'json'];
  args.push('--reporter-option', `output=${report}`);
  if (mutant.grep) args.push('--grep', mutant.grep);
  args.push(...mutant.tests);
  // The full-process suites pack the working tree (the broken file included) and build inside the package: an
  // O365_DIST would send that build here instead, and the packed package would have no dist/.
  const packs = mutant.tests.some((t) => /^test\/(hardening|e2e)\//.test(t));
  const env = { O365_DIST: packs ? undefined : DIST };
  if (mutant.nodeRed) env.O365_NODE_RED = mutant.nodeRed;
  const result = await run(args, env, verbose);
  let failures;
  let total = 0;
  try {
    const json = JSON.parse(fs.readFileSync(report, 'utf8'));
    failures = json.failures.map((f) => `${f.fullTitle}: ${firstLine(f.err && f.err.message)}`);
    total = json.stats.tests;
  } catch {
    failures = result.code === 0 ? [] : [`mocha exited with ${result.code}: ${lastLines(result.output)}`];
  }
  fs.rmSync(report, { force: true });
  if (result.timedOut) failures.push(`no end within ${RUN_TIMEOUT_MS / 60_000} min (killed)`);
  const passed = result.code === 0 && failures.length === 0 && !result.timedOut;
  return { passed, failures, total };
}

function firstLine(text) {
  return String(text || '')
    .split('\n')[0]
    .slice(0, 160);
}

function lastLines(text) {
  return text.trim().split('\n').slice(-5).join(' | ').slice(0, 400);
}

// ---- the list ----------------------------------------------------------------------------------------------------------

/** Checks a mutant and returns its file's path, original text and broken text. */
function prepare(mutant) {
  for (const key of ['name', 'file', 'find', 'replace']) {
    if (typeof mutant[key] !== 'string') throw new Error(`mutant ${mutant.name || '?'}: ${key} is missing`);
  }
  if (!Array.isArray(mutant.tests) || mutant.tests.length === 0)
    throw new Error(`mutant ${mutant.name}: tests is empty`);
  for (const test of mutant.tests) {
    if (!fs.existsSync(path.join(root, test))) throw new Error(`mutant ${mutant.name}: no test file ${test}`);
  }
  const file = path.join(root, mutant.file);
  const original = fs.readFileSync(file, 'utf8');
  const at = original.indexOf(mutant.find);
  if (at < 0) throw new Error(`mutant ${mutant.name}: "${firstLine(mutant.find)}" not in ${mutant.file}`);
  if (original.indexOf(mutant.find, at + 1) >= 0)
    throw new Error(
      `mutant ${mutant.name}: "${firstLine(mutant.find)}" occurs more than once in ${mutant.file}`,
    );
  const mutated = original.slice(0, at) + mutant.replace + original.slice(at + mutant.find.length);
  if (mutated === original) throw new Error(`mutant ${mutant.name}: the replacement changes nothing`);
  return { file, original, mutated };
}

// ---- main ----------------------------------------------------------------------------------------------------------------

async function main() {
  const opts = options(process.argv.slice(2));
  recoverFromJournal();
  const all = require('./mutants');
  const mutants = opts.only.length
    ? all.filter((m) => opts.only.some((text) => m.name.toLowerCase().includes(text)))
    : all;
  if (opts.list) {
    for (const m of mutants) console.log(`${m.name}\n    ${m.file} → ${m.tests.join(' ')}`);
    return 0;
  }
  if (mutants.length === 0) {
    console.error('mutate: no mutant matches');
    return 2;
  }
  // Every entry is checked before anything is touched: a stale `find` is a list to fix, not a survivor.
  const prepared = mutants.map((m) => ({ mutant: m, ...prepare(m) }));
  const started = Date.now();

  if (opts.baseline) {
    process.stdout.write('mutate: build and tests without a break … ');
    const built = await build(opts.verbose);
    if (!built.ok) {
      console.error(`\nmutate: the unbroken build fails:\n${built.output}`);
      return 2;
    }
    // Each distinct (files, grep, runtime) once.
    const seen = new Map();
    for (const { mutant } of prepared) {
      const key = JSON.stringify([mutant.tests, mutant.grep, mutant.nodeRed]);
      if (!seen.has(key)) seen.set(key, mutant);
    }
    for (const mutant of seen.values()) {
      const result = await tests(mutant, opts.verbose);
      if (!result.passed || result.total === 0) {
        console.error(
          `\nmutate: ${mutant.tests.join(' ')}${mutant.grep ? ` --grep "${mutant.grep}"` : ''} fails (or runs ` +
            `no test) without a break:\n  ${result.failures.join('\n  ') || 'no tests ran'}`,
        );
        return 2;
      }
    }
    console.log('all pass');
  }

  const results = [];
  for (const [i, { mutant, file, original, mutated }] of prepared.entries()) {
    const label = `[${i + 1}/${prepared.length}] ${mutant.name}`;
    process.stdout.write(`${label} … `);
    let outcome;
    try {
      breakFile(file, original, mutated);
      const built = await build(opts.verbose);
      if (!built.ok) outcome = { state: 'invalid', detail: `does not compile: ${lastLines(built.output)}` };
      else {
        const result = await tests(mutant, opts.verbose);
        outcome = result.passed
          ? { state: 'survived', detail: `${result.total} tests passed` }
          : { state: 'killed', detail: result.failures[0] };
      }
    } finally {
      restore();
    }
    results.push({ mutant, ...outcome });
    console.log(outcome.state === 'killed' ? `killed by ${outcome.detail}` : outcome.state.toUpperCase());
    if (outcome.state !== 'killed') console.log(`    ${outcome.detail}`);
  }
  fs.rmSync(DIST, { recursive: true, force: true });

  const survived = results.filter((r) => r.state === 'survived');
  const invalid = results.filter((r) => r.state === 'invalid');
  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  console.log(
    `\nmutate: ${results.length} mutants, ${results.length - survived.length - invalid.length} killed, ` +
      `${survived.length} survived, ${invalid.length} invalid (${minutes} min)`,
  );
  for (const r of survived) console.log(`  survived: ${r.mutant.name} (${r.mutant.file})`);
  for (const r of invalid) console.log(`  invalid:  ${r.mutant.name}: ${r.detail}`);
  if (invalid.length) return 2;
  return survived.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    try {
      restore();
    } finally {
      console.error(`mutate: ${err.stack || err}`);
      process.exit(2);
    }
  },
);
