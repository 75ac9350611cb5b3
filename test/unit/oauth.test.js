// The OAuth client against the simulator over loopback: exact requests, and every AADSTS case we explain
// turned into its actionable message (keyed on error_codes, never on error_description).
'use strict';
require('should');
const { startSimulator } = require('../sim/simulator');
const { distPath } = require('../lib/dist');

const oauth = require(distPath('nodes/shared/auth/oauth.js'));

function clientFor(sim, overrides = {}, app = 'confidential') {
  return {
    authorityHost: sim.url,
    graphEndpoint: sim.url,
    tenant: sim.tenantId,
    clientId: sim.apps[app].clientId,
    clientSecret: sim.apps[app].secret,
    scopes: 'openid profile Calendars.Read',
    ...overrides,
  };
}

/** A fresh code through the authorize endpoint, as a browser that consents would get it. */
async function codeFor(
  sim,
  client,
  { redirectUri = 'http://localhost:1880/o365/auth/callback', pkce = oauth.createPkce() } = {},
) {
  const url = oauth.buildAuthorizeUrl(client, { redirectUri, state: 's1', codeChallenge: pkce.challenge });
  const answer = await fetch(url, { redirect: 'manual' });
  const location = answer.headers.get('location');
  if (!location) throw new Error(`authorize answered ${answer.status}: ${await answer.text()}`);
  return { code: new URL(location).searchParams.get('code'), redirectUri, codeVerifier: pkce.verifier };
}

async function failure(promise) {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure');
}

describe('OAuth client against the simulator', function () {
  this.timeout(10000);
  let sim;
  beforeEach(async () => {
    sim = await startSimulator({ eventCount: 10 });
  });
  afterEach(() => sim.close());

  it('redeems a code with authorization_code, the same redirect_uri, the PKCE verifier and offline_access', async () => {
    const client = clientFor(sim);
    const redeem = await codeFor(sim, client);
    const tokens = await oauth.redeemCode(client, redeem);
    tokens.refreshToken.should.be.a.String();
    tokens.account.should.eql({ name: 'Megan Bowen', username: sim.users.megan.upn });
    tokens.clientKind.should.equal('confidential');
    (tokens.refreshAt < tokens.expiresAt).should.be.true();
    const [authorize, token] = sim.requests;
    authorize.query.scope.split(' ')[0].should.equal('offline_access');
    token.form.should.containEql({
      grant_type: 'authorization_code',
      redirect_uri: redeem.redirectUri,
      code_verifier: redeem.codeVerifier,
      client_id: client.clientId,
    });
  });

  it('refresh at min(5 min, half the lifetime) before expiry, or at refresh_in', async () => {
    const client = clientFor(sim);
    sim.knobs.accessTokenLifetime = 600;
    let tokens = await oauth.redeemCode(client, await codeFor(sim, client));
    Math.round((tokens.expiresAt - tokens.refreshAt) / 1000).should.equal(300);
    sim.knobs.accessTokenLifetime = 60;
    tokens = await oauth.refreshTokens(client, tokens);
    Math.round((tokens.expiresAt - tokens.refreshAt) / 1000).should.equal(30);
    sim.knobs.accessTokenLifetime = 3599;
    sim.knobs.refreshIn = 1800;
    tokens = await oauth.refreshTokens(client, tokens);
    Math.round((tokens.expiresAt - tokens.refreshAt) / 1000).should.equal(3599 - 1800);
  });

  const cases = [
    [
      '54005 code already used',
      async (client) => {
        const redeem = await codeFor(sim, client);
        await oauth.redeemCode(client, redeem);
        return oauth.redeemCode(client, redeem);
      },
      54005,
      /already used/,
    ],
    [
      '70008 expired code',
      async (client) => {
        const redeem = await codeFor(sim, client);
        sim.advanceClock(11 * 60_000);
        return oauth.redeemCode(client, redeem);
      },
      70008,
      /expired or was revoked/,
    ],
    [
      '700082 refresh token unused for 90 days',
      async (client) => {
        const tokens = await oauth.redeemCode(client, await codeFor(sim, client));
        sim.advanceClock(91 * 86_400_000);
        return oauth.refreshTokens(client, tokens);
      },
      700082,
      /90 days/,
    ],
    [
      '50173 password changed',
      async (client) => {
        const tokens = await oauth.redeemCode(client, await codeFor(sim, client));
        sim.revokeRefreshTokens({ code: 50173 });
        return oauth.refreshTokens(client, tokens);
      },
      50173,
      /password was changed/,
    ],
    [
      '7000215 secret ID instead of the value',
      async (client) => {
        return oauth.redeemCode(
          { ...client, clientSecret: sim.apps.confidential.secretId },
          await codeFor(sim, client),
        );
      },
      7000215,
      /Value column, not the Secret ID/,
    ],
    [
      '7000222 expired secret',
      async (client) => {
        sim.knobs.secretExpired = true;
        return oauth.redeemCode(client, await codeFor(sim, client));
      },
      7000222,
      /secret has expired/,
    ],
    [
      '7000218 missing secret',
      async (client) => {
        return oauth.redeemCode({ ...client, clientSecret: undefined }, await codeFor(sim, client));
      },
      7000218,
      /registered under the Web platform, whose sign-ins need the secret/,
    ],
    [
      '700016 unknown client',
      async (client) => {
        return oauth.clientCredentials({ ...client, clientId: '00000000-0000-0000-0000-000000000001' });
      },
      700016,
      /not found in this tenant/,
    ],
    [
      '50194 single-tenant app on common',
      async (client) => {
        const redeem = await codeFor(sim, client);
        return oauth.redeemCode({ ...client, tenant: 'common' }, redeem);
      },
      50194,
      /single-tenant/,
    ],
    [
      '65001 consent missing',
      async (client) => {
        sim.knobs.consentMissing = true;
        return oauth.redeemCode(client, await codeFor(sim, client));
      },
      65001,
      /Consent is missing/,
    ],
    [
      '501481 PKCE mismatch',
      async (client) => {
        const redeem = await codeFor(sim, client);
        return oauth.redeemCode(client, { ...redeem, codeVerifier: oauth.createPkce().verifier });
      },
      501481,
      /PKCE/,
    ],
  ];
  for (const [title, run, code, message] of cases) {
    it(`AADSTS${title}`, async () => {
      const err = await failure(run(clientFor(sim)));
      err.cause.aadsts.should.containEql(code);
      err.message.should.match(message);
      err.message.should.match(new RegExp(`AADSTS${code}`));
      JSON.stringify(err).should.not.containEql(sim.apps.confidential.secret);
    });
  }

  it('AADSTS700025: a public client never sends a secret, not even on refresh', async () => {
    const client = clientFor(sim, {}, 'public');
    sim.knobs.deviceInterval = 1;
    const started = await oauth.startDeviceCode(client);
    sim.approveDevice(started.userCode);
    const polled = await oauth.pollDeviceCode(client, started.deviceCode);
    polled.done.should.be.true();
    polled.tokens.clientKind.should.equal('public');
    // Even with a secret configured, a public-client token refreshes without it.
    await oauth.refreshTokens({ ...client, clientSecret: 'configured-anyway' }, polled.tokens);
    sim.requests
      .filter((r) => r.grantType === 'refresh_token')[0]
      .form.should.not.have.property('client_secret');
    // And the simulator does refuse one that is sent, as Microsoft does.
    const sent = await failure(
      oauth.refreshTokens({ ...client, clientSecret: 'x' }, { ...polled.tokens, clientKind: 'confidential' }),
    );
    sent.cause.aadsts.should.containEql(700025);
    sent.message.should.match(/public client/);
  });

  it('the refresh rule: refresh_in, else min(5 minutes, half the lifetime) before expiry; unknown issue time: 5 minutes', () => {
    const t0 = Date.UTC(2026, 0, 1);
    oauth.REFRESH_MARGIN_MS.should.equal(5 * 60_000);
    oauth.refreshAtFor(t0 + 3600_000, t0).should.equal(t0 + 3600_000 - 5 * 60_000);
    oauth.refreshAtFor(t0 + 6 * 60_000, t0).should.equal(t0 + 3 * 60_000);
    oauth.refreshAtFor(t0 + 3600_000, t0, 1800_000).should.equal(t0 + 1800_000);
    oauth.refreshAtFor(t0 + 3600_000).should.equal(t0 + 3600_000 - 5 * 60_000);
    // Due 5 minutes before expiry, not 1 minute before (the margin, not a flat rule of thumb).
    const legacy = { accessToken: 'a', expiresAt: t0 + 3600_000, scope: '', clientKind: 'public' };
    oauth.refreshDue(legacy, t0 + 3600_000 - 4 * 60_000).should.be.true();
    oauth.refreshDue(legacy, t0 + 3600_000 - 6 * 60_000).should.be.false();
    oauth.refreshDue({ ...legacy, refreshAt: t0 + 60_000 }, t0 + 61_000).should.be.true();
    oauth.refreshDue({ ...legacy, refreshAt: t0 + 60_000 }, t0 + 59_000).should.be.false();
  });

  it('AADSTS700025 for a code issued to a "Mobile and desktop" redirect URI redeemed with a secret; without one it is a public sign-in', async () => {
    const app = sim.apps.confidential;
    app.publicClientRedirectUris = ['http://localhost/desktop'];
    const client = clientFor(sim);
    const refused = await failure(
      oauth.redeemCode(client, await codeFor(sim, client, { redirectUri: 'http://localhost:1880/desktop' })),
    );
    refused.cause.aadsts.should.eql([700025]);
    refused.message.should.match(/Mobile and desktop applications.*clear the client secret/);
    const publicClient = { ...client, clientSecret: undefined };
    const tokens = await oauth.redeemCode(
      publicClient,
      await codeFor(sim, publicClient, { redirectUri: 'http://localhost:1880/desktop' }),
    );
    tokens.clientKind.should.equal('public');
    await oauth.refreshTokens(client, tokens);
    sim.requests
      .filter((r) => r.grantType === 'refresh_token')[0]
      .form.should.not.have.property('client_secret');
  });

  it('the secret test: the right secret passes; a wrong one, its ID and an expired one say so; nothing to test without one or on common', async () => {
    const client = clientFor(sim);
    await oauth.testClientSecret(client);
    const wrong = await failure(oauth.testClientSecret({ ...client, clientSecret: 'not-it' }));
    wrong.cause.aadsts.should.eql([7000215]);
    const id = await failure(
      oauth.testClientSecret({ ...client, clientSecret: sim.apps.confidential.secretId }),
    );
    id.message.should.match(/Value column, not the Secret ID/);
    sim.knobs.secretExpired = true;
    (await failure(oauth.testClientSecret(client))).message.should.match(/secret has expired/);
    sim.clearLog();
    const none = await failure(oauth.testClientSecret({ ...client, clientSecret: undefined }));
    none.cause.field.should.equal('clientSecret');
    const alias = await failure(oauth.testClientSecret({ ...client, tenant: 'organizations' }));
    alias.cause.field.should.equal('tenant');
    sim.requests.should.have.length(0);
  });

  const interaction = [
    [{ code: 50076 }, /Multi-factor authentication is now required/],
    [{ code: 50079 }, /register for multi-factor authentication/],
    [{ code: 50076, error: 'interaction_required' }, /Multi-factor/],
    [{ code: 65001 }, /Consent is missing/],
    [{ code: 70043 }, /Conditional Access/],
    [{ code: 50173 }, /password was changed/],
  ];
  for (const [revocation, message] of interaction) {
    it(`interaction required: ${revocation.error || 'invalid_grant'} AADSTS${revocation.code} means "sign in again"`, async () => {
      const client = clientFor(sim);
      const tokens = await oauth.redeemCode(client, await codeFor(sim, client));
      sim.revokeRefreshTokens(revocation);
      const err = await failure(oauth.refreshTokens(client, tokens));
      oauth.needsSignIn(err).should.be.true();
      err.message.should.match(message);
    });
  }

  it('interaction required also without a known code (interaction_required, consent_required, login_required); not for a bad secret or an outage', () => {
    for (const error of ['interaction_required', 'consent_required', 'login_required']) {
      const err = oauth.tokenError(400, { error, error_description: 'AADSTS123: x' }, 'refresh');
      oauth.needsSignIn(err).should.be.true(error);
      err.message.should.match(new RegExp(`new interactive sign-in \\(${error}`));
    }
    oauth
      .needsSignIn(oauth.tokenError(401, { error: 'invalid_client', error_codes: [7000215] }, 'refresh'))
      .should.be.false();
    oauth
      .needsSignIn(oauth.tokenError(503, { error: 'temporarily_unavailable' }, 'refresh'))
      .should.be.false();
  });

  it('AADSTS7000218 during device code says "Allow public client flows" is off', async () => {
    const client = clientFor(sim);
    const started = await oauth.startDeviceCode(client);
    sim.approveDevice(started.userCode);
    const err = await failure(
      oauth.pollDeviceCode({ ...client, clientSecret: undefined }, started.deviceCode),
    );
    err.message.should.match(/Allow public client flows/);
  });

  it('AADSTS9001023 and the client-credentials rules: /.default on the Graph host, no alias tenants', async () => {
    const client = clientFor(sim);
    const tokens = await oauth.clientCredentials(client);
    tokens.should.not.have.property('refreshToken', 'x');
    sim.requests[0].form.scope.should.equal(`${sim.url}/.default`);
    const refused = await failure(oauth.clientCredentials({ ...client, tenant: 'common' }));
    refused.code.should.equal('INVALID_CONFIG');
    // Straight to the endpoint, as a client that does not check first would: Microsoft's own refusal.
    const raw = await fetch(`${sim.url}/consumers/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: client.clientId,
        client_secret: client.clientSecret,
        scope: `${sim.url}/.default`,
      }),
    });
    const body = await raw.json();
    const mapped = oauth.tokenError(raw.status, body, 'client');
    mapped.message.should.match(/AADSTS9001023/);
  });

  it('an unknown error gives the error and the first line of the description; a 503 says it will be retried', async () => {
    const other = oauth.tokenError(
      400,
      { error: 'invalid_scope', error_description: 'AADSTS70011: The scope is bad.\r\nTrace ID: 1' },
      'code',
    );
    other.message.should.equal('Sign-in failed: invalid_scope (AADSTS70011: The scope is bad.).');
    other.code.should.equal('invalid_scope');
    sim.knobs.tokenEndpointDown = true;
    const client = clientFor(sim);
    const err = await failure(oauth.clientCredentials(client));
    err.message.should.match(/unavailable \(HTTP 503\)/);
  });

  it('a refresh rides out a brief outage of the token endpoint (503, reset), a code is redeemed only once', async () => {
    const client = clientFor(sim);
    const tokens = await oauth.redeemCode(client, await codeFor(sim, client));
    sim.clearLog();
    sim.fault({ on: 'token', type: '503', retryAfter: 1, times: 1 });
    sim.fault({ on: 'token', type: 'reset', times: 1 });
    const next = await oauth.refreshTokens(client, tokens);
    next.accessToken.should.not.equal(tokens.accessToken);
    sim.requests.filter((r) => r.kind === 'token').should.have.length(3);
    sim.knobs.tokenEndpointDown = true;
    const down = await failure(oauth.refreshTokens(client, next));
    down.message.should.match(/unavailable/);
    sim.knobs.tokenEndpointDown = false;
    sim.clearLog();
    sim.fault({ on: 'token', type: '503', times: 1 });
    const redeem = await failure(oauth.redeemCode(client, await codeFor(sim, client)));
    redeem.cause.status.should.equal(503);
    sim.requests.filter((r) => r.kind === 'token').should.have.length(1);
  });

  it('the grant type is spelled authorization_code (the simulator refuses the misspelling with AADSTS70003)', async () => {
    const client = clientFor(sim);
    const redeem = await codeFor(sim, client);
    const raw = await fetch(`${sim.url}/${sim.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorisation_code',
        client_id: client.clientId,
        client_secret: client.clientSecret,
        code: redeem.code,
        redirect_uri: redeem.redirectUri,
        code_verifier: redeem.codeVerifier,
      }),
    });
    const mapped = oauth.tokenError(raw.status, await raw.json(), 'code');
    mapped.cause.aadsts.should.containEql(70003);
    (await oauth.redeemCode(client, redeem)).accessToken.should.be.a.String();
  });
});
