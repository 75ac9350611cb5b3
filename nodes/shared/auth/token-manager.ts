// One config node's sign-in: which tokens are current, when to refresh (single flight per store key across the
// module), where to keep them (token store first, Node-RED credentials as a mirror) and what state to show.
import { EventEmitter } from 'events';
import { O365Error } from '../node-red/errors';
import { t } from '../node-red/i18n';
import { clientCredentials, needsSignIn, normalizeScopes, OAuthClient, refreshTokens } from './oauth';
import { reached } from '../node-red/diagnostics';
import { now } from '../time/clock';
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
}

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

/** When to refresh: `refresh_in` if given, else min(5 minutes, half the lifetime) before expiry. */
export function refreshDue(tokens: TokenSet, at: number): boolean {
  if (tokens.refreshAt !== undefined) return at >= tokens.refreshAt;
  return at >= tokens.expiresAt - 5 * 60_000;
}

export class TokenManager extends EventEmitter {
  readonly settings: ManagerSettings;
  private readonly deps: ManagerDeps;
  private tokens: TokenSet | undefined;
  private state: AuthState = 'signed-out';
  private reason: string | undefined;
  private lastFailure: string | undefined;
  private closed = false;

  constructor(settings: ManagerSettings, deps: ManagerDeps) {
    super();
    this.settings = settings;
    this.deps = deps;
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
        refreshAt: expiresAt ? expiresAt - Math.min(5 * 60_000, (expiresAt - now()) / 2) : 0,
        scope: '',
        clientKind,
        account: stored.tokens?.account,
      };
      await store.save(this.key, tokens, fingerprintOf(this.settings.client, clientKind));
      this.tokens = tokens;
      this.setState('signed-in');
      return;
    }
    if (stored.signedOut) {
      this.setState('signed-out');
    } else if (stored.unreadable) {
      this.setState('sign-in-required', t('errors.storeUnreadable'));
    } else if (stored.tokens && stored.fingerprint) {
      if (sameSettings(stored.fingerprint, fingerprintOf(this.settings.client, stored.tokens.clientKind))) {
        this.tokens = stored.tokens;
        this.setState('signed-in');
      } else {
        this.setState('sign-in-required', t('errors.deployToUse'));
      }
    } else {
      this.setState('signed-out');
    }
  }

  status(): AuthStatus {
    const status: AuthStatus = { state: this.state };
    if (this.tokens?.account) status.account = this.tokens.account;
    if (this.tokens && this.state === 'signed-in') {
      status.expiresAt = this.tokens.expiresAt;
      if (this.tokens.scope) status.scopes = this.tokens.scope.split(' ').filter(Boolean);
    }
    if (this.reason && this.state === 'sign-in-required') status.reason = this.reason;
    else if (this.lastFailure && this.state === 'signed-out') status.reason = this.lastFailure;
    return status;
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
      });
    }
    const stale = rejected !== undefined && rejected === current.accessToken;
    if (!stale && current.accessToken && !refreshDue(current, now())) return current.accessToken;
    return (await this.refreshOnce(current, stale)).accessToken;
  }

  private async applicationToken(rejected?: string): Promise<TokenSet> {
    const problem = this.applicationProblem();
    if (problem) throw new O365Error('INVALID_CONFIG', problem, { code: 'INVALID_CONFIG' });
    const current = this.tokens;
    const stale = rejected !== undefined && current !== undefined && rejected === current.accessToken;
    if (current && !stale && !refreshDue(current, now())) return current;
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
        !refreshDue(latest.tokens, now()) &&
        !force
      ) {
        this.tokens = latest.tokens;
        return latest.tokens;
      }
      const base = latest.tokens && latest.tokens.refreshToken && !latest.signedOut ? latest.tokens : current;
      let next: TokenSet;
      try {
        next = await refreshTokens(this.settings.client, base);
      } catch (err) {
        if (needsSignIn(err)) {
          this.setState('sign-in-required', (err as O365Error).message);
          throw new O365Error('SIGN_IN_REQUIRED', (err as O365Error).message, {
            ...(err as O365Error).cause,
            code: 'SIGN_IN_REQUIRED',
          });
        }
        // A passing outage: a still valid access token keeps working until it expires.
        if (!force && base.accessToken && now() < base.expiresAt - 30_000) return base;
        throw err;
      }
      reached('refresh:after-token-response');
      if (!next.account) next.account = base.account;
      await this.deps.store.save(this.key, next, this.fingerprint(next.clientKind));
      this.tokens = next;
      this.mirror(next);
      this.setState('signed-in');
      return next;
    });
  }

  /** Tokens from a new sign-in (code or device code) for exactly these settings. */
  async acceptTokens(tokens: TokenSet): Promise<void> {
    await this.deps.store.save(this.key, tokens, this.fingerprint(tokens.clientKind));
    this.lastFailure = undefined;
    this.tokens = tokens;
    this.mirror(tokens);
    this.setState('signed-in');
  }

  /** Tokens another manager of the same key and settings just stored (a sign-in from the dialog). */
  adopt(tokens: TokenSet): void {
    this.tokens = tokens;
    this.mirror(tokens);
    this.setState('signed-in');
  }

  /** Another sign-in, with other settings, now owns the store: ours waits for the deploy that brings them. */
  supersede(): void {
    this.tokens = undefined;
    this.setState('sign-in-required', t('errors.deployToUse'));
  }

  /** A device-code sign-in started or ended; `failure` says why one ended without tokens (shown in the dialog). */
  markPending(pending: boolean, failure?: string): void {
    this.lastFailure = pending ? undefined : failure;
    if (pending) this.setState('pending');
    else if (this.state === 'pending') this.setState(this.tokens ? 'signed-in' : 'signed-out');
  }

  async signOut(): Promise<void> {
    await this.deps.store.signOut(this.key);
    this.tokens = undefined;
    this.mirror(undefined);
    this.setState('signed-out');
  }

  close(): void {
    this.closed = true;
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

  private setState(state: AuthState, reason?: string): void {
    const changed = state !== this.state || reason !== this.reason;
    this.state = state;
    this.reason = state === 'sign-in-required' ? reason : undefined;
    if (changed && !this.closed) this.emit('state', this.status());
  }
}
