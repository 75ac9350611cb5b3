// The settings of the nodes that watch a calendar (o365-trigger, o365-state), read and checked once at deploy: a
// bad value is an INVALID_CONFIG error naming the field, shown on the status, and the node reads nothing.
import { O365Error } from '../node-red/errors';
import { t } from '../node-red/i18n';
import { isProblem, parseOffset } from '../time/grammar';
import { resolveZone, ResolvedZone } from '../time/zones';
import { DEFAULT_FILTERS, eventFilter, FilterSettings } from './event-filter';
import type { GraphEvent } from './events-controller';
import type { Edge } from './trigger-plan';

/** The node properties, as the editor saves them (numbers may arrive as text). */
export interface WatchDef {
  user?: string;
  calendarId?: string;
  timezone?: string;
  allowMsgMailbox?: boolean;
  pollMinutes?: string | number;
  skipCancelled?: boolean;
  skipDeclined?: boolean;
  skipFree?: boolean;
  skipAllDay?: boolean;
  match?: string;
}

export interface TriggerDef extends WatchDef {
  edge?: string;
  offset?: string;
  catchUpMinutes?: string | number;
}

export interface WatchSettings {
  user: string;
  calendarId: string;
  zone: ResolvedZone;
  allowMsgMailbox: boolean;
  pollMs: number;
  filters: FilterSettings;
  accept: (event: GraphEvent) => boolean;
}

export interface TriggerNodeSettings extends WatchSettings {
  edges: Edge[];
  offsetMs: number;
  /** As configured, e.g. `-10m` (msg.trigger.offset). */
  offset: string;
  catchUpMs: number;
}

function invalid(field: string, key: string, params: Record<string, string | number>): O365Error {
  return new O365Error('INVALID_CONFIG', t(`errors.calendar.${key}`, params), {
    code: 'INVALID_CONFIG',
    field,
  });
}

/** Minutes within [min, max]; empty means the default. */
function minutes(value: unknown, field: string, fallback: number, min: number, max: number): number {
  if (value === undefined || value === null || value === '') return fallback;
  const n = typeof value === 'number' ? value : Number(String(value).trim());
  if (!Number.isFinite(n) || n < min || n > max) {
    throw invalid(field, 'minutes', { field, value: String(value), min, max });
  }
  return n;
}

function flag(value: unknown, fallback: boolean): boolean {
  return typeof value === 'boolean' ? value : fallback;
}

export function watchSettings(def: WatchDef): WatchSettings {
  const filters: FilterSettings = {
    skipCancelled: flag(def.skipCancelled, DEFAULT_FILTERS.skipCancelled),
    skipDeclined: flag(def.skipDeclined, DEFAULT_FILTERS.skipDeclined),
    skipFree: flag(def.skipFree, DEFAULT_FILTERS.skipFree),
    skipAllDay: flag(def.skipAllDay, DEFAULT_FILTERS.skipAllDay),
    match: typeof def.match === 'string' ? def.match : '',
  };
  return {
    user: (def.user ?? '').trim(),
    calendarId: (def.calendarId ?? '').trim(),
    zone: resolveZone(def.timezone ?? ''),
    allowMsgMailbox: def.allowMsgMailbox === true,
    pollMs: minutes(def.pollMinutes, 'pollMinutes', 5, 1, 1440) * 60_000,
    filters,
    accept: eventFilter(filters),
  };
}

export function triggerSettings(def: TriggerDef): TriggerNodeSettings {
  const edge = def.edge === undefined || def.edge === '' ? 'start' : def.edge;
  if (edge !== 'start' && edge !== 'end' && edge !== 'both')
    throw invalid('edge', 'edge', { value: String(edge) });
  const offset =
    def.offset === undefined || String(def.offset).trim() === '' ? '0m' : String(def.offset).trim();
  const parsed = parseOffset(offset);
  if (isProblem(parsed)) throw invalid('offset', parsed.key, { value: offset, ...parsed.params });
  return {
    ...watchSettings(def),
    edges: edge === 'both' ? ['start', 'end'] : [edge],
    offsetMs: parsed.ms,
    offset,
    catchUpMs: minutes(def.catchUpMinutes, 'catchUpMinutes', 10, 0, 1440) * 60_000,
  };
}
