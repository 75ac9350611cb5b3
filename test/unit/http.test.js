// The Graph client's transport failures, classified over real sockets on loopback: a network fault is tried again,
// while a TLS or certificate error, an answer over the size limit and an answer that is not HTTP end at once, each
// as its own catchable error (with the simulator behind a TLS front whose certificate nobody trusts).
'use strict';
const fs = require('fs');
const http = require('http');
const net = require('net');
const os = require('os');
const path = require('path');
const zlib = require('zlib');
const should = require('should');
const { distPath } = require('../lib/dist');
const { selfSignedCert, tlsFront } = require('../lib/tls');
const { startSimulator } = require('../sim/simulator');

const { GraphClient } = require(distPath('nodes/shared/graph/graph-client.js'));
const { isTransient } = require(distPath('nodes/shared/graph/http.js'));

function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

function close(server) {
  return new Promise((resolve) => {
    if (typeof server.closeAllConnections === 'function') server.closeAllConnections();
    server.close(() => resolve());
  });
}

function client(endpoint, options = {}) {
  return new GraphClient({
    graphEndpoint: endpoint,
    getToken: async () => 'test-token',
    timeoutMs: 5000,
    maxAttempts: 4,
    backoffBaseMs: 1,
    ...options,
  });
}

async function failure(promise) {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the request to fail');
}

describe('graph client: transport failures', function () {
  this.timeout(20000);
  const servers = [];

  afterEach(async () => {
    while (servers.length) await close(servers.pop());
  });

  /** A plain HTTP server whose handler sees the request number (1, 2, …). */
  async function serve(handler) {
    let count = 0;
    const server = http.createServer((req, res) => handler(++count, req, res));
    server.requests = () => count;
    servers.push(server);
    return { server, url: `http://127.0.0.1:${await listen(server)}` };
  }

  it('tries a connection reset again, and gets the answer', async () => {
    const { server, url } = await serve((n, req, res) => {
      if (n === 1) return req.socket.destroy();
      res.setHeader('Content-Type', 'application/json');
      res.end('{"value":[]}');
    });
    const page = await client(url).get(`${url}/v1.0/me/calendars`, { mailbox: 'me:x' });
    page.body.should.eql({ value: [] });
    server.requests().should.equal(2);
  });

  it('tries a refused connection up to the attempt limit, then reports NETWORK_ERROR with the code', async () => {
    // A port that was just free: nothing listens there now.
    const probe = net.createServer();
    const port = await listen(probe);
    await close(probe);
    const url = `http://127.0.0.1:${port}`;
    const waits = [];
    const err = await failure(
      client(url).get(`${url}/v1.0/me/calendars`, { mailbox: 'me:x', onWait: (s, why) => waits.push(why) }),
    );
    err.code.should.equal('NETWORK_ERROR');
    err.cause.code.should.equal('ECONNREFUSED');
    isTransient(err).should.be.true();
    waits.should.have.length(3); // 4 attempts, 3 waits between them
  });

  it('ends at once on an answer over the size limit: RESPONSE_TOO_LARGE, one request', async () => {
    const { server, url } = await serve((n, req, res) => {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ value: [{ subject: 'x'.repeat(20000) }] }));
    });
    const err = await failure(
      client(url, { maxAnswerBytes: 4096 }).get(`${url}/v1.0/me/events`, { mailbox: 'x' }),
    );
    err.code.should.equal('RESPONSE_TOO_LARGE');
    err.message.should.match(/127\.0\.0\.1:\d+ answered with more than 0 MB/);
    isTransient(err).should.be.false();
    server.requests().should.equal(1);
  });

  it('ends at once on an answer that is not HTTP: BAD_RESPONSE naming the parser error, one connection', async () => {
    let connections = 0;
    const raw = net.createServer((socket) => {
      connections += 1;
      socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\nContent-Length: twelve\r\n\r\n{"value":[]}'));
    });
    servers.push(raw);
    const url = `http://127.0.0.1:${await listen(raw)}`;
    const err = await failure(client(url).get(`${url}/v1.0/me/events`, { mailbox: 'x' }));
    err.code.should.equal('BAD_RESPONSE');
    err.cause.code.should.match(/^HPE_/);
    err.message.should.match(/not valid HTTP/);
    connections.should.equal(1);
  });

  it('ends at once on a body that does not decompress: BAD_RESPONSE, one request', async () => {
    const good = zlib.gzipSync('{"value":[]}');
    const { server, url } = await serve((n, req, res) => {
      res.setHeader('Content-Type', 'application/json');
      res.setHeader('Content-Encoding', 'gzip');
      res.end(Buffer.concat([good.subarray(0, 10), Buffer.from('not gzip at all'), good.subarray(10)]));
    });
    const err = await failure(client(url).get(`${url}/v1.0/me/events`, { mailbox: 'x' }));
    err.code.should.equal('BAD_RESPONSE');
    err.cause.code.should.match(/^Z_/);
    server.requests().should.equal(1);
  });

  describe('the simulator behind TLS with a certificate nobody trusts', function () {
    let sim;
    let front;
    let dir;

    before(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'o365-tls-'));
      sim = await startSimulator({ eventCount: 10 });
      front = await tlsFront(sim.url, selfSignedCert(dir));
    });
    after(async () => {
      await front.shutdown();
      await sim.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('reports TLS_ERROR naming the certificate problem after one connection, never retried', async () => {
      const url = `https://localhost:${front.address().port}`;
      const token = sim.issueTokens({}).access_token;
      const graph = new GraphClient({
        graphEndpoint: url,
        getToken: async () => token,
        maxAttempts: 5,
        backoffBaseMs: 1,
      });
      const before = front.accepted;
      const err = await failure(graph.get(`${url}/v1.0/me/calendars`, { mailbox: 'me:x' }));
      err.code.should.equal('TLS_ERROR');
      err.cause.code.should.equal('DEPTH_ZERO_SELF_SIGNED_CERT');
      err.message.should.match(/certificate is not trusted here/).and.match(/NODE_EXTRA_CA_CERTS/);
      isTransient(err).should.be.false();
      (front.accepted - before).should.equal(1);
      sim.requests.filter((r) => r.kind === 'graph').should.have.length(0);
      should(JSON.stringify(err)).not.match(new RegExp(token));
    });
  });
});
