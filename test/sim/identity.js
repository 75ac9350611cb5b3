// The simulated Microsoft identity platform v2: authorize (auth code + PKCE), token, device code, device login.
'use strict';
const crypto = require('crypto');
const { sendHtml, page, escapeHtml, aadErrorBody, base64url, jwt, guid } = require('./http');

const CODE_LIFETIME_MS = 10 * 60 * 1000;
const REFRESH_INACTIVITY_MS = 90 * 24 * 3600 * 1000;
const ALIASES = new Set(['common', 'organizations', 'consumers']);
const OIDC_SCOPES = ['openid', 'profile', 'email', 'offline_access'];
const GRAPH_SCOPES = [
  'User.Read',
  'User.ReadBasic.All',
  'Calendars.Read',
  'Calendars.ReadBasic',
  'Calendars.Read.Shared',
  'Calendars.ReadWrite',
  'Calendars.ReadWrite.Shared',
  'MailboxSettings.Read',
  'Place.Read.All',
];
// What '.default' stands for in delegated requests: the permissions configured on the simulated registrations.
const CONFIGURED_SCOPES = ['Calendars.Read', 'Calendars.Read.Shared', 'User.Read'];
const GRAPH_BY_LOWER = new Map(GRAPH_SCOPES.map((s) => [s.toLowerCase(), s]));
const GRAPH_RESOURCE = 'https://graph.microsoft.com';
const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const USER_CODE_LETTERS = 'BCDFGHJKLMNPQRSTVWXZ';

// Every AADSTS code this file returns is one Microsoft documents; each use cites one of these pages.
// ERRORS: the AADSTS reference (learn.microsoft.com/entra/identity-platform/reference-error-codes);
// AUTH_CODE: v2-oauth2-auth-code-flow; DEVICE: v2-oauth2-device-code; REPLY_URL: reply-url;
// CLIENT_CREDS: v2-oauth2-client-creds-grant-flow. An OAuth `error` string without a documented AADSTS code is
// never given an invented one.
const DOCS = {
  ERRORS: 'https://learn.microsoft.com/entra/identity-platform/reference-error-codes',
  AUTH_CODE: 'https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow',
  DEVICE: 'https://learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code',
  REPLY_URL: 'https://learn.microsoft.com/entra/identity-platform/reply-url',
  CLIENT_CREDS: 'https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow',
};

// Refusals of a grant, by AADSTS code (DOCS.ERRORS lists every one; wording after that page and what the token
// endpoint returns). 50076/50079 (multi-factor authentication), 65001 (consent) and 700082 (90 days unused) are
// the "interaction required" family: only a new interactive sign-in helps.
const REVOCATION_MESSAGES = {
  70008:
    'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive ' +
    'authorization request for this user and resource.',
  50173:
    'The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have ' +
    'changed or reset their password.',
  700082:
    'The refresh token has expired due to inactivity. The token was issued on {issued} and was inactive for 90.00:00:00.',
  700084:
    'The refresh token was issued to a single page app (SPA), and therefore has a fixed, limited lifetime of ' +
    '1.00:00:00, which cannot be extended.',
  70043: 'The refresh token has expired or is invalid due to sign-in frequency checks by conditional access.',
  50076:
    'Due to a configuration change made by your administrator, or because you moved to a new location, you ' +
    'must use multi-factor authentication to access this resource.',
  50079:
    'Due to a configuration change made by your administrator, or because you moved to a new location, you ' +
    'must enroll in multi-factor authentication to access this resource.',
  65001:
    'The user or administrator has not consented to use the application. Send an interactive authorization ' +
    'request for this user and resource.',
};

class HttpError {
  constructor(status, body, headers) {
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}

function sha256url(text) {
  return base64url(crypto.createHash('sha256').update(text).digest());
}

function randomToken(prefix, bytes) {
  return prefix + base64url(crypto.randomBytes(bytes));
}

/** A loopback host Microsoft takes the port of as it comes: `localhost` only (DOCS.REPLY_URL, Localhost exceptions). */
function isLocalhost(url) {
  return url.protocol === 'http:' && url.hostname === 'localhost';
}

/**
 * Is `uri` among `registered`? Exact match, except that for http://localhost the port is ignored. Microsoft ignores
 * it for localhost only (127.0.0.1 must match with its port) and does not support the IPv6 loopback [::1] at all
 * (DOCS.REPLY_URL), so a [::1] URI never matches, registered or not.
 */
function redirectMatches(registered, uri) {
  let asked;
  try {
    asked = new URL(uri);
  } catch {
    return false;
  }
  if (isIpv6Loopback(asked)) return false;
  if (registered.includes(uri)) return true;
  if (!isLocalhost(asked)) return false;
  return registered.some((r) => {
    let reg;
    try {
      reg = new URL(r);
    } catch {
      return false;
    }
    return isLocalhost(reg) && reg.pathname === asked.pathname && reg.search === asked.search;
  });
}

function isIpv6Loopback(url) {
  return url.hostname === '[::1]' || url.hostname === '[0:0:0:0:0:0:0:1]';
}

/**
 * The platform a redirect URI is registered under, as Graph's application resource keeps them: `web` (the Web
 * platform: a confidential client, the code is redeemed with the secret) or `publicClient` ("Mobile and desktop
 * applications": a public client, which must not send one). Web is looked at first. DOCS.AUTH_CODE: client_secret
 * is "required for confidential web apps"; "public clients, which include native applications and single page
 * apps, must not use secrets or certificates when redeeming an authorization code".
 */
function redirectPlatform(app, uri) {
  if (redirectMatches(app.redirectUris || [], uri)) return 'web';
  if (redirectMatches(app.publicClientRedirectUris || [], uri)) return 'publicClient';
  return undefined;
}

class Identity {
  constructor(core) {
    this.core = core;
    this.codes = new Map();
    this.refreshTokens = new Map();
    this.accessTokens = new Map();
    this.deviceCodes = new Map(); // device_code -> record
    this.consents = new Map(); // consent transaction id -> authorize parameters
  }

  // ---- shared pieces -------------------------------------------------------------------------------------------

  error(status, error, codes, message, extra = {}) {
    const body = aadErrorBody({
      error,
      codes: Array.isArray(codes) ? codes : [codes],
      message,
      suberror: extra.suberror,
      now: this.core.now(),
      correlationId: extra.correlationId,
      loginUrl: this.core.url,
    });
    return new HttpError(status, body, extra.headers);
  }

  app(clientId) {
    if (!clientId) return undefined;
    const id = String(clientId).toLowerCase();
    return Object.values(this.core.apps).find((a) => a && String(a.clientId).toLowerCase() === id);
  }

  /** 'tenant' | 'common' | 'organizations' | 'consumers', or undefined for an unknown tenant. */
  tenantKind(segment) {
    const s = String(segment).toLowerCase();
    if (ALIASES.has(s)) return s;
    if (s === this.core.tenantId.toLowerCase() || s === this.core.tenantDomain.toLowerCase()) return 'tenant';
    return undefined;
  }

  unknownTenant(segment) {
    // DOCS.ERRORS: AADSTS90002 InvalidTenantName.
    return this.error(
      400,
      'invalid_request',
      90002,
      `Tenant '${segment}' not found. Check to make sure you have the correct tenant ID and are signing into the ` +
        'correct cloud.',
    );
  }

  static notMultiTenantMessage(app) {
    return (
      `Application '${app.clientId}'(${app.displayName || 'app'}) is not configured as a multi-tenant application. ` +
      "Usage of the /common endpoint is not supported for such applications created after '10/15/2018'. Use a " +
      'tenant-specific endpoint or configure the application to be multi-tenant.'
    );
  }

  notMultiTenant(app) {
    // DOCS.ERRORS: AADSTS50194, a single-tenant app on /common.
    return this.error(400, 'invalid_request', 50194, Identity.notMultiTenantMessage(app));
  }

  unknownClient(clientId) {
    // DOCS.ERRORS: AADSTS700016 UnauthorizedClient_DoesNotMatchRequest.
    return this.error(
      400,
      'unauthorized_client',
      700016,
      `Application with identifier '${clientId}' was not found in the directory '${this.core.tenantName}'. This can ` +
        'happen if the application has not been installed by the administrator of the tenant or consented to by any ' +
        'user in the tenant. You may have sent your authentication request to the wrong tenant.',
    );
  }

  missing(name) {
    // DOCS.ERRORS: AADSTS900144, a required parameter is missing.
    return this.error(
      400,
      'invalid_request',
      900144,
      `The request body must contain the following parameter: '${name}'.`,
    );
  }

  /**
   * Parses a scope parameter into canonical names: Graph permissions as short names ('Calendars.Read', also from
   * 'https://graph.microsoft.com/Calendars.Read' or '<sim.url>/Calendars.Read'), OIDC scopes lower-case.
   * Returns { scopes } or { unknown }.
   */
  parseScopes(value) {
    const scopes = [];
    const prefixes = [`${GRAPH_RESOURCE}/`, `${this.core.url}/`];
    for (const raw of String(value || '').split(' ')) {
      if (raw === '') continue;
      let name = raw;
      for (const p of prefixes) {
        if (name.toLowerCase().startsWith(p.toLowerCase())) name = name.slice(p.length);
      }
      const lower = name.toLowerCase();
      let add;
      if (OIDC_SCOPES.includes(lower)) add = [lower];
      else if (lower === '.default') add = CONFIGURED_SCOPES;
      else if (GRAPH_BY_LOWER.has(lower)) add = [GRAPH_BY_LOWER.get(lower)];
      else return { unknown: raw };
      for (const s of add) if (!scopes.includes(s)) scopes.push(s);
    }
    return { scopes };
  }

  static unknownScopeMessage(app, scope) {
    return (
      `The application '${app.displayName || app.clientId}' asked for scope '${scope}' that doesn't exist on the ` +
      "resource '00000003-0000-0000-c000-000000000000'. Contact the app vendor."
    );
  }

  unknownScope(app, scope) {
    // DOCS.ERRORS: AADSTS70011 InvalidScope (the page's own example answer is invalid_scope with 70011).
    return this.error(400, 'invalid_scope', 70011, Identity.unknownScopeMessage(app, scope));
  }

  /**
   * Client authentication. `publicClient`: the grant is a public-client one (a code issued to a "Mobile and desktop
   * applications" redirect URI, a device code of an app that allows public client flows, a refresh token from
   * either), which must come without a secret; every other grant needs the secret. Microsoft decides by the grant,
   * not by whether the app has a secret. Returns nothing or throws an HttpError.
   */
  authenticateClient(app, secret, publicClient) {
    const knobs = this.core.knobs;
    const hasSecret = secret !== undefined && secret !== '';
    if (publicClient) {
      if (hasSecret) {
        // DOCS.ERRORS: AADSTS700025 InvalidClientPublicClientWithCredential.
        throw this.error(
          401,
          'invalid_client',
          700025,
          "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
        );
      }
      return;
    }
    if (!hasSecret) {
      // DOCS.ERRORS: AADSTS7000218, the secret (or an assertion) is required.
      throw this.error(
        401,
        'invalid_client',
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
      );
    }
    if (app.secret !== undefined && secret === app.secret) {
      if (knobs.secretExpired) {
        // DOCS.ERRORS: AADSTS7000222 InvalidClientSecretExpiredKeysProvided.
        throw this.error(
          401,
          'invalid_client',
          7000222,
          `The provided client secret keys for app '${app.clientId}' are expired. Visit the Azure portal to create ` +
            'new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for ' +
            'added security: https://aka.ms/certCreds.',
        );
      }
      return;
    }
    // DOCS.ERRORS: AADSTS7000215, invalid client secret (also the secret's ID sent instead of its value).
    if (app.secretId && secret.toLowerCase() === String(app.secretId).toLowerCase()) {
      throw this.error(
        401,
        'invalid_client',
        7000215,
        `Invalid client secret provided. The value sent is the client secret ID '${app.secretId}', not the secret ` +
          `itself: send the secret's Value (shown once, when the secret was added to app '${app.clientId}').`,
      );
    }
    throw this.error(
      401,
      'invalid_client',
      7000215,
      'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not ' +
        `the client secret ID, for a secret added to app '${app.clientId}'.`,
    );
  }

  /** The granted scope list for a token response: Graph permissions (User.Read when none), then OIDC ones. */
  static grantedScopes(scopes) {
    const graph = scopes.filter((s) => GRAPH_SCOPES.includes(s));
    if (graph.length === 0) graph.push('User.Read');
    return { graph, oidc: scopes.filter((s) => s === 'openid' || s === 'profile' || s === 'email') };
  }

  /** Issues a delegated token set, as the token endpoint answers it. */
  issueDelegated({ app, user, scopes, publicClient, nonce }) {
    const core = this.core;
    const now = core.now();
    const iat = Math.floor(now / 1000);
    const lifetime = Number(core.knobs.accessTokenLifetime);
    const { graph, oidc } = Identity.grantedScopes(scopes);
    const accessToken = jwt({
      aud: GRAPH_RESOURCE,
      iss: `https://sts.windows.net/${core.tenantId}/`,
      iat,
      nbf: iat,
      exp: iat + lifetime,
      app_displayname: app.displayName,
      appid: app.clientId,
      appidacr: publicClient ? '0' : '1',
      idtyp: 'user',
      name: user.displayName,
      oid: user.id,
      scp: graph.join(' '),
      sub: sha256url(`${user.id}|${app.clientId}|graph`).slice(0, 43),
      tid: core.tenantId,
      unique_name: user.upn,
      upn: user.upn,
      uti: base64url(crypto.randomBytes(16)),
      ver: '1.0',
    });
    this.accessTokens.set(accessToken, {
      kind: 'delegated',
      upn: user.upn,
      clientId: app.clientId,
      scopes: graph,
      exp: now + lifetime * 1000,
    });
    const out = {
      token_type: 'Bearer',
      scope: [...graph, ...oidc].join(' '),
      expires_in: lifetime,
      ext_expires_in: lifetime,
    };
    if (core.knobs.refreshIn !== undefined && core.knobs.refreshIn !== null) {
      out.refresh_in = Number(core.knobs.refreshIn);
    }
    out.access_token = accessToken;
    if (scopes.includes('offline_access')) {
      const refreshToken = randomToken('1.AXkAT-sim', 96);
      this.refreshTokens.set(refreshToken, {
        clientId: app.clientId,
        upn: user.upn,
        scopes: scopes.slice(),
        publicClient,
        issuedAt: now,
        used: false,
        revoked: null,
      });
      out.refresh_token = refreshToken;
    }
    if (scopes.includes('openid')) {
      const claims = {
        aud: app.clientId,
        iss: `${core.url}/${core.tenantId}/v2.0`,
        iat,
        nbf: iat,
        exp: iat + lifetime,
      };
      // Microsoft's id token reference: name and preferred_username need the profile scope, email the email scope.
      if (scopes.includes('email')) claims.email = user.upn;
      if (scopes.includes('profile')) claims.name = user.displayName;
      if (nonce) claims.nonce = nonce;
      claims.oid = user.id;
      if (scopes.includes('profile')) claims.preferred_username = user.upn;
      claims.rh = base64url(crypto.randomBytes(24));
      claims.sid = guid();
      claims.sub = sha256url(`${user.id}|${app.clientId}`).slice(0, 43);
      claims.tid = core.tenantId;
      claims.uti = base64url(crypto.randomBytes(16));
      claims.ver = '2.0';
      out.id_token = jwt(claims);
    }
    return out;
  }

  /** Issues an application (client credentials) token. */
  issueApp(app) {
    const core = this.core;
    const now = core.now();
    const iat = Math.floor(now / 1000);
    const lifetime = Number(core.knobs.accessTokenLifetime);
    const accessToken = jwt({
      aud: GRAPH_RESOURCE,
      iss: `https://sts.windows.net/${core.tenantId}/`,
      iat,
      nbf: iat,
      exp: iat + lifetime,
      app_displayname: app.displayName,
      appid: app.clientId,
      appidacr: '1',
      idtyp: 'app',
      oid: sha256url(`sp|${app.clientId}`).slice(0, 36),
      roles: ['Calendars.Read'],
      tid: core.tenantId,
      uti: base64url(crypto.randomBytes(16)),
      ver: '1.0',
    });
    this.accessTokens.set(accessToken, {
      kind: 'app',
      clientId: app.clientId,
      roles: ['Calendars.Read'],
      exp: now + lifetime * 1000,
    });
    return {
      token_type: 'Bearer',
      expires_in: lifetime,
      ext_expires_in: lifetime,
      access_token: accessToken,
    };
  }

  /** The account the simulated person signs in with: knobs.signInAs (a UPN, an object id or a key of sim.users). */
  signInUser() {
    const who = this.core.knobs.signInAs;
    return Object.hasOwn(this.core.users, who) ? this.core.users[who] : this.core.model.user(who);
  }

  // ---- authorize ----------------------------------------------------------------------------------------------

  /** An error shown on the sign-in page itself (no redirect: the request could not be trusted with one). */
  signInErrorPage(res, code, message) {
    const html = page(
      'Sign in',
      `<p>Sorry, but we’re having trouble signing you in.</p><p class="error" id="error">AADSTS${code}: ${escapeHtml(message)}</p>` +
        `<p>Request Id: ${guid()}<br>Correlation Id: ${guid()}<br>Timestamp: ${new Date(this.core.now()).toISOString()}</p>`,
    );
    sendHtml(res, 400, html, { 'Cross-Origin-Opener-Policy': 'same-origin' });
  }

  /** Sends the browser back to the redirect URI with `fields`, honouring response_mode. */
  redirectBack(res, params, fields) {
    const coop = { 'Cross-Origin-Opener-Policy': 'same-origin' };
    const mode = params.response_mode || 'query';
    if (mode === 'form_post') {
      const inputs = Object.entries(fields)
        .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
        .join('');
      const html =
        '<!DOCTYPE html><html><head><title>Working...</title></head><body onload="document.forms[0].submit()">' +
        `<form method="POST" action="${escapeHtml(params.redirect_uri)}">${inputs}` +
        '<noscript><button type="submit">Continue</button></noscript></form></body></html>';
      sendHtml(res, 200, html, coop);
      return;
    }
    const query = new URLSearchParams(fields).toString();
    let location;
    if (mode === 'fragment') location = `${params.redirect_uri}#${query}`;
    else location = `${params.redirect_uri}${params.redirect_uri.includes('?') ? '&' : '?'}${query}`;
    res.writeHead(302, {
      Location: location,
      'Content-Length': 0,
      'Cache-Control': 'no-store, no-cache',
      ...coop,
    });
    res.end();
  }

  redirectError(res, params, error, code, message, extra = {}) {
    const fields = { error, ...extra };
    const stamp = new Date(this.core.now()).toISOString().slice(0, 19).replace('T', ' ');
    fields.error_description = `AADSTS${code}: ${message}\r\nTrace ID: ${guid()}\r\nCorrelation ID: ${guid()}\r\nTimestamp: ${stamp}Z`;
    fields.error_uri = `${this.core.url}/error?code=${code}`;
    if (params.state !== undefined) fields.state = params.state;
    this.redirectBack(res, params, fields);
  }

  /** GET /{tenant}/oauth2/v2.0/authorize */
  authorize(req, res, tenantSegment, params) {
    const kind = this.tenantKind(tenantSegment);
    if (!kind) {
      // DOCS.ERRORS: AADSTS90002 InvalidTenantName.
      this.signInErrorPage(
        res,
        90002,
        `Tenant '${tenantSegment}' not found. Check to make sure you have the correct tenant ID.`,
      );
      return;
    }
    if (!params.client_id) {
      // DOCS.ERRORS: AADSTS900144, a required parameter is missing.
      this.signInErrorPage(
        res,
        900144,
        "The request body must contain the following parameter: 'client_id'.",
      );
      return;
    }
    const app = this.app(params.client_id);
    if (!app) {
      // DOCS.ERRORS: AADSTS700016.
      this.signInErrorPage(
        res,
        700016,
        `Application with identifier '${params.client_id}' was not found in the directory '${this.core.tenantName}'.`,
      );
      return;
    }
    if (kind !== 'tenant' && !app.multiTenant) {
      // DOCS.ERRORS: AADSTS50194.
      this.signInErrorPage(res, 50194, Identity.notMultiTenantMessage(app));
      return;
    }
    if (!params.redirect_uri) {
      // DOCS.ERRORS: AADSTS900144.
      this.signInErrorPage(
        res,
        900144,
        "The request body must contain the following parameter: 'redirect_uri'.",
      );
      return;
    }
    if (!redirectPlatform(app, params.redirect_uri)) {
      // DOCS.ERRORS: AADSTS50011 InvalidReplyTo; DOCS.REPLY_URL: "The IPv6 loopback address ([::1]) is not
      // currently supported", so such a URI is refused here whatever is registered.
      this.signInErrorPage(
        res,
        50011,
        `The redirect URI '${params.redirect_uri}' specified in the request does not match the redirect URIs ` +
          `configured for the application '${app.clientId}'. Make sure the redirect URI sent in the request matches ` +
          'one added to your application in the Azure portal.',
      );
      return;
    }
    // From here on errors go back to the (trusted) redirect URI.
    if (params.response_type !== 'code') {
      // DOCS.AUTH_CODE (authorize errors): unsupported_response_type; DOCS.ERRORS: AADSTS70005 UnsupportedResponseType.
      this.redirectError(
        res,
        params,
        'unsupported_response_type',
        70005,
        `response_type '${params.response_type || ''}' is not enabled for the application.`,
      );
      return;
    }
    if (!params.scope) {
      // DOCS.ERRORS: AADSTS900144.
      this.redirectError(
        res,
        params,
        'invalid_request',
        900144,
        "The request body must contain the following parameter: 'scope'.",
      );
      return;
    }
    const parsed = this.parseScopes(params.scope);
    if (parsed.unknown) {
      // DOCS.ERRORS: AADSTS70011 InvalidScope.
      const message = Identity.unknownScopeMessage(app, parsed.unknown);
      this.redirectError(res, params, 'invalid_scope', 70011, message);
      return;
    }
    // DOCS.AUTH_CODE: "The Microsoft identity platform supports both plain and S256"; without a method the
    // challenge is taken as plain. (The product's tests check that it sends S256.)
    const method = params.code_challenge_method === undefined ? 'plain' : params.code_challenge_method;
    if (params.code_challenge !== undefined && method !== 'plain' && method !== 'S256') {
      // DOCS.ERRORS: AADSTS90100 InvalidRequestParameter, "The parameter is empty or not valid".
      this.redirectError(
        res,
        params,
        'invalid_request',
        90100,
        `The parameter 'code_challenge_method' is empty or not valid: '${method}'.`,
      );
      return;
    }
    if (params.code_challenge !== undefined && !/^[A-Za-z0-9._~-]{43,128}$/.test(params.code_challenge)) {
      // DOCS.ERRORS: AADSTS501491 InvalidCodeChallengeMethodInvalidSize (RFC 7636: 43 to 128 characters).
      this.redirectError(res, params, 'invalid_request', 501491, 'Invalid size of Code_Challenge parameter.');
      return;
    }
    const user = this.signInUser();
    if (!user) {
      // DOCS.ERRORS: AADSTS50034 UserAccountNotFound.
      this.signInErrorPage(
        res,
        50034,
        `The user account ${this.core.knobs.signInAs} does not exist in the directory.`,
      );
      return;
    }
    const grant = { params, app, user, scopes: parsed.scopes, tenantSegment };
    if (this.core.knobs.declineConsent) {
      this.declined(res, params);
      return;
    }
    if (this.core.knobs.interactiveConsent) {
      const txn = base64url(crypto.randomBytes(18));
      this.consents.set(txn, { ...grant, createdAt: this.core.now() });
      const scopes = parsed.scopes.map((s) => `<li>${escapeHtml(s)}</li>`).join('');
      const html = page(
        'Permissions requested',
        `<p><b>${escapeHtml(app.displayName || app.clientId)}</b> wants to sign in ${escapeHtml(user.upn)} and:</p>` +
          `<ul>${scopes}</ul>` +
          `<form method="POST" action="/${encodeURIComponent(tenantSegment)}/oauth2/v2.0/authorize">` +
          `<input type="hidden" name="txn" value="${txn}">` +
          '<button type="submit" name="action" value="accept" id="accept">Accept</button>' +
          '<button type="submit" name="action" value="cancel" id="cancel">Cancel</button></form>',
      );
      sendHtml(res, 200, html, { 'Cross-Origin-Opener-Policy': 'same-origin' });
      return;
    }
    this.grantCode(res, grant);
  }

  declined(res, params) {
    // DOCS.ERRORS: AADSTS65004 UserDeclinedConsent; DOCS.AUTH_CODE: error access_denied.
    this.redirectError(res, params, 'access_denied', 65004, 'User declined to consent to access the app.', {
      error_subcode: 'cancel',
    });
  }

  /** POST /{tenant}/oauth2/v2.0/authorize: the consent page's Accept/Cancel buttons. */
  consent(req, res, form) {
    const grant = this.consents.get(form.txn);
    if (!grant || this.core.now() - grant.createdAt > CODE_LIFETIME_MS) {
      // DOCS.ERRORS: AADSTS50089, "Authentication failed due to flow token expired".
      this.signInErrorPage(
        res,
        50089,
        'The sign-in session was not found or has expired. Start the sign-in again.',
      );
      return;
    }
    this.consents.delete(form.txn);
    if (form.action === 'accept') this.grantCode(res, grant);
    else this.declined(res, grant.params);
  }

  grantCode(res, { params, app, user, scopes, tenantSegment }) {
    const code = randomToken('1.AXkAT-code.', 120);
    this.codes.set(code, {
      clientId: app.clientId,
      redirectUri: params.redirect_uri,
      // Web or "Mobile and desktop": decides whether the code is redeemed with or without the secret.
      platform: redirectPlatform(app, params.redirect_uri),
      scopes,
      upn: user.upn,
      challenge: params.code_challenge,
      challengeMethod: params.code_challenge_method === undefined ? 'plain' : params.code_challenge_method,
      nonce: params.nonce,
      tenantSegment,
      createdAt: this.core.now(),
      used: false,
    });
    const fields = { code };
    if (params.state !== undefined) fields.state = params.state;
    fields.session_state = guid();
    this.redirectBack(res, params, fields);
  }

  // ---- token --------------------------------------------------------------------------------------------------

  /** POST /{tenant}/oauth2/v2.0/token. `form` is undefined when the body was not x-www-form-urlencoded. */
  token(req, tenantSegment, form) {
    if (!form) throw this.missing('grant_type');
    const kind = this.tenantKind(tenantSegment);
    if (!kind) throw this.unknownTenant(tenantSegment);
    if (this.core.knobs.tokenEndpointDown) {
      // DOCS.ERRORS: temporarily_unavailable; AADSTS90033 MsodsServiceUnavailable.
      throw this.error(
        503,
        'temporarily_unavailable',
        90033,
        'A transient error has occurred. Please try again.',
      );
    }
    const grantType = form.grant_type;
    if (!grantType) throw this.missing('grant_type');
    const grants = ['authorization_code', 'refresh_token', 'client_credentials', DEVICE_CODE_GRANT];
    if (!grants.includes(grantType)) {
      // DOCS.ERRORS: AADSTS70003 UnsupportedGrantType.
      throw this.error(
        400,
        'unsupported_grant_type',
        70003,
        `The app requested an unsupported grant type '${grantType}'.`,
      );
    }
    const basic = Identity.basicAuth(req.headers.authorization);
    const clientId = form.client_id || (basic && basic.clientId);
    if (!clientId) throw this.missing('client_id');
    const app = this.app(clientId);
    if (!app) throw this.unknownClient(clientId);
    const secret = form.client_secret !== undefined ? form.client_secret : basic && basic.secret;
    if (grantType === 'client_credentials') {
      // DOCS.ERRORS: AADSTS9001023, the grant type is not supported over /common or /consumers; DOCS.CLIENT_CREDS
      // needs the tenant's ID or domain (also instead of /organizations).
      if (kind === 'common' || kind === 'consumers') {
        throw this.error(
          400,
          'invalid_request',
          9001023,
          "The grant type isn't supported over the /common or /consumers endpoints. Please use the /organizations or " +
            'tenant-specific endpoint.',
        );
      }
      if (kind === 'organizations') {
        if (!app.multiTenant) throw this.notMultiTenant(app);
        throw this.error(
          400,
          'invalid_request',
          9001023,
          'Client credentials need a specific tenant: use the Directory (tenant) ID or a verified domain.',
        );
      }
      return this.clientCredentials(app, secret, form);
    }
    if (kind !== 'tenant' && !app.multiTenant) throw this.notMultiTenant(app);
    if (grantType === 'authorization_code') return this.redeemCode(app, secret, form);
    if (grantType === 'refresh_token') return this.refresh(app, secret, form);
    return this.pollDevice(app, secret, form);
  }

  static basicAuth(header) {
    const m = /^Basic\s+(.+)$/i.exec(header || '');
    if (!m) return undefined;
    const text = Buffer.from(m[1], 'base64').toString('utf8');
    const i = text.indexOf(':');
    if (i < 0) return undefined;
    const decode = (s) => {
      try {
        return decodeURIComponent(s.replace(/\+/g, ' '));
      } catch {
        return s;
      }
    };
    return { clientId: decode(text.slice(0, i)), secret: decode(text.slice(i + 1)) };
  }

  clientCredentials(app, secret, form) {
    this.authenticateClient(app, secret, false);
    if (!form.scope) throw this.missing('scope');
    const expected = `${this.core.url}/.default`;
    if (form.scope.trim() !== expected) {
      // DOCS.CLIENT_CREDS: the scope is the resource's /.default; DOCS.ERRORS: AADSTS70011 InvalidScope.
      throw this.error(
        400,
        'invalid_scope',
        70011,
        `The provided value for scope ${form.scope} is not valid. Client credential flows must have a scope value ` +
          `with /.default suffixed to the resource identifier (application ID URI), here '${expected}'.`,
      );
    }
    return this.issueApp(app);
  }

  consentCheck(app) {
    if (this.core.knobs.consentMissing) {
      // DOCS.ERRORS: AADSTS65001 DelegationDoesNotExist (invalid_grant, suberror consent_required).
      throw this.error(
        400,
        'invalid_grant',
        65001,
        `The user or administrator has not consented to use the application with ID '${app.clientId}' named ` +
          `'${app.displayName || app.clientId}'. Send an interactive authorization request for this user and resource.`,
        { suberror: 'consent_required' },
      );
    }
  }

  redeemCode(app, secret, form) {
    if (!form.code) throw this.missing('code');
    const rec = this.codes.get(form.code);
    if (!rec) {
      // DOCS.ERRORS: AADSTS9002313, "Request is malformed or invalid".
      throw this.error(400, 'invalid_grant', 9002313, 'Invalid request. Request is malformed or invalid.');
    }
    // The platform of the redirect URI the code was issued to decides: Web needs the secret, "Mobile and desktop"
    // must come without one (DOCS.AUTH_CODE).
    const publicClient = rec.platform === 'publicClient';
    this.authenticateClient(app, secret, publicClient);
    if (rec.clientId.toLowerCase() !== app.clientId.toLowerCase()) {
      // DOCS.ERRORS: AADSTS70000 InvalidGrant.
      throw this.error(400, 'invalid_grant', 70000, 'Provided grant is invalid or malformed.');
    }
    if (rec.used) {
      // DOCS.ERRORS: AADSTS54005 (and 70002) for a code redeemed twice, as the token endpoint answers it.
      throw this.error(
        400,
        'invalid_grant',
        [70002, 54005],
        'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing ' +
          'refresh token.',
      );
    }
    if (this.core.now() - rec.createdAt > CODE_LIFETIME_MS) {
      // DOCS.AUTH_CODE: codes expire after about 10 minutes; DOCS.ERRORS: AADSTS70008 ExpiredOrRevokedGrant.
      throw this.error(400, 'invalid_grant', 70008, REVOCATION_MESSAGES[70008]);
    }
    if (!form.redirect_uri) throw this.missing('redirect_uri');
    if (form.redirect_uri !== rec.redirectUri) {
      // DOCS.AUTH_CODE: "The same redirect_uri value that was used to acquire the authorization_code";
      // DOCS.ERRORS: AADSTS50011 InvalidReplyTo (with 70002, as "Error validating credentials. AADSTS50011: The
      // reply address ... does not match the reply address ... provided when requesting Authorization code").
      throw this.error(
        400,
        'invalid_grant',
        [70002, 50011],
        `The reply address '${form.redirect_uri}' does not match the reply address '${rec.redirectUri}' provided ` +
          'when requesting Authorization code.',
      );
    }
    if (rec.challenge !== undefined) {
      const verifier = form.code_verifier;
      const derived = !verifier ? undefined : rec.challengeMethod === 'S256' ? sha256url(verifier) : verifier;
      if (derived !== rec.challenge) {
        // DOCS.ERRORS: AADSTS501481, the code verifier does not match the challenge.
        throw this.error(
          400,
          'invalid_grant',
          501481,
          'The Code_Verifier does not match the code_challenge supplied in the authorization request.',
        );
      }
    }
    this.consentCheck(app);
    rec.used = true;
    const user = this.core.model.user(rec.upn);
    return this.issueDelegated({ app, user, scopes: rec.scopes, publicClient, nonce: rec.nonce });
  }

  refresh(app, secret, form) {
    if (!form.refresh_token) throw this.missing('refresh_token');
    const rec = this.refreshTokens.get(form.refresh_token);
    if (!rec) {
      // DOCS.ERRORS: AADSTS9002313.
      throw this.error(400, 'invalid_grant', 9002313, 'Invalid request. Request is malformed or invalid.');
    }
    // A refresh token keeps the client type of the grant it came from (public: no secret; Web: the secret).
    this.authenticateClient(app, secret, rec.publicClient);
    if (rec.clientId.toLowerCase() !== app.clientId.toLowerCase()) {
      // DOCS.ERRORS: AADSTS70000 InvalidGrant.
      throw this.error(
        400,
        'invalid_grant',
        70000,
        'Provided grant is invalid or malformed. The refresh token was issued to a different client.',
      );
    }
    if (rec.revoked) {
      // DOCS.ERRORS lists each code of REVOCATION_MESSAGES; `error` is invalid_grant unless the test asked for
      // another OAuth error (interaction_required, as conditional access answers).
      const { code, error, suberror } = rec.revoked;
      const text = (REVOCATION_MESSAGES[code] || 'Provided grant is invalid or malformed.').replace(
        '{issued}',
        new Date(rec.issuedAt).toISOString(),
      );
      throw this.error(400, error, code, text, suberror ? { suberror } : {});
    }
    if (this.core.knobs.revokeUsedRefreshTokens && rec.used) {
      // DOCS.ERRORS: AADSTS70000 InvalidGrant.
      throw this.error(
        400,
        'invalid_grant',
        70000,
        'Provided grant is invalid or malformed. The refresh token was already used.',
      );
    }
    if (this.core.now() - rec.issuedAt > REFRESH_INACTIVITY_MS) {
      // DOCS.ERRORS: AADSTS700082 ExpiredOrRevokedGrantInactiveToken (90 days without use).
      throw this.error(
        400,
        'invalid_grant',
        700082,
        REVOCATION_MESSAGES[700082].replace('{issued}', new Date(rec.issuedAt).toISOString()),
      );
    }
    let scopes = rec.scopes;
    if (form.scope) {
      const parsed = this.parseScopes(form.scope);
      if (parsed.unknown) throw this.unknownScope(app, parsed.unknown);
      scopes = parsed.scopes;
      // A refresh keeps the right to refresh: Microsoft returns a new refresh token whatever the scope says.
      if (!scopes.includes('offline_access')) scopes = [...scopes, 'offline_access'];
    }
    this.consentCheck(app);
    rec.used = true;
    const user = this.core.model.user(rec.upn);
    const out = this.issueDelegated({ app, user, scopes, publicClient: rec.publicClient });
    this.core.stats.refreshes++;
    return out;
  }

  // ---- device code --------------------------------------------------------------------------------------------

  /** POST /{tenant}/oauth2/v2.0/devicecode */
  deviceCode(req, tenantSegment, form) {
    if (!form) throw this.missing('client_id');
    const kind = this.tenantKind(tenantSegment);
    if (!kind) throw this.unknownTenant(tenantSegment);
    if (!form.client_id) throw this.missing('client_id');
    const app = this.app(form.client_id);
    if (!app) throw this.unknownClient(form.client_id);
    if (kind !== 'tenant' && !app.multiTenant) throw this.notMultiTenant(app);
    if (!form.scope) throw this.missing('scope');
    const parsed = this.parseScopes(form.scope);
    if (parsed.unknown) throw this.unknownScope(app, parsed.unknown);
    const knobs = this.core.knobs;
    let userCode = '';
    for (const b of crypto.randomBytes(8)) userCode += USER_CODE_LETTERS[b % USER_CODE_LETTERS.length];
    const deviceCode = randomToken('DAQABIQEAAAB-sim.', 96);
    const now = this.core.now();
    const expiresIn = Number(knobs.deviceExpiresIn);
    const interval = Number(knobs.deviceInterval);
    this.deviceCodes.set(deviceCode, {
      deviceCode,
      userCode,
      clientId: app.clientId,
      scopes: parsed.scopes,
      createdAt: now,
      expiresAt: now + expiresIn * 1000,
      interval,
      lastPollAt: undefined,
      status: 'pending',
      upn: undefined,
      redeemed: false,
    });
    const verificationUri = `${this.core.url}/devicelogin`;
    return {
      user_code: userCode,
      device_code: deviceCode,
      verification_uri: verificationUri,
      expires_in: expiresIn,
      interval,
      message: `To sign in, use a web browser to open the page ${verificationUri} and enter the code ${userCode} to authenticate.`,
    };
  }

  findUserCode(userCode) {
    const wanted = String(userCode || '')
      .replace(/[\s-]/g, '')
      .toUpperCase();
    for (const rec of this.deviceCodes.values()) if (rec.userCode === wanted) return rec;
    return undefined;
  }

  /**
   * A poll of the device-code grant. DOCS.DEVICE names four errors, all OAuth `error` strings: authorization_pending,
   * authorization_declined, bad_verification_code and expired_token. Microsoft documents no slow_down: a poll
   * before `interval` has passed is answered like any pending one and counted (stats.devicePollsTooFast), so tests
   * can show that the product waits the interval.
   */
  pollDevice(app, secret, form) {
    if (!form.device_code) throw this.missing('device_code');
    // Device code is a public-client flow when the app allows public client flows (then a secret is refused);
    // otherwise the app is a confidential client and must authenticate with its secret (AADSTS7000218).
    const publicClient = !!app.allowPublicClient;
    this.authenticateClient(app, secret, publicClient);
    const rec = this.deviceCodes.get(form.device_code);
    if (!rec || rec.clientId.toLowerCase() !== app.clientId.toLowerCase() || rec.redeemed) {
      // DOCS.DEVICE: bad_verification_code; DOCS.ERRORS: AADSTS70018 BadVerificationCode.
      throw this.error(
        400,
        'bad_verification_code',
        70018,
        "The device_code sent to the /token endpoint wasn't recognized.",
      );
    }
    const now = this.core.now();
    const lastPoll = rec.lastPollAt;
    rec.lastPollAt = now;
    if (now >= rec.expiresAt) {
      // DOCS.DEVICE: expired_token; DOCS.ERRORS: AADSTS70019 CodeExpired.
      throw this.error(400, 'expired_token', 70019, 'Verification code expired.');
    }
    if (rec.status === 'declined') {
      // DOCS.DEVICE: authorization_declined; DOCS.ERRORS: AADSTS90120 InvalidDeviceFlowRequest, "The request was
      // already authorized or declined".
      throw this.error(
        400,
        'authorization_declined',
        90120,
        'The end user denied the authorization request.',
      );
    }
    if (rec.status === 'pending') {
      if (lastPoll !== undefined && rec.interval > 0 && now - lastPoll < rec.interval * 1000) {
        this.core.stats.devicePollsTooFast = (this.core.stats.devicePollsTooFast || 0) + 1;
      }
      // DOCS.DEVICE: authorization_pending; DOCS.ERRORS: AADSTS70016 AuthorizationPending.
      throw this.error(
        400,
        'authorization_pending',
        70016,
        'OAuth 2.0 device flow error. Authorization is pending. Continue polling.',
      );
    }
    this.consentCheck(app);
    rec.redeemed = true;
    const user = this.core.model.user(rec.upn);
    return this.issueDelegated({ app, user, scopes: rec.scopes, publicClient });
  }

  approve(userCode, upn) {
    const rec = this.findUserCode(userCode);
    if (!rec) throw new Error(`unknown user code ${userCode}`);
    const user = upn ? this.core.model.user(upn) : this.signInUser();
    if (!user) throw new Error(`unknown user ${upn || this.core.knobs.signInAs}`);
    rec.status = 'approved';
    rec.upn = user.upn;
    return rec;
  }

  decline(userCode) {
    const rec = this.findUserCode(userCode);
    if (!rec) throw new Error(`unknown user code ${userCode}`);
    rec.status = 'declined';
    return rec;
  }

  /** GET/POST /devicelogin: the page where a person types the code. */
  deviceLogin(req, res, form, query) {
    const coop = { 'Cross-Origin-Opener-Policy': 'same-origin' };
    const formHtml = (message, code = '') =>
      page(
        'Enter code',
        (message ? `<p class="error" id="error">${escapeHtml(message)}</p>` : '') +
          '<p>Enter the code displayed on your app or device.</p>' +
          '<form method="POST" action="/devicelogin">' +
          `<input name="otc" id="otc" autocomplete="off" value="${escapeHtml(code)}" placeholder="Code">` +
          '<button type="submit" name="action" value="approve" id="next">Next</button>' +
          '<button type="submit" name="action" value="decline" id="decline">Cancel</button></form>',
      );
    if (req.method !== 'POST') {
      sendHtml(res, 200, formHtml('', (query && query.otc) || ''), coop);
      return;
    }
    const rec = this.findUserCode(form && form.otc);
    if (!rec || rec.status !== 'pending') {
      sendHtml(res, 400, formHtml("That code didn't work. Check the code and try again."), coop);
      return;
    }
    if (this.core.now() >= rec.expiresAt) {
      sendHtml(res, 400, formHtml('That code has expired. Go back to your device and start again.'), coop);
      return;
    }
    const app = this.app(rec.clientId);
    if (form.action === 'decline') {
      rec.status = 'declined';
      sendHtml(
        res,
        200,
        page('Sign-in cancelled', '<p id="result">You declined to sign in on the other device.</p>'),
        coop,
      );
      return;
    }
    const user = this.approve(rec.userCode).upn;
    sendHtml(
      res,
      200,
      page(
        'You have signed in',
        `<p id="result">You have signed in to the ${escapeHtml((app && app.displayName) || 'application')} ` +
          `application on your device as ${escapeHtml(user)}. You may now close this window.</p>`,
      ),
      coop,
    );
  }

  // ---- used by Graph ------------------------------------------------------------------------------------------

  /** The record of a bearer token, or undefined. */
  accessToken(token) {
    return this.accessTokens.get(token);
  }
}

module.exports = {
  Identity,
  HttpError,
  DEVICE_CODE_GRANT,
  DOCS,
  redirectMatches,
  redirectPlatform,
  sha256url,
};
