// Interactive sign-ins shared by the editor (admin API) and the o365-auth node: pending authorization-code
// sign-ins keyed by their single-use `state`, device-code polling, which manager a sign-in belongs to, and the
// record of each attempt (so a failure reaches the dialog while the sign-in in use goes on working).
import crypto from 'crypto';
import { firstLine, O365Error } from '../node-red/errors';
import { t } from '../node-red/i18n';
import {
  buildAuthorizeUrl,
  createPkce,
  createState,
  DeviceCodeStart,
  pollDeviceCode,
  redeemCode,
  startDeviceCode,
} from './oauth';
import { isTransient } from '../graph/http';
import { now } from '../time/clock';
import type { StoredState, TokenStore } from './token-store';
import { AuthStatus, ManagerSettings, sameSettings, SignInAttempt, TokenManager } from './token-manager';
import type { TokenSet } from './types';

const PENDING_LIFETIME_MS = 10 * 60_000;
const MAX_PENDING = 100;
const MAX_DRAFTS = 50;

interface PendingSignIn {
  state: string;
  manager: TokenManager;
  verifier: string;
  redirectUri: string;
  createdAt: number;
  attemptId: string;
}

interface DevicePollState {
  cancelled: boolean;
  timer?: NodeJS.Timeout;
  attemptId: string;
}

const pending = new Map<string, PendingSignIn>();
const deployed = new Map<string, TokenManager>();
const drafts = new Map<string, TokenManager>();
const devicePolls = new Map<TokenManager, DevicePollState>();

let sharedStore: TokenStore | undefined;

/** The config module hands over its token store at load. */
export function useStore(store: TokenStore): void {
  sharedStore = store;
}

export function store(): TokenStore {
  if (!sharedStore) throw new Error('o365: token store not initialised');
  return sharedStore;
}

function newAttemptId(): string {
  return crypto.randomBytes(9).toString('base64url');
}

/**
 * The running manager the editor means by `id`: the one of that node id, else the one whose store key is `id` (a
 * config node inside a subflow runs under a generated id, with `_alias` = the id the editor knows).
 */
function deployedFor(id: string): TokenManager | undefined {
  const direct = deployed.get(id);
  if (direct) return direct;
  for (const manager of deployed.values()) if (manager.key === id) return manager;
  return undefined;
}

/** The token store key of the config node the editor calls `id`: `_alias || id`, as at runtime. */
export function storeKeyFor(id: string): string {
  return deployedFor(id)?.key ?? id;
}

export function registerDeployed(manager: TokenManager): void {
  deployed.set(manager.settings.id, manager);
  for (const id of new Set([manager.settings.id, manager.key])) {
    const draft = drafts.get(id);
    if (draft && sameSettings(draft.fingerprint('confidential'), manager.fingerprint('confidential'))) {
      drafts.delete(id);
      cancelDevice(draft);
      draft.close();
    }
  }
}

export function unregisterDeployed(manager: TokenManager): void {
  if (deployed.get(manager.settings.id) === manager) deployed.delete(manager.settings.id);
  cancelDevice(manager);
  for (const [state, entry] of pending) if (entry.manager === manager) pending.delete(state);
}

/**
 * The manager a sign-in from the editor belongs to: the deployed node's when the dialog's settings are the
 * deployed ones, else a draft for that id (a node not deployed yet, or one whose settings are being changed).
 */
export function managerFor(settings: ManagerSettings): TokenManager {
  const running = deployedFor(settings.id);
  const wanted = new TokenManager(settings, { store: store() });
  if (running && sameSettings(running.fingerprint('confidential'), wanted.fingerprint('confidential'))) {
    // Same registration; a changed secret in the dialog is used for this sign-in's redemption only.
    if (settings.client.clientSecret === running.settings.client.clientSecret) return running;
  }
  const previous = drafts.get(settings.id);
  if (previous) {
    cancelDevice(previous);
    previous.close();
    drafts.delete(settings.id);
  }
  evictDrafts();
  drafts.set(settings.id, wanted);
  return wanted;
}

/**
 * Drafts are bounded: past MAX_DRAFTS the oldest idle ones go (their sign-ins stay in the store, so a deploy
 * still finds them); one with a pending sign-in or a running device code stays.
 */
function evictDrafts(): void {
  if (drafts.size < MAX_DRAFTS) return;
  const busy = new Set([...pending.values()].map((entry) => entry.manager));
  for (const [id, draft] of drafts) {
    if (drafts.size < MAX_DRAFTS) break;
    if (busy.has(draft) || devicePolls.has(draft)) continue;
    drafts.delete(id);
    draft.close();
  }
}

/** The manager to ask for tokens by id (the calendar picker): a draft (the dialog's latest sign-in) first. */
export function knownManager(id: string): TokenManager | undefined {
  // A draft the dialog started but did not finish signing in must not hide the running node's sign-in from the
  // pickers: the draft wins only once it is signed in, or when nothing runs under this id.
  const draft = drafts.get(id);
  const running = deployedFor(id);
  if (draft && (!running || draft.status().state === 'signed-in')) return draft;
  return running ?? draft;
}

/** Every manager of config node `id` in this process: its draft and the running one. */
export function signInManagers(id: string): TokenManager[] {
  return [drafts.get(id), deployedFor(id)].filter((m): m is TokenManager => m !== undefined);
}

/** The status a store holds for a node that is neither running nor signing in here (signed in before its deploy). */
export function storedStatus(stored: StoredState): AuthStatus {
  if (stored.signedOut) return { state: 'signed-out' };
  if (stored.unreadable) return { state: 'sign-in-required', reason: t('errors.storeUnreadable') };
  if (!stored.tokens) return { state: 'signed-out' };
  return { state: 'signed-in', account: stored.tokens.account };
}

function newer(a: SignInAttempt | undefined, b: SignInAttempt | undefined): SignInAttempt | undefined {
  if (!a) return b;
  if (!b) return a;
  return b.at > a.at ? b : a;
}

/**
 * What the dialog shows for config node `id`: the sign-in the nodes use (the deployed node's, or a draft's newer
 * sign-in waiting for the deploy), and the latest attempt of either, so a failed or pending attempt never hides a
 * sign-in that still works.
 */
export async function dialogStatus(id: string): Promise<AuthStatus> {
  const draft = drafts.get(id);
  const running = deployedFor(id);
  await running?.ready();
  await draft?.ready();
  if (!draft && !running) return storedStatus(await store().load(storeKeyFor(id)));
  const draftSignedIn = draft?.status().state === 'signed-in';
  const base = (draftSignedIn || !running ? draft : running) as TokenManager;
  const status = base.status();
  const attempt = newer(draft?.latestAttempt(), running?.latestAttempt());
  if (attempt) status.attempt = attempt;
  else delete status.attempt;
  return status;
}

/**
 * After a draft's sign-in the deployed node of that id either takes the new tokens (same registration, e.g. only
 * the secret was retyped in the dialog) or, with other settings, stops using (and overwriting) the store.
 */
function afterSignIn(manager: TokenManager, tokens: TokenSet): void {
  const running = deployedFor(manager.settings.id);
  if (!running || running === manager) return;
  if (sameSettings(running.fingerprint(tokens.clientKind), manager.fingerprint(tokens.clientKind)))
    running.adopt(tokens);
  else running.supersede();
}

function sweepPending(): void {
  const cutoff = now() - PENDING_LIFETIME_MS;
  for (const [state, entry] of pending) {
    if (entry.createdAt < cutoff) {
      pending.delete(state);
      entry.manager.dropAttempt(entry.attemptId);
    }
  }
}

/** An http(s) URL on the IPv6 loopback, which Microsoft does not take as a redirect URI (reply-url docs). */
export function isIpv6LoopbackUri(uri: string): boolean {
  try {
    const host = new URL(uri).hostname;
    return host === '[::1]' || host === '[0:0:0:0:0:0:0:1]';
  } catch {
    return false;
  }
}

/** A sign-in started here: the authorize URL for the person, and the id of the attempt the dialog follows. */
export interface StartedSignIn {
  url: string;
  attemptId: string;
}

/** Starts an authorization-code sign-in with PKCE; the URL goes to the person, the verifier stays here. */
export function beginSignIn(manager: TokenManager, redirectUri: string): StartedSignIn {
  if (!redirectUri)
    throw new O365Error('INVALID_CONFIG', t('errors.redirectUriMissing'), { field: 'redirectUri' });
  if (isIpv6LoopbackUri(redirectUri)) {
    throw new O365Error('INVALID_CONFIG', t('errors.redirectUriIpv6', { uri: redirectUri }), {
      field: 'redirectUri',
    });
  }
  if (manager.mode !== 'delegated') {
    throw new O365Error('INVALID_CONFIG', t('errors.applicationNoSignIn'), { field: 'mode' });
  }
  sweepPending();
  if (pending.size >= MAX_PENDING) {
    const oldest = [...pending.values()].sort((a, b) => a.createdAt - b.createdAt)[0];
    pending.delete(oldest.state);
  }
  const pkce = createPkce();
  const state = createState();
  const attemptId = newAttemptId();
  pending.set(state, {
    state,
    manager,
    verifier: pkce.verifier,
    redirectUri,
    createdAt: now(),
    attemptId,
  });
  manager.beginAttempt(attemptId, 'code');
  return {
    url: buildAuthorizeUrl(manager.settings.client, { redirectUri, state, codeChallenge: pkce.challenge }),
    attemptId,
  };
}

interface ParsedInput {
  code?: string;
  state?: string;
  error?: string;
  errorDescription?: string;
}

/** A pasted redirect URL (or just its query) or a bare code. */
export function parseSignInInput(input: string): ParsedInput {
  const text = input.trim();
  const queryStart = text.indexOf('?');
  if (
    /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ||
    queryStart >= 0 ||
    text.includes('code=') ||
    text.includes('error=')
  ) {
    const query = queryStart >= 0 ? text.slice(queryStart + 1).split('#')[0] : text.split('#')[0];
    const params = new URLSearchParams(query);
    return {
      code: params.get('code') ?? undefined,
      state: params.get('state') ?? undefined,
      error: params.get('error') ?? undefined,
      errorDescription: params.get('error_description') ?? undefined,
    };
  }
  return { code: text };
}

/**
 * Completes a sign-in from a redirect: matched by `state`; a bare code only when exactly one sign-in of
 * config node `ownerId` (or overall) is pending. The pending entry is used up whatever the outcome, and the
 * outcome is recorded as the manager's latest attempt.
 */
export async function completeSignIn(input: ParsedInput, ownerId?: string): Promise<AuthStatus> {
  sweepPending();
  let entry: PendingSignIn | undefined;
  if (input.state !== undefined) {
    entry = pending.get(input.state);
    if (!entry || (ownerId !== undefined && entry.manager.settings.id !== ownerId)) {
      throw new O365Error('UNKNOWN_STATE', t('errors.unknownState'), { code: 'UNKNOWN_STATE' });
    }
  } else {
    const candidates = [...pending.values()].filter(
      (p) => ownerId === undefined || p.manager.settings.id === ownerId,
    );
    if (candidates.length !== 1) {
      throw new O365Error(
        'AMBIGUOUS_CODE',
        t(candidates.length ? 'errors.ambiguousCode' : 'errors.noPendingSignIn'),
        {
          code: 'AMBIGUOUS_CODE',
        },
      );
    }
    entry = candidates[0];
  }
  pending.delete(entry.state);
  const { manager, attemptId } = entry;
  await manager.ready();
  try {
    if (input.error) {
      throw new O365Error(
        input.error,
        t('errors.signInRefused', { error: input.error, detail: firstLine(input.errorDescription) }),
        { code: input.error, aadsts: aadstsOf(input.errorDescription) },
      );
    }
    if (!input.code) throw new O365Error('NO_CODE', t('errors.noCode'), { code: 'NO_CODE' });
    const tokens = await redeemCode(manager.settings.client, {
      code: input.code,
      redirectUri: entry.redirectUri,
      codeVerifier: entry.verifier,
    });
    await manager.acceptTokens(tokens);
    manager.endAttempt(attemptId);
    afterSignIn(manager, tokens);
    return manager.status();
  } catch (err) {
    manager.endAttempt(attemptId, asFailure(err));
    throw err;
  }
}

/** The AADSTS code a redirect's error_description starts with ("AADSTS65004: …"), for the record. */
function aadstsOf(description: string | undefined): number[] | undefined {
  const match = /^AADSTS(\d+)/.exec(description ?? '');
  return match ? [Number(match[1])] : undefined;
}

function asFailure(err: unknown): O365Error {
  return err instanceof O365Error ? err : new O365Error('INTERNAL', t('errors.internal'), {});
}

function cancelDevice(manager: TokenManager): void {
  const poll = devicePolls.get(manager);
  if (!poll) return;
  poll.cancelled = true;
  if (poll.timer) clearTimeout(poll.timer);
  devicePolls.delete(manager);
  manager.dropAttempt(poll.attemptId);
}

export interface DeviceCallbacks {
  onSignedIn?: (status: AuthStatus) => void;
  onFailed?: (err: O365Error) => void;
}

export interface StartedDeviceSignIn extends DeviceCodeStart {
  attemptId: string;
}

/**
 * Starts a device-code sign-in and polls in the background until it succeeds, fails or expires (interval from
 * Microsoft, +5 s on slow_down, never past expiry). The poll sends no secret (a public-client flow) until
 * Microsoft answers AADSTS7000218: the app does not allow public client flows and is a confidential client, so a
 * configured secret is sent from then on (and a wrong one is reported as such).
 */
export async function beginDeviceSignIn(
  manager: TokenManager,
  callbacks: DeviceCallbacks = {},
): Promise<StartedDeviceSignIn> {
  if (manager.mode !== 'delegated') {
    throw new O365Error('INVALID_CONFIG', t('errors.applicationNoSignIn'), { field: 'mode' });
  }
  cancelDevice(manager);
  await manager.ready();
  const started = await startDeviceCode(manager.settings.client);
  const attemptId = newAttemptId();
  const poll: DevicePollState = { cancelled: false, attemptId };
  devicePolls.set(manager, poll);
  manager.beginAttempt(attemptId, 'device');
  let interval = started.intervalSeconds * 1000;
  let withSecret = false;
  const finish = () => {
    if (devicePolls.get(manager) === poll) devicePolls.delete(manager);
  };
  const fail = (failure: O365Error) => {
    finish();
    manager.endAttempt(attemptId, failure);
    callbacks.onFailed?.(failure);
  };
  const tick = async () => {
    if (poll.cancelled) return;
    if (now() >= started.expiresAt) {
      fail(new O365Error('expired_token', t('errors.deviceExpired'), { code: 'expired_token' }));
      return;
    }
    let wait = interval;
    try {
      const answer = await pollDeviceCode(manager.settings.client, started.deviceCode, withSecret);
      if (poll.cancelled) return;
      if (answer.done) {
        finish();
        await manager.acceptTokens(answer.tokens);
        manager.endAttempt(attemptId);
        afterSignIn(manager, answer.tokens);
        callbacks.onSignedIn?.(manager.status());
        return;
      }
      if (answer.slowDown) {
        interval += 5000;
        wait = interval;
      }
    } catch (err) {
      if (poll.cancelled) return;
      const transient = isTransient(err);
      const secretAsked =
        err instanceof O365Error &&
        (err.cause.aadsts ?? []).includes(7000218) &&
        !withSecret &&
        !!manager.settings.client.clientSecret;
      if (secretAsked) {
        // A confidential client: the same device code, polled again at once with the secret.
        withSecret = true;
        wait = 0;
      } else if (!transient) {
        fail(err instanceof O365Error ? err : new O365Error('DEVICE_FAILED', t('errors.deviceFailed')));
        return;
      }
    }
    poll.timer = setTimeout(tick, wait);
    poll.timer.unref?.();
  };
  poll.timer = setTimeout(tick, interval);
  poll.timer.unref?.();
  return { ...started, attemptId };
}
