// The changesOnly baselines (event ids and changeKeys only, no content), kept beside the token store so that a
// restart does not announce the whole calendar again. Written atomically (files/atomic-file).
import crypto from 'crypto';
import fs from 'fs';
import path from 'path';
import type { Baseline } from './events-controller';
import { writeAtomic } from '../files/atomic-file';

export class BaselineStore {
  private readonly dir: string;

  constructor(dataDir: string) {
    this.dir = path.join(dataDir, 'baselines');
  }

  /** One file per (node, user, calendar, window setting): a hash of them, so no mailbox name lands in a file name. */
  static key(parts: string[]): string {
    return crypto.createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 40);
  }

  async load(key: string): Promise<Baseline | undefined> {
    try {
      const data = JSON.parse(
        await fs.promises.readFile(path.join(this.dir, `${key}.json`), 'utf8'),
      ) as unknown;
      if (!data || typeof data !== 'object' || Array.isArray(data)) return undefined;
      const entries = (data as { entries?: unknown }).entries;
      if (!entries || typeof entries !== 'object') return undefined;
      const baseline: Baseline = {};
      for (const [id, changeKey] of Object.entries(entries as Record<string, unknown>)) {
        baseline[id] = typeof changeKey === 'string' ? changeKey : '';
      }
      return baseline;
    } catch {
      return undefined;
    }
  }

  async save(key: string, baseline: Baseline): Promise<void> {
    await fs.promises.mkdir(this.dir, { recursive: true, mode: 0o700 });
    await writeAtomic(path.join(this.dir, `${key}.json`), JSON.stringify({ version: 1, entries: baseline }));
  }
}
