// Helpers for the simulator's own tests: PKCE, the sign-in round trip and small fetch wrappers.
'use strict';
const crypto = require('crypto');

const ANCHOR = Date.UTC(2026, 10, 27, 12); // a Friday
const DAY = 86400000;
const SCOPES = 'offline_access openid profile Calendars.Read Calendars.Read.Shared';
const REDIRECT = 'http://localhost:1880/o365/auth/callback';

function base64url(buf) {
  return Buffer.from(buf).toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function pkce() {
  const verifier = base64url(crypto.randomBytes(32));
  return { verifier, challenge: base64url(crypto.createHash('sha256').update(verifier).digest()) };
}

function authorizeUrl(sim, options = {}) {
  const {
    tenant = sim.tenantId,
    app = sim.apps.confidential,
    redirectUri = REDIRECT,
    challenge,
    method = 'S256',
  } = options;
  const { extra = {} } = options;
  // An explicit undefined leaves the parameter out.
  const scope = 'scope' in options ? options.scope : SCOPES;
  const state = 'state' in options ? options.state : 'state-123';
  const params = new URLSearchParams({
    client_id: app.clientId,
    response_type: 'code',
    redirect_uri: redirectUri,
  });
  if (scope !== undefined) params.set('scope', scope);
  if (state !== undefined) params.set('state', state);
  if (challenge !== undefined) {
    params.set('code_challenge', challenge);
    if (method !== undefined) params.set('code_challenge_method', method);
  }
  for (const [k, v] of Object.entries(extra)) params.set(k, v);
  return `${sim.url}/${tenant}/oauth2/v2.0/authorize?${params}`;
}

/** GET authorize without following the redirect: { res, location (URL or undefined), text }. */
async function authorize(sim, options) {
  const res = await fetch(authorizeUrl(sim, options), { redirect: 'manual' });
  const location = res.headers.get('location');
  return { res, location: location ? new URL(location) : undefined, text: await res.text() };
}

/** POSTs a form to the token endpoint: { status, body, headers }. */
async function postForm(sim, path, form, headers = {}) {
  const res = await fetch(`${sim.url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, body, headers: res.headers };
}

function token(sim, form, { tenant = sim.tenantId, headers } = {}) {
  return postForm(sim, `/${tenant}/oauth2/v2.0/token`, form, headers);
}

/** The whole code flow with PKCE for the confidential app: the token endpoint's JSON. */
async function signIn(sim, { app = sim.apps.confidential, scope = SCOPES } = {}) {
  const { verifier, challenge } = pkce();
  const { location } = await authorize(sim, { app, scope, challenge });
  const form = {
    client_id: app.clientId,
    grant_type: 'authorization_code',
    code: location.searchParams.get('code'),
    redirect_uri: REDIRECT,
    code_verifier: verifier,
  };
  if (app.secret) form.client_secret = app.secret;
  const answer = await token(sim, form);
  if (answer.status !== 200) throw new Error(`sign-in failed: ${JSON.stringify(answer.body)}`);
  return answer.body;
}

/** GET a Graph path (relative to sim.url, or an absolute URL) with a bearer token: { status, body, headers, text }. */
async function graph(sim, path, accessToken, headers = {}) {
  const url = path.startsWith('http') ? path : `${sim.url}${path}`;
  const h = { ...headers };
  if (accessToken) h.Authorization = `Bearer ${accessToken}`;
  const res = await fetch(url, { headers: h });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, body, headers: res.headers, text };
}

/** Follows @odata.nextLink to the end: { items, requests }. */
async function graphAll(sim, path, accessToken, headers) {
  const items = [];
  let next = path;
  let requests = 0;
  while (next) {
    const page = await graph(sim, next, accessToken, headers);
    requests++;
    if (page.status !== 200) throw new Error(`page failed: ${page.status} ${page.text}`);
    items.push(...page.body.value);
    next = page.body['@odata.nextLink'];
  }
  return { items, requests };
}

function iso(ms) {
  return new Date(ms).toISOString();
}

function decodeJwt(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));
}

/** Saves knobs and clock before each test and restores them after (and drops faults), so tests can change them. */
function restoreKnobs(getSim) {
  let saved;
  let clock;
  beforeEach(() => {
    saved = { ...getSim().knobs };
    clock = getSim().clockOffset;
  });
  afterEach(() => {
    const sim = getSim();
    for (const key of Object.keys(sim.knobs)) delete sim.knobs[key];
    Object.assign(sim.knobs, saved);
    sim.clearFaults();
    sim.advanceClock(clock - sim.clockOffset);
  });
}

module.exports = {
  ANCHOR,
  DAY,
  SCOPES,
  REDIRECT,
  pkce,
  authorizeUrl,
  authorize,
  postForm,
  token,
  signIn,
  graph,
  graphAll,
  iso,
  decodeJwt,
  restoreKnobs,
};
