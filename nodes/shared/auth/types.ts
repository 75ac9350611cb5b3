// Shapes shared by the token store, the OAuth client and the config node.

/** A confidential client proves itself with a secret; a public one (device code) must never send one. */
export type ClientKind = 'confidential' | 'public';

/** Who signed in, from the id_token (`openid profile`). */
export interface Account {
  name?: string;
  username?: string;
}

/** One set of tokens from the token endpoint, with times as epoch milliseconds. */
export interface TokenSet {
  accessToken: string;
  refreshToken?: string;
  /** When the access token expires. */
  expiresAt: number;
  /** When the token endpoint asked us to refresh (`refresh_in`), if it did. */
  refreshAt?: number;
  /** Granted scopes, space separated. */
  scope: string;
  account?: Account;
  clientKind: ClientKind;
}

/** The settings a token set was obtained with; a set obtained with other settings waits for a deploy. */
export interface Fingerprint {
  authority: string;
  tenant: string;
  clientId: string;
  clientKind: ClientKind;
  scopes: string;
}
