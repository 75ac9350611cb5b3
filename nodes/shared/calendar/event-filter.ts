// Which events a trigger or state node counts: the four skip filters and the subject `match` (DESIGN.md o365-trigger).
import { O365Error } from '../node-red/errors';
import { t } from '../node-red/i18n';
import { isProblem, parseMatch, subjectMatches } from '../time/grammar';
import type { GraphEvent } from './events-controller';

export interface FilterSettings {
  skipCancelled: boolean;
  skipDeclined: boolean;
  skipFree: boolean;
  skipAllDay: boolean;
  /** "" = every subject; text (contained, case-insensitive) or `/regex/flags`. */
  match: string;
}

export const DEFAULT_FILTERS: FilterSettings = {
  skipCancelled: true,
  skipDeclined: true,
  skipFree: false,
  skipAllDay: false,
  match: '',
};

function responseOf(event: GraphEvent): unknown {
  const status = event.responseStatus;
  return status && typeof status === 'object' ? (status as { response?: unknown }).response : undefined;
}

/** The filter as one predicate; a bad `match` is an INVALID_CONFIG error naming the field. */
export function eventFilter(settings: FilterSettings): (event: GraphEvent) => boolean {
  const match = parseMatch(settings.match);
  if (isProblem(match)) {
    throw new O365Error('INVALID_CONFIG', t(`errors.calendar.${match.key}`, match.params), {
      code: 'INVALID_CONFIG',
      field: 'match',
    });
  }
  return (event) => {
    if (settings.skipCancelled && event.isCancelled === true) return false;
    if (settings.skipDeclined && responseOf(event) === 'declined') return false;
    if (settings.skipFree && event.showAs === 'free') return false;
    if (settings.skipAllDay && event.isAllDay === true) return false;
    return subjectMatches(match, event.subject);
  };
}
