// When files the package keeps beside Node-RED's user directory (token sets, changesOnly baselines) go: one rule.
// A sweep after each deploy marks the files no deployed node uses any more, keeps them for a grace period (a
// disabled tab or a node deployed away for a moment comes back to its files), then deletes them.

/** How long files outlive the last sweep that found no node using them. */
export const SWEEP_GRACE_MS = 24 * 60 * 60 * 1000;

/** Before this instant the clock is surely wrong (a Raspberry Pi boots in 1970): sweeping decides nothing. */
const PLAUSIBLE_CLOCK_MS = Date.UTC(2025, 0, 1);

export type SweepFate = 'keep' | 'mark' | 'delete';

/**
 * What a sweep at `time` does with a file no node uses, marked unused at `markedAt` (undefined: not yet):
 * mark it now (also when the mark lies in the future: the clock was wrong then or is now), keep it within the
 * grace period or while the clock is implausible, delete it after.
 */
export function unusedFileFate(markedAt: number | undefined, time: number): SweepFate {
  if (time < PLAUSIBLE_CLOCK_MS) return 'keep';
  if (markedAt === undefined || markedAt > time) return 'mark';
  return time - markedAt < SWEEP_GRACE_MS ? 'keep' : 'delete';
}
