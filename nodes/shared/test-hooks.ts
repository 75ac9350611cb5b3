// Hooks for crash and clock tests: inert unless an O365_* environment variable asks for them.
import * as fs from 'fs';
import { performance } from 'perf_hooks';

const timesReached = new Map<string, number>();

/**
 * Kills the process with SIGKILL when `O365_CRASH_POINT` names this point, so tests can prove that a crash
 * here loses nothing. With `O365_CRASH_AFTER=n` only the n-th arrival kills (default: the first).
 */
export function crashPoint(name: string): void {
  if (process.env.O365_CRASH_POINT !== name) return;
  const count = (timesReached.get(name) ?? 0) + 1;
  timesReached.set(name, count);
  const wanted = Number(process.env.O365_CRASH_AFTER);
  const after = Number.isInteger(wanted) && wanted > 0 ? wanted : 1;
  if (count === after) process.kill(process.pid, 'SIGKILL');
}

/** How often the clock file is looked at; a monotonic interval, so a jumping wall clock cannot stall it. */
const CLOCK_CHECK_MS = 250;

interface ClockFileState {
  file: string;
  checkedAt: number;
  signature: string;
  offset: number;
}

let clockFile: ClockFileState | undefined;

/**
 * The time in epoch milliseconds for everything time-related in the package: `Date.now()`, plus the offset
 * in milliseconds held by the file `O365_TEST_CLOCK_FILE` names (looked at no more than every 250 ms, and
 * read again only when its mtime or size changed). A missing or unparsable file counts as offset 0.
 */
export function now(): number {
  const file = process.env.O365_TEST_CLOCK_FILE;
  if (!file) return Date.now();
  const checkedAt = performance.now();
  if (!clockFile || clockFile.file !== file || checkedAt - clockFile.checkedAt >= CLOCK_CHECK_MS) {
    clockFile = readClockFile(file, checkedAt, clockFile?.file === file ? clockFile : undefined);
  }
  return Date.now() + clockFile.offset;
}

function readClockFile(
  file: string,
  checkedAt: number,
  previous: ClockFileState | undefined,
): ClockFileState {
  let signature = 'missing';
  try {
    const stat = fs.statSync(file);
    signature = `${stat.mtimeMs}:${stat.size}:${stat.ino}`;
    if (previous && previous.signature === signature) return { ...previous, checkedAt };
    const offset = Number(fs.readFileSync(file, 'utf8').trim());
    return { file, checkedAt, signature, offset: Number.isFinite(offset) ? offset : 0 };
  } catch {
    return { file, checkedAt, signature, offset: 0 };
  }
}
