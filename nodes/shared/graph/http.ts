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
  /** The largest answer taken (bytes after decompression); larger ones fail with RESPONSE_TOO_LARGE. */
  maxAnswerBytes?: number;
}

export const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

function maxBytes(request: HttpRequest): number {
  return request.maxAnswerBytes ?? MAX_ANSWER_BYTES;
}

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

/** Network-level failures worth another try (idempotent requests only); the names are Node's socket codes. */
const RETRYABLE_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
  'ERR_STREAM_PREMATURE_CLOSE',
  // axios: the connection closed in the middle of the answer's body.
  'STREAM_ABORTED',
]);

/**
 * TLS and certificate failures: an untrusted, expired or wrong-host certificate (often a TLS-inspecting proxy
 * whose CA Node.js does not know), or TLS spoken to a plain port. Another try meets the same certificate.
 */
const TLS_CODE =
  /^(?:EPROTO|ERR_TLS_|ERR_SSL_|ERR_OSSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH)/;

/** Answers that are not HTTP or whose body does not decode (a broken gzip stream): not a network fault. */
const MALFORMED_CODE = /^(?:HPE_|Z_|ERR_HTTP_|ERR_INVALID_CHAR)/;

/** What a transport failure is, from the code Node or axios gave it. */
function classify(
  code: string,
  message: string,
): 'aborted' | 'timeout' | 'tls' | 'tooLarge' | 'malformed' | 'network' {
  if (code === 'ERR_CANCELED') return 'aborted';
  if (code === 'ECONNABORTED' || code === 'ETIMEDOUT') return 'timeout';
  if (TLS_CODE.test(code)) return 'tls';
  if (code === 'ERR_BAD_RESPONSE' && message.startsWith('maxContentLength')) return 'tooLarge';
  if (MALFORMED_CODE.test(code)) return 'malformed';
  return 'network';
}

/**
 * True for a failure another try may cure: a timeout, or a network fault on the retry list. TLS and certificate
 * errors, answers over the size limit and malformed answers are final.
 */
export function isTransient(err: unknown): boolean {
  if (!(err instanceof O365Error)) return false;
  if (err.code === 'TIMEOUT') return true;
  return err.code === 'NETWORK_ERROR' && RETRYABLE_NETWORK_CODES.has(err.cause.code ?? '');
}

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
      maxContentLength: maxBytes(request),
    });
    const flat: Record<string, string> = {};
    for (const [name, value] of Object.entries(answer.headers ?? {})) {
      if (value !== undefined && value !== null) flat[name.toLowerCase()] = String(value);
    }
    return { status: answer.status, headers: flat, text: typeof answer.data === 'string' ? answer.data : '' };
  } catch (err) {
    // Never pass the axios error on: its config holds the Authorization header and the form body.
    throw transportError(err, request);
  }
}

/** A failed request as an O365Error holding only the host and the error code. */
function transportError(err: unknown, request: HttpRequest): O365Error {
  const raw = err as { code?: unknown; name?: unknown; message?: unknown };
  const message = typeof raw.message === 'string' ? raw.message : '';
  let code = typeof raw.code === 'string' ? raw.code : 'NETWORK_ERROR';
  if (raw.name === 'CanceledError') code = 'ERR_CANCELED';
  if (code === 'ERR_BAD_RESPONSE' && message === 'stream has been aborted') code = 'STREAM_ABORTED';
  const host = hostOf(request.url);
  switch (classify(code, message)) {
    case 'aborted':
      return abortedError();
    case 'timeout':
      return new O365Error(
        'TIMEOUT',
        t('errors.timeout', { host, seconds: Math.round(request.timeoutMs / 1000) }),
        { code },
      );
    case 'tls':
      return new O365Error('TLS_ERROR', t('errors.http.tls', { host, code }), { code });
    case 'tooLarge':
      return new O365Error(
        'RESPONSE_TOO_LARGE',
        t('errors.http.tooLarge', { host, megabytes: Math.round(maxBytes(request) / 2 ** 20) }),
        { code: 'RESPONSE_TOO_LARGE' },
      );
    case 'malformed':
      return new O365Error('BAD_RESPONSE', t('errors.http.malformed', { host, code }), { code });
    default:
      return new O365Error('NETWORK_ERROR', t('errors.network', { host, code }), { code });
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
