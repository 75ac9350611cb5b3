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

/** The distinctive pieces of a secret: itself, URL-encoded, and its random parts (JWT segments, after a prefix). */
function needles(secret) {
  const out = new Set([secret, encodeURIComponent(secret)]);
  const parts = secret.split('.');
  if (parts.length === 3) {
    // A JWT: payload (unique claims) and signature (random) on their own.
    for (const part of parts.slice(1)) if (part.length >= 40) out.add(part);
  }
  const random = /^1\.AXkAT-(?:sim|code\.)(.+)$/.exec(secret) || /^DAQABIQEAAAB-sim\.(.+)$/.exec(secret);
  if (random && random[1].length >= 40) out.add(random[1]);
  return [...out];
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
    // The scan would see a leak: a token planted whole, URL-encoded, or a JWT without its header, is found.
    const refresh = [...secrets.keys()].find((k) => secrets.get(k) === 'refresh token');
    const access = [...secrets.keys()].find((k) => secrets.get(k) === 'access token');
    for (const [secret, text] of [
      [refresh, `[info] refreshed with ${refresh}`],
      [refresh, `grant_type=refresh_token&refresh_token=${encodeURIComponent(refresh)}`],
      [access, `Authorization: Bearer …${access.slice(access.indexOf('.'))}`],
    ]) {
      needles(secret)
        .some((n) => text.includes(n))
        .should.be.true();
    }

    const found = [];
    const kinds = {};
    for (const [secret, kind] of secrets) {
      kinds[kind] = (kinds[kind] || 0) + 1;
      for (const needle of needles(secret)) {
        for (const place of places) {
          if (place.text.includes(needle))
            found.push(`${kind} (${needle === secret ? 'whole' : 'part'}) in ${place.where}`);
        }
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
