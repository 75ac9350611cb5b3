// Hardening, abuse: the admin endpoints (DESIGN.md's admin table) with adminAuth on and off, cross-site form posts,
// oversized bodies, the sign-in callback with missing, wrong, expired and replayed `state`, markup in
// error_description, and mailbox / calendar ids that try to leave their path segment. Every case must change
// nothing: refused with the right status, or contained.
'use strict';
require('should');
const {
  MAJORS,
  NODE_OF,
  summary,
  simulator,
  seededWeek,
  nodeRed,
  advanceClock,
  stopQuietly,
  configNode,
  eventsEndpoint,
  fn,
  debugNode,
  probeEndpoint,
  probe,
  tab,
  callEvents,
  isCatchable,
  dialogSettings,
  startSignIn: startSignInAt,
  authorizeAt,
} = require('./lib');
const { nodeRedDir } = require('../lib/node-red-dir');

const NODE_RED_DIR = { 4: nodeRedDir('node-red'), 5: nodeRedDir('node-red-5') };
const ADMIN = { username: 'admin', password: 'hardening-admin-password' };
const READER = { username: 'reader', password: 'hardening-reader-password' };
const MINUTE = 60_000;

const AUTH_PREP = `const p = msg.payload && typeof msg.payload === 'object' ? msg.payload : {};
msg.topic = p.topic;
msg.payload = p.payload;
return msg;`;

const AUTH_SHAPE = `const out = {};
for (const k of Object.keys(msg)) if (k !== 'req' && k !== 'res') out[k] = msg[k];
msg.payload = out;
msg.statusCode = 200;
return [msg, { payload: out }];`;

const AUTH_FAIL = `const e = msg.error || {};
const rest = {};
for (const k of Object.keys(msg)) if (!['req', 'res', 'error'].includes(k)) rest[k] = msg[k];
msg.payload = { error: { message: e.message, code: e.code, cause: e.cause, stack: e.stack }, msg: rest };
msg.statusCode = 500;
return [msg, { payload: msg.payload }];`;

/** POST /auth {topic, payload} → o365-auth → the message as JSON (errors as 500). */
function authEndpoint(z, config) {
  return [
    {
      id: 'auth-in',
      type: 'http in',
      z,
      name: '',
      url: '/auth',
      method: 'post',
      upload: false,
      swaggerDoc: '',
      x: 100,
      y: 500,
      wires: [['auth-prep']],
    },
    fn('auth-prep', z, AUTH_PREP, 1, [['auth']]),
    { id: 'auth', type: 'o365-auth', z, name: '', config, x: 300, y: 500, wires: [['auth-shape']] },
    fn('auth-shape', z, AUTH_SHAPE, 2, [['auth-out'], ['auth-debug']]),
    {
      id: 'auth-out',
      type: 'http response',
      z,
      name: '',
      statusCode: '',
      headers: {},
      x: 500,
      y: 500,
      wires: [],
    },
    debugNode('auth-debug', z, 'auth'),
    {
      id: 'auth-catch',
      type: 'catch',
      z,
      name: '',
      scope: ['auth'],
      uncaught: false,
      x: 100,
      y: 600,
      wires: [['auth-fail']],
    },
    fn('auth-fail', z, AUTH_FAIL, 2, [['auth-out'], ['auth-debug']]),
  ];
}

for (const major of MAJORS) {
  describe(`hardening: abuse (Node-RED ${major} on Node ${NODE_OF[major]})`, function () {
    this.timeout(300000);
    let sim;
    let nr;
    let config;
    let week;
    let dialog;

    const record = (group, name, refused, detail) =>
      summary.recordAbuse({ runtime: major, group, name, refused, detail });

    before(async function () {
      sim = await simulator();
      const bcrypt = require(require.resolve('bcryptjs', { paths: [NODE_RED_DIR[major]] }));
      nr = await nodeRed({
        section: 'abuse',
        major,
        auth: ADMIN,
        settings: {
          adminAuth: {
            type: 'credentials',
            users: [
              { username: ADMIN.username, password: bcrypt.hashSync(ADMIN.password, 8), permissions: '*' },
              {
                username: READER.username,
                password: bcrypt.hashSync(READER.password, 8),
                permissions: 'read',
              },
            ],
          },
        },
      });
      await nr.start();
      summary.recordRuntime(major, nr);
      config = configNode(sim, nr).node;
      await nr.deploy([
        tab('abuse'),
        config,
        ...eventsEndpoint({ id: 'seg', z: 'abuse', url: '/seg', config: 'cfg' }),
        ...authEndpoint('abuse', 'cfg'),
        ...probeEndpoint('abuse'),
      ]);
      week = seededWeek(sim);
      dialog = dialogSettings(config);
    });

    after(async function () {
      await stopQuietly(nr);
      if (sim) await sim.close();
    });

    function endpoints() {
      return [
        {
          method: 'POST',
          path: '/o365/auth/start',
          body: { id: 'cfg', settings: dialog, clientSecret: '__PWRD__' },
        },
        { method: 'POST', path: '/o365/auth/device', body: { id: 'cfg', settings: dialog } },
        {
          method: 'POST',
          path: '/o365/auth/test',
          body: { id: 'cfg', settings: dialog, clientSecret: '__PWRD__' },
        },
        { method: 'POST', path: '/o365/auth/exchange', body: { id: 'cfg', input: 'not-a-code' } },
        { method: 'POST', path: '/o365/auth/signout', body: { id: 'cfg' } },
        { method: 'GET', path: '/o365/auth/status/cfg' },
        { method: 'GET', path: '/o365/calendars/cfg' },
      ];
    }

    async function status() {
      const res = await nr.admin('GET', '/o365/auth/status/cfg');
      res.status.should.equal(200);
      return { state: res.body.state, account: res.body.account };
    }

    function codeRedemptions(since = 0) {
      return sim.requests
        .slice(since)
        .filter((r) => r.kind === 'token' && r.grantType === 'authorization_code');
    }

    const startSignIn = () => startSignInAt(nr, config);
    const authorize = (url) => authorizeAt(url);

    // ----- adminAuth on ---------------------------------------------------------------------------------------

    it('adminAuth on, no token: every admin endpoint but the callback answers 401', async function () {
      for (const e of endpoints()) {
        const res = await nr.admin(e.method, e.path, e.body, { token: false });
        record('adminAuth on, no token → 401', `${e.method} ${e.path}`, res.status === 401, res.status);
        res.status.should.equal(401, `${e.method} ${e.path}`);
      }
      (await status()).state.should.equal('signed-in');
    });

    it('adminAuth on, a read-only user: reads the status but cannot start a sign-in or sign out (refused)', async function () {
      const login = await nr.admin(
        'POST',
        '/auth/token',
        { client_id: 'node-red-admin', grant_type: 'password', scope: 'read', ...READER },
        { token: false },
      );
      login.status.should.equal(200);
      const headers = { Authorization: `Bearer ${login.body.access_token}` };
      const before = await status();
      for (const e of endpoints()) {
        const res = await nr.admin(e.method, e.path, e.body, { headers });
        if (e.path.startsWith('/o365/auth/status')) {
          res.status.should.equal(200); // o365-config.read
          continue;
        }
        // Node-RED's needsPermission answers a missing permission with 401 (not 403) for its own API too.
        const refused = res.status === 401 || res.status === 403;
        record(
          'read-only user → refused (Node-RED answers 401)',
          `${e.method} ${e.path}`,
          refused,
          res.status,
        );
        refused.should.be.true(`${e.method} ${e.path}: HTTP ${res.status}`);
      }
      (await status()).should.eql(before);
      // With the write permission the same call works: the refusal is about the permission.
      (await nr.admin('POST', '/o365/auth/start', endpoints()[0].body)).status.should.equal(200);
    });

    // ----- adminAuth off --------------------------------------------------------------------------------------

    describe('adminAuth off', function () {
      before(async function () {
        await nr.stop();
        delete nr.settings.adminAuth;
        nr.auth = null;
        nr._token = null;
        await nr.start();
        (await status()).state.should.equal('signed-in');
      });

      it('a cross-site form post (urlencoded, text/plain, multipart) to every POST endpoint → 415, nothing changes', async function () {
        const before = await status();
        const forms = [
          ['application/x-www-form-urlencoded', 'id=cfg&input=code%3Dx&settings=x&clientSecret=x'],
          ['text/plain', JSON.stringify({ id: 'cfg' })],
          [
            'multipart/form-data; boundary=x',
            '--x\r\nContent-Disposition: form-data; name="id"\r\n\r\ncfg\r\n--x--\r\n',
          ],
        ];
        for (const e of endpoints().filter((x) => x.method === 'POST')) {
          for (const [type, body] of forms) {
            const res = await nr.admin('POST', e.path, body, {
              headers: { 'Content-Type': type },
              raw: true,
            });
            record(
              'cross-site form post → 415',
              `${e.path} as ${type.split(';')[0]}`,
              res.status === 415,
              res.status,
            );
            res.status.should.equal(415, `${e.path} ${type}`);
          }
        }
        (await status()).should.eql(before);
        const events = await callEvents(nr, '/seg', week);
        events.ok.should.be.true();
      });

      it('an oversized JSON body (20 kB) to every POST endpoint → 413, nothing changes', async function () {
        const before = await status();
        const pad = 'x'.repeat(20 * 1024);
        for (const e of endpoints().filter((x) => x.method === 'POST')) {
          const res = await nr.admin('POST', e.path, { ...e.body, pad });
          record('oversized body → 413', e.path, res.status === 413, res.status);
          res.status.should.equal(413, e.path);
        }
        (await status()).should.eql(before);
      });

      it('a malformed config node id (path traversal) → 400, nothing read or changed', async function () {
        const cases = [
          ['GET', '/o365/auth/status/..%2F..%2Fsettings'],
          ['GET', '/o365/calendars/..%2F..%2Fflows'],
          ['POST', '/o365/auth/signout', { id: '../cfg' }],
          ['POST', '/o365/auth/exchange', { id: 'cfg/../x', input: 'x' }],
        ];
        const before = await status();
        for (const [method, p, body] of cases) {
          const res = await nr.admin(method, p, body);
          const refused = res.status === 400 || res.status === 404;
          record(
            'malformed id → 400',
            `${method} ${p}${body ? ` ${JSON.stringify(body)}` : ''}`,
            refused,
            res.status,
          );
          refused.should.be.true(`${method} ${p}: HTTP ${res.status}`);
        }
        (await status()).should.eql(before);
      });

      it('the callback with a missing, wrong, expired (> 10 min) or replayed state changes nothing', async function () {
        const group = 'callback state → 400, no code redeemed';
        const before = await status();
        let mark = sim.requests.length;

        // Missing state (with a real code).
        let started = await startSignIn();
        let granted = await authorize(started.url);
        let res = await nr.admin('GET', `/o365/auth/callback?code=${encodeURIComponent(granted.code)}`);
        record(group, 'missing state', res.status === 400 && codeRedemptions(mark).length === 0, res.status);
        res.status.should.equal(400);
        res.headers['content-type'].should.match(/text\/html/);

        // Wrong state.
        res = await nr.admin(
          'GET',
          `/o365/auth/callback?code=${encodeURIComponent(granted.code)}&state=forged-${Date.now()}`,
        );
        record(group, 'wrong state', res.status === 400 && codeRedemptions(mark).length === 0, res.status);
        res.status.should.equal(400);
        codeRedemptions(mark).should.be.empty();
        (await status()).should.eql(before);

        // Expired: the sign-in started more than 10 minutes ago (both clocks moved on).
        started = await startSignIn();
        granted = await authorize(started.url);
        await advanceClock(nr, [sim], 11 * MINUTE);
        res = await nr.admin('GET', `/o365/auth/callback?${granted.query}`);
        record(
          group,
          'expired state (11 min)',
          res.status === 400 && codeRedemptions(mark).length === 0,
          res.status,
        );
        res.status.should.equal(400);
        res.body.should.match(/unknown, used or older than 10 minutes/);
        codeRedemptions(mark).should.be.empty();
        (await status()).should.eql(before);

        // Replayed: the first use signs in, the second changes nothing.
        started = await startSignIn();
        granted = await authorize(started.url);
        mark = sim.requests.length;
        res = await nr.admin('GET', `/o365/auth/callback?${granted.query}`);
        res.status.should.equal(200);
        res.body.should.match(/Signed in/);
        codeRedemptions(mark).length.should.equal(1);
        const after = await status();
        after.state.should.equal('signed-in');
        res = await nr.admin('GET', `/o365/auth/callback?${granted.query}`);
        record(group, 'replayed state', res.status === 400 && codeRedemptions(mark).length === 1, res.status);
        res.status.should.equal(400);
        codeRedemptions(mark).length.should.equal(1);
        (await status()).should.eql(after);
        (await callEvents(nr, '/seg', week)).ok.should.be.true();
      });

      it('markup in error / error_description comes back escaped in the callback page', async function () {
        const group = 'markup in the callback → escaped';
        const payloads = [
          '<script>alert(document.cookie)</script>',
          '"><img src=x onerror=alert(1)>',
          "'><svg onload=alert(1)>",
          '</p><iframe src="javascript:alert(1)"></iframe>',
        ];
        const before = await status();
        for (const markup of payloads) {
          const { state } = await startSignIn();
          const query = new URLSearchParams({
            state,
            error: `access_denied${markup}`,
            error_description: markup,
          });
          const res = await nr.admin('GET', `/o365/auth/callback?${query}`);
          const page = String(res.body);
          const raw = page.includes(markup) || /<(img|svg|iframe)\b/i.test(page);
          const scripts = (page.match(/<script\b/gi) || []).length; // the page's own window.close script only
          const escaped = !raw && scripts === 1;
          record(group, markup, res.status === 400 && escaped, res.status);
          res.status.should.equal(400);
          escaped.should.be.true(`markup not escaped in:\n${page}`);
          res.headers['content-type'].should.match(/text\/html/);
        }
        (await status()).should.eql(before);
      });

      it('msg.user / msg.calendarId with ../, %2F, ?, #, spaces and non-ASCII stay inside their path segment', async function () {
        const group = 'mailbox / calendar id → one path segment';
        const values = [
          '../../me',
          '..%2F..%2Fme',
          'a/b',
          'x?$top=1&startDateTime=2000-01-01',
          'x#fragment',
          'a b',
          'Zoë.Müller@contoso.onmicrosoft.com',
          '会議室@contoso.onmicrosoft.com',
          'room.101@contoso.onmicrosoft.com/../../me',
          '..\\..\\me',
          '%2e%2e',
          '.%2e',
          'x%',
          '..',
          '.',
        ];
        for (const field of ['user', 'calendarId']) {
          for (const value of values) {
            const mark = sim.requests.length;
            const result = await callEvents(nr, '/seg', { ...week, [field]: value });
            const graph = sim.requests.slice(mark).filter((r) => r.kind === 'graph');
            let refused;
            let detail;
            if (/^\.+$/.test(value)) {
              // Dot segments are resolved away by every URL parser: refused before any request.
              refused = !result.ok && result.error.code === 'INVALID_INPUT' && graph.length === 0;
              detail = result.ok ? 'events' : result.error.code;
            } else {
              const parts = graph.length ? graph[0].rawPath.split('/') : [];
              const expected =
                field === 'user'
                  ? ['', 'v1.0', 'users', value, 'calendar', 'calendarView']
                  : ['', 'v1.0', 'me', 'calendars', value, 'calendarView'];
              const decoded = parts.map((p) => decodeURIComponent(p));
              refused =
                graph.length >= 1 &&
                graph.every((r) => r.rawPath === graph[0].rawPath) &&
                decoded.length === expected.length &&
                decoded.every((p, i) => p === expected[i]) &&
                graph[0].query.startDateTime !== undefined &&
                graph[0].query.$top === '1000';
              detail = graph.length ? graph[0].rawPath : 'no request';
              // The simulator has no such mailbox / calendar: a catchable error, not somebody else's events.
              if (result.ok) refused = false;
              else isCatchable(result.error).should.be.true();
            }
            record(group, `msg.${field} = ${JSON.stringify(value)}`, refused, detail);
            refused.should.be.true(`msg.${field} = ${JSON.stringify(value)} → ${detail}`);
          }
        }
        // Both at once: exactly 7 segments.
        const mark = sim.requests.length;
        await callEvents(nr, '/seg', { ...week, user: 'a/../b', calendarId: '../x?y#z' });
        const [request] = sim.requests.slice(mark).filter((r) => r.kind === 'graph');
        const parts = request.rawPath.split('/').map((p) => decodeURIComponent(p));
        const both =
          parts.join('|') ===
          ['', 'v1.0', 'users', 'a/../b', 'calendars', '../x?y#z', 'calendarView'].join('|');
        record(group, 'msg.user and msg.calendarId together', both, request.rawPath);
        both.should.be.true(request.rawPath);
      });

      it("the calendar picker's ?user= stays inside its path segment", async function () {
        const group = 'mailbox / calendar id → one path segment';
        for (const value of ['../../me', 'a/b?x=1#y', 'room.101@contoso.onmicrosoft.com/../..']) {
          const mark = sim.requests.length;
          const res = await nr.admin('GET', `/o365/calendars/cfg?user=${encodeURIComponent(value)}`);
          const [request] = sim.requests.slice(mark).filter((r) => r.kind === 'graph');
          const parts = request ? request.rawPath.split('/').map((p) => decodeURIComponent(p)) : [];
          const contained = parts.join('|') === ['', 'v1.0', 'users', value, 'calendars'].join('|');
          record(
            group,
            `calendar picker ?user=${JSON.stringify(value)}`,
            contained && res.status !== 200,
            request && request.rawPath,
          );
          contained.should.be.true(request && request.rawPath);
        }
      });

      it('o365-auth: a replayed redirected URL or a stray code is refused, and the code never comes back in a message', async function () {
        const group = 'o365-auth sign-in input → refused, code removed';
        const start = await nr.http('POST', '/auth', {});
        start.status.should.equal(200);
        const granted = await authorize(start.body.payload);
        const mark = sim.requests.length;
        const first = await nr.http('POST', '/auth', { payload: granted.location });
        first.status.should.equal(200, JSON.stringify(first.body));
        first.body.payload.should.have.property('signedIn', true);
        JSON.stringify(first.body).should.not.containEql(granted.code);
        const replay = await nr.http('POST', '/auth', { payload: granted.location });
        const replayRefused =
          replay.status === 500 &&
          replay.body.error.code === 'UNKNOWN_STATE' &&
          !JSON.stringify(replay.body).includes(granted.code) &&
          codeRedemptions(mark).length === 1;
        record(group, 'replayed redirected URL', replayRefused, replay.body.error && replay.body.error.code);
        replayRefused.should.be.true(JSON.stringify(replay.body));
        const stray = await nr.http('POST', '/auth', { payload: granted.code });
        const strayRefused =
          stray.status === 500 &&
          !JSON.stringify(stray.body).includes(granted.code) &&
          codeRedemptions(mark).length === 1;
        record(
          group,
          'bare code, no sign-in pending',
          strayRefused,
          stray.body.error && stray.body.error.code,
        );
        strayRefused.should.be.true(JSON.stringify(stray.body));
        (await status()).state.should.equal('signed-in');
      });

      // Every POST /o365/auth/start with a new id makes a draft TokenManager; drafts are bounded like pending
      // sign-ins (this test found them unbounded once).
      it('3,000 sign-in starts with distinct ids keep the heap bounded (idle drafts are evicted)', async function () {
        const start = (i) =>
          nr.admin('POST', '/o365/auth/start', {
            id: `flood-${i}`,
            settings: dialog,
            clientSecret: 'not-the-secret',
          });
        // Warm-up: the bounded pending map fills (100) and the code is compiled; then 3,000 more.
        for (let i = 0; i < 500; i++) (await start(i)).status.should.equal(200);
        const before = await probe(nr);
        for (let i = 500; i < 3500; i++) (await start(i)).status.should.equal(200);
        const after = await probe(nr);
        const grown = after.heapUsed - before.heapUsed;
        grown.should.be.below(1024 * 1024, `heap grew by ${(grown / 1024 / 1024).toFixed(1)} MB`);
      });

      // What a browser is told in the CORS preflight is the runtime's business (Node-RED 4 answers every origin with
      // Access-Control-Allow-Origin: *, Node-RED 5 sends no such header by default) and may change with its
      // settings. Our guarantee holds either way: with adminAuth off, a request another site's page makes reaches
      // the endpoint (a browser that was allowed, or a client that ignores CORS) and is refused, changing nothing.
      it('a cross-site fetch() with a JSON body (Origin: https://evil.example) to every endpoint is refused and changes nothing', async function () {
        const group = 'cross-site fetch() with a JSON body → 403';
        const evil = {
          Origin: 'https://evil.example',
          'Sec-Fetch-Site': 'cross-site',
          'Sec-Fetch-Mode': 'cors',
        };
        const preflight = await nr.admin('OPTIONS', '/o365/auth/signout', undefined, {
          headers: {
            ...evil,
            'Access-Control-Request-Method': 'POST',
            'Access-Control-Request-Headers': 'content-type',
          },
        });
        const told = preflight.headers['access-control-allow-origin'] || 'none';
        const before = await status();
        const mark = sim.requests.length;
        const cases = [
          ...endpoints().map((e) => ({ ...e, headers: evil, name: `${e.method} ${e.path}` })),
          // An older browser sends Origin without Sec-Fetch-Site.
          {
            method: 'POST',
            path: '/o365/auth/signout',
            body: { id: 'cfg' },
            headers: { Origin: 'https://evil.example' },
            name: 'POST /o365/auth/signout, Origin only',
          },
          {
            method: 'GET',
            path: '/o365/calendars/cfg?user=alex@contoso.onmicrosoft.com',
            headers: { Origin: 'https://evil.example' },
            name: 'GET /o365/calendars/cfg?user=…, Origin only',
          },
        ];
        for (const c of cases) {
          const res = await nr.admin(c.method, c.path, c.body, { headers: c.headers });
          const detail = `HTTP ${res.status} (preflight Access-Control-Allow-Origin: ${told})`;
          record(group, c.name, res.status === 403, detail);
          res.status.should.equal(403, `${c.name}: ${JSON.stringify(res.body)}`);
          res.body.error.should.equal('forbidden');
        }
        (await status()).should.eql(before);
        // Nothing reached Microsoft: no sign-in started, no code redeemed, no device code, no calendar read.
        sim.requests.slice(mark).should.be.empty();
        // The same requests from the editor's own origin work (the refusal is about the origin).
        const own = await nr.admin('GET', '/o365/auth/status/cfg', undefined, {
          headers: { Origin: nr.url, 'Sec-Fetch-Site': 'same-origin' },
        });
        own.status.should.equal(200);
      });
    });
  });
}
