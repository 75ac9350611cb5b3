// Full-process harness: packs the package as a release would, installs it into a Node-RED user directory as the
// palette manager does, and drives a real node-red child process (Node-RED 4 on this Node, 5 on Node 24).
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const net = require('net');
const path = require('path');
const readline = require('readline');
const { spawn } = require('child_process');
const { raw, mergeSettings, settingsSource } = require('./settings-source');
const { nodeRedDir } = require('../lib/node-red-dir');

const root = path.resolve(__dirname, '..', '..');
const workDir = path.join(root, '.test-work');
const packDir = path.join(workDir, 'pack');
const userDirsDir = path.join(workDir, 'userdirs');
const guardFile = path.join(__dirname, 'parent-guard.js');
const hooksFile = path.join(__dirname, 'test-hooks.js'); // forced kills and the moved clock, test-only
const node24Dir = path.join(root, 'tools', 'node24');
const node24Bin = path.join(node24Dir, 'node_modules', 'node', 'bin', 'node');

const DEFAULT_CREDENTIAL_SECRET = 'o365-calendar-harness-credential-secret';
const MARK = '--- harness:';
const STARTED = /\bStarted flows\b/;
const MISSING_TYPES = /Waiting for missing types to be registered/;
const GROUPS = process.platform !== 'win32'; // children get their own process group so npm grandchildren die too

const RUNTIMES = {
  4: { nodeRedDir: path.join(root, 'node_modules', 'node-red'), node: async () => process.execPath },
  5: { nodeRedDir: nodeRedDir('node-red-5'), node: ensureNode24 },
};

/** Milliseconds the (memoized) packPackage() of this process took. */
const timings = { pack: null };

// ---------------------------------------------------------------------------------------------------------
// Children: every process started here is tracked and killed when this process goes away.

const live = new Set();

function killTree(child, signal) {
  try {
    if (GROUPS) process.kill(-child.pid, signal);
    else child.kill(signal);
  } catch {
    // already gone
  }
}

process.on('exit', () => {
  for (const child of live) killTree(child, 'SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  const onSignal = () => {
    for (const child of live) killTree(child, 'SIGKILL');
    process.removeListener(signal, onSignal);
    // Without other listeners the signal's default (exit) must still happen.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  process.on(signal, onSignal);
}

/** The parent's environment without what would redirect npm or Node-RED (set by `npm run`, mocha, a shell). */
function childEnv(extra) {
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_(lifecycle|package|command|execpath|node_execpath)/.test(key)) continue;
    if (/^npm_config_(local_prefix|prefix|global|dry_run|workspaces?|include_workspace_root)$/i.test(key))
      continue;
    if (key === 'NODE_OPTIONS' || key.startsWith('NODE_RED_')) continue;
    env[key] = value;
  }
  return { ...env, npm_config_update_notifier: 'false', ...extra };
}

/** Runs a command to completion; rejects with its output tail on failure or timeout. */
function run(command, args, { cwd, env, timeout, label }) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env: env || childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: GROUPS,
    });
    live.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      killTree(child, 'SIGKILL');
      finish(new Error(`${label}: timed out after ${timeout} ms`));
    }, timeout);
    let done = false;
    function finish(err) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      live.delete(child);
      if (!err) return resolve({ stdout, stderr });
      err.message += `\n${tail(`${stdout}\n${stderr}`.split('\n'), 30)}`;
      reject(err);
    }
    child.on('error', (err) => finish(new Error(`${label}: ${err.message}`)));
    child.on('close', (code, signal) => {
      finish(code === 0 ? null : new Error(`${label}: exited with ${signal || `code ${code}`}`));
    });
  });
}

function tail(lines, n = 40) {
  return lines
    .slice(-n)
    .map((l) => `    ${l}`)
    .join('\n');
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** True when `promise` settles within `ms`; the timer is cleared either way so it never holds the process. */
function settlesWithin(promise, ms) {
  let timer;
  const timeout = new Promise((resolve) => (timer = setTimeout(resolve, ms, false)));
  return Promise.race([
    promise.then(
      () => true,
      () => true,
    ),
    timeout,
  ]).finally(() => clearTimeout(timer));
}

/** The npm that ships with the running Node (what a developer types `npm` for), else the one on PATH. */
function developerNpm() {
  const cli = path.join(
    path.dirname(process.execPath),
    '..',
    'lib',
    'node_modules',
    'npm',
    'bin',
    'npm-cli.js',
  );
  if (fs.existsSync(cli)) return { command: process.execPath, args: [cli] };
  return { command: process.platform === 'win32' ? 'npm.cmd' : 'npm', args: [] };
}

/** The npm the palette manager of this Node-RED runs (@node-red/registry bundles its own). */
function paletteNpm(runtime) {
  const registry = path.dirname(
    require.resolve('@node-red/registry/package.json', { paths: [runtime.nodeRedDir] }),
  );
  const npmRoot = path.dirname(require.resolve('npm/package.json', { paths: [registry] }));
  return path.join(npmRoot, 'bin', 'npm-cli.js');
}

// ---------------------------------------------------------------------------------------------------------
// Node 24 for Node-RED 5: an npm package in tools/node24, installed on first use (a fresh clone lacks it).

let node24Promise = null;

async function nodeVersion(bin) {
  try {
    const { stdout } = await run(bin, ['-p', 'process.version'], { cwd: root, timeout: 20000, label: bin });
    return stdout.trim();
  } catch {
    return null;
  }
}

function ensureNode24() {
  if (!node24Promise) {
    node24Promise = (async () => {
      let version = fs.existsSync(node24Bin) ? await nodeVersion(node24Bin) : null;
      if (!version || !fs.existsSync(nodeRedDir('node-red-5'))) {
        await run(process.execPath, [path.join(root, 'scripts', 'tools.js')], {
          cwd: root,
          timeout: 600000,
          label: 'node scripts/tools.js',
        });
        version = await nodeVersion(node24Bin);
      }
      if (!version || !version.startsWith('v24.')) {
        throw new Error(`tools/node24 gives ${version || 'no working node'}, expected v24.x`);
      }
      return node24Bin;
    })();
    node24Promise.catch(() => (node24Promise = null));
  }
  return node24Promise;
}

// ---------------------------------------------------------------------------------------------------------
// Packing: `npm pack` (prepack builds) in a copy of the working tree, so the shared dist/ is never rebuilt
// under other people's running tests. The tarball lands at a stable path in .test-work/pack/.

const STAGE_SKIP = new Set(['.git', 'node_modules', 'dist', '.test-work', '.demo', 'test-artifacts']);
let packPromise = null;

function packPackage() {
  if (!packPromise) {
    packPromise = doPack();
    packPromise.catch(() => (packPromise = null));
  }
  return packPromise;
}

/** Fills `stage` with the working tree, or with a commit when O365_PACK_REF names one (e.g. HEAD). */
async function stageSources(stage, scratch) {
  const ref = process.env.O365_PACK_REF;
  if (ref) {
    const archive = path.join(scratch, 'source.tar');
    const opts = { cwd: root, timeout: 60000, label: `git archive ${ref}` };
    await run('git', ['archive', '--format=tar', '-o', archive, ref], opts);
    fs.mkdirSync(stage, { recursive: true });
    await run('tar', ['-xf', archive, '-C', stage], { ...opts, label: 'tar -x' });
    fs.rmSync(archive);
    return;
  }
  for (const entry of fs.readdirSync(root)) {
    if (STAGE_SKIP.has(entry)) continue;
    fs.cpSync(path.join(root, entry), path.join(stage, entry), {
      recursive: true,
      filter: (src) => !path.relative(root, src).split(path.sep).includes('node_modules'),
    });
  }
}

async function doPack() {
  const t0 = Date.now();
  const stage = path.join(packDir, `stage-${process.pid}`);
  const out = path.join(packDir, `out-${process.pid}`);
  try {
    for (const dir of [stage, out]) fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(out, { recursive: true });
    await stageSources(stage, out);
    const npm = developerNpm();
    await run(npm.command, [...npm.args, 'pack', '--pack-destination', out], {
      cwd: stage,
      timeout: 300000,
      label: 'npm pack',
    });
    const name = fs.readdirSync(out).find((f) => f.endsWith('.tgz'));
    if (!name) throw new Error(`npm pack wrote no tarball into ${out}`);
    const tarball = path.join(packDir, name);
    fs.renameSync(path.join(out, name), tarball); // atomic: another process installing keeps its old copy
    timings.pack = Date.now() - t0;
    return tarball;
  } finally {
    for (const dir of [stage, out]) fs.rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------
// Helpers for user directories, ports and HTTP.

let pruned = false;

/** A fresh user directory; ones this harness made over a day ago are removed on first use. */
function freshUserDir(major) {
  fs.mkdirSync(userDirsDir, { recursive: true });
  if (!pruned) {
    pruned = true;
    const dayAgo = Date.now() - 24 * 3600 * 1000;
    for (const name of fs.readdirSync(userDirsDir)) {
      if (!/^nr\d+-/.test(name)) continue;
      const dir = path.join(userDirsDir, name);
      try {
        if (fs.statSync(dir).mtimeMs < dayAgo) fs.rmSync(dir, { recursive: true, force: true });
      } catch {
        // another process got there first
      }
    }
  }
  const id = `${Date.now().toString(36)}-${process.pid}-${crypto.randomBytes(3).toString('hex')}`;
  return fs.mkdtempSync(path.join(userDirsDir, `nr${major}-${id}-`));
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function request(method, url, body, { headers = {}, raw: sendRaw = false, timeout = 30000 } = {}) {
  return new Promise((resolve, reject) => {
    const hdrs = { ...headers };
    let payload = null;
    if (body !== undefined && body !== null) {
      if (sendRaw || Buffer.isBuffer(body) || typeof body === 'string') {
        payload = Buffer.isBuffer(body) ? body : Buffer.from(String(body));
        if (!hasHeader(hdrs, 'content-type') && typeof body === 'string' && !sendRaw) {
          hdrs['Content-Type'] = 'text/plain';
        }
      } else {
        payload = Buffer.from(JSON.stringify(body));
        if (!hasHeader(hdrs, 'content-type')) hdrs['Content-Type'] = 'application/json';
      }
      hdrs['Content-Length'] = payload.length;
    }
    const req = http.request(url, { method, headers: hdrs, timeout }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed = text;
        if (/\bjson\b/i.test(res.headers['content-type'] || '') && text.length > 0) {
          try {
            parsed = JSON.parse(text);
          } catch {
            // keep the text: the caller sees what came back
          }
        }
        resolve({ status: res.statusCode, headers: res.headers, body: parsed });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no answer within ${timeout} ms`)));
    req.on('error', reject);
    req.end(payload || undefined);
  });
}

function hasHeader(headers, name) {
  return Object.keys(headers).some((k) => k.toLowerCase() === name);
}

function sha256(file) {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

function rootPath(value) {
  if (value === undefined || value === null || value === '') return '';
  return `/${String(value).replace(/^\/+|\/+$/g, '')}`.replace(/^\/$/, '');
}

// ---------------------------------------------------------------------------------------------------------

class NodeRed {
  /**
   * @param {object} opts
   * @param {4|5} [opts.major] 4: node_modules/node-red on this Node; 5: node_modules/node-red-5 on tools/node24
   * @param {string} [opts.userDir] reuse a directory to restart "on the same user directory"
   * @param {string} [opts.tarball] installed into the user directory once (per tarball content)
   * @param {object} [opts.settings] merged into the generated settings.js (undefined values remove a default)
   * @param {object} [opts.env] extra environment for the child
   * @param {{username: string, password: string}} [opts.auth] admin login; without settings.adminAuth the
   *   harness also writes an adminAuth with this one user and permission '*'
   * @param {'info'|'debug'|'trace'} [opts.logLevel]
   * @param {number} [opts.startTimeout] ms, default 60000
   * @param {boolean} [opts.echo] copy the child's lines to stderr (also O365_HARNESS_ECHO=1)
   */
  constructor(opts = {}) {
    const major = Number(opts.major || 4);
    if (!RUNTIMES[major]) throw new Error(`NodeRed: major must be 4 or 5, not ${opts.major}`);
    this.major = major;
    this.runtime = RUNTIMES[major];
    this.userDir = opts.userDir ? path.resolve(opts.userDir) : freshUserDir(major);
    this.tarball = opts.tarball ? path.resolve(opts.tarball) : null;
    this.settings = opts.settings || {};
    this.env = opts.env || {};
    this.auth = opts.auth || null;
    this.logLevel = opts.logLevel || 'info';
    this.startTimeout = opts.startTimeout || 60000;
    this.echo = opts.echo !== undefined ? !!opts.echo : !!process.env.O365_HARNESS_ECHO;
    this.settingsFile = path.join(this.userDir, 'settings.js');
    this.port = this.settings.uiPort || null;
    /** Every stdout/stderr line of every start, with a `--- harness:` line at each start and exit. */
    this.log = [];
    this.child = null;
    this.pid = null;
    /** Resolves with {code, signal} when the current child has exited (and its output is in `log`). */
    this.exited = Promise.resolve(null);
    /** Version strings the process reported, e.g. 'v4.1.15' and 'v20.20.2'. */
    this.version = null;
    this.nodeVersion = null;
    /** Milliseconds: install (null when already installed), each start, each restart (stop + start). */
    this.timings = { install: null, start: [], restart: [] };
    this._cursor = 0;
    this._waiters = new Set();
    this._token = null;
    this._starts = 0;
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  file(name) {
    return path.join(this.userDir, name);
  }

  async start({ until = STARTED } = {}) {
    if (this.child) throw new Error(`Node-RED ${this.major} is already running (pid ${this.pid})`);
    const node = await this.runtime.node();
    fs.mkdirSync(this.userDir, { recursive: true });
    this._ensureProjectPackage();
    if (this.tarball) await this._install(node);
    const t0 = Date.now();
    const pinned = Boolean(this.port);
    for (let attempt = 1; ; attempt++) {
      if (!pinned) this.port = await freePort();
      this._writeSettings();
      try {
        await this._launch(node, until);
        break;
      } catch (err) {
        // Another process took the port between probing and listening: only a first start may move.
        if (!pinned && err.portInUse && attempt < 3) continue;
        throw err;
      }
    }
    this.timings.start.push(Date.now() - t0);
  }

  async stop() {
    const child = this.child;
    if (!child) return;
    const exited = this.exited;
    killTree(child, 'SIGTERM');
    if (!(await settlesWithin(exited, 10000))) {
      this._mark('stop: no exit 10 s after SIGTERM, sending SIGKILL');
      killTree(child, 'SIGKILL');
      await settlesWithin(exited, 5000);
    }
  }

  async restart() {
    const t0 = Date.now();
    await this.stop();
    await this.start();
    this.timings.restart.push(Date.now() - t0);
  }

  /** Immediate signal to the whole process group (default SIGKILL, a power cut); await `exited` after it. */
  kill(signal = 'SIGKILL') {
    if (this.child) killTree(this.child, signal);
  }

  /** Resolves with the first line matching `pattern` at or after `from` (default: after the last match). */
  async waitForLog(pattern, timeoutMs = 30000, from) {
    const { index, line } = await this._waitFor(
      [pattern],
      timeoutMs,
      from === undefined ? this._cursor : from,
    );
    this._cursor = index + 1;
    return line;
  }

  /** Full deploy as the editor does it; resolves with the new rev once the runtime logged the start. */
  async deploy(flows, { type = 'full', timeout = 30000 } = {}) {
    const from = this.log.length;
    const res = await this.admin(
      'POST',
      '/flows',
      { flows },
      { headers: { 'Node-RED-API-Version': 'v2', 'Node-RED-Deployment-Type': type } },
    );
    if (res.status !== 200) {
      throw new Error(`deploy: HTTP ${res.status} ${JSON.stringify(res.body)}`);
    }
    const started = type === 'full' ? STARTED : /\bStarted (flows|modified (flows|nodes))\b/;
    const hit = await this._waitFor([started, MISSING_TYPES], timeout, from);
    if (hit.pattern === MISSING_TYPES) {
      await sleep(200); // the missing types follow on their own lines
      throw new Error(`deploy: flows not started, ${hit.line}\n${tail(this.log.slice(hit.index + 1), 20)}`);
    }
    return res.body && res.body.rev;
  }

  /** The deployed nodes (GET /flows, v1: an array). */
  async getFlows() {
    const res = await this.admin('GET', '/flows');
    if (res.status !== 200) throw new Error(`getFlows: HTTP ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  /**
   * Any admin API call. Options: headers, raw (send body as given, no JSON encoding), token: false (skip the
   * login even with auth), timeout.
   */
  async admin(method, urlPath, body, opts = {}) {
    const adminRoot = this.settings.httpAdminRoot;
    if (adminRoot === false) throw new Error('admin: httpAdminRoot is false, there is no admin API');
    const url = `${this.url}${rootPath(adminRoot)}${urlPath}`;
    const headers = { Accept: 'application/json', ...opts.headers };
    const useToken = this.auth && opts.token !== false && !hasHeader(headers, 'authorization');
    if (useToken) headers.Authorization = `Bearer ${await this._getToken()}`;
    let res = await request(method, url, body, { ...opts, headers });
    if (useToken && res.status === 401) {
      this._token = null;
      headers.Authorization = `Bearer ${await this._getToken()}`;
      res = await request(method, url, body, { ...opts, headers });
    }
    return res;
  }

  /** A call to an `http in` node under httpNodeRoot. */
  http(method, urlPath, body, opts = {}) {
    const nodeRoot = this.settings.httpNodeRoot;
    if (nodeRoot === false) throw new Error('http: httpNodeRoot is false, there are no http in endpoints');
    return request(method, `${this.url}${rootPath(nodeRoot)}${urlPath}`, body, opts);
  }

  // -------------------------------------------------------------------------------------------------------

  _ensureProjectPackage() {
    // Without a package.json here npm would walk up and install into the repository itself.
    const file = this.file('package.json');
    if (fs.existsSync(file)) return;
    const project = {
      name: 'node-red-project',
      description: 'A Node-RED Project',
      version: '0.0.1',
      private: true,
    };
    fs.writeFileSync(file, `${JSON.stringify(project, null, 4)}\n`);
  }

  async _install(node) {
    const marker = this.file('.harness-install.json');
    const stamp = { tarball: this.tarball, sha256: sha256(this.tarball) };
    try {
      const previous = JSON.parse(fs.readFileSync(marker, 'utf8'));
      if (previous.tarball === stamp.tarball && previous.sha256 === stamp.sha256) return;
    } catch {
      // not installed yet
    }
    const t0 = Date.now();
    // The palette manager's own flags (`--save`, `--engine-strict`, …) plus --prefer-offline.
    const args = [
      paletteNpm(this.runtime),
      'install',
      '--omit=dev',
      '--no-audit',
      '--no-fund',
      '--no-update-notifier',
      '--save',
      '--engine-strict',
      '--prefer-offline',
      '--',
      this.tarball,
    ];
    await run(node, args, {
      cwd: this.userDir,
      env: childEnv(),
      timeout: 240000,
      label: `npm install into ${path.relative(root, this.userDir)}`,
    });
    fs.writeFileSync(marker, JSON.stringify(stamp));
    this.timings.install = Date.now() - t0;
  }

  _writeSettings() {
    const defaults = {
      uiHost: '127.0.0.1',
      uiPort: this.port,
      flowFile: 'flows.json',
      credentialSecret: DEFAULT_CREDENTIAL_SECRET,
      logging: { console: { level: this.logLevel, metrics: false, audit: false } },
      editorTheme: { tours: false },
      functionGlobalContext: {},
    };
    const template = fs.readFileSync(path.join(this.runtime.nodeRedDir, 'settings.js'), 'utf8');
    if (/\btelemetry\s*:/.test(template)) defaults.telemetry = { enabled: false, updateNotification: false };
    if (this.auth && !('adminAuth' in this.settings)) {
      const bcrypt = require(require.resolve('bcryptjs', { paths: [this.runtime.nodeRedDir] }));
      defaults.adminAuth = {
        type: 'credentials',
        users: [
          {
            username: this.auth.username,
            password: bcrypt.hashSync(this.auth.password, 8),
            permissions: '*',
          },
        ],
      };
    }
    const settings = mergeSettings(defaults, this.settings);
    settings.uiPort = this.port;
    fs.writeFileSync(this.settingsFile, settingsSource(settings));
  }

  _launch(node, until) {
    const redJs = path.join(this.runtime.nodeRedDir, 'red.js');
    const args = [
      '--require',
      guardFile,
      '--require',
      hooksFile,
      redJs,
      '--userDir',
      this.userDir,
      '--settings',
      this.settingsFile,
    ];
    this._starts += 1;
    this._mark(`start #${this._starts} of Node-RED ${this.major} on port ${this.port}`);
    const from = this.log.length;
    const child = spawn(node, args, {
      cwd: this.userDir,
      env: childEnv({ ...this.env, O365_HARNESS_PARENT_PID: String(process.pid) }),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: GROUPS,
    });
    live.add(child);
    this.child = child;
    this.pid = child.pid;
    this.exited = new Promise((resolve) => {
      const closed = [child.stdout, child.stderr].map((s) => new Promise((r) => s.once('close', r)));
      let reported = false;
      const onExit = async (code, signal, error) => {
        if (reported) return;
        reported = true;
        live.delete(child);
        // Let the last lines arrive before anyone reads the log; a grandchild holding the pipe can't stall this.
        await settlesWithin(Promise.all(closed), 2000);
        this._mark(
          `Node-RED ${this.major} pid ${child.pid} exited (${error ? error.message : signal || `code ${code}`})`,
        );
        if (this.child === child) {
          this.child = null;
          this.pid = null;
        }
        for (const waiter of this._waiters) if (waiter.child === child) waiter.onExit();
        resolve({ code, signal });
      };
      child.on('exit', (code, signal) => onExit(code, signal));
      child.on('error', (err) => onExit(null, null, err));
    });
    for (const stream of [child.stdout, child.stderr]) {
      readline.createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => this._line(line));
    }
    return this._awaitReady(child, from, until);
  }

  async _awaitReady(child, from, until) {
    const deadline = Date.now() + this.startTimeout;
    try {
      await this._waitFor([until], this.startTimeout, from, child);
      const v = this.log.slice(from).join('\n');
      this.version = (v.match(/Node-RED version: (v\S+)/) || [])[1] || this.version;
      this.nodeVersion = (v.match(/Node\.js\s+version: (v\S+)/) || [])[1] || this.nodeVersion;
      if (this.settings.httpAdminRoot !== false) {
        for (;;) {
          const res = await this.admin('GET', '/auth/login', undefined, {
            token: false,
            timeout: 5000,
          }).catch(() => null);
          if (res && res.status === 200) break;
          if (this.child !== child) throw new Error('the process exited');
          if (Date.now() > deadline)
            throw new Error(`the admin API did not answer within ${this.startTimeout} ms`);
          await sleep(200);
        }
      }
    } catch (err) {
      if (this.child === child) {
        killTree(child, 'SIGKILL');
        await this.exited;
      }
      const lines = this.log.slice(from);
      const failure = new Error(`Node-RED ${this.major} did not start: ${err.message}\n${tail(lines, 40)}`);
      failure.portInUse = lines.some((l) => /port in use|EADDRINUSE/i.test(l));
      throw failure;
    }
  }

  _line(line) {
    this.log.push(line);
    if (this.echo) process.stderr.write(`[nr${this.major}] ${line}\n`);
    const index = this.log.length - 1;
    for (const waiter of this._waiters) waiter.check(index);
  }

  _mark(text) {
    this._line(`${MARK} ${text}`);
  }

  /**
   * Resolves with {index, line, pattern} for the first line at or after `from` matching one of `patterns`
   * (regexes or substrings); harness marker lines never match. With `child`, rejects when that child exits.
   */
  _waitFor(patterns, timeoutMs, from, child = null) {
    const matchAt = (index) => {
      const line = this.log[index];
      if (line.startsWith(MARK)) return null;
      const pattern = patterns.find((p) => (p instanceof RegExp ? p.test(line) : line.includes(String(p))));
      return pattern === undefined ? null : { index, line, pattern };
    };
    for (let i = from; i < this.log.length; i++) {
      const hit = matchAt(i);
      if (hit) return Promise.resolve(hit);
    }
    if (child && this.child !== child) {
      return Promise.reject(new Error(`the process exited before logging ${patterns.join(' or ')}`));
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        child,
        check: (index) => {
          if (index < from) return;
          const hit = matchAt(index);
          if (hit) settle(null, hit);
        },
        onExit: () => settle(new Error(`the process exited before logging ${patterns.join(' or ')}`)),
      };
      const timer = setTimeout(() => {
        const shown = patterns.map(String).join(' or ');
        settle(
          new Error(
            `no ${shown} in the Node-RED ${this.major} log within ${timeoutMs} ms; last lines:\n${tail(this.log, 30)}`,
          ),
        );
      }, timeoutMs);
      const settle = (err, hit) => {
        clearTimeout(timer);
        this._waiters.delete(waiter);
        if (err) reject(err);
        else resolve(hit);
      };
      this._waiters.add(waiter);
    });
  }

  async _getToken() {
    if (this._token) return this._token;
    const res = await this.admin(
      'POST',
      '/auth/token',
      {
        client_id: 'node-red-admin',
        grant_type: 'password',
        scope: '*',
        username: this.auth.username,
        password: this.auth.password,
      },
      { token: false },
    );
    if (res.status !== 200 || !res.body || !res.body.access_token) {
      throw new Error(`admin login as ${this.auth.username}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
    }
    this._token = res.body.access_token;
    return this._token;
  }
}

module.exports = {
  packPackage,
  NodeRed,
  raw,
  timings,
  DEFAULT_CREDENTIAL_SECRET,
  run,
  childEnv,
  developerNpm,
};
