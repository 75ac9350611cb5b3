// The one Graph client: bearer token from the config node, at most 4 requests in flight per mailbox across the
// module, Retry-After and backoff with jitter, one refresh-and-retry on 401, paging by @odata.nextLink, and
// Graph's error JSON turned into O365Error with the request-id.
import { firstLine, O365Error } from '../node-red/errors';
import {
  abortedError,
  backoffMs,
  HttpAnswer,
  isTransient,
  MAX_ANSWER_BYTES,
  parseJson,
  retryAfterSeconds,
  send,
  sleep,
} from './http';
import { t } from '../node-red/i18n';

export const MAILBOX_CONCURRENCY = 4;

export interface GraphClientOptions {
  graphEndpoint: string;
  /** A valid access token; `rejected` is the one Graph just answered 401 to. */
  getToken: (rejected?: string) => Promise<string>;
  timeoutMs?: number;
  /** Attempts per request, the first included. */
  maxAttempts?: number;
  /** First backoff step when the server gives no Retry-After. */
  backoffBaseMs?: number;
  /** The largest answer taken; a larger one fails with RESPONSE_TOO_LARGE (not retried). */
  maxAnswerBytes?: number;
}

export interface RequestOptions {
  /** Whose mailbox this reads (for the concurrency limit): the user segment, or `me:<config key>`. */
  mailbox: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Told about every wait (throttling or backoff), so the node can show it. */
  onWait?: (seconds: number, reason: string) => void;
}

/** One request of any method: GET and idempotent writes retry every transient failure, the others only 429. */
export interface WriteOptions extends RequestOptions {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** A JSON body. */
  body?: unknown;
  /**
   * True when sending the request twice has the effect of sending it once (GET, PATCH with the same body, DELETE,
   * a create with a transactionId): then timeouts, network faults and 5xx are retried. False: only 429, which
   * Graph answers before doing anything.
   */
  idempotent: boolean;
}

export interface GraphPage {
  body: Record<string, unknown>;
  headers: Record<string, string>;
}

/** A counting semaphore per mailbox, shared by every client of the module (Graph's limit is per app and mailbox). */
class Gate {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly limit: number) {}

  async enter(signal?: AbortSignal): Promise<void> {
    if (this.active < this.limit) {
      this.active += 1;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const go = () => {
        signal?.removeEventListener('abort', abort);
        resolve();
      };
      const abort = () => {
        const at = this.waiting.indexOf(go);
        if (at >= 0) this.waiting.splice(at, 1);
        reject(abortedError());
      };
      this.waiting.push(go);
      signal?.addEventListener('abort', abort, { once: true });
    });
  }

  leave(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active -= 1;
  }

  get idle(): boolean {
    return this.active === 0 && this.waiting.length === 0;
  }
}

const gates = new Map<string, Gate>();

function gateFor(key: string): Gate {
  let gate = gates.get(key);
  if (!gate) {
    gate = new Gate(MAILBOX_CONCURRENCY);
    gates.set(key, gate);
  }
  return gate;
}

function releaseGate(key: string, gate: Gate): void {
  gate.leave();
  if (gate.idle) gates.delete(key);
}

interface GraphErrorBody {
  error?: { code?: unknown; message?: unknown; innerError?: { 'request-id'?: unknown } };
}

/** Graph's error answer as an O365Error: `code` = Graph's code, cause = {status, code, requestId}. */
export function graphError(answer: HttpAnswer, body: unknown): O365Error {
  const error = (body as GraphErrorBody | undefined)?.error;
  const code = typeof error?.code === 'string' && error.code ? error.code : `HTTP_${answer.status}`;
  const detail = firstLine(error?.message);
  const requestId =
    answer.headers['request-id'] ??
    (typeof error?.innerError?.['request-id'] === 'string' ? error.innerError['request-id'] : undefined);
  const retry = retryAfterSeconds(answer.headers['retry-after']);
  return new O365Error(code, t('errors.graph', { status: answer.status, code, detail }), {
    status: answer.status,
    code,
    requestId,
    retryAfterSeconds: retry,
  });
}

const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);

export class GraphClient {
  private readonly options: Required<Omit<GraphClientOptions, 'getToken' | 'graphEndpoint'>> &
    Pick<GraphClientOptions, 'getToken' | 'graphEndpoint'>;
  private readonly origin: string;

  constructor(options: GraphClientOptions) {
    this.options = {
      timeoutMs: 30_000,
      maxAttempts: 5,
      backoffBaseMs: 1000,
      maxAnswerBytes: MAX_ANSWER_BYTES,
      ...options,
    };
    this.origin = new URL(options.graphEndpoint).origin;
  }

  /** `/v1.0/...` built from already encoded segments, plus a query. */
  url(path: string, query: Record<string, string | undefined> = {}): string {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) if (value !== undefined) params.set(name, value);
    const text = params.toString().replace(/%24/g, '$').replace(/%2C/g, ',').replace(/%2F/g, '/');
    return `${this.options.graphEndpoint}${path}${text ? `?${text}` : ''}`;
  }

  /** One GET with the gate, retries and the 401 refresh; returns the parsed JSON object. */
  get(url: string, options: RequestOptions): Promise<GraphPage> {
    return this.request(url, { ...options, method: 'GET', idempotent: true });
  }

  /**
   * One request with the gate, retries and the 401 refresh; returns the parsed JSON object ({} for an empty
   * answer such as 202 or 204).
   */
  async request(url: string, options: WriteOptions): Promise<GraphPage> {
    if (new URL(url).origin !== this.origin) {
      // Never send the bearer token to a host other than the configured Graph endpoint.
      throw new O365Error('BAD_RESPONSE', t('errors.foreignNextLink'), { code: 'BAD_RESPONSE' });
    }
    const gateKey = `${this.origin}|${options.mailbox.toLowerCase()}`;
    let token = await this.options.getToken();
    let refreshed = false;
    for (let attempt = 0; ; attempt += 1) {
      if (options.signal?.aborted) throw abortedError();
      const gate = gateFor(gateKey);
      await gate.enter(options.signal);
      let answer: HttpAnswer;
      try {
        answer = await send({
          method: options.method,
          url,
          json: options.body,
          headers: { Accept: 'application/json', ...options.headers, Authorization: `Bearer ${token}` },
          timeoutMs: this.options.timeoutMs,
          signal: options.signal,
          maxAnswerBytes: this.options.maxAnswerBytes,
        });
      } catch (err) {
        if (options.idempotent && isTransient(err)) {
          if (attempt + 1 >= this.options.maxAttempts) throw err;
          const wait = backoffMs(attempt, this.options.backoffBaseMs);
          options.onWait?.(wait / 1000, (err as O365Error).code);
          await sleep(wait, options.signal);
          continue;
        }
        throw err;
      } finally {
        releaseGate(gateKey, gate);
      }
      if (answer.status === 401 && !refreshed) {
        refreshed = true;
        token = await this.options.getToken(token);
        continue;
      }
      if (answer.status >= 200 && answer.status < 300) {
        if (options.method !== 'GET' && answer.text.trim() === '')
          return { body: {}, headers: answer.headers };
        const body = parseJson(answer, url);
        if (!body || typeof body !== 'object' || Array.isArray(body)) {
          throw new O365Error(
            'BAD_RESPONSE',
            t('errors.badJson', { host: new URL(url).host, status: answer.status }),
            {
              status: answer.status,
              code: 'BAD_RESPONSE',
            },
          );
        }
        return { body: body as Record<string, unknown>, headers: answer.headers };
      }
      let errorBody: unknown;
      try {
        errorBody = JSON.parse(answer.text);
      } catch {
        errorBody = undefined;
      }
      const error = graphError(answer, errorBody);
      const retryable = options.idempotent ? RETRYABLE_STATUS.has(answer.status) : answer.status === 429;
      if (!retryable || attempt + 1 >= this.options.maxAttempts) throw error;
      const wait =
        error.cause.retryAfterSeconds !== undefined
          ? error.cause.retryAfterSeconds * 1000
          : backoffMs(attempt, this.options.backoffBaseMs);
      options.onWait?.(wait / 1000, error.code);
      await sleep(wait, options.signal);
    }
  }

  /**
   * Every item of a collection, following @odata.nextLink exactly as given, until `maxItems` accepted items
   * are in hand (`accept` filters locally, e.g. the window's edges). `requests` counts the pages read (the
   * free/busy node reports what a refresh cost).
   */
  async getAll(
    url: string,
    options: RequestOptions & { maxItems?: number; accept?: (item: Record<string, unknown>) => boolean },
  ): Promise<{ items: Record<string, unknown>[]; requests: number }> {
    const items: Record<string, unknown>[] = [];
    let requests = 0;
    let next: string | undefined = url;
    const seen = new Set<string>();
    while (next) {
      if (seen.has(next))
        throw new O365Error('BAD_RESPONSE', t('errors.pagingLoop'), { code: 'BAD_RESPONSE' });
      seen.add(next);
      const page = await this.get(next, options);
      requests += 1;
      const value = page.body.value;
      if (!Array.isArray(value)) {
        throw new O365Error('BAD_RESPONSE', t('errors.noValue'), { code: 'BAD_RESPONSE' });
      }
      for (const item of value) {
        if (!item || typeof item !== 'object') continue;
        if (!options.accept || options.accept(item as Record<string, unknown>))
          items.push(item as Record<string, unknown>);
      }
      if (options.maxItems && items.length >= options.maxItems) break;
      const link = page.body['@odata.nextLink'];
      next = typeof link === 'string' && link ? link : undefined;
    }
    return { items, requests };
  }
}

/**
 * One path segment, percent-encoded so `/`, `?`, `#` and spaces stay inside it. A segment of only dots would be
 * resolved away by every URL parser (even as %2E%2E), and no UPN or Graph id is one, so it is refused.
 */
export function pathSegment(value: string, field: string): string {
  if (/^\.+$/.test(value)) {
    throw new O365Error('INVALID_INPUT', t('errors.dotSegment', { field, value }), {
      code: 'INVALID_INPUT',
      field,
    });
  }
  return encodeURIComponent(value);
}

/**
 * `/me`, `/users/{user}`, or for a UPN that starts with `$` the key form `/users('{user}')`: Graph reads
 * `/users/$x@y` as a system query option and answers 400 (learn.microsoft.com/graph/api/user-get, "HTTP request").
 * Inside the quoted key a quote is doubled, as OData's string literals want.
 */
export function mailboxPath(user: string): string {
  if (!user) return '/v1.0/me';
  const segment = pathSegment(user, 'user');
  if (user.startsWith('$')) return `/v1.0/users('${segment.replace(/'/g, "''")}')`;
  return `/v1.0/users/${segment}`;
}

/** `/calendar` (the default) or `/calendars/{id}`. */
export function calendarPath(calendarId: string): string {
  return calendarId ? `/calendars/${pathSegment(calendarId, 'calendarId')}` : '/calendar';
}

/** `/events` (the mailbox's events), or `/events/{id}` with the id as one encoded segment, optionally an action. */
export function eventsPath(eventId?: string, action?: string): string {
  if (eventId === undefined) return '/events';
  return `/events/${pathSegment(eventId, 'eventId')}${action ? `/${action}` : ''}`;
}

/** The gate key for a mailbox: the user as given, or the signed-in user of one config node. */
export function mailboxKey(user: string, configKey: string): string {
  return user ? user.toLowerCase() : `me:${configKey}`;
}
