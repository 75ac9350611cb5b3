// One config node's sign-in: which tokens are current, when to refresh (single flight per store key across the
// module), where to keep them (token store first, Node-RED credentials as a mirror), what state to show, and a
// keep-alive that uses the refresh token before Microsoft ends it for inactivity.
import { EventEmitter } from 'events';
import { O365Error } from '../node-red/errors';
import { t } from '../node-red/i18n';
import {
  clientCredentials,
  needsSignIn,
  normalizeScopes,
  OAuthClient,
  refreshAtFor,
  refreshDue,
  refreshTokens,
} from './oauth';
import { reached } from '../node-red/diagnostics';
import { Clock, MAX_TIMER_MS, systemClock, TimerHandle } from '../time/clock';
import type { TokenStore } from './token-store';
import type { Account, ClientKind, Fingerprint, TokenSet } from './types';

export type AuthMode = 'delegated' | 'application';
export type AuthState = 'signed-in' | 'signed-out' | 'sign-in-required' | 'pending';

export interface ManagerSettings {
  /** The config node id (the admin API and the editor know nodes by id). */
  id: string;
  /** `_alias || id`: what the store and the single flight are keyed on. */
  key: string;
  mode: AuthMode;
  client: OAuthClient;
}

export interface AuthStatus {
  state: AuthState;
  account?: Account;
  expiresAt?: number;
  /** Granted scopes. */
  scopes?: string[];
  /** Why sign-in is required, as a sentence for people. */
  reason?: string;
  /** Microsoft's codes behind `reason` (e.g. [50076]), when it came from the token endpoint. */
  aadsts?: number[];
  /** The latest interactive sign-in attempt (shown in the dialog; the nodes show `state`). */
  attempt?: SignInAttempt;
}

/** One interactive sign-in (popup, pasted URL, device code): its outcome, apart from the sign-in in use. */
export interface SignInAttempt {
  /** Random; the editor matches it with the answer of its start request. */
  id: string;
  way: 'code' | 'device';
  state: 'pending' | 'failed' | 'signed-in';
  /** Why it failed, in words (Microsoft's reason explained). */
  reason?: string;
  aadsts?: number[];
  /** When it started or ended (epoch ms). */
  at: number;
}

/**
 * The sign-in status as flows (o365-auth's output) and the editor (the admin API's answers) see it, one shape for
 * both: times as ISO text, the attempt without internals, never a token.
 */
export function publicStatus(status: AuthStatus): Record<string, unknown> {
  const iso = (ms: number | undefined) => (ms ? new Date(ms).toISOString() : undefined);
  const attempt = status.attempt;
  return {
    signedIn: status.state === 'signed-in',
    state: status.state,
    account: status.account,
    scopes: status.scopes,
    expiresAt: iso(status.expiresAt),
    reason: status.reason,
    aadsts: status.aadsts,
    attempt: attempt
      ? {
          id: attempt.id,
          way: attempt.way,
          state: attempt.state,
          reason: attempt.reason,
          aadsts: attempt.aadsts,
          at: iso(attempt.at),
        }
      : undefined,
  };
}

/**
 * A refresh token dies after 90 days without use (AADSTS700082). A config node nobody reads from for days still
 * refreshes once the access token has lain unused for this long, so its refresh token never gets near that limit.
 */
export const KEEP_ALIVE_IDLE_MS = 3 * 24 * 60 * 60_000;
/** After a keep-alive refresh failed for a passing reason (network, outage), the next try. */
export const KEEP_ALIVE_RETRY_MS = 60 * 60_000;

/** The token fields mirrored into Node-RED credentials (password fields, never in the editor form). */
export interface MirroredTokens {
  refreshToken?: string;
  accessToken?: string;
  expiresAt?: string;
  clientKind?: string;
}

export interface ManagerDeps {
  store: TokenStore;
  /** Writes the token fields into the node's Node-RED credentials (undefined: remove them). */
  mirror?: (tokens: MirroredTokens | undefined) => void;
  warn?: (message: string) => void;
  /** Time and timers (keep-alive, refresh decisions); default the system clock. */
  clock?: Clock;
}

/** Refreshes in flight, by store key, across every manager of the module (a redeploy makes a new manager). */
const inflight = new Map<string, Promise<TokenSet>>();

export function fingerprintOf(client: OAuthClient, clientKind: ClientKind): Fingerprint {
  return {
    authority: client.authorityHost,
    tenant: client.tenant.trim().toLowerCase(),
    clientId: client.clientId.trim().toLowerCase(),
    clientKind,
    scopes: normalizeScopes(client.scopes).toLowerCase(),
  };
}

/** Same registration and scopes; the client kind records how the set was obtained, not a setting. */
export function sameSettings(a: Fingerprint, b: Fingerprint): boolean {
  return (
    a.authority === b.authority && a.tenant === b.tenant && a.clientId === b.clientId && a.scopes === b.scopes
  );
}

export class TokenManager extends EventEmitter {
  readonly settings: ManagerSettings;
  private readonly deps: ManagerDeps;
  private readonly clock: Clock;
  private tokens: TokenSet | undefined;
  private state: AuthState = 'signed-out';
  private reason: string | undefined;
  private reasonCodes: number[] | undefined;
  private attempt: SignInAttempt | undefined;
  private keepAlive: TimerHandle | undefined;
  private closed = false;

  constructor(settings: ManagerSettings, deps: ManagerDeps) {
    super();
    this.settings = settings;
    this.deps = deps;
    this.clock = deps.clock ?? systemClock;
  }

  get key(): string {
    return this.settings.key;
  }

  get mode(): AuthMode {
    return this.settings.mode;
  }

  private initialized: Promise<void> = Promise.resolve();

  /** Picks the token set to start with: a refresh token a person deployed, else the store's newest set. */
  init(deployed: MirroredTokens = {}): Promise<void> {
    this.initialized = this.pickTokens(deployed);
    return this.initialized;
  }

  /** Resolves once init has settled (sign-ins and status wait for it, so init cannot overwrite them). */
  ready(): Promise<void> {
    return this.initialized.catch(() => undefined);
  }

  private async pickTokens(deployed: MirroredTokens): Promise<void> {
    if (this.mode === 'application') {
      this.setState(
        this.settings.client.clientSecret ? 'signed-in' : 'sign-in-required',
        this.applicationProblem(),
      );
      return;
    }
    const { store } = this.deps;
    const stored = await store.load(this.key);
    const deployedToken = deployed.refreshToken;
    if (deployedToken && !(await store.hasSeen(this.key, deployedToken))) {
      // Never seen: a person deployed it (or copied the flow files to a new machine). It wins.
      const clientKind: ClientKind = deployed.clientKind === 'public' ? 'public' : this.defaultClientKind();
      const expiresAt = Number(deployed.expiresAt) || 0;
      const tokens: TokenSet = {
        accessToken: deployed.accessToken ?? '',
        refreshToken: deployedToken,
        expiresAt,
        // Taken as issued now (it was just deployed): its lifetime is what remains of it.
        refreshAt: expiresAt ? refreshAtFor(expiresAt, this.clock.now()) : 0,
        scope: '',
        clientKind,
        account: stored.tokens?.account,
      };
      await store.save(this.key, tokens, fingerprintOf(this.settings.client, clientKind));
      this.useTokens(tokens);
      return;
    }
    if (stored.signedOut) {
      this.setState('signed-out');
    } else if (stored.unreadable) {
      this.setState('sign-in-required', t('errors.storeUnreadable'));
    } else if (stored.tokens && stored.fingerprint) {
      if (sameSettings(stored.fingerprint, fingerprintOf(this.settings.client, stored.tokens.clientKind))) {
        this.useTokens(stored.tokens);
      } else {
        this.setState('sign-in-required', t('errors.deployToUse'));
      }
    } else {
      this.setState('signed-out');
    }
  }

  /**
   * The state of the sign-in the nodes use. An attempt in progress does not change it: a pending device code
   * shows as "pending" only while there is no usable sign-in (it is then what the nodes wait for).
   */
  status(): AuthStatus {
    const pending = this.attempt?.state === 'pending' && this.state !== 'signed-in';
    const status: AuthStatus = { state: pending ? 'pending' : this.state };
    if (this.tokens?.account) status.account = this.tokens.account;
    if (this.tokens && this.state === 'signed-in') {
      status.expiresAt = this.tokens.expiresAt;
      if (this.tokens.scope) status.scopes = this.tokens.scope.split(' ').filter(Boolean);
    }
    if (this.reason && status.state === 'sign-in-required') {
      status.reason = this.reason;
      if (this.reasonCodes) status.aadsts = this.reasonCodes;
    }
    if (this.attempt) status.attempt = { ...this.attempt };
    return status;
  }

  /** The latest interactive sign-in attempt, if any. */
  latestAttempt(): SignInAttempt | undefined {
    return this.attempt ? { ...this.attempt } : undefined;
  }

  /** A new interactive sign-in started; it replaces the record of the one before. */
  beginAttempt(id: string, way: SignInAttempt['way']): void {
    this.emitIfChanged(() => {
      this.attempt = { id, way, state: 'pending', at: this.clock.now() };
    });
  }

  /** An attempt ended; a record of another (newer) one is left alone. */
  endAttempt(id: string, failure?: O365Error): void {
    if (!this.attempt || this.attempt.id !== id) return;
    const ended: SignInAttempt = {
      ...this.attempt,
      state: failure ? 'failed' : 'signed-in',
      at: this.clock.now(),
    };
    if (failure) {
      ended.reason = failure.message;
      if (failure.cause.aadsts) ended.aadsts = failure.cause.aadsts;
    }
    this.emitIfChanged(() => {
      this.attempt = ended;
    });
  }

  /** An attempt stopped without an outcome (replaced, or the node closed): no record is kept. */
  dropAttempt(id: string): void {
    if (this.attempt?.id !== id) return;
    this.emitIfChanged(() => {
      this.attempt = undefined;
    });
  }

  /** The fingerprint a new sign-in with these settings would be stored with. */
  fingerprint(clientKind: ClientKind): Fingerprint {
    return fingerprintOf(this.settings.client, clientKind);
  }

  /**
   * A valid access token. `rejected`: the token Graph just answered 401 to; if it is still the current one,
   * refresh even though it has not expired by our clock.
   */
  async getAccessToken(rejected?: string): Promise<string> {
    if (this.mode === 'application') return (await this.applicationToken(rejected)).accessToken;
    const current = this.tokens;
    if (!current || this.state !== 'signed-in') {
      throw new O365Error('SIGN_IN_REQUIRED', this.reason ?? t('errors.signInRequired'), {
        code: 'SIGN_IN_REQUIRED',
        aadsts: this.reasonCodes,
      });
    }
    const stale = rejected !== undefined && rejected === current.accessToken;
    if (!stale && current.accessToken && !refreshDue(current, this.clock.now())) return current.accessToken;
    return (await this.refreshOnce(current, stale)).accessToken;
  }

  private async applicationToken(rejected?: string): Promise<TokenSet> {
    const problem = this.applicationProblem();
    if (problem) throw new O365Error('INVALID_CONFIG', problem, { code: 'INVALID_CONFIG' });
    const current = this.tokens;
    const stale = rejected !== undefined && current !== undefined && rejected === current.accessToken;
    if (current && !stale && !refreshDue(current, this.clock.now())) return current;
    return this.singleFlight(async () => {
      const next = await clientCredentials(this.settings.client);
      this.tokens = next;
      this.setState('signed-in');
      return next;
    });
  }

  private applicationProblem(): string | undefined {
    return this.settings.client.clientSecret ? undefined : t('errors.applicationSecret');
  }

  private singleFlight(work: () => Promise<TokenSet>): Promise<TokenSet> {
    const running = inflight.get(this.key);
    if (running) return running;
    const started = work().finally(() => inflight.delete(this.key));
    inflight.set(this.key, started);
    return started;
  }

  private refreshOnce(current: TokenSet, force: boolean): Promise<TokenSet> {
    return this.singleFlight(async () => {
      // Another manager of the same key (the one before a redeploy) may have refreshed already.
      const latest = await this.deps.store.load(this.key);
      if (
        latest.tokens &&
        !latest.signedOut &&
        latest.tokens.refreshToken !== current.refreshToken &&
        latest.fingerprint &&
        sameSettings(latest.fingerprint, this.fingerprint(latest.tokens.clientKind)) &&
        !refreshDue(latest.tokens, this.clock.now()) &&
        !force
      ) {
        this.useTokens(latest.tokens);
        return latest.tokens;
      }
      const base = latest.tokens && latest.tokens.refreshToken && !latest.signedOut ? latest.tokens : current;
      let next: TokenSet;
      try {
        next = await refreshTokens(this.settings.client, base);
      } catch (err) {
        if (needsSignIn(err)) {
          const refused = err as O365Error;
          this.setState('sign-in-required', refused.message, refused.cause.aadsts);
          throw new O365Error('SIGN_IN_REQUIRED', refused.message, {
            ...refused.cause,
            code: 'SIGN_IN_REQUIRED',
          });
        }
        // A passing outage: a still valid access token keeps working until it expires.
        if (!force && base.accessToken && this.clock.now() < base.expiresAt - 30_000) return base;
        throw err;
      }
      reached('refresh:after-token-response');
      if (!next.account) next.account = base.account;
      await this.deps.store.save(this.key, next, this.fingerprint(next.clientKind));
      this.useTokens(next);
      this.mirror(next);
      return next;
    });
  }

  /**
   * The keep-alive: once the access token has lain unused for KEEP_ALIVE_IDLE_MS, refresh (a read would have done
   * so long before). Timers longer than Node's limit (about 24.8 days) are chained.
   */
  private scheduleKeepAlive(at?: number): void {
    this.stopKeepAlive();
    const tokens = this.tokens;
    if (this.closed || this.mode !== 'delegated' || !tokens?.refreshToken) return;
    const due = at ?? tokens.expiresAt + KEEP_ALIVE_IDLE_MS;
    const wait = Math.max(0, due - this.clock.now());
    this.keepAlive = this.clock.setTimeout(
      () => {
        this.keepAlive = undefined;
        if (this.clock.now() < due) this.scheduleKeepAlive(due);
        else void this.keepAliveRefresh(tokens);
      },
      Math.min(wait, MAX_TIMER_MS),
    );
  }

  private stopKeepAlive(): void {
    if (this.keepAlive !== undefined) this.clock.clearTimeout(this.keepAlive);
    this.keepAlive = undefined;
  }

  private async keepAliveRefresh(expected: TokenSet): Promise<void> {
    if (this.closed || this.tokens !== expected || this.state !== 'signed-in') return;
    try {
      await this.refreshOnce(expected, false);
    } catch (err) {
      if (this.closed || this.state !== 'signed-in') return; // Sign-in required: the state says so.
      const message = err instanceof O365Error ? err.message : t('errors.internal');
      this.deps.warn?.(t('errors.keepAliveFailed', { message }));
      if (this.tokens === expected) this.scheduleKeepAlive(this.clock.now() + KEEP_ALIVE_RETRY_MS);
    }
  }

  /** Makes a token set the current one (signed in) and plans its keep-alive. */
  private useTokens(tokens: TokenSet): void {
    this.tokens = tokens;
    this.setState('signed-in');
    this.scheduleKeepAlive();
  }

  /** Tokens from a new sign-in (code or device code) for exactly these settings. */
  async acceptTokens(tokens: TokenSet): Promise<void> {
    await this.deps.store.save(this.key, tokens, this.fingerprint(tokens.clientKind));
    this.mirror(tokens);
    this.useTokens(tokens);
  }

  /** Tokens another manager of the same key and settings just stored (a sign-in from the dialog). */
  adopt(tokens: TokenSet): void {
    this.mirror(tokens);
    this.useTokens(tokens);
  }

  /** Another sign-in, with other settings, now owns the store: ours waits for the deploy that brings them. */
  supersede(): void {
    this.tokens = undefined;
    this.stopKeepAlive();
    this.setState('sign-in-required', t('errors.deployToUse'));
  }

  async signOut(): Promise<void> {
    await this.deps.store.signOut(this.key);
    this.tokens = undefined;
    this.stopKeepAlive();
    this.mirror(undefined);
    this.setState('signed-out');
  }

  close(): void {
    this.closed = true;
    this.stopKeepAlive();
    this.removeAllListeners();
  }

  private defaultClientKind(): ClientKind {
    return this.settings.client.clientSecret ? 'confidential' : 'public';
  }

  private mirror(tokens: TokenSet | undefined): void {
    if (this.closed || !this.deps.mirror) return;
    this.deps.mirror(
      tokens
        ? {
            refreshToken: tokens.refreshToken,
            accessToken: tokens.accessToken,
            expiresAt: String(tokens.expiresAt),
            clientKind: tokens.clientKind,
          }
        : undefined,
    );
  }

  private setState(state: AuthState, reason?: string, codes?: number[]): void {
    this.emitIfChanged(() => {
      this.state = state;
      this.reason = state === 'sign-in-required' ? reason : undefined;
      this.reasonCodes = state === 'sign-in-required' ? codes : undefined;
    });
  }

  /** Applies a change and tells the listeners when the status they see (state, reason, attempt) changed. */
  private emitIfChanged(change: () => void): void {
    const before = JSON.stringify(this.status());
    change();
    const after = this.status();
    if (!this.closed && JSON.stringify(after) !== before) this.emit('state', after);
  }
}
