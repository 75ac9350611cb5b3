// The changesOnly baselines (event ids and changeKeys only, no content), kept beside the token store so that a
// restart does not announce the whole calendar again. Written atomically (files/atomic-file). Swept like the
// token store: files no deployed node reads any more go after the same grace period.
import crypto from 'crypto';
import fs from 'fs';
import path from 'path';
import type { Baseline } from './events-controller';
import { writeAtomic } from '../files/atomic-file';
import { now } from '../time/clock';
import { unusedFileFate } from '../node-red/sweep';

const FILE = /^([0-9a-f]{40})\.json$/;
const TEMP = /^[0-9a-f]{40}\.json\.tmp$/;

interface BaselineFile {
  version: 1;
  entries: Baseline;
  /** Set by a sweep that found no node reading this baseline. */
  unreferencedSince?: number;
}

/** What decides a baseline's file: the node and what it reads (mailbox, calendar, view and window setting). */
export interface BaselineParts {
  nodeId: string;
  user: string;
  calendarId: string;
  view: string;
  start: string;
  end: string;
}

export class BaselineStore {
  private readonly dir: string;

  constructor(dataDir: string) {
    this.dir = path.join(dataDir, 'baselines');
  }

  /** One file per (node, user, calendar, view, window setting): a hash of them, so no mailbox name lands in a file name. */
  static key(parts: BaselineParts): string {
    const list = [parts.nodeId, parts.user, parts.calendarId, parts.view, parts.start, parts.end];
    return crypto.createHash('sha256').update(JSON.stringify(list)).digest('hex').slice(0, 40);
  }

  async load(key: string): Promise<Baseline | undefined> {
    const file = await this.read(key);
    if (!file) return undefined;
    // Read again, so in use: a mark from an earlier sweep (a node reading through msg.user, say) goes.
    if (file.unreferencedSince !== undefined) await this.write(key, { version: 1, entries: file.entries });
    return file.entries;
  }

  async save(key: string, baseline: Baseline): Promise<void> {
    await this.write(key, { version: 1, entries: baseline });
  }

  /**
   * Marks the baselines whose key is not in `usedKeys`, deletes those marked for longer than the grace period
   * (with any temp file a crash left), and clears the mark of used ones. Returns the deleted keys.
   */
  async sweep(usedKeys: Iterable<string>): Promise<string[]> {
    const used = new Set(usedKeys);
    let names: string[];
    try {
      names = await fs.promises.readdir(this.dir);
    } catch {
      return [];
    }
    const time = now();
    const deleted: string[] = [];
    for (const name of names) {
      const key = FILE.exec(name)?.[1];
      if (!key) continue;
      const file = await this.read(key);
      if (used.has(key)) {
        if (file?.unreferencedSince !== undefined)
          await this.write(key, { version: 1, entries: file.entries });
        continue;
      }
      const fate = unusedFileFate(file?.unreferencedSince, time);
      if (fate === 'mark') {
        await this.write(key, { version: 1, entries: file?.entries ?? {}, unreferencedSince: time });
      } else if (fate === 'delete') {
        await fs.promises.rm(path.join(this.dir, name), { force: true });
        deleted.push(key);
      }
    }
    // Temp files a crash left behind, of baselines just deleted.
    for (const name of names) {
      if (TEMP.test(name) && deleted.includes(name.slice(0, 40))) {
        await fs.promises.rm(path.join(this.dir, name), { force: true });
      }
    }
    return deleted;
  }

  private async read(key: string): Promise<BaselineFile | undefined> {
    try {
      const data = JSON.parse(
        await fs.promises.readFile(path.join(this.dir, `${key}.json`), 'utf8'),
      ) as unknown;
      if (!data || typeof data !== 'object' || Array.isArray(data)) return undefined;
      const { entries, unreferencedSince } = data as Record<string, unknown>;
      if (!entries || typeof entries !== 'object') return undefined;
      const baseline: Baseline = {};
      for (const [id, changeKey] of Object.entries(entries as Record<string, unknown>)) {
        baseline[id] = typeof changeKey === 'string' ? changeKey : '';
      }
      return {
        version: 1,
        entries: baseline,
        unreferencedSince: typeof unreferencedSince === 'number' ? unreferencedSince : undefined,
      };
    } catch {
      return undefined;
    }
  }

  private async write(key: string, content: BaselineFile): Promise<void> {
    await fs.promises.mkdir(this.dir, { recursive: true, mode: 0o700 });
    await writeAtomic(path.join(this.dir, `${key}.json`), JSON.stringify(content));
  }
}
