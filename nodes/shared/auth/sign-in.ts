// Interactive sign-ins shared by the editor (admin API) and the o365-auth node: pending authorization-code
// sign-ins keyed by their single-use `state`, device-code polling, and which manager a sign-in belongs to.
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
import type { TokenStore } from './token-store';
import { AuthStatus, ManagerSettings, sameSettings, TokenManager } from './token-manager';
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
}

const pending = new Map<string, PendingSignIn>();
const deployed = new Map<string, TokenManager>();
const drafts = new Map<string, TokenManager>();
const devicePolls = new Map<TokenManager, { cancelled: boolean; timer?: NodeJS.Timeout }>();

let sharedStore: TokenStore | undefined;

/** The config module hands over its token store at load. */
export function useStore(store: TokenStore): void {
  sharedStore = store;
}

export function store(): TokenStore {
  if (!sharedStore) throw new Error('o365: token store not initialised');
  return sharedStore;
}

export function registerDeployed(manager: TokenManager): void {
  deployed.set(manager.settings.id, manager);
  const draft = drafts.get(manager.settings.id);
  if (draft && sameSettings(draft.fingerprint('confidential'), manager.fingerprint('confidential'))) {
    drafts.delete(manager.settings.id);
    draft.close();
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
  const running = deployed.get(settings.id);
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

/** The manager to ask for status or tokens by id: a draft (the dialog's latest sign-in) first, then the deployed one. */
export function knownManager(id: string): TokenManager | undefined {
  return drafts.get(id) ?? deployed.get(id);
}

/**
 * After a draft's sign-in the deployed node of that id either takes the new tokens (same registration, e.g. only
 * the secret was retyped in the dialog) or, with other settings, stops using (and overwriting) the store.
 */
function afterSignIn(manager: TokenManager, tokens: TokenSet): void {
  const running = deployed.get(manager.settings.id);
  if (!running || running === manager) return;
  if (sameSettings(running.fingerprint(tokens.clientKind), manager.fingerprint(tokens.clientKind)))
    running.adopt(tokens);
  else running.supersede();
}

function sweepPending(): void {
  const cutoff = now() - PENDING_LIFETIME_MS;
  for (const [state, entry] of pending) if (entry.createdAt < cutoff) pending.delete(state);
}

/** Starts an authorization-code sign-in with PKCE; the URL goes to the person, the verifier stays here. */
export function beginSignIn(manager: TokenManager, redirectUri: string): string {
  if (!redirectUri)
    throw new O365Error('INVALID_CONFIG', t('errors.redirectUriMissing'), { field: 'redirectUri' });
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
  pending.set(state, { state, manager, verifier: pkce.verifier, redirectUri, createdAt: now() });
  return buildAuthorizeUrl(manager.settings.client, { redirectUri, state, codeChallenge: pkce.challenge });
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
 * config node `ownerId` (or overall) is pending. The pending entry is used up whatever the outcome.
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
  await entry.manager.ready();
  if (input.error) {
    throw new O365Error(
      input.error,
      t('errors.signInRefused', { error: input.error, detail: firstLine(input.errorDescription) }),
      {
        code: input.error,
      },
    );
  }
  if (!input.code) throw new O365Error('NO_CODE', t('errors.noCode'), { code: 'NO_CODE' });
  const tokens = await redeemCode(entry.manager.settings.client, {
    code: input.code,
    redirectUri: entry.redirectUri,
    codeVerifier: entry.verifier,
  });
  await entry.manager.acceptTokens(tokens);
  afterSignIn(entry.manager, tokens);
  return entry.manager.status();
}

function cancelDevice(manager: TokenManager): void {
  const poll = devicePolls.get(manager);
  if (!poll) return;
  poll.cancelled = true;
  if (poll.timer) clearTimeout(poll.timer);
  devicePolls.delete(manager);
  manager.markPending(false);
}

export interface DeviceCallbacks {
  onSignedIn?: (status: AuthStatus) => void;
  onFailed?: (err: O365Error) => void;
}

/**
 * Starts a device-code sign-in and polls in the background until it succeeds, fails or expires
 * (interval from Microsoft, +5 s on slow_down, never past expiry).
 */
export async function beginDeviceSignIn(
  manager: TokenManager,
  callbacks: DeviceCallbacks = {},
): Promise<DeviceCodeStart> {
  if (manager.mode !== 'delegated') {
    throw new O365Error('INVALID_CONFIG', t('errors.applicationNoSignIn'), { field: 'mode' });
  }
  cancelDevice(manager);
  await manager.ready();
  const started = await startDeviceCode(manager.settings.client);
  const poll: { cancelled: boolean; timer?: NodeJS.Timeout } = { cancelled: false };
  devicePolls.set(manager, poll);
  manager.markPending(true);
  let interval = started.intervalSeconds * 1000;
  const finish = () => {
    if (devicePolls.get(manager) === poll) devicePolls.delete(manager);
  };
  const tick = async () => {
    if (poll.cancelled) return;
    if (now() >= started.expiresAt) {
      finish();
      const expired = new O365Error('expired_token', t('errors.deviceExpired'), { code: 'expired_token' });
      manager.markPending(false, expired.message);
      callbacks.onFailed?.(expired);
      return;
    }
    try {
      const answer = await pollDeviceCode(manager.settings.client, started.deviceCode);
      if (poll.cancelled) return;
      if (answer.done) {
        finish();
        await manager.acceptTokens(answer.tokens);
        afterSignIn(manager, answer.tokens);
        callbacks.onSignedIn?.(manager.status());
        return;
      }
      if (answer.slowDown) interval += 5000;
    } catch (err) {
      if (poll.cancelled) return;
      const transient = isTransient(err);
      if (!transient) {
        finish();
        const failure =
          err instanceof O365Error ? err : new O365Error('DEVICE_FAILED', t('errors.deviceFailed'));
        manager.markPending(false, failure.message);
        callbacks.onFailed?.(failure);
        return;
      }
    }
    poll.timer = setTimeout(tick, interval);
    poll.timer.unref?.();
  };
  poll.timer = setTimeout(tick, interval);
  poll.timer.unref?.();
  return started;
}
