// HTTPS_PROXY and NO_PROXY in a real node-red process: Graph and the token endpoint behind TLS (a local TLS front
// for the simulator, self-signed, trusted through NODE_EXTRA_CA_CERTS), reached through a local proxy that must
// only ever see CONNECT tunnels, never a request in plain text or a token.
'use strict';
require('should');
const fs = require('fs');
const http = require('http');
const net = require('net');
const os = require('os');
const path = require('path');
const { packPackage, NodeRed } = require('../harness/nodered');
const { startSimulator } = require('../sim/simulator');
const { configNode, credentialsFor, eventsTab } = require('./flows');
const { selfSignedCert, tlsFront, trackSockets } = require('../lib/tls');

const DAY = 86_400_000;

/** An HTTP proxy that records what it sees: CONNECT tunnels, plain requests, and every byte that passes. */
function recordingProxy() {
  const seen = { connects: [], plain: [], bytes: [], upstreams: new Set() };
  const server = http.createServer((req, res) => {
    seen.plain.push({ method: req.method, url: req.url, headers: req.headers });
    res.writeHead(502);
    res.end();
  });
  server.on('connect', (req, client, head) => {
    seen.connects.push(req.url);
    const [host, port] = req.url.split(':');
    const upstream = net.connect(Number(port), host === 'localhost' ? '127.0.0.1' : host, () => {
      seen.upstreams.add(upstream);
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      client.on('data', (chunk) => seen.bytes.push(chunk));
      upstream.on('data', (chunk) => seen.bytes.push(chunk));
      client.pipe(upstream);
      upstream.pipe(client);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  server.shutdown = trackSockets(server);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, seen })));
}

describe('HTTPS_PROXY / NO_PROXY (full process, Node-RED 4)', function () {
  this.timeout(180000);
  let sim;
  let front;
  let proxy;
  let tls;
  let nr;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'o365-proxy-'));

  before(async () => {
    tls = selfSignedCert(dir);
    sim = await startSimulator({ eventCount: 200 });
    front = await tlsFront(sim.url, tls);
    proxy = await recordingProxy();
  });
  afterEach(async () => {
    if (nr) await nr.stop();
    nr = null;
  });
  after(async () => {
    for (const upstream of proxy.seen.upstreams) upstream.destroy();
    await proxy.server.shutdown();
    await front.shutdown();
    await sim.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function run(env) {
    const base = `https://localhost:${front.address().port}`;
    nr = new NodeRed({
      major: 4,
      tarball: await packPackage(),
      env: { NODE_EXTRA_CA_CERTS: tls.certFile, ...env },
    });
    await nr.start();
    // A fresh sign-in whose access token is already expired, so the token endpoint is used too.
    const credentials = credentialsFor(sim);
    credentials.expiresAt = String(Date.now() - 1000);
    await nr.deploy([
      configNode(sim, { authorityHost: base, graphEndpoint: base, credentials }),
      ...eventsTab(),
    ]);
    const start = new Date(Date.now() + DAY).toISOString();
    const end = new Date(Date.now() + 3 * DAY).toISOString();
    const res = await nr.http(
      'GET',
      `/events?start=${encodeURIComponent(start)}&end=${encodeURIComponent(end)}`,
    );
    res.status.should.equal(200, JSON.stringify(res.body));
    res.body.map((e) => e.id).should.eql(sim.expectedView({ user: 'megan', start, end, timeZone: 'UTC' }));
    return credentials;
  }

  it('tunnels the token endpoint and Graph through the proxy with CONNECT; the proxy never sees a token', async () => {
    sim.clearLog();
    proxy.seen.connects.length = 0;
    proxy.seen.bytes.length = 0;
    const credentials = await run({
      HTTPS_PROXY: `http://127.0.0.1:${proxy.server.address().port}`,
      NO_PROXY: '',
    });
    proxy.seen.connects.should.containEql(`localhost:${front.address().port}`);
    proxy.seen.plain.should.eql([]);
    sim.requests.some((r) => r.kind === 'token' && r.grantType === 'refresh_token').should.be.true();
    sim.requests.some((r) => r.kind === 'graph').should.be.true();
    const wire = Buffer.concat(proxy.seen.bytes).toString('latin1');
    wire.should.not.containEql(credentials.refreshToken);
    wire.should.not.containEql(sim.apps.confidential.secret);
    for (const token of sim.identity.accessTokens.keys()) wire.should.not.containEql(token);
    wire.should.not.containEql('Authorization');
  });

  it('NO_PROXY=localhost goes direct', async () => {
    proxy.seen.connects.length = 0;
    await run({ HTTPS_PROXY: `http://127.0.0.1:${proxy.server.address().port}`, NO_PROXY: 'localhost' });
    proxy.seen.connects.should.eql([]);
    proxy.seen.plain.should.eql([]);
  });
});
