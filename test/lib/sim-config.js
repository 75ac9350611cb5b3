// One place for "a config node pointing at the simulator": its properties (custom cloud) and its credentials,
// signed in or not. Used by the runtime, full-process, hardening and browser tests and by `npm start`.
'use strict';

const SIM_SCOPES = 'offline_access openid profile Calendars.Read Calendars.Read.Shared';
/**
 * The scopes of `npm start`'s one demo account: reading, plus listing the rooms (Place.Read.All: free/busy's
 * allRooms) and writing (calendar write), so that every example runs with the account it is given.
 */
const DEMO_SCOPES = `${SIM_SCOPES} Place.Read.All Calendars.ReadWrite Calendars.ReadWrite.Shared`;

/** The o365-config properties for the simulator's tenant on the custom cloud. */
function simConfigProps(sim, overrides = {}) {
  return {
    tenant: sim.tenantId,
    cloud: 'custom',
    authorityHost: sim.url,
    graphEndpoint: sim.url,
    mode: 'delegated',
    scopes: SIM_SCOPES,
    ...overrides,
  };
}

/**
 * The config node's credentials: client ID and secret of a registration, and with `signedIn` the token fields
 * the runtime mirrors (tokens issued by the simulator without HTTP). `now` is the clock expiresAt counts from.
 */
function simCredentials(sim, { app = 'confidential', signedIn = true, scope, user, now = Date.now() } = {}) {
  const registration = sim.apps[app];
  const credentials = { clientId: registration.clientId };
  if (registration.secret) credentials.clientSecret = registration.secret;
  let answer;
  if (signedIn) {
    answer = sim.issueTokens({ app, scope, user });
    Object.assign(credentials, {
      refreshToken: answer.refresh_token,
      accessToken: answer.access_token,
      expiresAt: String(now + answer.expires_in * 1000),
      clientKind: registration.secret ? 'confidential' : 'public',
    });
  }
  return { credentials, answer };
}

module.exports = { SIM_SCOPES, DEMO_SCOPES, simConfigProps, simCredentials };
