// The simulated identity platform: auth code + PKCE, client authentication, refresh, device code, errors.
'use strict';
require('should');
const { startSimulator } = require('./simulator');
const h = require('./helpers');

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

describe('simulator: identity platform', function () {
  let sim;
  before(async () => {
    sim = await startSimulator({ seed: 7, eventCount: 300, anchor: h.ANCHOR });
  });
  after(() => sim.close());
  h.restoreKnobs(() => sim);

  function codeForm(code, verifier, extra = {}) {
    return {
      client_id: sim.apps.confidential.clientId,
      client_secret: sim.apps.confidential.secret,
      grant_type: 'authorization_code',
      code,
      redirect_uri: h.REDIRECT,
      code_verifier: verifier,
      ...extra,
    };
  }

  async function freshCode(options = {}) {
    const { verifier, challenge } = h.pkce();
    const { location } = await h.authorize(sim, { challenge, ...options });
    return { code: location.searchParams.get('code'), verifier };
  }

  function shouldBeAadError(answer, status, error, code) {
    answer.status.should.equal(status);
    answer.body.error.should.equal(error);
    answer.body.error_codes.should.containEql(code);
    answer.body.error_description.should.startWith(`AADSTS${code}: `);
    answer.body.error_description.should.match(
      /\r\nTrace ID: [0-9a-f-]{36}\r\nCorrelation ID: [0-9a-f-]{36}\r\nTimestamp: /,
    );
    answer.body.should.have.properties('timestamp', 'trace_id', 'correlation_id', 'error_uri');
  }

  describe('authorize', function () {
    it('redirects with a code, the state echoed exactly and a session_state', async function () {
      const state = 'a b+c/ü=?&x';
      const { res, location } = await h.authorize(sim, { state, challenge: h.pkce().challenge });
      res.status.should.equal(302);
      `${location.origin}${location.pathname}`.should.equal(h.REDIRECT);
      location.searchParams.get('state').should.equal(state);
      location.searchParams.get('code').should.be.a.String().and.not.be.empty();
      location.searchParams.get('session_state').should.match(/^[0-9a-f-]{36}$/);
    });

    it('omits state when none was sent', async function () {
      const { location } = await h.authorize(sim, { state: undefined });
      location.searchParams.has('state').should.be.false();
      location.searchParams.has('code').should.be.true();
    });

    it('sends Cross-Origin-Opener-Policy: same-origin on redirects, pages and error pages', async function () {
      const ok = await h.authorize(sim, {});
      ok.res.headers.get('cross-origin-opener-policy').should.equal('same-origin');
      sim.knobs.interactiveConsent = true;
      const consent = await h.authorize(sim, {});
      consent.res.status.should.equal(200);
      consent.res.headers.get('cross-origin-opener-policy').should.equal('same-origin');
      const bad = await h.authorize(sim, { redirectUri: 'https://evil.example.com/cb' });
      bad.res.headers.get('cross-origin-opener-policy').should.equal('same-origin');
    });

    it('ignores the port of http://localhost only: 127.0.0.1 must match with its port, [::1] never', async function () {
      const { res, location } = await h.authorize(sim, {
        redirectUri: 'http://localhost:41234/o365/auth/callback',
      });
      res.status.should.equal(302);
      location.href.should.startWith('http://localhost:41234/o365/auth/callback?code=');
      const registered = sim.apps.confidential.redirectUris;
      const saved = registered.slice();
      registered.push('http://127.0.0.1:1880/o365/auth/callback', 'http://[::1]:1880/o365/auth/callback');
      try {
        (
          await h.authorize(sim, { redirectUri: 'http://127.0.0.1:1880/o365/auth/callback' })
        ).res.status.should.equal(302);
        for (const uri of [
          'http://127.0.0.1:1881/o365/auth/callback',
          'http://[::1]:1880/o365/auth/callback',
          'http://[::1]/o365/auth/callback',
        ]) {
          const refused = await h.authorize(sim, { redirectUri: uri });
          refused.res.status.should.equal(400, uri);
          refused.text.should.containEql('AADSTS50011');
        }
      } finally {
        registered.splice(0, registered.length, ...saved);
      }
    });

    it('shows AADSTS50011 without redirecting when the redirect URI is not registered', async function () {
      for (const uri of [
        'https://nodered.example.com:8443/o365/auth/callback',
        'http://localhost:1880/o365/auth/callback/',
      ]) {
        const { res, location, text } = await h.authorize(sim, { redirectUri: uri });
        res.status.should.equal(400);
        (location === undefined).should.be.true();
        text.should.containEql('AADSTS50011');
      }
    });

    it('shows AADSTS700016 for an unknown client id', async function () {
      const { res, location, text } = await h.authorize(sim, {
        app: { clientId: '11111111-2222-3333-4444-555555555555' },
      });
      res.status.should.equal(400);
      (location === undefined).should.be.true();
      text.should.containEql('AADSTS700016');
    });

    it('shows AADSTS50194 for a single-tenant app on /common; a multi-tenant app works there', async function () {
      const single = await h.authorize(sim, { tenant: 'common' });
      single.res.status.should.equal(400);
      single.text.should.containEql('AADSTS50194');
      const multi = await h.authorize(sim, { tenant: 'organizations', app: sim.apps.multiTenant });
      multi.res.status.should.equal(302);
      multi.location.searchParams.has('code').should.be.true();
    });

    it('accepts the tenant domain as well as the tenant id', async function () {
      const { res } = await h.authorize(sim, { tenant: sim.tenantDomain });
      res.status.should.equal(302);
    });

    it('takes plain PKCE as Microsoft does (also without a method); an unknown method or a bad size is refused', async function () {
      const verifier = h.pkce().verifier;
      for (const method of ['plain', undefined]) {
        const url = new URL(h.authorizeUrl(sim, { challenge: verifier, method: 'plain' }));
        if (method === undefined) url.searchParams.delete('code_challenge_method');
        const answer = await fetch(url, { redirect: 'manual' });
        const code = new URL(answer.headers.get('location')).searchParams.get('code');
        (await h.token(sim, codeForm(code, verifier))).status.should.equal(200, String(method));
      }
      const unknown = await h.authorize(sim, { challenge: h.pkce().challenge, method: 'S512' });
      unknown.location.searchParams.get('error').should.equal('invalid_request');
      unknown.location.searchParams.get('error_description').should.startWith('AADSTS90100');
      unknown.location.searchParams.get('state').should.equal('state-123');
      const short = await h.authorize(sim, { challenge: 'abc' });
      short.location.searchParams.get('error_description').should.startWith('AADSTS501491');
    });

    it('redirects with an error when scope or response_type is wrong', async function () {
      const noScope = await h.authorize(sim, { scope: undefined });
      noScope.location.searchParams.get('error').should.equal('invalid_request');
      const token = await h.authorize(sim, { extra: { response_type: 'token' } });
      token.location.searchParams.get('error').should.equal('unsupported_response_type');
    });

    it('redirects with access_denied AADSTS65004 when the user declines consent', async function () {
      sim.knobs.declineConsent = true;
      const { location } = await h.authorize(sim, {});
      location.searchParams.get('error').should.equal('access_denied');
      location.searchParams.get('error_description').should.startWith('AADSTS65004');
      location.searchParams.get('state').should.equal('state-123');
      location.searchParams.has('code').should.be.false();
    });

    it('serves a consent page whose Accept and Cancel buttons post back and then redirect', async function () {
      sim.knobs.interactiveConsent = true;
      const consent = await h.authorize(sim, {});
      consent.text.should.containEql('Accept').and.containEql('Cancel');
      const txn = /name="txn" value="([^"]+)"/.exec(consent.text)[1];
      const post = (action, id) =>
        fetch(`${sim.url}/${sim.tenantId}/oauth2/v2.0/authorize`, {
          method: 'POST',
          redirect: 'manual',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ txn: id, action }),
        });
      const accepted = await post('accept', txn);
      accepted.status.should.equal(302);
      new URL(accepted.headers.get('location')).searchParams.has('code').should.be.true();
      const again = await h.authorize(sim, {});
      const cancelled = await post('cancel', /name="txn" value="([^"]+)"/.exec(again.text)[1]);
      new URL(cancelled.headers.get('location')).searchParams.get('error').should.equal('access_denied');
    });
  });

  describe('authorization code redemption', function () {
    it('exchanges a code with PKCE for tokens that Graph accepts', async function () {
      const { code, verifier } = await freshCode();
      const answer = await h.token(sim, codeForm(code, verifier));
      answer.status.should.equal(200);
      answer.body.token_type.should.equal('Bearer');
      answer.body.expires_in.should.equal(3599);
      answer.body.ext_expires_in.should.equal(3599);
      answer.body.scope
        .split(' ')
        .should.containDeep(['Calendars.Read', 'Calendars.Read.Shared', 'openid', 'profile']);
      answer.body.should.have.properties('access_token', 'refresh_token', 'id_token');
      answer.headers.get('cache-control').should.containEql('no-store');
      const me = await h.graph(sim, '/v1.0/me/calendars', answer.body.access_token);
      me.status.should.equal(200);
    });

    it('accepts the client secret through HTTP Basic', async function () {
      const { code, verifier } = await freshCode();
      const form = codeForm(code, verifier);
      delete form.client_secret;
      delete form.client_id;
      const app = sim.apps.confidential;
      const basic = Buffer.from(
        `${encodeURIComponent(app.clientId)}:${encodeURIComponent(app.secret)}`,
      ).toString('base64');
      const answer = await h.token(sim, form, { headers: { Authorization: `Basic ${basic}` } });
      answer.status.should.equal(200);
    });

    it('refuses a code redeemed twice with error_codes [70002, 54005]', async function () {
      const { code, verifier } = await freshCode();
      (await h.token(sim, codeForm(code, verifier))).status.should.equal(200);
      const again = await h.token(sim, codeForm(code, verifier));
      shouldBeAadError(again, 400, 'invalid_grant', 54005);
      again.body.error_codes.should.eql([70002, 54005]);
    });

    it('expires a code after 10 minutes of the simulator clock (70008)', async function () {
      const { code, verifier } = await freshCode();
      sim.advanceClock(10 * 60 * 1000 + 1000);
      shouldBeAadError(await h.token(sim, codeForm(code, verifier)), 400, 'invalid_grant', 70008);
    });

    it('refuses a redirect_uri that differs from the authorize request (50011)', async function () {
      const { code, verifier } = await freshCode();
      const answer = await h.token(
        sim,
        codeForm(code, verifier, { redirect_uri: 'http://localhost:1881/o365/auth/callback' }),
      );
      shouldBeAadError(answer, 400, 'invalid_grant', 50011);
      answer.body.error_codes.should.eql([70002, 50011]);
    });

    it('refuses a wrong or missing PKCE verifier (501481)', async function () {
      const { code, verifier } = await freshCode();
      shouldBeAadError(await h.token(sim, codeForm(code, `${verifier}x`)), 400, 'invalid_grant', 501481);
      const form = codeForm(code, verifier);
      delete form.code_verifier;
      shouldBeAadError(await h.token(sim, form), 400, 'invalid_grant', 501481);
      (await h.token(sim, codeForm(code, verifier))).status.should.equal(200);
    });

    it("refuses the misspelt grant type 'authorisation_code' (70003)", async function () {
      const { code, verifier } = await freshCode();
      const answer = await h.token(sim, codeForm(code, verifier, { grant_type: 'authorisation_code' }));
      shouldBeAadError(answer, 400, 'unsupported_grant_type', 70003);
    });

    it('says the secret ID was sent instead of its value (7000215, 401)', async function () {
      const { code, verifier } = await freshCode();
      const answer = await h.token(
        sim,
        codeForm(code, verifier, { client_secret: sim.apps.confidential.secretId }),
      );
      shouldBeAadError(answer, 401, 'invalid_client', 7000215);
      answer.body.error_description.should.match(/secret ID/);
    });

    it('refuses a wrong secret (7000215, 401)', async function () {
      const { code, verifier } = await freshCode();
      const answer = await h.token(sim, codeForm(code, verifier, { client_secret: 'not-the-secret' }));
      shouldBeAadError(answer, 401, 'invalid_client', 7000215);
    });

    it('refuses an expired secret (7000222)', async function () {
      sim.knobs.secretExpired = true;
      const { code, verifier } = await freshCode();
      shouldBeAadError(await h.token(sim, codeForm(code, verifier)), 401, 'invalid_client', 7000222);
    });

    it('a code issued to a Web redirect URI needs the secret (7000218), also when public client flows are allowed', async function () {
      const app = sim.apps.confidential;
      app.allowPublicClient = true;
      try {
        const { code, verifier } = await freshCode();
        const form = codeForm(code, verifier);
        delete form.client_secret;
        shouldBeAadError(await h.token(sim, form), 401, 'invalid_client', 7000218);
      } finally {
        app.allowPublicClient = false;
      }
    });

    it('a code issued to a "Mobile and desktop" redirect URI is redeemed without a secret, refused with one (700025), and so is its refresh token', async function () {
      const app = sim.apps.confidential;
      app.publicClientRedirectUris = ['http://localhost/desktop/callback'];
      try {
        const redirect = 'http://localhost:1880/desktop/callback';
        const get = async () => {
          const { verifier, challenge } = h.pkce();
          const { location } = await h.authorize(sim, { challenge, redirectUri: redirect });
          return codeForm(location.searchParams.get('code'), verifier, { redirect_uri: redirect });
        };
        shouldBeAadError(await h.token(sim, await get()), 401, 'invalid_client', 700025);
        const form = await get();
        delete form.client_secret;
        const ok = await h.token(sim, form);
        ok.status.should.equal(200);
        const refresh = {
          client_id: app.clientId,
          grant_type: 'refresh_token',
          refresh_token: ok.body.refresh_token,
        };
        shouldBeAadError(
          await h.token(sim, { ...refresh, client_secret: app.secret }),
          401,
          'invalid_client',
          700025,
        );
        (await h.token(sim, refresh)).status.should.equal(200);
      } finally {
        delete app.publicClientRedirectUris;
      }
    });

    it('refuses an unknown client (700016)', async function () {
      const answer = await h.token(sim, {
        client_id: '11111111-2222-3333-4444-555555555555',
        grant_type: 'refresh_token',
        refresh_token: 'x',
      });
      shouldBeAadError(answer, 400, 'unauthorized_client', 700016);
    });

    it('refuses a single-tenant app on /common (50194)', async function () {
      const { code, verifier } = await freshCode();
      const answer = await h.token(sim, codeForm(code, verifier), { tenant: 'common' });
      shouldBeAadError(answer, 400, 'invalid_request', 50194);
    });

    it('needs a form body: JSON is refused with invalid_request 900144', async function () {
      const res = await fetch(`${sim.url}/${sim.tenantId}/oauth2/v2.0/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ grant_type: 'client_credentials' }),
      });
      res.status.should.equal(400);
      const body = await res.json();
      body.error.should.equal('invalid_request');
      body.error_codes.should.eql([900144]);
    });

    it('refuses consent-less redemption with 65001 and suberror consent_required', async function () {
      sim.knobs.consentMissing = true;
      const { code, verifier } = await freshCode();
      const answer = await h.token(sim, codeForm(code, verifier));
      shouldBeAadError(answer, 400, 'invalid_grant', 65001);
      answer.body.suberror.should.equal('consent_required');
    });

    it('answers 503 temporarily_unavailable while the token endpoint is down', async function () {
      sim.knobs.tokenEndpointDown = true;
      const answer = await h.token(sim, {
        grant_type: 'client_credentials',
        client_id: sim.apps.confidential.clientId,
      });
      answer.status.should.equal(503);
      answer.body.error.should.equal('temporarily_unavailable');
    });
  });

  describe('tokens', function () {
    it('puts name and preferred_username in the id_token with openid profile, not with openid alone', async function () {
      const withProfile = h.decodeJwt((await h.signIn(sim)).id_token);
      withProfile.should.have.properties({
        name: 'Megan Bowen',
        preferred_username: sim.users.megan.upn,
        oid: sim.users.megan.id,
        tid: sim.tenantId,
        aud: sim.apps.confidential.clientId,
      });
      withProfile.iss.should.equal(`${sim.url}/${sim.tenantId}/v2.0`);
      (withProfile.exp - withProfile.iat).should.equal(3599);
      const bare = h.decodeJwt(
        (await h.signIn(sim, { scope: 'openid offline_access Calendars.Read' })).id_token,
      );
      bare.should.not.have.property('name');
      bare.should.have.properties('oid', 'tid', 'aud', 'iss', 'iat', 'exp');
    });

    it('returns no refresh token without offline_access and no id_token without openid', async function () {
      const answer = await h.signIn(sim, { scope: 'Calendars.Read' });
      answer.should.not.have.properties('refresh_token', 'id_token');
    });

    it('carries refresh_in when the knob is set', async function () {
      sim.knobs.refreshIn = 1800;
      (await h.signIn(sim)).refresh_in.should.equal(1800);
    });

    it('rotates refresh tokens; the old one stays valid, as with Microsoft; refreshes are counted', async function () {
      const first = await h.signIn(sim);
      const before = sim.stats.refreshes;
      const form = (rt) => ({
        client_id: sim.apps.confidential.clientId,
        client_secret: sim.apps.confidential.secret,
        grant_type: 'refresh_token',
        refresh_token: rt,
      });
      const second = await h.token(sim, form(first.refresh_token));
      second.status.should.equal(200);
      second.body.refresh_token.should.not.equal(first.refresh_token);
      second.body.access_token.should.not.equal(first.access_token);
      (await h.token(sim, form(first.refresh_token))).status.should.equal(200);
      sim.stats.refreshes.should.equal(before + 2);
    });

    it('with revokeUsedRefreshTokens, a refresh token works once', async function () {
      sim.knobs.revokeUsedRefreshTokens = true;
      const first = await h.signIn(sim);
      const form = {
        client_id: sim.apps.confidential.clientId,
        client_secret: sim.apps.confidential.secret,
        grant_type: 'refresh_token',
        refresh_token: first.refresh_token,
      };
      (await h.token(sim, form)).status.should.equal(200);
      shouldBeAadError(await h.token(sim, form), 400, 'invalid_grant', 70000);
    });

    it('revokeRefreshTokens makes earlier refresh tokens fail with the given AADSTS code', async function () {
      const old = await h.signIn(sim);
      sim.revokeRefreshTokens({ user: sim.users.megan.upn, code: 50173 });
      const fresh = await h.signIn(sim);
      const form = (rt) => ({
        client_id: sim.apps.confidential.clientId,
        client_secret: sim.apps.confidential.secret,
        grant_type: 'refresh_token',
        refresh_token: rt,
      });
      shouldBeAadError(await h.token(sim, form(old.refresh_token)), 400, 'invalid_grant', 50173);
      (await h.token(sim, form(fresh.refresh_token))).status.should.equal(200);
    });

    it('revokeRefreshTokens answers the interaction-required family with the OAuth error and suberror asked for', async function () {
      const form = (rt) => ({
        client_id: sim.apps.confidential.clientId,
        client_secret: sim.apps.confidential.secret,
        grant_type: 'refresh_token',
        refresh_token: rt,
      });
      let answer = await h.signIn(sim);
      sim.revokeRefreshTokens({ code: 50079 });
      let refused = await h.token(sim, form(answer.refresh_token));
      shouldBeAadError(refused, 400, 'invalid_grant', 50079);
      refused.body.suberror.should.equal('basic_action');
      answer = await h.signIn(sim);
      sim.revokeRefreshTokens({ code: 50076, error: 'interaction_required' });
      refused = await h.token(sim, form(answer.refresh_token));
      shouldBeAadError(refused, 400, 'interaction_required', 50076);
    });

    it('binds a refresh token to its client', async function () {
      const first = await h.signIn(sim);
      const answer = await h.token(sim, {
        client_id: sim.apps.multiTenant.clientId,
        client_secret: sim.apps.multiTenant.secret,
        grant_type: 'refresh_token',
        refresh_token: first.refresh_token,
      });
      shouldBeAadError(answer, 400, 'invalid_grant', 70000);
    });

    it('refuses a refresh token unused for 90 days (700082)', async function () {
      const first = sim.issueTokens({});
      sim.advanceClock(91 * h.DAY);
      const answer = await h.token(sim, {
        client_id: sim.apps.confidential.clientId,
        client_secret: sim.apps.confidential.secret,
        grant_type: 'refresh_token',
        refresh_token: first.refresh_token,
      });
      shouldBeAadError(answer, 400, 'invalid_grant', 700082);
    });

    it('issueTokens gives the token endpoint answer without HTTP', async function () {
      const answer = sim.issueTokens({ user: sim.users.alex.upn, app: 'public' });
      answer.should.have.properties('access_token', 'refresh_token', 'id_token', 'scope', 'expires_in');
      h.decodeJwt(answer.id_token).preferred_username.should.equal(sim.users.alex.upn);
      const refresh = await h.token(sim, {
        client_id: sim.apps.public.clientId,
        grant_type: 'refresh_token',
        refresh_token: answer.refresh_token,
      });
      refresh.status.should.equal(200);
    });

    it('expires access tokens on the simulator clock (Graph 401)', async function () {
      sim.knobs.accessTokenLifetime = 60;
      const answer = sim.issueTokens({});
      answer.expires_in.should.equal(60);
      (await h.graph(sim, '/v1.0/me/calendars', answer.access_token)).status.should.equal(200);
      sim.advanceClock(61 * 1000);
      const late = await h.graph(sim, '/v1.0/me/calendars', answer.access_token);
      late.status.should.equal(401);
      late.body.error.message.should.equal('Lifetime validation failed, the token is expired.');
    });
  });

  describe('client credentials', function () {
    const form = (extra = {}) => ({
      client_id: sim.apps.confidential.clientId,
      client_secret: sim.apps.confidential.secret,
      grant_type: 'client_credentials',
      scope: `${sim.url}/.default`,
      ...extra,
    });

    it('gives an app token (no refresh or id token) for <graph>/.default', async function () {
      const answer = await h.token(sim, form());
      answer.status.should.equal(200);
      answer.body.should.have.properties('access_token', 'expires_in', 'token_type');
      answer.body.should.not.have.properties('refresh_token', 'id_token');
      const room = await h.graph(
        sim,
        `/v1.0/users/${sim.users.room101.upn}/calendars`,
        answer.body.access_token,
      );
      room.status.should.equal(200);
    });

    it('refuses other scopes (70011)', async function () {
      shouldBeAadError(await h.token(sim, form({ scope: 'Calendars.Read' })), 400, 'invalid_scope', 70011);
      shouldBeAadError(
        await h.token(sim, form({ scope: 'https://graph.microsoft.com/.default' })),
        400,
        'invalid_scope',
        70011,
      );
    });

    it('refuses /common and /consumers (9001023)', async function () {
      shouldBeAadError(await h.token(sim, form(), { tenant: 'common' }), 400, 'invalid_request', 9001023);
      shouldBeAadError(await h.token(sim, form(), { tenant: 'consumers' }), 400, 'invalid_request', 9001023);
      (await h.token(sim, form(), { tenant: 'organizations' })).status.should.equal(400);
    });
  });

  describe('device code', function () {
    async function start(app = sim.apps.public, scope = h.SCOPES) {
      const answer = await h.postForm(sim, `/${sim.tenantId}/oauth2/v2.0/devicecode`, {
        client_id: app.clientId,
        scope,
      });
      answer.status.should.equal(200);
      return answer.body;
    }
    const poll = (deviceCode, app = sim.apps.public, extra = {}) =>
      h.token(sim, { client_id: app.clientId, grant_type: DEVICE_GRANT, device_code: deviceCode, ...extra });

    it('issues a code with Microsoft’s fields and message', async function () {
      const dc = await start();
      dc.user_code.should.match(/^[A-Z]{8}$/);
      dc.verification_uri.should.equal(`${sim.url}/devicelogin`);
      dc.expires_in.should.equal(900);
      dc.interval.should.equal(5);
      dc.message.should.equal(
        `To sign in, use a web browser to open the page ${sim.url}/devicelogin and enter the code ${dc.user_code} to authenticate.`,
      );
      sim
        .pendingDeviceCodes()
        .map((p) => p.userCode)
        .should.containEql(dc.user_code);
    });

    it('answers authorization_pending (70016; a poll before the interval is counted), then tokens once approved', async function () {
      const dc = await start();
      const before = sim.stats.devicePollsTooFast || 0;
      shouldBeAadError(await poll(dc.device_code), 400, 'authorization_pending', 70016);
      (sim.stats.devicePollsTooFast || 0).should.equal(before);
      (await poll(dc.device_code)).body.error.should.equal('authorization_pending');
      sim.stats.devicePollsTooFast.should.equal(before + 1);
      sim.advanceClock(11 * 1000);
      (await poll(dc.device_code)).body.error.should.equal('authorization_pending');
      sim.stats.devicePollsTooFast.should.equal(before + 1);
      sim.approveDevice(dc.user_code);
      sim.advanceClock(11 * 1000);
      const ok = await poll(dc.device_code);
      ok.status.should.equal(200);
      ok.body.should.have.properties('access_token', 'refresh_token', 'id_token');
      h.decodeJwt(ok.body.id_token).preferred_username.should.equal(sim.users.megan.upn);
      (await poll(dc.device_code)).body.error.should.equal('bad_verification_code');
    });

    it('answers authorization_declined (90120) after the user declines', async function () {
      const dc = await start();
      sim.declineDevice(dc.user_code);
      shouldBeAadError(await poll(dc.device_code), 400, 'authorization_declined', 90120);
    });

    it('answers expired_token (70019) after expires_in', async function () {
      sim.knobs.deviceExpiresIn = 60;
      const dc = await start();
      sim.advanceClock(61 * 1000);
      shouldBeAadError(await poll(dc.device_code), 400, 'expired_token', 70019);
    });

    it('answers bad_verification_code (70018) for an unknown device code', async function () {
      shouldBeAadError(await poll('nonsense'), 400, 'bad_verification_code', 70018);
    });

    it('refuses a secret from a public client, also when it later refreshes (700025)', async function () {
      const confidential = sim.apps.confidential;
      confidential.allowPublicClient = true;
      try {
        const dc = await start(confidential);
        shouldBeAadError(
          await poll(dc.device_code, confidential, { client_secret: confidential.secret }),
          401,
          'invalid_client',
          700025,
        );
        sim.approveDevice(dc.user_code);
        sim.advanceClock(6000);
        const ok = await poll(dc.device_code, confidential);
        ok.status.should.equal(200);
        const refresh = await h.token(sim, {
          client_id: confidential.clientId,
          client_secret: confidential.secret,
          grant_type: 'refresh_token',
          refresh_token: ok.body.refresh_token,
        });
        shouldBeAadError(refresh, 401, 'invalid_client', 700025);
      } finally {
        confidential.allowPublicClient = false;
      }
    });

    it('an app without public client flows needs its secret (7000218), refuses a wrong one (7000215), takes the right one', async function () {
      const app = sim.apps.confidential;
      const dc = await start(app);
      shouldBeAadError(await poll(dc.device_code, app), 401, 'invalid_client', 7000218);
      shouldBeAadError(
        await poll(dc.device_code, app, { client_secret: 'wrong' }),
        401,
        'invalid_client',
        7000215,
      );
      sim.approveDevice(dc.user_code);
      sim.advanceClock(6000);
      const ok = await poll(dc.device_code, app, { client_secret: app.secret });
      ok.status.should.equal(200);
      const refresh = await h.token(sim, {
        client_id: app.clientId,
        grant_type: 'refresh_token',
        refresh_token: ok.body.refresh_token,
      });
      shouldBeAadError(refresh, 401, 'invalid_client', 7000218);
    });

    it('serves a device login page where typing the code signs the user in', async function () {
      const dc = await start();
      const get = await fetch(`${sim.url}/devicelogin`);
      get.status.should.equal(200);
      get.headers.get('cross-origin-opener-policy').should.equal('same-origin');
      (await get.text()).should.containEql('name="otc"');
      const post = await fetch(`${sim.url}/devicelogin`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ otc: dc.user_code.toLowerCase() }),
      });
      post.status.should.equal(200);
      (await post.text()).should.containEql('You have signed in');
      sim.advanceClock(6000);
      (await poll(dc.device_code)).status.should.equal(200);
    });
  });

  describe('login faults', function () {
    const form = () => ({
      client_id: sim.apps.confidential.clientId,
      client_secret: sim.apps.confidential.secret,
      grant_type: 'client_credentials',
      scope: `${sim.url}/.default`,
    });

    it('injects 503 with Retry-After in the OAuth error shape, once', async function () {
      sim.fault({ on: 'token', type: '503', retryAfter: 7 });
      const failed = await h.token(sim, form());
      failed.status.should.equal(503);
      failed.headers.get('retry-after').should.equal('7');
      failed.body.error.should.equal('temporarily_unavailable');
      (await h.token(sim, form())).status.should.equal(200);
    });

    it('injects reset, slow and brokenJson on the token endpoint', async function () {
      sim.fault({ on: 'token', type: 'reset' });
      await h.token(sim, form()).should.be.rejected();
      sim.fault({ on: 'token', type: 'slow', delayMs: 150 });
      const t0 = Date.now();
      (await h.token(sim, form())).status.should.equal(200);
      (Date.now() - t0).should.be.aboveOrEqual(140);
      sim.fault({ on: 'token', type: 'brokenJson' });
      const broken = await h.token(sim, form());
      broken.status.should.equal(200);
      broken.body.should.be.a.String();
    });

    it('injects faults on the device code endpoint', async function () {
      sim.fault({ on: 'devicecode', type: '429', retryAfter: 3 });
      const answer = await h.postForm(sim, `/${sim.tenantId}/oauth2/v2.0/devicecode`, {
        client_id: sim.apps.public.clientId,
        scope: h.SCOPES,
      });
      answer.status.should.equal(429);
      answer.headers.get('retry-after').should.equal('3');
    });
  });
});
