// Time-zone names: the IANA name local date math uses, and the Windows name Graph's `Prefer: outlook.timezone` takes.
import { findIana, findWindows, IANA_ALIAS_MAP, WINDOWS_TO_IANA_MAP } from 'windows-iana';
import { O365Error } from '../node-red/errors';
import { t } from '../node-red/i18n';
import { offsetMinutes } from './wall-clock';

/** One zone under both of its names. */
export interface ResolvedZone {
  /** For local wall-clock math (Intl), e.g. `Europe/Berlin`. */
  iana: string;
  /** For Graph's `Prefer: outlook.timezone`, e.g. `W. Europe Standard Time`. */
  windows: string;
}

const MAX_CACHED = 200;

const resolved = new Map<string, ResolvedZone>();
let ianaSpellings: Map<string, string> | undefined;
let windowsSpellings: Map<string, string> | undefined;

/** The host's IANA zone as Intl reports it (which follows `TZ`), or `UTC` when it reports none. */
export function hostZone(): string {
  try {
    const zone = new Intl.DateTimeFormat('en-US').resolvedOptions().timeZone;
    if (zone && isIntlZone(zone)) return zone;
  } catch {
    // An ICU build without time-zone data: UTC is the only zone we can do math in.
  }
  return 'UTC';
}

/**
 * Both names of a zone given by either name; "" is the host's zone.
 * IANA and Windows names are matched without regard to case and come back spelled as their owners spell them.
 * @throws O365Error `INVALID_TIMEZONE` for a name neither Intl nor the Windows table knows.
 */
export function resolveZone(name: string): ResolvedZone {
  const key = typeof name === 'string' ? name.trim() : '';
  if (key === '') return resolveZone(hostZone());
  const cached = resolved.get(key);
  if (cached) return cached;

  const zone = Object.freeze(resolveUncached(key));
  if (resolved.size >= MAX_CACHED) resolved.clear();
  resolved.set(key, zone);
  return zone;
}

function resolveUncached(name: string): ResolvedZone {
  const windows = windowsSpelling(name);
  if (windows) {
    const ianaNames = findIana(windows);
    // 'UTC' is a Windows name and an IANA name: keep the spelling the user chose when it is one of the mapped ones.
    const own = ianaSpelling(name);
    const iana =
      own && (ianaNames as string[]).includes(own) && isIntlZone(own) ? own : ianaNames.find(isIntlZone);
    if (iana) return { iana, windows };
  }

  // Newer V8 also accepts offsets like "+01:00" as zones; Node 20 does not, so refuse them everywhere.
  if (!/^[+-]?\d/.test(name) && isIntlZone(name)) {
    // A name Intl knows but our lists do not (newer than both) stays as given: Intl reads it in any case.
    const iana = ianaSpelling(name) ?? name;
    return { iana, windows: windowsFor(iana) };
  }

  throw new O365Error('INVALID_TIMEZONE', t('errors.zone.unknown', { name }), { field: 'timezone' });
}

/**
 * The Windows name Graph gets for an IANA zone: the CLDR table's, else the first Windows zone that keeps the same
 * clock, else UTC. Only names of the Windows table qualify: Graph answers any other Prefer: outlook.timezone with
 * 400 TimeZoneNotSupportedException (it takes Windows names and a short list of IANA ones,
 * learn.microsoft.com/graph/api/resources/datetimetimezone).
 */
function windowsFor(iana: string): string {
  const known = (name: string | undefined): name is string =>
    name !== undefined && windowsSpelling(name) === name;
  const direct = findWindows(iana)[0];
  if (known(direct)) return direct;
  const canonical = new Intl.DateTimeFormat('en-US', { timeZone: iana }).resolvedOptions().timeZone;
  const viaCanonical = findWindows(canonical)[0];
  if (known(viaCanonical)) return viaCanonical;
  const sameClock = sameClockWindowsZone(iana);
  return known(sameClock) ? sameClock : 'UTC';
}

/**
 * Zones newer than the CLDR table (America/Ciudad_Juarez, America/Coyhaique, ...): the first Windows zone whose
 * primary IANA zone shows the same offsets on the 1st and 15th of every month this year and next. The caller's
 * fallback to UTC keeps Graph's answers correct (each event states its zone), only less local.
 */
function sameClockWindowsZone(iana: string): string | undefined {
  const year = new Date().getUTCFullYear();
  const samples: number[] = [];
  for (let month = 0; month < 24; month++) {
    for (const day of [1, 15]) samples.push(Date.UTC(year, month, day, 12));
  }
  const wanted = samples.map((ms) => offsetMinutes(ms, iana));
  for (const entry of WINDOWS_TO_IANA_MAP) {
    if (entry.territory !== '001') continue;
    const candidate = entry.iana[0];
    if (
      candidate &&
      isIntlZone(candidate) &&
      samples.every((ms, i) => offsetMinutes(ms, candidate) === wanted[i])
    ) {
      return entry.windowsName;
    }
  }
  return undefined;
}

function isIntlZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** IANA's spelling of a name given in any case, from Intl's list and the CLDR tables (which hold the aliases). */
function ianaSpelling(name: string): string | undefined {
  if (!ianaSpellings) {
    const all = new Map<string, string>();
    const add = (zone: string): void => {
      if (!all.has(zone.toLowerCase())) all.set(zone.toLowerCase(), zone);
    };
    for (const entry of WINDOWS_TO_IANA_MAP) entry.iana.forEach(add);
    for (const entry of IANA_ALIAS_MAP) entry.alias.forEach(add);
    intlZones().forEach(add);
    ianaSpellings = all;
  }
  return ianaSpellings.get(name.toLowerCase());
}

function windowsSpelling(name: string): string | undefined {
  if (!windowsSpellings) {
    windowsSpellings = new Map(WINDOWS_TO_IANA_MAP.map((e) => [e.windowsName.toLowerCase(), e.windowsName]));
  }
  return windowsSpellings.get(name.toLowerCase());
}

function intlZones(): string[] {
  // supportedValuesOf is ES2022's Intl but not in every lib typing; guard at run time too.
  const intl = Intl as unknown as { supportedValuesOf?: (key: string) => string[] };
  return typeof intl.supportedValuesOf === 'function' ? intl.supportedValuesOf('timeZone') : [];
}
