// The token store keeps the newest sign-in across restarts, power cuts and kill -9; the test hooks (under test/,
// never shipped) make that provable.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');
const should = require('should');
const { distPath } = require('../lib/dist');

const storeModule = distPath('nodes/shared/auth/token-store.js');
const diagnosticsModule = distPath('nodes/shared/node-red/diagnostics.js');
const clockModule = distPath('nodes/shared/time/clock.js');
const hooksPreload = path.join(__dirname, '..', 'harness', 'test-hooks.js');
const { TokenStore, SEEN_LIMIT, SWEEP_GRACE_MS } = require(storeModule);
const testHooks = require(hooksPreload);
const clock = require(clockModule);

const HOUR = 60 * 60 * 1000;
const posix = process.platform !== 'win32';

const fingerprint = {
  authority: 'https://login.microsoftonline.com',
  tenant: 'contoso.onmicrosoft.com',
  clientId: '11111111-2222-3333-4444-555555555555',
  clientKind: 'confidential',
  scopes: 'offline_access openid profile Calendars.Read',
};

// Every secret string a test made: none may ever show up in a file's plain bytes or in a warning.
const secretsMade = [];

function makeTokens(label) {
  const nonce = crypto.randomBytes(6).toString('hex');
  const tokens = {
    accessToken: `AT-${label}-${nonce}`,
    refreshToken: `RT-${label}-${nonce}`,
    expiresAt: Date.now() + HOUR,
    scope: 'Calendars.Read openid profile',
    account: { name: 'Adele Vance', username: 'adele@contoso.com' },
    clientKind: 'confidential',
  };
  secretsMade.push(tokens.accessToken, tokens.refreshToken);
  return tokens;
}

function makeSecret(label) {
  const secret = `secret-${label}-${crypto.randomBytes(6).toString('hex')}`;
  secretsMade.push(secret);
  return secret;
}

function mode(file) {
  return fs.statSync(file).mode & 0o777;
}

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

/** Runs the compiled store in a separate process, which may be killed at a crash point. */
function runChild(job, env = {}) {
  const script = `
    const job = JSON.parse(process.env.TOKEN_STORE_JOB);
    const { TokenStore } = require(job.storeModule);
    const store = new TokenStore({ dir: job.dir, keySecrets: job.secrets });
    const work = job.op === 'signOut' ? store.signOut(job.key) : store.save(job.key, job.tokens, job.fingerprint);
    work.then(() => process.exit(0), (err) => { console.error(err && err.code); process.exit(2); });
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--require', hooksPreload, '-e', script], {
      env: { ...process.env, ...env, TOKEN_STORE_JOB: JSON.stringify({ storeModule, fingerprint, ...job }) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
}

describe('token store', function () {
  this.timeout(20000);
  let root;
  let dir;
  let warnings;

  function store(keySecrets = ['current-secret'], storeDir = dir) {
    return new TokenStore({ dir: storeDir, keySecrets, warn: (message) => warnings.push(message) });
  }

  /** The four file names of a key, found through the index, which names its key. */
  function filesOf(key) {
    for (const name of fs.readdirSync(dir)) {
      if (!name.endsWith('.json')) continue;
      const file = path.join(dir, name);
      let index;
      try {
        index = readJson(file);
      } catch {
        continue;
      }
      if (index.key === key) {
        const base = file.slice(0, -'.json'.length);
        return { enc: `${base}.enc`, encTmp: `${base}.enc.tmp`, json: file, jsonTmp: `${file}.tmp` };
      }
    }
    throw new Error(`no index names ${key}`);
  }

  function leftoverTemps() {
    return fs.readdirSync(dir).filter((name) => name.endsWith('.tmp'));
  }

  /** Moves this process's clock (and so the store's) offsetMs ahead of real time. */
  function setClock(offsetMs) {
    testHooks.setClockOffset(offsetMs);
  }

  beforeEach(function () {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'o365-token-store-'));
    dir = path.join(root, 'o365-calendar', 'project');
    warnings = [];
  });

  afterEach(function () {
    testHooks.resetClock();
    for (const message of warnings) {
      for (const secret of secretsMade) message.should.not.containEql(secret);
    }
    fs.rmSync(root, { recursive: true, force: true });
  });

  describe('saving and loading', function () {
    it('gives back the saved token set and fingerprint from a fresh instance', async function () {
      const tokens = makeTokens('round-trip');
      await store().save('cfg1', tokens, fingerprint);
      const state = await store().load('cfg1');
      state.should.eql({ tokens, fingerprint, generation: 1, signedOut: false, unreadable: false });
      warnings.should.be.empty();
    });

    it('starts empty for a key it has never seen', async function () {
      const state = await store().load('never-saved');
      state.should.eql({
        tokens: undefined,
        fingerprint: undefined,
        generation: 0,
        signedOut: false,
        unreadable: false,
      });
    });

    it('counts generations up with every save', async function () {
      const s = store();
      for (let i = 1; i <= 3; i++) {
        await s.save('cfg1', makeTokens(`gen${i}`), fingerprint);
        (await s.load('cfg1')).generation.should.equal(i);
      }
      readJson(filesOf('cfg1').json).generation.should.equal(3);
    });

    it('keeps keys apart, whatever characters the key has', async function () {
      const keys = ['a', 'b/../../escape', 'Alias with spaces ü', '0123456789abcdef'];
      const saved = keys.map(() => makeTokens('key'));
      for (let i = 0; i < keys.length; i++) await store().save(keys[i], saved[i], fingerprint);
      for (let i = 0; i < keys.length; i++) (await store().load(keys[i])).tokens.should.eql(saved[i]);
      for (const name of fs.readdirSync(dir)) name.should.match(/^(\.key|[0-9a-f]{32}\.(enc|json))$/);
      fs.readdirSync(root).sort().should.eql(['o365-calendar']);
    });

    it('writes no token or secret in plain text, in either file', async function () {
      const secret = makeSecret('plain');
      const tokens = makeTokens('plain');
      await store([secret]).save('cfg1', tokens, fingerprint);
      const files = filesOf('cfg1');
      for (const file of [files.enc, files.json]) {
        const bytes = fs.readFileSync(file);
        for (const needle of [tokens.accessToken, tokens.refreshToken, secret, 'Adele Vance']) {
          bytes.includes(Buffer.from(needle)).should.be.false(`${path.basename(file)} holds ${needle}`);
          bytes.includes(Buffer.from(Buffer.from(needle).toString('base64'))).should.be.false();
        }
      }
      const index = readJson(files.json);
      index.should.have.properties({ version: 1, key: 'cfg1', generation: 1, signedOut: false, fingerprint });
      index.salt.should.be.a.String().and.not.be.empty();
      index.seen.should.have.length(1);
    });

    it('binds a sealed file to its key: one copied over another key does not open', async function () {
      await store().save('room-a', makeTokens('a'), fingerprint);
      await store().save('room-b', makeTokens('b'), fingerprint);
      fs.copyFileSync(filesOf('room-a').enc, filesOf('room-b').enc);
      const state = await store().load('room-b');
      state.unreadable.should.be.true();
      should(state.tokens).be.undefined();
    });

    it('refuses an incomplete token set instead of saving what it could not load', async function () {
      await store().save('cfg1', { refreshToken: 'x' }, fingerprint).should.be.rejectedWith(TypeError);
      fs.existsSync(dir).should.be.false();
    });

    (posix ? it : it.skip)('makes the folder 0700 and every file 0600', async function () {
      const previous = process.umask(0o022);
      try {
        await store([]).save('cfg1', makeTokens('modes'), fingerprint);
      } finally {
        process.umask(previous);
      }
      mode(dir).should.equal(0o700);
      mode(path.dirname(dir)).should.equal(0o700);
      const files = filesOf('cfg1');
      for (const file of [files.enc, files.json, path.join(dir, '.key')]) mode(file).should.equal(0o600);
    });
  });

  describe('seen refresh tokens', function () {
    it('knows stored and marked refresh tokens, and not a new one', async function () {
      const s = store();
      const stored = makeTokens('stored');
      await s.save('cfg1', stored, fingerprint);
      await s.markSeen('cfg1', 'RT-marked');
      (await s.hasSeen('cfg1', stored.refreshToken)).should.be.true();
      (await s.hasSeen('cfg1', 'RT-marked')).should.be.true();
      (await s.hasSeen('cfg1', 'RT-deployed-by-a-person')).should.be.false();
      (await s.hasSeen('other-key', stored.refreshToken)).should.be.false();
      (await store().load('cfg1')).tokens.should.eql(stored);
    });

    it('remembers a marked token for a key with no tokens, without inventing tokens', async function () {
      await store().markSeen('cfg1', 'RT-only-marked');
      (await store().hasSeen('cfg1', 'RT-only-marked')).should.be.true();
      const state = await store().load('cfg1');
      should(state.tokens).be.undefined();
      state.generation.should.equal(0);
    });

    it(`forgets the oldest hashes beyond ${SEEN_LIMIT}`, async function () {
      const s = store();
      const count = SEEN_LIMIT + 10;
      for (let i = 0; i < count; i++) await s.markSeen('cfg1', `RT-${i}`);
      readJson(filesOf('cfg1').json).seen.should.have.length(SEEN_LIMIT);
      (await s.hasSeen('cfg1', 'RT-0')).should.be.false();
      (await s.hasSeen('cfg1', 'RT-9')).should.be.false();
      (await s.hasSeen('cfg1', 'RT-10')).should.be.true();
      (await s.hasSeen('cfg1', `RT-${count - 1}`)).should.be.true();
    });

    it('salts per key: the same token hashes differently under two keys', async function () {
      await store().markSeen('k1', 'RT-same');
      await store().markSeen('k2', 'RT-same');
      readJson(filesOf('k1').json).seen[0].should.not.equal(readJson(filesOf('k2').json).seen[0]);
    });
  });

  describe('keys', function () {
    it('opens a set saved under an older secret and re-encrypts it under the current one at once', async function () {
      const oldSecret = makeSecret('old');
      const newSecret = makeSecret('new');
      const tokens = makeTokens('rekey');
      await store([oldSecret]).save('cfg1', tokens, fingerprint);
      const before = fs.readFileSync(filesOf('cfg1').enc);

      const state = await store([newSecret, oldSecret]).load('cfg1');
      state.tokens.should.eql(tokens);
      state.unreadable.should.be.false();
      const after = fs.readFileSync(filesOf('cfg1').enc);
      after.equals(before).should.be.false();

      // Node-RED drops _credentialSecret once credentialSecret is set: the new secret alone must do.
      (await store([newSecret]).load('cfg1')).tokens.should.eql(tokens);
      (await store([oldSecret]).load('cfg1')).unreadable.should.be.true();
      leftoverTemps().should.be.empty();
    });

    it('without secrets makes a 0600 key file once and uses it', async function () {
      const tokens = makeTokens('keyfile');
      await store([]).save('cfg1', tokens, fingerprint);
      const keyFile = path.join(dir, '.key');
      const key = fs.readFileSync(keyFile);
      key.should.have.length(32);
      if (posix) mode(keyFile).should.equal(0o600);
      await store([]).save('cfg1', makeTokens('keyfile2'), fingerprint);
      fs.readFileSync(keyFile).equals(key).should.be.true();
      (await store([]).load('cfg1')).generation.should.equal(2);
    });

    it('falls back to the key file once a secret is set, then moves to the secret', async function () {
      const tokens = makeTokens('to-secret');
      await store([]).save('cfg1', tokens, fingerprint);
      const secret = makeSecret('later');
      (await store([secret]).load('cfg1')).tokens.should.eql(tokens);
      fs.unlinkSync(path.join(dir, '.key'));
      (await store([secret]).load('cfg1')).tokens.should.eql(tokens);
    });

    it('does not make a key file when a secret is given', async function () {
      await store([makeSecret('only')]).save('cfg1', makeTokens('nokeyfile'), fingerprint);
      fs.existsSync(path.join(dir, '.key')).should.be.false();
    });

    it('reports a set no candidate key opens as unreadable, with a warning and no exception', async function () {
      await store([makeSecret('a')]).save('cfg1', makeTokens('wrong-key'), fingerprint);
      const state = await store([makeSecret('b')]).load('cfg1');
      state.unreadable.should.be.true();
      state.signedOut.should.be.false();
      should(state.tokens).be.undefined();
      warnings.should.have.length(1);
      warnings[0].should.match(/cfg1.*does not open with any known key/);
    });
  });

  describe('damaged files', function () {
    it('reports a truncated .enc as unreadable with a warning', async function () {
      await store().save('cfg1', makeTokens('truncated'), fingerprint);
      const { enc } = filesOf('cfg1');
      fs.truncateSync(enc, Math.floor(fs.statSync(enc).size / 2));
      const state = await store().load('cfg1');
      state.unreadable.should.be.true();
      should(state.tokens).be.undefined();
      warnings.join('\n').should.match(/damaged/);
    });

    it('speaks the runtime’s language: its warnings come from the message catalog (German here)', async function () {
      const i18n = require(distPath('nodes/shared/node-red/i18n.js'));
      const de = JSON.parse(
        fs.readFileSync(distPath('nodes/o365-config/locales/de/o365-config.json'), 'utf8'),
      );
      const lookup = (key) => key.split('.').reduce((node, part) => node && node[part], de);
      i18n.useTranslator((key, params = {}) =>
        String(lookup(key) ?? key).replace(/__(\w+)__/g, (whole, name) => params[name] ?? whole),
      );
      try {
        await store().save('cfg1', makeTokens('german'), fingerprint);
        fs.truncateSync(filesOf('cfg1').enc, 20);
        (await store().load('cfg1')).unreadable.should.be.true();
        warnings
          .join('\n')
          .should.match(/Token-Speicher: Die gespeicherte Anmeldung von "cfg1" .* ist beschädigt/);
        const refused = await store()
          .save('cfg1', { accessToken: 'x' }, fingerprint)
          .then(
            () => null,
            (err) => err,
          );
        refused.message.should.match(/unvollständiger Tokensatz/);
      } finally {
        i18n.useTranslator((key) => key);
      }
    });

    it('reports a garbage .enc as unreadable, and a later save replaces it', async function () {
      await store().save('cfg1', makeTokens('garbage'), fingerprint);
      fs.writeFileSync(filesOf('cfg1').enc, crypto.randomBytes(300));
      (await store().load('cfg1')).unreadable.should.be.true();
      const tokens = makeTokens('after-garbage');
      await store().save('cfg1', tokens, fingerprint);
      (await store().load('cfg1')).should.have.properties({ tokens, unreadable: false, generation: 2 });
    });

    it('rebuilds a garbage index from the .enc, with a warning', async function () {
      const tokens = makeTokens('index');
      await store().save('cfg1', tokens, fingerprint);
      const files = filesOf('cfg1');
      fs.writeFileSync(files.json, '{"version": 1, "generation": ');
      const s = store();
      (await s.load('cfg1')).should.have.properties({ tokens, generation: 1, unreadable: false });
      warnings.join('\n').should.match(/damaged/);
      readJson(files.json).should.have.properties({ key: 'cfg1', generation: 1 });
      (await s.hasSeen('cfg1', tokens.refreshToken)).should.be.true();
    });

    it('warns once per problem, not at every call', async function () {
      await store([makeSecret('a')]).save('cfg1', makeTokens('once'), fingerprint);
      const s = store([makeSecret('b')]);
      await s.load('cfg1');
      await s.hasSeen('cfg1', 'RT-x');
      await s.load('cfg1');
      warnings.should.have.length(1);
    });
  });

  describe('crash safety', function () {
    async function crashWhileSaving(point, key, tokens, secrets = ['current-secret']) {
      const result = await runChild({ dir, key, tokens, secrets }, { O365_CRASH_POINT: point });
      should(result.signal).equal('SIGKILL', `child ended with code ${result.code}: ${result.stderr}`);
    }

    it('adopts a complete temp file left by a kill between write and rename', async function () {
      const first = makeTokens('first');
      const second = makeTokens('second');
      await store().save('cfg1', first, fingerprint);
      await crashWhileSaving('store:after-temp-write', 'cfg1', second);
      const files = filesOf('cfg1');
      fs.existsSync(files.encTmp).should.be.true();

      const s = store();
      (await s.load('cfg1')).should.have.properties({ tokens: second, generation: 2, unreadable: false });
      leftoverTemps().should.be.empty();
      readJson(files.json).generation.should.equal(2);
      (await s.hasSeen('cfg1', second.refreshToken)).should.be.true();
    });

    it('adopts the temp file of the very first save, when there is no main file yet', async function () {
      const tokens = makeTokens('very-first');
      await crashWhileSaving('store:after-temp-write', 'fresh', tokens);
      fs.readdirSync(dir)
        .filter((name) => name.endsWith('.enc.tmp'))
        .should.have.length(1);
      (await store().load('fresh')).should.have.properties({ tokens, generation: 1 });
      leftoverTemps().should.be.empty();
    });

    it('repairs the index after a kill between the rename and the index write', async function () {
      const first = makeTokens('first');
      const second = makeTokens('second');
      await store().save('cfg1', first, fingerprint);
      await crashWhileSaving('store:after-rename', 'cfg1', second);
      const files = filesOf('cfg1');
      readJson(files.json).generation.should.equal(1);

      const s = store();
      (await s.load('cfg1')).should.have.properties({ tokens: second, generation: 2 });
      readJson(files.json).generation.should.equal(2);
      (await s.hasSeen('cfg1', second.refreshToken)).should.be.true();
      (await s.hasSeen('cfg1', first.refreshToken)).should.be.true();
    });

    it('discards a torn temp file and loads the previous set', async function () {
      const first = makeTokens('first');
      await store().save('cfg1', first, fingerprint);
      await crashWhileSaving('store:after-temp-write', 'cfg1', makeTokens('torn'));
      const { encTmp } = filesOf('cfg1');
      fs.truncateSync(encTmp, fs.statSync(encTmp).size - 10);

      (await store().load('cfg1')).should.have.properties({
        tokens: first,
        generation: 1,
        unreadable: false,
      });
      fs.existsSync(encTmp).should.be.false();
      warnings.join('\n').should.match(/unfinished write/);
    });

    it('discards a temp file older than the main file', async function () {
      await store().save('cfg1', makeTokens('old'), fingerprint);
      const files = filesOf('cfg1');
      const old = fs.readFileSync(files.enc);
      const newer = makeTokens('newer');
      await store().save('cfg1', newer, fingerprint);
      fs.writeFileSync(files.encTmp, old);

      (await store().load('cfg1')).should.have.properties({ tokens: newer, generation: 2 });
      fs.existsSync(files.encTmp).should.be.false();
    });

    it('keeps a sign-in saved after sign-out even when killed before its index write', async function () {
      await store().save('cfg1', makeTokens('before'), fingerprint);
      await store().signOut('cfg1');
      const again = makeTokens('again');
      await crashWhileSaving('store:after-rename', 'cfg1', again);
      (await store().load('cfg1')).should.have.properties({ tokens: again, signedOut: false });
    });
  });

  describe('sign-out', function () {
    it('survives a fresh instance, deletes the .enc and keeps the seen hashes', async function () {
      const tokens = makeTokens('signout');
      await store().save('cfg1', tokens, fingerprint);
      await store().signOut('cfg1');
      const files = filesOf('cfg1');
      fs.existsSync(files.enc).should.be.false();

      const s = store();
      const state = await s.load('cfg1');
      state.should.have.properties({ signedOut: true, unreadable: false, generation: 2 });
      should(state.tokens).be.undefined();
      (await s.hasSeen('cfg1', tokens.refreshToken)).should.be.true();
    });

    it('never uses a stale .enc that outlived the sign-out', async function () {
      await store().save('cfg1', makeTokens('stale'), fingerprint);
      const files = filesOf('cfg1');
      const stale = fs.readFileSync(files.enc);
      await store().signOut('cfg1');
      fs.writeFileSync(files.enc, stale);

      const state = await store().load('cfg1');
      state.signedOut.should.be.true();
      should(state.tokens).be.undefined();
      fs.existsSync(files.enc).should.be.false();
    });

    it('ends with the next save', async function () {
      await store().save('cfg1', makeTokens('one'), fingerprint);
      await store().signOut('cfg1');
      const tokens = makeTokens('two');
      await store().save('cfg1', tokens, fingerprint);
      (await store().load('cfg1')).should.have.properties({ tokens, signedOut: false, generation: 3 });
    });

    it('of a key never signed in still stays signed out', async function () {
      await store().signOut('cfg1');
      (await store().load('cfg1')).signedOut.should.be.true();
    });
  });

  describe('concurrency', function () {
    it('serializes saves for one key: the last one wins and no temp file is left', async function () {
      const sets = Array.from({ length: 10 }, (_, i) => makeTokens(`concurrent${i}`));
      const instances = [store(), store()];
      await Promise.all(sets.map((tokens, i) => instances[i % 2].save('cfg1', tokens, fingerprint)));
      const s = store();
      (await s.load('cfg1')).should.have.properties({ tokens: sets[9], generation: 10 });
      leftoverTemps().should.be.empty();
      for (const tokens of sets) (await s.hasSeen('cfg1', tokens.refreshToken)).should.be.true();
    });

    it('applies a save and a sign-out in the order they were called', async function () {
      const s = store();
      await Promise.all([s.save('cfg1', makeTokens('x'), fingerprint), s.signOut('cfg1')]);
      (await s.load('cfg1')).signedOut.should.be.true();
      const tokens = makeTokens('y');
      await Promise.all([s.signOut('cfg1'), s.save('cfg1', tokens, fingerprint)]);
      (await s.load('cfg1')).should.have.properties({ signedOut: false, tokens });
    });
  });

  describe('sweep', function () {
    it('keeps an unreferenced key for 24 hours, then deletes its files', async function () {
      const s = store([]);
      await s.save('kept', makeTokens('kept'), fingerprint);
      await s.save('gone', makeTokens('gone'), fingerprint);
      const gone = filesOf('gone');

      setClock(0);
      (await s.sweep(['kept'])).should.eql([]);
      readJson(gone.json).unreferencedSince.should.be.a.Number();
      readJson(filesOf('kept').json).should.not.have.property('unreferencedSince');

      setClock(23 * HOUR);
      (await s.sweep(['kept'])).should.eql([]);
      fs.existsSync(gone.enc).should.be.true();

      setClock(SWEEP_GRACE_MS + HOUR);
      (await s.sweep(new Set(['kept']))).should.eql(['gone']);
      for (const file of Object.values(gone)) fs.existsSync(file).should.be.false();
      fs.existsSync(path.join(dir, '.key')).should.be.true();
      (await s.load('kept')).tokens.should.be.an.Object();
    });

    it('clears the mark of a key that is referenced again', async function () {
      const s = store();
      await s.save('back', makeTokens('back'), fingerprint);
      setClock(0);
      await s.sweep([]);
      readJson(filesOf('back').json).should.have.property('unreferencedSince');
      await s.sweep(['back']);
      readJson(filesOf('back').json).should.not.have.property('unreferencedSince');

      setClock(SWEEP_GRACE_MS + HOUR);
      (await s.sweep([])).should.eql([]);
      fs.existsSync(filesOf('back').enc).should.be.true();
    });

    it('treats a new sign-in of an unreferenced key as activity: its grace starts over', async function () {
      const s = store();
      await s.save('editor-only', makeTokens('editor'), fingerprint);
      setClock(0);
      await s.sweep([]);
      await s.save('editor-only', makeTokens('editor2'), fingerprint);
      readJson(filesOf('editor-only').json).should.not.have.property('unreferencedSince');
    });

    it('decides nothing while the clock is implausibly early (a Pi just booted)', async function () {
      const s = store();
      await s.save('cfg1', makeTokens('pi'), fingerprint);
      setClock(Date.UTC(2001, 0, 1) - Date.now());
      (await s.sweep([])).should.eql([]);
      readJson(filesOf('cfg1').json).should.not.have.property('unreferencedSince');
    });

    it('restarts the grace when the mark lies in the future', async function () {
      const s = store();
      await s.save('cfg1', makeTokens('future'), fingerprint);
      setClock(10 * 24 * HOUR);
      await s.sweep([]);
      setClock(0);
      (await s.sweep([])).should.eql([]);
      readJson(filesOf('cfg1').json).unreferencedSince.should.be.below(Date.now() + HOUR);
    });

    it('leaves files it does not own alone', async function () {
      const s = store();
      await s.save('cfg1', makeTokens('own'), fingerprint);
      fs.writeFileSync(path.join(dir, 'baseline.json'), '{}');
      fs.writeFileSync(path.join(dir, 'notes.txt'), 'x');
      setClock(0);
      await s.sweep([]);
      setClock(SWEEP_GRACE_MS + HOUR);
      (await s.sweep([])).should.eql(['cfg1']);
      fs.readdirSync(dir).sort().should.eql(['baseline.json', 'notes.txt']);
    });

    it('copes with a missing folder', async function () {
      (await store().sweep(['x'])).should.eql([]);
    });
  });
});

describe('test hooks (test/harness/test-hooks.js, preloaded into test processes)', function () {
  this.timeout(20000);
  let root;

  beforeEach(function () {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'o365-test-hooks-'));
  });

  afterEach(function () {
    delete process.env.O365_TEST_CLOCK_FILE;
    testHooks.resetClock();
    fs.rmSync(root, { recursive: true, force: true });
  });

  /** The package publishes point 'probe' five times (noting each arrival in a file first), with or without the hooks. */
  function reachPointFiveTimes(env, { preload = true } = {}) {
    const out = path.join(root, 'arrivals');
    fs.rmSync(out, { force: true });
    const script = `
      const fs = require('fs');
      const { reached } = require(${JSON.stringify(diagnosticsModule)});
      for (let i = 1; i <= 5; i++) { fs.appendFileSync(${JSON.stringify(out)}, i + '\\n'); reached('probe'); }
    `;
    return new Promise((resolve, reject) => {
      const clean = { ...process.env };
      delete clean.O365_CRASH_POINT;
      delete clean.O365_CRASH_AFTER;
      const args = preload ? ['--require', hooksPreload, '-e', script] : ['-e', script];
      const child = spawn(process.execPath, args, { env: { ...clean, ...env }, stdio: 'ignore' });
      child.on('error', reject);
      child.on('exit', (code, signal) => {
        const arrivals = fs.existsSync(out) ? fs.readFileSync(out, 'utf8').trim().split('\n').length : 0;
        resolve({ code, signal, arrivals });
      });
    });
  }

  it('kills with SIGKILL the first time the package reaches the named point', async function () {
    (await reachPointFiveTimes({ O365_CRASH_POINT: 'probe' })).should.eql({
      code: null,
      signal: 'SIGKILL',
      arrivals: 1,
    });
  });

  it('with O365_CRASH_AFTER=3 kills on the third arrival', async function () {
    (await reachPointFiveTimes({ O365_CRASH_POINT: 'probe', O365_CRASH_AFTER: '3' })).should.eql({
      code: null,
      signal: 'SIGKILL',
      arrivals: 3,
    });
  });

  it('does nothing for another point or without the variable', async function () {
    (await reachPointFiveTimes({ O365_CRASH_POINT: 'elsewhere' })).should.eql({
      code: 0,
      signal: null,
      arrivals: 5,
    });
    (await reachPointFiveTimes({})).should.eql({ code: 0, signal: null, arrivals: 5 });
  });

  it('the shipped package never kills itself: without the preload the variable does nothing', async function () {
    (await reachPointFiveTimes({ O365_CRASH_POINT: 'probe' }, { preload: false })).should.eql({
      code: 0,
      signal: null,
      arrivals: 5,
    });
  });

  it("the package's points reach a diagnostics_channel subscriber by name", function () {
    const diagnostics = require('node:diagnostics_channel');
    const seen = [];
    const listen = (message) => seen.push(message.name);
    diagnostics.subscribe(testHooks.POINT_CHANNEL, listen);
    try {
      require(diagnosticsModule).reached('store:after-rename');
    } finally {
      diagnostics.unsubscribe(testHooks.POINT_CHANNEL, listen);
    }
    seen.should.eql(['store:after-rename']);
  });

  it("the package's now() is Date.now(), so the moved clock moves it", function () {
    const before = testHooks.realNow();
    clock.now().should.be.within(before, testHooks.realNow());
    testHooks.setClockOffset(3600000);
    (clock.now() - testHooks.realNow()).should.be.within(3600000 - 50, 3600000 + 50);
    clock.systemClock.now().should.be.within(clock.now() - 50, clock.now() + 50);
  });

  it('adds the clock file offset and picks up a change within about 250 ms', async function () {
    const file = path.join(root, 'clock');
    fs.writeFileSync(file, '3600000\n');
    process.env.O365_TEST_CLOCK_FILE = file;
    const ahead = () => clock.now() - testHooks.realNow();
    ahead().should.be.within(3600000 - 50, 3600000 + 50);

    fs.writeFileSync(file, '-7200000');
    const later = new Date(testHooks.realNow() + 5000);
    fs.utimesSync(file, later, later);
    // Still cached right after the first read: the file is looked at no more than every 250 ms.
    ahead().should.be.within(3600000 - 50, 3600000 + 50);
    await new Promise((resolve) => setTimeout(resolve, 300));
    ahead().should.be.within(-7200000 - 50, -7200000 + 50);

    fs.unlinkSync(file);
    await new Promise((resolve) => setTimeout(resolve, 300));
    ahead().should.be.within(-50, 50);
  });

  it('ignores a clock file that holds no number', function () {
    const file = path.join(root, 'clock-garbage');
    fs.writeFileSync(file, 'tomorrow');
    process.env.O365_TEST_CLOCK_FILE = file;
    (clock.now() - testHooks.realNow()).should.be.within(-50, 50);
  });
});
