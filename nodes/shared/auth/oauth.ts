// The token endpoint client: authorize URLs with PKCE, code redemption, refresh, client credentials and device code,
// and Microsoft's error answers turned into messages a person can act on (keyed on error/error_codes only).
import crypto from 'crypto';
import { firstLine, O365Error } from '../node-red/errors';
import { backoffMs, HttpAnswer, isTransient, parseJson, retryAfterSeconds, send, sleep } from '../graph/http';
import { t } from '../node-red/i18n';
import { now } from '../time/clock';
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

function tokenSetFrom(answer: TokenAnswer, clientKind: ClientKind, previous?: TokenSet): TokenSet {
  const expiresIn = toSeconds(answer.expires_in);
  if (typeof answer.access_token !== 'string' || !answer.access_token || !expiresIn) {
    throw new O365Error('BAD_RESPONSE', t('errors.tokenAnswerIncomplete'), { code: 'BAD_RESPONSE' });
  }
  const issuedAt = now();
  const refreshIn = toSeconds(answer.refresh_in);
  return {
    accessToken: answer.access_token,
    refreshToken:
      typeof answer.refresh_token === 'string' && answer.refresh_token
        ? answer.refresh_token
        : previous?.refreshToken,
    expiresAt: issuedAt + expiresIn * 1000,
    // Refresh at `refresh_in` when Microsoft says so, else min(5 minutes, half the lifetime) before expiry.
    refreshAt: issuedAt + (refreshIn ?? expiresIn - Math.min(300, expiresIn / 2)) * 1000,
    scope: typeof answer.scope === 'string' ? answer.scope : (previous?.scope ?? ''),
    account: accountFromIdToken(answer.id_token) ?? previous?.account,
    clientKind,
  };
}

/** AADSTS codes we explain, in the order we look for them (54005 comes with 70002, so it goes first). */
const EXPLAINED_CODES = [
  54005, 70008, 700082, 50173, 7000215, 7000222, 7000218, 700016, 50194, 65001, 700025, 9001023, 501481,
  70003,
] as const;

export type TokenContext = 'code' | 'refresh' | 'device' | 'client' | 'devicecode';

/** A token endpoint error as an O365Error: `code` = the OAuth error, `cause.aadsts` = Microsoft's codes. */
export function tokenError(status: number, body: TokenAnswer, context: TokenContext): O365Error {
  const error = typeof body.error === 'string' ? body.error : `http_${status}`;
  const codes = Array.isArray(body.error_codes)
    ? body.error_codes.filter((c): c is number => typeof c === 'number')
    : [];
  const known = EXPLAINED_CODES.find((code) => codes.includes(code));
  let message: string;
  if (known === 7000218 && context === 'device') message = t('errors.aadsts7000218device');
  else if (known !== undefined) message = t(`errors.aadsts${known}`);
  else if (error === 'invalid_grant')
    message = t('errors.invalidGrant', { detail: firstLine(body.error_description) });
  else if (error === 'temporarily_unavailable' || status >= 500)
    message = t('errors.tokenEndpointUnavailable', { status });
  else message = t('errors.tokenEndpointOther', { error, detail: firstLine(body.error_description) });
  return new O365Error(error, message, { status, code: error, aadsts: codes.length ? codes : undefined });
}

/** True when only a new interactive sign-in can help (revoked, expired, consent withdrawn, password changed). */
export function needsSignIn(err: unknown): boolean {
  return err instanceof O365Error && (err.code === 'invalid_grant' || err.code === 'interaction_required');
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
      const { answer, body } = await postToken(client, 'token', form);
      if (answer.status === 200 && !body.error) return tokenSetFrom(body, clientKind, previous);
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
    expiresAt: now() + expiresIn * 1000,
    intervalSeconds: toSeconds(raw.interval) ?? 5,
  };
}

/** One poll of a device-code sign-in; pending and slow_down are answers, not errors. */
export async function pollDeviceCode(client: OAuthClient, deviceCode: string): Promise<DevicePoll> {
  const { answer, body } = await postToken(client, 'token', {
    client_id: client.clientId,
    grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
    device_code: deviceCode,
  });
  if (answer.status === 200 && !body.error) return { done: true, tokens: tokenSetFrom(body, 'public') };
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
