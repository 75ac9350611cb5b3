// The one HTTP transport: axios configured so that nothing of a request (headers, form body, token) can leak
// through an error, answers arrive as text (we parse JSON ourselves, so broken JSON is an error, not a crash),
// and HTTPS_PROXY/NO_PROXY work (axios tunnels HTTPS through the proxy with CONNECT).
import axios, { AxiosInstance } from 'axios';
import { O365Error } from '../node-red/errors';
import { t } from '../node-red/i18n';

export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  text: string;
}

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  /** A form body (application/x-www-form-urlencoded). */
  form?: Record<string, string | undefined>;
  /** A JSON body (application/json); ignored when `form` is given. */
  json?: unknown;
  timeoutMs: number;
  signal?: AbortSignal;
}

const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

let shared: AxiosInstance | undefined;

function instance(): AxiosInstance {
  if (!shared) {
    shared = axios.create({
      responseType: 'text',
      transformResponse: [(data: unknown) => data],
      validateStatus: () => true,
      maxRedirects: 0,
      maxContentLength: MAX_ANSWER_BYTES,
      decompress: true,
    });
  }
  return shared;
}

/** Network-level failures we retry; the names are Node's socket error codes. */
export const RETRYABLE_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
]);

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '?';
  }
}

/** Sends one request; transport failures become an O365Error holding only the host and the error code. */
export async function send(request: HttpRequest): Promise<HttpAnswer> {
  const headers: Record<string, string> = { ...(request.headers ?? {}) };
  let body: string | undefined;
  if (request.form) {
    body = new URLSearchParams(
      Object.entries(request.form).filter((entry): entry is [string, string] => entry[1] !== undefined),
    ).toString();
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
  } else if (request.json !== undefined) {
    body = JSON.stringify(request.json);
    headers['Content-Type'] = 'application/json';
  }
  try {
    const answer = await instance().request<string>({
      method: request.method,
      url: request.url,
      headers,
      data: body,
      timeout: request.timeoutMs,
      signal: request.signal,
    });
    const flat: Record<string, string> = {};
    for (const [name, value] of Object.entries(answer.headers ?? {})) {
      if (value !== undefined && value !== null) flat[name.toLowerCase()] = String(value);
    }
    return { status: answer.status, headers: flat, text: typeof answer.data === 'string' ? answer.data : '' };
  } catch (err) {
    // Never pass the axios error on: its config holds the Authorization header and the form body.
    const raw = err as { code?: unknown; name?: unknown };
    const aborted = raw.name === 'CanceledError' || raw.code === 'ERR_CANCELED';
    const code = aborted ? 'ABORTED' : typeof raw.code === 'string' ? raw.code : 'NETWORK_ERROR';
    const timedOut = code === 'ECONNABORTED' || code === 'ETIMEDOUT';
    throw new O365Error(
      timedOut ? 'TIMEOUT' : aborted ? 'ABORTED' : 'NETWORK_ERROR',
      timedOut
        ? t('errors.timeout', { host: hostOf(request.url), seconds: Math.round(request.timeoutMs / 1000) })
        : t('errors.network', { host: hostOf(request.url), code }),
      { code },
    );
  }
}

/** Parses a JSON answer; broken JSON becomes an error naming the host, never a crash. */
export function parseJson(answer: HttpAnswer, url: string): unknown {
  try {
    return JSON.parse(answer.text);
  } catch {
    throw new O365Error('BAD_RESPONSE', t('errors.badJson', { host: hostOf(url), status: answer.status }), {
      status: answer.status,
      code: 'BAD_RESPONSE',
    });
  }
}

export const RETRY_AFTER_CAP_SECONDS = 120;

/** What a request or wait stopped by its node's close reports. */
export function abortedError(): O365Error {
  return new O365Error('ABORTED', t('errors.aborted'), { code: 'ABORTED' });
}

/** Waits `ms`, or rejects with ABORTED as soon as `signal` fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortedError());
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', abort);
      resolve();
    }, ms);
    const abort = () => {
      clearTimeout(timer);
      reject(abortedError());
    };
    signal?.addEventListener('abort', abort, { once: true });
  });
}

/** Retry-After in seconds (delta-seconds or an HTTP date), capped; undefined when absent or unreadable. */
export function retryAfterSeconds(value: string | undefined, at = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  let seconds: number;
  if (/^\d+(\.\d+)?$/.test(trimmed)) seconds = Number(trimmed);
  else {
    const date = Date.parse(trimmed);
    if (Number.isNaN(date)) return undefined;
    seconds = Math.max(0, (date - at) / 1000);
  }
  return Math.min(seconds, RETRY_AFTER_CAP_SECONDS);
}

/** Exponential backoff with jitter: a random wait in [ceiling/2, ceiling], ceiling = base·2^attempt ≤ 30 s. */
export function backoffMs(attempt: number, base: number): number {
  const ceiling = Math.min(30_000, base * 2 ** attempt);
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}
