// Flows for the full-process tests: a config node on the custom cloud pointing at the simulator, and
// GET /events (http in → o365-events → http response) with errors answered as JSON by a catch node.
'use strict';
const { simConfigProps, simCredentials } = require('../lib/sim-config');

/** The o365-config node; `credentials` inline, as the editor sends them on deploy. */
function configNode(
  sim,
  { id = 'cfg', credentials, redirectUri = 'http://localhost/o365/auth/callback', ...props } = {},
) {
  const node = { id, type: 'o365-config', name: 'sim', ...simConfigProps(sim, { redirectUri, ...props }) };
  if (credentials) node.credentials = credentials;
  return node;
}

/** Credentials of a registration, signed in as Megan when `signedIn` (tokens issued without HTTP). */
function credentialsFor(sim, { signedIn = true, app = 'confidential' } = {}) {
  return simCredentials(sim, { app, signedIn }).credentials;
}

/** GET /events?start=&end=&user= → the events array; a failure → 500 {message, code, cause}. */
function eventsTab(configId = 'cfg', props = {}, tab = 'tab-events') {
  return [
    { id: tab, type: 'tab', label: 'events' },
    {
      id: `${tab}-in`,
      type: 'http in',
      z: tab,
      url: '/events',
      method: 'get',
      x: 100,
      y: 60,
      wires: [[`${tab}-q`]],
    },
    {
      id: `${tab}-q`,
      type: 'function',
      z: tab,
      func: 'const q = msg.req.query; for (const k of ["start", "end", "user", "calendarId"]) if (q[k] !== undefined) msg[k] = q[k]; return msg;',
      outputs: 1,
      x: 250,
      y: 60,
      wires: [[`${tab}-events`]],
    },
    {
      id: `${tab}-events`,
      type: 'o365-events',
      z: tab,
      config: configId,
      timezone: 'UTC',
      x: 400,
      y: 60,
      ...props,
      wires: [[`${tab}-out`]],
    },
    { id: `${tab}-out`, type: 'http response', z: tab, statusCode: '', x: 600, y: 60, wires: [] },
    {
      id: `${tab}-catch`,
      type: 'catch',
      z: tab,
      scope: null,
      uncaught: false,
      x: 100,
      y: 140,
      wires: [[`${tab}-err`]],
    },
    {
      id: `${tab}-err`,
      type: 'function',
      z: tab,
      func: 'msg.statusCode = 500; msg.payload = { message: msg.error.message, code: msg.error.code, cause: msg.error.cause }; return msg;',
      outputs: 1,
      x: 250,
      y: 140,
      wires: [[`${tab}-out`]],
    },
  ];
}

module.exports = { configNode, credentialsFor, eventsTab };
