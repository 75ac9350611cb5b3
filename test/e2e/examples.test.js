// The example flows ship in the tarball, show up under Import → Examples, cover every flow node of the package,
// and deploy cleanly into a real Node-RED as they are.
'use strict';
require('should');
const fs = require('fs');
const path = require('path');
const { packPackage, NodeRed } = require('../harness/nodered');
const { root } = require('../lib/dist');

const MODULE = 'node-red-contrib-o365-calendar';
const examplesDir = path.join(root, 'examples');
const examples = fs.readdirSync(examplesDir).filter((f) => f.endsWith('.json'));

describe('example flows (full process, Node-RED 4)', function () {
  this.timeout(180000);
  let nr;

  before(async () => {
    nr = new NodeRed({ major: 4, tarball: await packPackage() });
    await nr.start();
  });
  after(async () => {
    if (nr) await nr.stop();
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
    const used = new Set(
      examples.flatMap((f) => JSON.parse(fs.readFileSync(path.join(examplesDir, f))).map((n) => n.type)),
    );
    for (const type of [
      'o365-events',
      'o365-auth',
      'o365-config',
      'o365-trigger',
      'o365-state',
      'o365-schedule',
      'o365-write',
    ])
      used.has(type).should.be.true(type);
  });

  it('the Room mailbox example needs no function node any more', () => {
    const flow = JSON.parse(fs.readFileSync(path.join(examplesDir, 'Room mailbox.json')));
    flow.filter((n) => n.type === 'function').should.have.length(0);
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
    it(`"${file}" deploys as imported and starts without missing types or errors`, async () => {
      const flow = JSON.parse(fs.readFileSync(path.join(examplesDir, file)));
      const from = nr.log.length;
      await nr.deploy(flow);
      await new Promise((r) => setTimeout(r, 300));
      const lines = nr.log.slice(from).join('\n');
      lines.should.not.match(/\[error\]/);
      lines.should.not.match(/missing types/i);
      // An unconfigured config node says what to fill in, nothing worse.
      for (const line of nr.log.slice(from).filter((l) => /\[warn\]/.test(l)))
        line.should.match(/o365-config/);
    });
  }
});
