// A trigger node's memory across redeploys and restarts: which (event, edge, edge instant) already fired, and until
// when its plan was complete (the "last running" mark that limits catch-up). One JSON file per node beside the
// token store, written atomically; entries older than two days are dropped, and files of nodes no longer deployed
// are swept like token sets and baselines (marked, then deleted after the grace period).
import crypto from 'crypto';
import { promises as fsp } from 'fs';
import path from 'path';
import { writeAtomic } from '../files/atomic-file';
import { unusedFileFate } from '../node-red/sweep';

export const FIRED_RETENTION_MS = 2 * 86_400_000;
const VERSION = 1;

interface FiredFile {
  version: number;
  /** Instants up to this one were handled by a complete plan (fired, or deliberately not). */
  mark: number;
  /** firing key → the planned instant `at` (ms), which pruning goes by. */
  fired: Record<string, number>;
  /** Set by a sweep that found no deployed trigger node of this file. */
  unreferencedSince?: number;
}

/** The key of one firing: at most once per (event id, edge, edge instant). */
export function firedKey(eventId: string, edge: string, edgeMs: number): string {
  return `${edge}|${edgeMs}|${eventId}`;
}

export class FiredStore {
  private readonly fired = new Map<string, number>();
  private markMs: number;
  private writing: Promise<void> = Promise.resolve();
  private dirty = false;

  private constructor(
    private readonly file: string,
    mark: number,
    /** True when there was no file: a node deployed for the first time (or one whose file was unreadable). */
    readonly fresh: boolean,
  ) {
    this.markMs = mark;
  }

  /** The file of one node: a hash of its id, so no id lands in a file name. */
  static fileFor(dataDir: string, nodeId: string): string {
    const stem = crypto.createHash('sha256').update(`trigger|${nodeId}`).digest('hex').slice(0, 40);
    return path.join(dataDir, 'triggers', `${stem}.json`);
  }

  /**
   * Loads a node's store. Without a readable file the node is new: its mark is `now`, so nothing from before its
   * first deploy fires, and that is written at once (a restart a second later must know it).
   */
  static async open(dataDir: string, nodeId: string, now: number): Promise<FiredStore> {
    const file = FiredStore.fileFor(dataDir, nodeId);
    const loaded = await readFile(file);
    const store = new FiredStore(file, loaded ? loaded.mark : now, !loaded);
    if (loaded) for (const [key, at] of Object.entries(loaded.fired)) store.fired.set(key, at);
    // A new node's file is written at once; a node back within the grace period takes its file back (unmarked).
    if (!loaded || loaded.unreferencedSince !== undefined) await store.save(now);
    return store;
  }

  /**
   * After a deploy: the files in `dataDir` of trigger nodes not among `nodeIds` are marked, and deleted once the
   * grace period has passed since their mark (the token store's rule, node-red/sweep.ts). Returns the deleted files.
   */
  static async sweep(dataDir: string, nodeIds: Iterable<string>, now: number): Promise<string[]> {
    const dir = path.join(dataDir, 'triggers');
    const used = new Set([...nodeIds].map((id) => path.basename(FiredStore.fileFor(dataDir, id))));
    let names: string[];
    try {
      names = await fsp.readdir(dir);
    } catch {
      return [];
    }
    const deleted: string[] = [];
    for (const name of names) {
      if (!/^[0-9a-f]{40}\.json$/.test(name) || used.has(name)) continue;
      const file = path.join(dir, name);
      const data = await readFile(file);
      if (!data) continue;
      const fate = unusedFileFate(data.unreferencedSince, now);
      if (fate === 'mark') {
        await writeAtomic(file, JSON.stringify({ ...data, unreferencedSince: now }));
      } else if (fate === 'delete') {
        await fsp.unlink(file).catch(() => undefined);
        deleted.push(file);
      }
    }
    return deleted;
  }

  get mark(): number {
    return this.markMs;
  }

  has(key: string): boolean {
    return this.fired.has(key);
  }

  get size(): number {
    return this.fired.size;
  }

  /** Remembers firings in memory at once (so nothing fires twice while the write is on its way). */
  add(entries: Array<{ key: string; at: number }>): void {
    for (const { key, at } of entries) this.fired.set(key, at);
    this.dirty = true;
  }

  /** Moves the mark forward (never back: a clock set back must not re-open what was handled). */
  advanceMark(ms: number): void {
    if (ms > this.markMs) {
      this.markMs = ms;
      this.dirty = true;
    }
  }

  /**
   * Writes the current state (pruned) atomically; writes are serialized, and one that waited for another writes
   * what is current when it starts.
   */
  save(now: number): Promise<void> {
    this.dirty = true;
    const next = this.writing.then(() => this.write(now));
    this.writing = next.catch(() => undefined);
    return next;
  }

  /** Resolves when every write asked for so far is on disk (or failed). */
  flush(): Promise<void> {
    return this.writing;
  }

  private async write(now: number): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    for (const [key, at] of this.fired) if (at < now - FIRED_RETENTION_MS) this.fired.delete(key);
    const data: FiredFile = { version: VERSION, mark: this.markMs, fired: Object.fromEntries(this.fired) };
    try {
      await fsp.mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
      await writeAtomic(this.file, JSON.stringify(data), { crashPoints: 'fired' });
    } catch (err) {
      this.dirty = true;
      throw err;
    }
  }
}

async function readFile(file: string): Promise<FiredFile | undefined> {
  let data: unknown;
  try {
    data = JSON.parse(await fsp.readFile(file, 'utf8'));
  } catch {
    return undefined;
  }
  if (!data || typeof data !== 'object') return undefined;
  const { version, mark, fired } = data as Partial<FiredFile>;
  if (version !== VERSION || typeof mark !== 'number' || !Number.isFinite(mark)) return undefined;
  const entries: Record<string, number> = {};
  if (fired && typeof fired === 'object') {
    for (const [key, at] of Object.entries(fired)) if (typeof at === 'number') entries[key] = at;
  }
  const since = (data as Partial<FiredFile>).unreferencedSince;
  return {
    version,
    mark,
    fired: entries,
    ...(typeof since === 'number' && Number.isFinite(since) ? { unreferencedSince: since } : {}),
  };
}
