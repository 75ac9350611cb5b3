// Errors that reach flows: built from chosen fields only, so no header, token or form body can ride along.
import { t } from './i18n';

/** What Catch nodes see as `msg.error.cause` (Node-RED keeps only message, code, stack and cause). */
export interface O365ErrorCause {
  status?: number;
  code?: string;
  requestId?: string;
  aadsts?: number[];
  field?: string;
  retryAfterSeconds?: number;
  /** The Graph permission a refused request needs (a 403 of a write), e.g. `Calendars.ReadWrite`. */
  permission?: string;
}

/**
 * The cause as one line for Node-RED's debug sidebar, which shows an Error's cause as `cause + ""` (util.encodeObject
 * in Node-RED 4 and 5): "[object Object]" for a plain object. Field names and values, no words to translate; the
 * error's own code is left out (the sidebar shows it on the line above), so the line fits the sidebar's 80
 * characters, e.g. `status: 404 · requestId: 5f2c…`.
 */
function causeLine(cause: O365ErrorCause, errorCode: string): string {
  return Object.entries(cause)
    .filter(([key, value]) => value !== undefined && !(key === 'code' && value === errorCode))
    .map(([key, value]) => `${key}: ${Array.isArray(value) ? value.join(', ') : String(value)}`)
    .join(' · ');
}

export class O365Error extends Error {
  readonly code: string;
  override readonly cause: O365ErrorCause;

  constructor(code: string, message: string, cause: O365ErrorCause = {}) {
    super(message);
    this.name = 'O365Error';
    this.code = code;
    this.cause = { code, ...cause };
    // Not enumerable: Catch nodes, JSON and clones still see exactly {status, code, requestId, aadsts, …}.
    Object.defineProperty(this.cause, 'toString', {
      value: () => causeLine(this.cause, this.code),
      enumerable: false,
    });
  }
}

/** The first line of a server's error description, bounded: enough to act on, never a whole HTML page. */
export function firstLine(text: unknown): string {
  if (typeof text !== 'string') return '';
  return text.split(/\r?\n/)[0].trim().slice(0, 300);
}

/** A config node setting that cannot work: the message from the catalog (errors.config.<key>), the field named. */
export function configError(field: string, key: string, params: Record<string, string> = {}): O365Error {
  return new O365Error('INVALID_CONFIG', t(`errors.config.${key}`, params), {
    code: 'INVALID_CONFIG',
    field,
  });
}
