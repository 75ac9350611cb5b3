// Hardening, secrets (runs after the other sections): every client secret, authorization code, device code, access,
// refresh and id token the simulators ever issued is searched for, in plain text and URL-encoded, whole and by its
// random parts, in every Node-RED log line (the debug nodes write there with console: true), every answer the suite
// received (messages come back as HTTP answers), flows.json, flows_cred.json and every file of the user directories
// (the package's o365-calendar/ folder included). Found must be 0.
'use strict';
const fs = require('fs');
const path = require('path');
require('should');
const { registry, summary } = require('./lib');

const SEPARATORS = /[^A-Za-z0-9_~%-]+/;
const MIN_PIECE = 20;

/**
 * The distinctive pieces of a secret: its dot-separated parts of 20 characters or more (a JWT's payload and
 * signature, the random part of a refresh token or code), as they are, URL-encoded and form-encoded (a client
 * secret's "~" becomes %7E in a form body). Any copy of a secret, whole or without its header, holds them.
 */
function pieces(secret) {
  const out = new Set();
  const forms = [secret, encodeURIComponent(secret), new URLSearchParams({ s: secret }).toString().slice(2)];
  for (const form of forms) {
    for (const piece of form.split(SEPARATORS)) if (piece.length >= MIN_PIECE) out.add(piece);
  }
  if (out.size === 0) out.add(secret);
  return [...out];
}

/**
 * Where any piece occurs in a text: the text is cut at every character no secret contains (and at dots), and each
 * cut compared with the set of pieces; linear in the text, so the whole run's logs and answers take a moment.
 */
function piecesIn(text, index) {
  const hits = new Set();
  for (const cut of text.split(SEPARATORS)) {
    if (cut.length >= MIN_PIECE && index.has(cut)) hits.add(cut);
  }
  return hits;
}

/** Every secret the simulators know, by kind. */
function knownSecrets() {
  const secrets = new Map(); // secret → kind
  const add = (value, kind) => {
    if (typeof value === 'string' && value.length >= 16 && !secrets.has(value)) secrets.set(value, kind);
  };
  for (const sim of registry.sims) {
    for (const app of Object.values(sim.apps)) add(app && app.secret, 'client secret');
    for (const set of sim.issued || []) {
      add(set.access, 'access token');
      add(set.refresh, 'refresh token');
      add(set.id, 'id token');
    }
    for (const token of sim.identity.accessTokens.keys()) add(token, 'access token');
    for (const token of sim.identity.refreshTokens.keys()) add(token, 'refresh token');
    for (const code of sim.identity.codes.keys()) add(code, 'authorization code');
    for (const code of sim.identity.deviceCodes.keys()) add(code, 'device code');
  }
  return secrets;
}

function filesUnder(dir) {
  const out = [];
  if (!fs.existsSync(dir)) return out;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(full));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

describe('hardening: secrets (after every other section)', function () {
  this.timeout(120000);

  it('no client secret, code or token the simulators issued appears in logs, messages, answers or files: found = 0', function () {
    if (registry.sims.length === 0) this.skip(); // run alone: nothing to scan
    const secrets = knownSecrets();
    const places = [];
    let logLines = 0;
    let debugLines = 0;
    for (const nr of registry.nodeReds) {
      logLines += nr.log.length;
      debugLines += nr.log.filter((l) => /\[debug:/.test(l)).length;
      places.push({ where: `Node-RED log of ${path.basename(nr.userDir)}`, text: nr.log.join('\n') });
    }
    places.push({ where: 'answers and messages received', text: registry.answers.join('\n') });
    let files = 0;
    const storeFiles = [];
    for (const nr of registry.nodeReds) {
      for (const file of filesUnder(nr.userDir)) {
        files += 1;
        const rel = path.relative(nr.userDir, file);
        if (rel.startsWith(`o365-calendar${path.sep}`)) storeFiles.push(rel);
        // latin1 keeps every byte: encrypted files are searched as they are on disk.
        places.push({
          where: `${path.basename(nr.userDir)}/${rel}`,
          text: fs.readFileSync(file).toString('latin1'),
        });
      }
    }
    const index = new Map(); // piece → {secret, kind}
    const shared = new Set(); // pieces of several secrets (a JWT header) say nothing on their own
    const kinds = {};
    for (const [secret, kind] of secrets) {
      kinds[kind] = (kinds[kind] || 0) + 1;
      for (const piece of pieces(secret)) {
        if (index.has(piece) && index.get(piece).secret !== secret) shared.add(piece);
        else index.set(piece, { secret, kind });
      }
    }
    for (const piece of shared) index.delete(piece);
    // The scan would see a leak: whole, URL- or form-encoded, a bearer token without its header, in JSON.
    const refresh = [...secrets.keys()].find((k) => secrets.get(k) === 'refresh token');
    const access = [...secrets.keys()].find((k) => secrets.get(k) === 'access token');
    const client = [...secrets.keys()].find((k) => secrets.get(k) === 'client secret');
    for (const [secret, text] of [
      [refresh, `[info] refreshed with ${refresh}`],
      [refresh, `grant_type=refresh_token&refresh_token=${encodeURIComponent(refresh)}&x=1`],
      [access, `Authorization: Bearer …${access.slice(access.indexOf('.'))}`],
      [client, new URLSearchParams({ client_secret: client }).toString()],
      [client, JSON.stringify({ clientSecret: client })],
    ]) {
      [...piecesIn(text, index)].map((p) => index.get(p).secret).should.containEql(secret);
    }

    const found = [];
    for (const place of places) {
      for (const piece of piecesIn(place.text, index)) {
        const { secret, kind } = index.get(piece);
        found.push(`${kind} (${piece === secret ? 'whole' : 'part'}) in ${place.where}`);
      }
    }
    summary.recordSecrets({
      secrets: secrets.size,
      kinds: Object.entries(kinds)
        .map(([k, n]) => `${n} ${k}${n === 1 ? '' : 's'}`)
        .join(', '),
      places: `${logLines} log lines (${debugLines} from debug nodes), ${registry.answers.length / 2} answers, ${files} files (${storeFiles.length} in o365-calendar/)`,
      found: found.length,
      where: found.slice(0, 50),
    });
    // The scan saw what it should: tokens were issued, debug output and store files exist.
    secrets.size.should.be.above(10);
    [...secrets.values()].should.containEql('refresh token');
    storeFiles.length.should.be.above(0);
    if (registry.nodeReds.some((nr) => nr.log.some((l) => /\[info\] \[debug:/.test(l))))
      debugLines.should.be.above(0);
    found.should.eql([]);
  });
});
