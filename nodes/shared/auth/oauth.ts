// The token endpoint client: authorize URLs with PKCE, code redemption, refresh, client credentials and device code,
// and Microsoft's error answers turned into messages a person can act on (keyed on error/error_codes only).
import crypto from 'crypto';
import { firstLine, O365Error } from '../node-red/errors';
import { backoffMs, HttpAnswer, isTransient, parseJson, retryAfterSeconds, send, sleep } from '../graph/http';
import { t } from '../node-red/i18n';
import { Clock, systemClock } from '../time/clock';
import type { Account, ClientKind, TokenSet } from './types';

/** What the token endpoint needs to know about a registration. */
export interface OAuthClient {
  authorityHost: string;
  graphEndpoint: string;
  tenant: string;
  clientId: string;
  /** Absent for a public client. */
  clientSecret?: string;
  /** Space separated delegated scopes. */
  scopes: string;
  /** Token endpoint timeout (default 30 s; settings.js `o365Calendar.requestTimeout`). */
  timeoutMs?: number;
  /** Where token lifetimes count from (default: the system clock; tests pass a controllable one). */
  clock?: Clock;
}

export interface Pkce {
  verifier: string;
  challenge: string;
}

export interface DeviceCodeStart {
  deviceCode: string;
  userCode: string;
  verificationUri: string;
  message: string;
  expiresAt: number;
  intervalSeconds: number;
}

export type DevicePoll = { done: true; tokens: TokenSet } | { done: false; slowDown: boolean };

/** The most a token is refreshed before it expires when Microsoft gives no `refresh_in` (DESIGN.md). */
export const REFRESH_MARGIN_MS = 5 * 60_000;

/**
 * The refresh rule, the one place it is written: at `refresh_in` when Microsoft gives it, else min(5 minutes,
 * half the lifetime) before expiry. Without a known issue time the lifetime counts as long (the full margin).
 */
export function refreshAtFor(expiresAt: number, issuedAt?: number, refreshInMs?: number): number {
  if (refreshInMs !== undefined && issuedAt !== undefined) return issuedAt + refreshInMs;
  const lifetime = issuedAt === undefined ? Number.POSITIVE_INFINITY : expiresAt - issuedAt;
  return expiresAt - Math.min(REFRESH_MARGIN_MS, lifetime / 2);
}

/** Whether a token set is due for a refresh at `at`. */
export function refreshDue(tokens: TokenSet, at: number): boolean {
  return at >= (tokens.refreshAt ?? refreshAtFor(tokens.expiresAt));
}

function clockOf(client: OAuthClient): Clock {
  return client.clock ?? systemClock;
}

const TOKEN_TIMEOUT_MS = 30_000;
const MULTI_TENANT_ALIASES = new Set(['common', 'organizations', 'consumers']);

/** `+` or space separated → single spaces; delegated sign-ins always ask for offline_access (a refresh token). */
export function normalizeScopes(scopes: string, withOfflineAccess = true): string {
  const list = scopes
    .split(/[\s+]+/)
    .map((s) => s.trim())
    .filter(Boolean);
  if (withOfflineAccess && !list.some((s) => s.toLowerCase() === 'offline_access'))
    list.unshift('offline_access');
  return [...new Set(list)].join(' ');
}

export function isMultiTenantAlias(tenant: string): boolean {
  return MULTI_TENANT_ALIASES.has(tenant.trim().toLowerCase());
}

/** Application (client credentials) scope: the cloud's Graph host with /.default. */
export function applicationScope(graphEndpoint: string): string {
  return `${graphEndpoint.replace(/\/+$/, '')}/.default`;
}

function base64url(buffer: Buffer): string {
  return buffer.toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function createPkce(): Pkce {
  const verifier = base64url(crypto.randomBytes(48));
  const challenge = base64url(crypto.createHash('sha256').update(verifier).digest());
  return { verifier, challenge };
}

/** A random value for `state` (CSRF protection, and how a pasted URL finds its pending sign-in). */
export function createState(): string {
  return base64url(crypto.randomBytes(24));
}

function endpoint(client: OAuthClient, path: 'authorize' | 'token' | 'devicecode'): string {
  return `${client.authorityHost}/${encodeURIComponent(client.tenant.trim())}/oauth2/v2.0/${path}`;
}

export function buildAuthorizeUrl(
  client: OAuthClient,
  options: { redirectUri: string; state: string; codeChallenge: string; prompt?: string; loginHint?: string },
): string {
  const params = new URLSearchParams({
    client_id: client.clientId,
    response_type: 'code',
    redirect_uri: options.redirectUri,
    response_mode: 'query',
    scope: normalizeScopes(client.scopes),
    state: options.state,
    code_challenge: options.codeChallenge,
    code_challenge_method: 'S256',
  });
  if (options.prompt) params.set('prompt', options.prompt);
  if (options.loginHint) params.set('login_hint', options.loginHint);
  return `${endpoint(client, 'authorize')}?${params.toString()}`;
}

/** The account named in an id_token; it came straight from the token endpoint over TLS, so no signature check. */
export function accountFromIdToken(idToken: unknown): Account | undefined {
  if (typeof idToken !== 'string') return undefined;
  const payload = idToken.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const name = typeof claims.name === 'string' ? claims.name : undefined;
    const username =
      typeof claims.preferred_username === 'string'
        ? claims.preferred_username
        : typeof claims.upn === 'string'
          ? claims.upn
          : undefined;
    return name || username ? { name, username } : undefined;
  } catch {
    return undefined;
  }
}

interface TokenAnswer {
  access_token?: unknown;
  refresh_token?: unknown;
  expires_in?: unknown;
  refresh_in?: unknown;
  scope?: unknown;
  id_token?: unknown;
  error?: unknown;
  error_codes?: unknown;
  error_description?: unknown;
}

function toSeconds(value: unknown): number | undefined {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : undefined;
}

function tokenSetFrom(
  answer: TokenAnswer,
  clientKind: ClientKind,
  issuedAt: number,
  previous?: TokenSet,
): TokenSet {
  const expiresIn = toSeconds(answer.expires_in);
  if (typeof answer.access_token !== 'string' || !answer.access_token || !expiresIn) {
    throw new O365Error('BAD_RESPONSE', t('errors.tokenAnswerIncomplete'), { code: 'BAD_RESPONSE' });
  }
  const refreshIn = toSeconds(answer.refresh_in);
  const expiresAt = issuedAt + expiresIn * 1000;
  return {
    accessToken: answer.access_token,
    refreshToken:
      typeof answer.refresh_token === 'string' && answer.refresh_token
        ? answer.refresh_token
        : previous?.refreshToken,
    expiresAt,
    refreshAt: refreshAtFor(expiresAt, issuedAt, refreshIn === undefined ? undefined : refreshIn * 1000),
    scope: typeof answer.scope === 'string' ? answer.scope : (previous?.scope ?? ''),
    account: accountFromIdToken(answer.id_token) ?? previous?.account,
    clientKind,
  };
}

/** AADSTS codes we explain, in the order we look for them (54005 comes with 70002, 50011 too, so they go first). */
const EXPLAINED_CODES = [
  54005, 50011, 70008, 700082, 700084, 70043, 50173, 50076, 50079, 7000215, 7000222, 7000218, 700016, 50194,
  65001, 700025, 9001023, 501481, 70003,
] as const;

/** Codes whose meaning depends on the request: the same answer asks for different fixes. */
const BY_CONTEXT: Partial<Record<number, Partial<Record<TokenContext, string>>>> = {
  // A code is redeemed with the secret when its redirect URI is registered under Web, without one under
  // "Mobile and desktop applications" (v2-oauth2-auth-code-flow): the fix is the platform or the secret.
  7000218: { code: 'aadsts7000218code', device: 'aadsts7000218device' },
  700025: { code: 'aadsts700025code', refresh: 'aadsts700025refresh' },
};

/** OAuth `error` strings after which only a new interactive sign-in helps (as MSAL's InteractionRequiredAuthError). */
const INTERACTION_ERRORS = new Set([
  'invalid_grant',
  'interaction_required',
  'consent_required',
  'login_required',
]);
/** AADSTS codes of the same family, whatever `error` they come with: MFA, consent, 90 days unused, revoked. */
const INTERACTION_CODES = new Set([50076, 50079, 65001, 700082, 700084, 70008, 70043, 50173]);

export type TokenContext = 'code' | 'refresh' | 'device' | 'client' | 'devicecode' | 'test';

/** A token endpoint error as an O365Error: `code` = the OAuth error, `cause.aadsts` = Microsoft's codes. */
export function tokenError(status: number, body: TokenAnswer, context: TokenContext): O365Error {
  const error = typeof body.error === 'string' ? body.error : `http_${status}`;
  const codes = Array.isArray(body.error_codes)
    ? body.error_codes.filter((c): c is number => typeof c === 'number')
    : [];
  const known = EXPLAINED_CODES.find((code) => codes.includes(code));
  const detail = firstLine(body.error_description);
  let message: string;
  if (known !== undefined) message = t(`errors.${BY_CONTEXT[known]?.[context] ?? `aadsts${known}`}`);
  else if (error === 'invalid_grant') message = t('errors.invalidGrant', { detail });
  else if (INTERACTION_ERRORS.has(error)) message = t('errors.interactionRequired', { error, detail });
  else if (error === 'temporarily_unavailable' || status >= 500)
    message = t('errors.tokenEndpointUnavailable', { status });
  else message = t('errors.tokenEndpointOther', { error, detail });
  return new O365Error(error, message, { status, code: error, aadsts: codes.length ? codes : undefined });
}

/**
 * True when only a new interactive sign-in can help: revoked or expired grants, consent withdrawn, MFA or another
 * interaction now required, password changed (MSAL's interaction-required family).
 */
export function needsSignIn(err: unknown): boolean {
  if (!(err instanceof O365Error)) return false;
  if (INTERACTION_ERRORS.has(err.code)) return true;
  return (err.cause.aadsts ?? []).some((code) => INTERACTION_CODES.has(code));
}

async function postToken(
  client: OAuthClient,
  path: 'token' | 'devicecode',
  form: Record<string, string | undefined>,
): Promise<{ answer: HttpAnswer; body: TokenAnswer }> {
  const url = endpoint(client, path);
  const answer = await send({
    method: 'POST',
    url,
    form,
    headers: { Accept: 'application/json' },
    timeoutMs: client.timeoutMs ?? TOKEN_TIMEOUT_MS,
  });
  let body: unknown;
  try {
    body = parseJson(answer, url);
  } catch (err) {
    // A gateway's HTML error page is an outage, not a protocol answer.
    if (answer.status >= 500) throw tokenError(answer.status, {}, 'refresh');
    throw err;
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new O365Error('BAD_RESPONSE', t('errors.tokenAnswerIncomplete'), { status: answer.status });
  }
  return { answer, body: body as TokenAnswer };
}

function secretFor(client: OAuthClient, clientKind: ClientKind): string | undefined {
  // A public client must never send a secret (AADSTS700025), not even when it refreshes.
  return clientKind === 'public' ? undefined : client.clientSecret || undefined;
}

const TOKEN_ATTEMPTS = 3;
const TOKEN_RETRY_CAP_SECONDS = 10;

/** An outage worth another try: no answer, or the service saying so (5xx, 429). */
function transient(err: unknown): boolean {
  if (!(err instanceof O365Error)) return false;
  if (isTransient(err) || err.code === 'BAD_RESPONSE') return true;
  const status = err.cause.status ?? 0;
  return status >= 500 || status === 429;
}

/**
 * One token request. Refreshes and client credentials try again (3 attempts, Retry-After capped at 10 s, else
 * backoff with jitter) when the service is briefly away; a code is redeemed once (it is single use).
 */
async function requestTokens(
  client: OAuthClient,
  form: Record<string, string | undefined>,
  clientKind: ClientKind,
  context: TokenContext,
  previous?: TokenSet,
): Promise<TokenSet> {
  const attempts = context === 'refresh' || context === 'client' ? TOKEN_ATTEMPTS : 1;
  for (let attempt = 0; ; attempt += 1) {
    let retryAfter: number | undefined;
    try {
      // Lifetimes count from when the request left: a slow answer makes the refresh come early, never late.
      const sentAt = clockOf(client).now();
      const { answer, body } = await postToken(client, 'token', form);
      if (answer.status === 200 && !body.error) return tokenSetFrom(body, clientKind, sentAt, previous);
      retryAfter = retryAfterSeconds(answer.headers['retry-after']);
      throw tokenError(answer.status, body, context);
    } catch (err) {
      if (attempt + 1 >= attempts || !transient(err)) throw err;
      const wait =
        retryAfter !== undefined
          ? Math.min(retryAfter, TOKEN_RETRY_CAP_SECONDS) * 1000
          : backoffMs(attempt, 500);
      await sleep(wait);
    }
  }
}

export function redeemCode(
  client: OAuthClient,
  options: { code: string; redirectUri: string; codeVerifier: string },
): Promise<TokenSet> {
  return requestTokens(
    client,
    {
      client_id: client.clientId,
      grant_type: 'authorization_code',
      code: options.code,
      redirect_uri: options.redirectUri,
      code_verifier: options.codeVerifier,
      scope: normalizeScopes(client.scopes),
      client_secret: secretFor(client, 'confidential'),
    },
    client.clientSecret ? 'confidential' : 'public',
    'code',
  );
}

export function refreshTokens(client: OAuthClient, previous: TokenSet): Promise<TokenSet> {
  if (!previous.refreshToken) {
    return Promise.reject(
      new O365Error('invalid_grant', t('errors.noRefreshToken'), { code: 'invalid_grant' }),
    );
  }
  return requestTokens(
    client,
    {
      client_id: client.clientId,
      grant_type: 'refresh_token',
      refresh_token: previous.refreshToken,
      scope: normalizeScopes(client.scopes),
      client_secret: secretFor(client, previous.clientKind),
    },
    previous.clientKind,
    'refresh',
    previous,
  );
}

/**
 * Tries the registration's secret against the token endpoint with a client-credentials request (a token for the
 * app itself, with whatever application permissions it has, possibly none): Microsoft checks the secret exactly as
 * when a code is redeemed. The token is thrown away. Needs the tenant's ID or domain (the grant is not taken on
 * common/organizations/consumers).
 */
export async function testClientSecret(client: OAuthClient): Promise<void> {
  if (!client.clientSecret) {
    throw new O365Error('INVALID_CONFIG', t('errors.testNoSecret'), { field: 'clientSecret' });
  }
  if (isMultiTenantAlias(client.tenant)) {
    throw new O365Error('INVALID_CONFIG', t('errors.testAliasTenant', { tenant: client.tenant.trim() }), {
      field: 'tenant',
    });
  }
  await requestTokens(
    client,
    {
      client_id: client.clientId,
      grant_type: 'client_credentials',
      scope: applicationScope(client.graphEndpoint),
      client_secret: client.clientSecret,
    },
    'confidential',
    'test',
  );
}

export function clientCredentials(client: OAuthClient): Promise<TokenSet> {
  if (isMultiTenantAlias(client.tenant)) {
    return Promise.reject(
      new O365Error('INVALID_CONFIG', t('errors.applicationTenant', { tenant: client.tenant }), {
        field: 'tenant',
      }),
    );
  }
  if (!client.clientSecret) {
    return Promise.reject(
      new O365Error('INVALID_CONFIG', t('errors.applicationSecret'), { field: 'clientSecret' }),
    );
  }
  return requestTokens(
    client,
    {
      client_id: client.clientId,
      grant_type: 'client_credentials',
      scope: applicationScope(client.graphEndpoint),
      client_secret: client.clientSecret,
    },
    'confidential',
    'client',
  );
}

export async function startDeviceCode(client: OAuthClient): Promise<DeviceCodeStart> {
  const sentAt = clockOf(client).now();
  const { answer, body } = await postToken(client, 'devicecode', {
    client_id: client.clientId,
    scope: normalizeScopes(client.scopes),
  });
  const raw = body as Record<string, unknown>;
  if (answer.status !== 200 || raw.error) throw tokenError(answer.status, body, 'devicecode');
  const expiresIn = toSeconds(raw.expires_in) ?? 900;
  if (
    typeof raw.device_code !== 'string' ||
    typeof raw.user_code !== 'string' ||
    typeof raw.verification_uri !== 'string'
  ) {
    throw new O365Error('BAD_RESPONSE', t('errors.tokenAnswerIncomplete'), { status: answer.status });
  }
  return {
    deviceCode: raw.device_code,
    userCode: raw.user_code,
    verificationUri: raw.verification_uri,
    message: typeof raw.message === 'string' ? raw.message : '',
    expiresAt: sentAt + expiresIn * 1000,
    intervalSeconds: toSeconds(raw.interval) ?? 5,
  };
}

/**
 * One poll of a device-code sign-in; pending and slow_down (RFC 8628) are answers, not errors. Device code is a
 * public-client flow and sends no secret, unless `withSecret`: an app without "Allow public client flows" is a
 * confidential client that Microsoft asks for its secret (AADSTS7000218), and the grant is then a confidential one.
 */
export async function pollDeviceCode(
  client: OAuthClient,
  deviceCode: string,
  withSecret = false,
): Promise<DevicePoll> {
  const sentAt = clockOf(client).now();
  const { answer, body } = await postToken(client, 'token', {
    client_id: client.clientId,
    grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
    device_code: deviceCode,
    client_secret: withSecret ? client.clientSecret : undefined,
  });
  if (answer.status === 200 && !body.error) {
    return { done: true, tokens: tokenSetFrom(body, withSecret ? 'confidential' : 'public', sentAt) };
  }
  if (body.error === 'authorization_pending') return { done: false, slowDown: false };
  if (body.error === 'slow_down') return { done: false, slowDown: true };
  if (body.error === 'authorization_declined') {
    throw new O365Error('authorization_declined', t('errors.deviceDeclined'), {
      status: answer.status,
      code: 'authorization_declined',
    });
  }
  if (body.error === 'expired_token' || body.error === 'bad_verification_code') {
    throw new O365Error(String(body.error), t('errors.deviceExpired'), {
      status: answer.status,
      code: String(body.error),
    });
  }
  throw tokenError(answer.status, body, 'device');
}
