// The example flows ship in the tarball, show up under Import → Examples, cover every flow node of the package,
// bring no account node of their own (the editor gives their nodes the one account there is: test/browser/
// newcomer.test.js proves that in Node-RED 4 and 5), and run cleanly against the simulated tenant with it.
'use strict';
require('should');
const fs = require('fs');
const path = require('path');
const { packPackage, NodeRed } = require('../harness/nodered');
const { startSimulator } = require('../sim/simulator');
const { configNode, credentialsFor } = require('./flows');
const { root } = require('../lib/dist');

const MODULE = 'node-red-contrib-o365-calendar';
const examplesDir = path.join(root, 'examples');
const examples = fs.readdirSync(examplesDir).filter((f) => f.endsWith('.json'));
const flowOf = (file) => JSON.parse(fs.readFileSync(path.join(examplesDir, file), 'utf8'));
// Flow node types: every node the package registers except the account (config) node.
const flowTypes = Object.keys(require(path.join(root, 'package.json'))['node-red'].nodes).filter(
  (type) => type !== 'o365-config',
);

describe('example flows (full process, Node-RED 4)', function () {
  this.timeout(180000);
  let nr;
  let sim;

  before(async () => {
    sim = await startSimulator({});
    nr = new NodeRed({ major: 4, tarball: await packPackage() });
    await nr.start();
  });
  after(async () => {
    if (nr) await nr.stop();
    if (sim) await sim.close();
  });

  it('the examples the issues ask for exist, and every flow node type of the package is used in one', () => {
    examples.should.containDeep([
      'Sign in with a pasted URL.json',
      'Upcoming week.json',
      'Room mailbox.json',
      'Changes only.json',
      'Book this room now for 30 minutes.json',
      'Decline while on holiday.json',
      'Meeting-room sign.json',
      'Busy light.json',
      'Room board.json',
    ]);
    const used = new Set(examples.flatMap((f) => flowOf(f).map((n) => n.type)));
    for (const type of flowTypes) used.has(type).should.be.true(`no example uses ${type}`);
  });

  it('no example brings an account node; their nodes name none, so the editor gives them the one there is', () => {
    for (const file of examples) {
      const flow = flowOf(file);
      flow.filter((n) => n.type === 'o365-config').should.eql([], file);
      for (const node of flow.filter((n) => flowTypes.includes(n.type))) node.config.should.equal('', file);
    }
  });

  it('every example explains itself with a comment node', () => {
    for (const file of examples) {
      const flow = JSON.parse(fs.readFileSync(path.join(examplesDir, file)));
      const comment = flow.find((n) => n.type === 'comment');
      (comment && comment.info.length > 80).should.be.true(file);
    }
  });

  it('Import → Examples lists them from the installed package', async () => {
    const res = await nr.admin('GET', '/library/examples/flows/');
    res.status.should.equal(200);
    JSON.stringify(res.body).should.containEql(MODULE);
    const mine = await nr.admin('GET', `/library/examples/flows/${MODULE}`);
    mine.status.should.equal(200);
    const names = JSON.stringify(mine.body);
    for (const file of examples) names.should.containEql(file.replace(/\.json$/, ''));
  });

  for (const file of examples) {
    it(`"${file}" deploys with the account the editor gives it and runs without errors or warnings`, async () => {
      // What the editor deploys after the import: the example's nodes pointing at the one (signed-in) account.
      const flow = flowOf(file).map((n) => (flowTypes.includes(n.type) ? { ...n, config: 'cfg' } : n));
      flow.push(configNode(sim, { credentials: credentialsFor(sim) }));
      const from = nr.log.length;
      await nr.deploy(flow);
      await new Promise((r) => setTimeout(r, 1500)); // examples that read at start have read by then
      const lines = nr.log.slice(from);
      lines.filter((l) => /\[(error|warn)\]|missing types/i.test(l)).should.eql([]);
    });
  }
});
