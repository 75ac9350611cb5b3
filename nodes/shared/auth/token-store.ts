// The authoritative copy of each config node's newest token set: encrypted, written atomically, crash safe.
import * as crypto from 'crypto';
import { promises as fsp } from 'fs';
import * as path from 'path';
import { t } from '../node-red/i18n';
import { fsyncDir, renameReplacing, writeAtomic } from '../files/atomic-file';
import { now } from '../time/clock';
import { SWEEP_GRACE_MS, unusedFileFate } from '../node-red/sweep';
import type { Fingerprint, TokenSet } from './types';

export interface TokenStoreOptions {
  /** The folder of this Node-RED project, e.g. `<userDir>/o365-calendar/<project>`; made (0700) when missing. */
  dir: string;
  /** Candidate secrets, the current one first (credentialSecret, Node-RED's _credentialSecret, ...). */
  keySecrets: string[];
  /** Log sink; it never receives a token, a secret or file contents. */
  warn?: (message: string) => void;
}

export interface StoredState {
  /** The newest readable token set, unless signed out. */
  tokens?: TokenSet;
  fingerprint?: Fingerprint;
  generation: number;
  signedOut: boolean;
  /** A saved token set exists but no candidate key opens it, or it is damaged: sign-in required. */
  unreadable: boolean;
}

/** How many refresh-token hashes a key remembers (newest last). */
export const SEEN_LIMIT = 50;
export { SWEEP_GRACE_MS };

const INDEX_VERSION = 1;
// Sealed file: magic, format version, key id, IV, ciphertext, GCM tag. The header and the file's stem are
// authenticated, so a file copied onto another key's name does not open.
const MAGIC = Buffer.from('o365', 'ascii');
const FORMAT_VERSION = 1;
const KEY_ID_BYTES = 8;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = MAGIC.length + 1 + KEY_ID_BYTES + IV_BYTES;
const KEY_FILE = '.key';
const KEY_FILE_BYTES = 32;
const HKDF_SALT = Buffer.from('node-red-contrib-o365-calendar', 'utf8');
const HKDF_INFO = Buffer.from('token store key v1', 'utf8');
const STORE_FILE = /^([0-9a-f]{32})\.(?:enc|json)(?:\.tmp)?$/;

/** The plaintext `<key>.json`: no secrets, only what decides which token set is current. */
interface Index {
  version: number;
  /** The config node's `_alias || id`, for people reading the folder. */
  key?: string;
  generation: number;
  signedOut: boolean;
  /** Random per key; the seen hashes are HMACs with it, so they cannot be matched across keys or installs. */
  salt: string;
  seen: string[];
  fingerprint?: Fingerprint;
  unreferencedSince?: number;
}

/** The plaintext inside `<key>.enc`. */
interface Payload {
  generation: number;
  tokens: TokenSet;
  fingerprint: Fingerprint;
}

interface Candidate {
  key: Buffer;
  id: Buffer;
}

type Sealed =
  | { kind: 'absent' }
  | { kind: 'no-key' }
  | { kind: 'damaged' }
  | { kind: 'open'; payload: Payload; current: boolean };

interface StoreFiles {
  enc: string;
  encTmp: string;
  json: string;
  jsonTmp: string;
}

interface Recovered {
  index?: Index;
  sealed: Sealed;
}

// One queue per file across every TokenStore of the process: writes for a key never interleave.
const queues = new Map<string, Promise<unknown>>();

function serialize<T>(id: string, task: () => Promise<T>): Promise<T> {
  const previous = queues.get(id) ?? Promise.resolve();
  const run = previous.then(task);
  const tail = run.then(
    () => undefined,
    () => undefined,
  );
  queues.set(id, tail);
  void tail.then(() => {
    if (queues.get(id) === tail) queues.delete(id);
  });
  return run;
}

export class TokenStore {
  private readonly dir: string;
  private readonly secrets: string[];
  private readonly log: (message: string) => void;
  private fileKey?: Buffer;
  private readonly warned = new Map<string, Set<string>>();

  constructor(opts: TokenStoreOptions) {
    this.dir = path.resolve(opts.dir);
    const secrets = (opts.keySecrets ?? []).filter((s): s is string => typeof s === 'string' && s !== '');
    this.secrets = [...new Set(secrets)];
    this.log = opts.warn ?? (() => undefined);
  }

  /** The state to start from; never throws (trouble is a warning and `unreadable`). */
  load(key: string): Promise<StoredState> {
    const stem = stemOf(key);
    return this.locked(stem, async () => {
      try {
        await this.ensureDir();
        const { index, sealed } = await this.recover(stem, key, await this.candidates(false));
        const signedOut = index?.signedOut ?? false;
        const open = sealed.kind === 'open' && !signedOut ? sealed.payload : undefined;
        return {
          tokens: open?.tokens,
          fingerprint: open ? open.fingerprint : index?.fingerprint,
          generation: Math.max(index?.generation ?? 0, open?.generation ?? 0),
          signedOut,
          unreadable: sealed.kind === 'no-key' || sealed.kind === 'damaged',
        };
      } catch (err) {
        this.warnOnce(stem, t('errors.store.unreadable', { key, reason: describe(err) }));
        return { generation: 0, signedOut: false, unreadable: true };
      }
    });
  }

  /** Stores a new generation of tokens, remembers the refresh token's hash and ends a sign-out. */
  save(key: string, tokens: TokenSet, fingerprint: Fingerprint): Promise<void> {
    if (!isTokenSet(tokens) || !isFingerprint(fingerprint)) {
      return Promise.reject(new TypeError(t('errors.store.incomplete')));
    }
    const stem = stemOf(key);
    return this.locked(stem, async () => {
      await this.ensureDir();
      const candidates = await this.candidates(true);
      const { index, sealed } = await this.recover(stem, key, candidates);
      const generation = nextGeneration(index, sealed);
      const files = this.files(stem);
      const payload: Payload = { generation, tokens, fingerprint };
      await writeAtomic(files.enc, seal(payload, candidates[0], stem), { crashPoints: 'store' });
      const base = index ?? newIndex();
      const next: Index = {
        ...base,
        key,
        generation,
        signedOut: false,
        fingerprint,
        seen: tokens.refreshToken
          ? remember(base.seen, hashToken(base.salt, tokens.refreshToken))
          : base.seen,
      };
      delete next.unreferencedSince;
      await writeAtomic(files.json, serializeIndex(next));
      this.warned.delete(stem);
    });
  }

  /** Sets the signed-out flag and deletes the token set; the seen hashes stay. */
  signOut(key: string): Promise<void> {
    const stem = stemOf(key);
    return this.locked(stem, async () => {
      await this.ensureDir();
      const { index, sealed } = await this.recover(stem, key, await this.candidates(false));
      const files = this.files(stem);
      // A new generation, so an .enc that survives the deletion below is recognisably older than the flag.
      const next: Index = {
        ...(index ?? newIndex()),
        key,
        generation: nextGeneration(index, sealed),
        signedOut: true,
      };
      await writeAtomic(files.json, serializeIndex(next));
      try {
        await unlinkIfExists(files.enc);
        await unlinkIfExists(files.encTmp);
        await fsyncDir(this.dir);
      } catch (err) {
        this.log(t('errors.store.notDeleted', { key, reason: describe(err) }));
      }
      this.warned.delete(stem);
    });
  }

  /** Whether this refresh token was ever stored or marked for this key; false when the store cannot tell. */
  hasSeen(key: string, refreshToken: string): Promise<boolean> {
    const stem = stemOf(key);
    return this.locked(stem, async () => {
      try {
        await this.ensureDir();
        const { index } = await this.recover(stem, key, await this.candidates(false));
        return index !== undefined && index.seen.includes(hashToken(index.salt, refreshToken));
      } catch (err) {
        this.warnOnce(stem, t('errors.store.unreadable', { key, reason: describe(err) }));
        return false;
      }
    });
  }

  /** Remembers a refresh token's hash without storing tokens. */
  markSeen(key: string, refreshToken: string): Promise<void> {
    const stem = stemOf(key);
    return this.locked(stem, async () => {
      await this.ensureDir();
      const { index } = await this.recover(stem, key, await this.candidates(false));
      const base = index ?? newIndex();
      const hash = hashToken(base.salt, refreshToken);
      if (index && base.seen.includes(hash)) return;
      await writeAtomic(
        this.files(stem).json,
        serializeIndex({ ...base, key, seen: remember(base.seen, hash) }),
      );
    });
  }

  /**
   * Marks the files of keys not in `referencedKeys` as unreferenced, deletes those unreferenced for over
   * SWEEP_GRACE_MS, and clears the mark of referenced ones. Returns the deleted keys (the stem when the
   * index did not name its key).
   */
  async sweep(referencedKeys: Iterable<string>): Promise<string[]> {
    const referenced = new Set<string>();
    for (const key of referencedKeys) referenced.add(stemOf(key));
    let names: string[];
    try {
      names = await fsp.readdir(this.dir);
    } catch (err) {
      if (codeOf(err) === 'ENOENT') return [];
      throw err;
    }
    const stems = new Set<string>();
    for (const name of names) {
      const match = STORE_FILE.exec(name);
      if (match) stems.add(match[1]);
    }
    const swept: string[] = [];
    const time = now();
    for (const stem of [...stems].sort()) {
      await this.locked(stem, async () => {
        const files = this.files(stem);
        const index = await this.readIndex(stem, files, true);
        if (referenced.has(stem)) {
          if (index?.unreferencedSince !== undefined) {
            const next = { ...index };
            delete next.unreferencedSince;
            await writeAtomic(files.json, serializeIndex(next));
          }
          return;
        }
        const fate = unusedFileFate(index?.unreferencedSince, time);
        if (fate === 'keep') return;
        if (fate === 'mark') {
          await writeAtomic(
            files.json,
            serializeIndex({ ...(index ?? newIndex()), unreferencedSince: time }),
          );
          return;
        }
        for (const file of [files.enc, files.encTmp, files.json, files.jsonTmp]) await unlinkIfExists(file);
        await fsyncDir(this.dir);
        this.warned.delete(stem);
        swept.push(index?.key ?? stem);
      });
    }
    return swept;
  }

  private locked<T>(stem: string, task: () => Promise<T>): Promise<T> {
    return serialize(`${this.dir}\0${stem}`, task);
  }

  private files(stem: string): StoreFiles {
    const base = path.join(this.dir, stem);
    return {
      enc: `${base}.enc`,
      encTmp: `${base}.enc.tmp`,
      json: `${base}.json`,
      jsonTmp: `${base}.json.tmp`,
    };
  }

  private async ensureDir(): Promise<void> {
    await fsp.mkdir(this.dir, { recursive: true, mode: 0o700 });
  }

  /**
   * Brings a key's files to a consistent state after any crash: adopts finished temp files, repairs an index
   * that lags behind the .enc, drops a token set older than a sign-out, re-encrypts under the current key.
   * Repairs are best effort: when one cannot be written, the state in memory is still right.
   */
  private async recover(stem: string, key: string, candidates: Candidate[]): Promise<Recovered> {
    const files = this.files(stem);
    let index = await this.readIndex(stem, files, false);
    let sealed = await this.readSealed(stem, key, files.enc, candidates);

    const temp = await readIfExists(files.encTmp);
    if (temp) {
      const unsealed = unseal(temp, candidates, stem);
      const floor = Math.max(index?.generation ?? 0, sealed.kind === 'open' ? sealed.payload.generation : 0);
      if (unsealed.kind === 'open' && unsealed.payload.generation > floor) {
        await this.bestEffort(stem, key, async () => {
          await renameReplacing(files.encTmp, files.enc);
          await fsyncDir(this.dir);
        });
        sealed = unsealed;
      } else {
        if (unsealed.kind !== 'open') this.warnOnce(stem, t('errors.store.tornWrite', { key }));
        await this.bestEffort(stem, key, () => unlinkIfExists(files.encTmp));
      }
    }

    if (sealed.kind === 'open') {
      const { payload } = sealed;
      if (!index || payload.generation > index.generation) {
        // The .enc was renamed into place but its index was not written: rebuild the index from it.
        const base = index ?? newIndex();
        index = {
          ...base,
          key,
          generation: payload.generation,
          signedOut: false,
          fingerprint: payload.fingerprint,
          seen: payload.tokens.refreshToken
            ? remember(base.seen, hashToken(base.salt, payload.tokens.refreshToken))
            : base.seen,
        };
        const repaired = index;
        await this.bestEffort(stem, key, () => writeAtomic(files.json, serializeIndex(repaired)));
      } else if (index.signedOut) {
        // Older than the sign-out (its deletion did not happen): never used again.
        await this.bestEffort(stem, key, () => unlinkIfExists(files.enc));
        return { index, sealed: { kind: 'absent' } };
      }
      if (!sealed.current && candidates.length > 0) {
        // Opened with an older key: Node-RED may drop that secret, so do not depend on it any longer.
        const reencrypted = seal(payload, candidates[0], stem);
        await this.bestEffort(stem, key, () => writeAtomic(files.enc, reencrypted, { crashPoints: 'store' }));
        sealed = { ...sealed, current: true };
      }
    }
    return { index, sealed };
  }

  private async readIndex(stem: string, files: StoreFiles, quiet: boolean): Promise<Index | undefined> {
    const raw = await readIfExists(files.json);
    let index = raw ? parseIndex(raw) : undefined;
    if (raw && !index && !quiet) this.warnOnce(stem, t('errors.store.indexRebuilt', { file: files.json }));
    const temp = await readIfExists(files.jsonTmp);
    if (temp) {
      // Every index write goes through this temp file, so a complete one is the newest intended state.
      const pending = parseIndex(temp);
      if (pending && (!index || pending.generation >= index.generation)) {
        await renameReplacing(files.jsonTmp, files.json);
        await fsyncDir(this.dir);
        index = pending;
      } else {
        await unlinkIfExists(files.jsonTmp);
      }
    }
    return index;
  }

  private async readSealed(
    stem: string,
    key: string,
    file: string,
    candidates: Candidate[],
  ): Promise<Sealed> {
    const data = await readIfExists(file);
    if (!data) return { kind: 'absent' };
    const sealed = unseal(data, candidates, stem);
    if (sealed.kind === 'no-key') {
      this.warnOnce(stem, t('errors.store.noKey', { key }));
    } else if (sealed.kind === 'damaged') {
      this.warnOnce(stem, t('errors.store.damaged', { key, file }));
    }
    return sealed;
  }

  /** The candidate keys, the current one first; `create` makes the key file when no secret is given. */
  private async candidates(create: boolean): Promise<Candidate[]> {
    const list = this.secrets.map((secret) => candidate(deriveKey(Buffer.from(secret, 'utf8'))));
    const fileKey = await this.keyFile(create && list.length === 0);
    if (fileKey && !list.some((c) => c.id.equals(fileKey.id))) list.push(fileKey);
    return list;
  }

  private async keyFile(create: boolean): Promise<Candidate | undefined> {
    if (this.fileKey) return candidate(this.fileKey);
    const file = path.join(this.dir, KEY_FILE);
    return serialize(file, async () => {
      if (this.fileKey) return candidate(this.fileKey);
      let raw = await readIfExists(file);
      if (raw && raw.length !== KEY_FILE_BYTES) {
        this.warnOnce(
          KEY_FILE,
          t(create ? 'errors.store.keyFileReplaced' : 'errors.store.keyFileIgnored', { file }),
        );
        raw = undefined;
      }
      if (!raw) {
        if (!create) return undefined;
        raw = crypto.randomBytes(KEY_FILE_BYTES);
        await writeAtomic(file, raw);
      }
      this.fileKey = deriveKey(raw);
      return candidate(this.fileKey);
    });
  }

  private async bestEffort(stem: string, key: string, task: () => Promise<void>): Promise<void> {
    try {
      await task();
    } catch (err) {
      this.warnOnce(stem, t('errors.store.repairFailed', { key, reason: describe(err) }));
    }
  }

  private warnOnce(stem: string, message: string): void {
    let messages = this.warned.get(stem);
    if (!messages) this.warned.set(stem, (messages = new Set()));
    if (messages.has(message)) return;
    messages.add(message);
    this.log(message);
  }
}

/** The file-name stem of a key: a hash, so any `_alias || id` is a safe file name. */
function stemOf(key: string): string {
  return crypto.createHash('sha256').update(`o365-calendar token store\0${key}`).digest('hex').slice(0, 32);
}

function deriveKey(ikm: Buffer): Buffer {
  return Buffer.from(crypto.hkdfSync('sha256', ikm, HKDF_SALT, HKDF_INFO, 32));
}

function candidate(key: Buffer): Candidate {
  const id = crypto.createHash('sha256').update('o365-calendar key id\0').update(key).digest();
  return { key, id: id.subarray(0, KEY_ID_BYTES) };
}

function seal(payload: Payload, key: Candidate, stem: string): Buffer {
  const iv = crypto.randomBytes(IV_BYTES);
  const header = Buffer.concat([MAGIC, Buffer.from([FORMAT_VERSION]), key.id, iv]);
  const cipher = crypto.createCipheriv('aes-256-gcm', key.key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.concat([header, Buffer.from(stem, 'utf8')]));
  const body = Buffer.concat([cipher.update(JSON.stringify(payload), 'utf8'), cipher.final()]);
  return Buffer.concat([header, body, cipher.getAuthTag()]);
}

function unseal(data: Buffer, candidates: Candidate[], stem: string): Sealed {
  if (
    data.length < HEADER_BYTES + TAG_BYTES ||
    !data.subarray(0, MAGIC.length).equals(MAGIC) ||
    data[MAGIC.length] !== FORMAT_VERSION
  ) {
    return { kind: 'damaged' };
  }
  const header = data.subarray(0, HEADER_BYTES);
  const keyId = data.subarray(MAGIC.length + 1, MAGIC.length + 1 + KEY_ID_BYTES);
  const iv = data.subarray(HEADER_BYTES - IV_BYTES, HEADER_BYTES);
  const body = data.subarray(HEADER_BYTES, data.length - TAG_BYTES);
  const tag = data.subarray(data.length - TAG_BYTES);
  // The key id is a hint for the order; every candidate is still tried.
  const ordered = [...candidates].sort((a, b) => Number(b.id.equals(keyId)) - Number(a.id.equals(keyId)));
  for (const c of ordered) {
    let plain: Buffer;
    try {
      const decipher = crypto.createDecipheriv('aes-256-gcm', c.key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.concat([header, Buffer.from(stem, 'utf8')]));
      decipher.setAuthTag(tag);
      plain = Buffer.concat([decipher.update(body), decipher.final()]);
    } catch {
      continue;
    }
    const payload = parsePayload(plain);
    return payload ? { kind: 'open', payload, current: c === candidates[0] } : { kind: 'damaged' };
  }
  return { kind: candidates.some((c) => c.id.equals(keyId)) ? 'damaged' : 'no-key' };
}

function parsePayload(plain: Buffer): Payload | undefined {
  const value = parseJson(plain);
  if (!isRecord(value) || !isGeneration(value.generation)) return undefined;
  if (!isTokenSet(value.tokens) || !isFingerprint(value.fingerprint)) return undefined;
  return { generation: value.generation, tokens: value.tokens, fingerprint: value.fingerprint };
}

function parseIndex(raw: Buffer): Index | undefined {
  const value = parseJson(raw);
  if (!isRecord(value) || value.version !== INDEX_VERSION || !isGeneration(value.generation))
    return undefined;
  if (typeof value.signedOut !== 'boolean' || typeof value.salt !== 'string' || value.salt === '')
    return undefined;
  if (!Array.isArray(value.seen) || !value.seen.every((h) => typeof h === 'string')) return undefined;
  if (value.key !== undefined && typeof value.key !== 'string') return undefined;
  if (value.fingerprint !== undefined && !isFingerprint(value.fingerprint)) return undefined;
  const since = value.unreferencedSince;
  if (since !== undefined && (typeof since !== 'number' || !Number.isFinite(since))) return undefined;
  const index: Index = {
    version: INDEX_VERSION,
    generation: value.generation,
    signedOut: value.signedOut,
    salt: value.salt,
    seen: value.seen.slice(-SEEN_LIMIT),
  };
  if (value.key !== undefined) index.key = value.key;
  if (value.fingerprint !== undefined) index.fingerprint = value.fingerprint;
  if (since !== undefined) index.unreferencedSince = since;
  return index;
}

function serializeIndex(index: Index): string {
  return `${JSON.stringify(index, null, 2)}\n`;
}

function newIndex(): Index {
  return {
    version: INDEX_VERSION,
    generation: 0,
    signedOut: false,
    salt: crypto.randomBytes(16).toString('base64url'),
    seen: [],
  };
}

function nextGeneration(index: Index | undefined, sealed: Sealed): number {
  return Math.max(index?.generation ?? 0, sealed.kind === 'open' ? sealed.payload.generation : 0) + 1;
}

function hashToken(salt: string, refreshToken: string): string {
  return crypto.createHmac('sha256', salt).update(refreshToken, 'utf8').digest('hex').slice(0, 32);
}

/** Appends a hash as the newest, bounded to SEEN_LIMIT. */
function remember(seen: string[], hash: string): string[] {
  return [...seen.filter((h) => h !== hash), hash].slice(-SEEN_LIMIT);
}

function parseJson(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isGeneration(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isTokenSet(value: unknown): value is TokenSet {
  return (
    isRecord(value) &&
    typeof value.accessToken === 'string' &&
    (value.refreshToken === undefined || typeof value.refreshToken === 'string') &&
    isFiniteNumber(value.expiresAt) &&
    (value.refreshAt === undefined || isFiniteNumber(value.refreshAt)) &&
    (value.clientKind === 'confidential' || value.clientKind === 'public')
  );
}

// NaN would be written as null and then fail to load: refuse it when saving.
function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function isFingerprint(value: unknown): value is Fingerprint {
  return (
    isRecord(value) &&
    ['authority', 'tenant', 'clientId', 'clientKind', 'scopes'].every(
      (field) => typeof value[field] === 'string',
    )
  );
}

async function readIfExists(file: string): Promise<Buffer | undefined> {
  try {
    return await fsp.readFile(file);
  } catch (err) {
    if (codeOf(err) === 'ENOENT') return undefined;
    throw err;
  }
}

async function unlinkIfExists(file: string): Promise<void> {
  try {
    await fsp.unlink(file);
  } catch (err) {
    if (codeOf(err) !== 'ENOENT') throw err;
  }
}

function codeOf(err: unknown): string | undefined {
  return isRecord(err) && typeof err.code === 'string' ? err.code : undefined;
}

/** A short reason for a log line: the error code, never a message that could quote file contents. */
function describe(err: unknown): string {
  return codeOf(err) ?? (err instanceof Error ? err.name : 'unknown error');
}
