// A fresh clone stays clean after `npm install` (issue 14): no file of the checkout changes (the lockfile used to be
// rewritten), nothing untracked appears, and npm prints no engine warning (Node-RED 5, which needs Node 22.9+, lives
// in tools/ with its own Node, not in the root install). Clones the committed HEAD, so it checks what a newcomer
// gets, not uncommitted work; needs the npm registry (about 40 s; bounded by the timeouts below).
'use strict';
require('should');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { run, childEnv, developerNpm } = require('../harness/nodered');
const { root } = require('../lib/dist');

describe('a fresh clone after `npm install`', function () {
  this.timeout(420000);
  let clone;

  before(() => {
    clone = fs.mkdtempSync(path.join(os.tmpdir(), 'o365-fresh-clone-'));
  });
  after(() => {
    if (clone) fs.rmSync(clone, { recursive: true, force: true });
  });

  it('has no changed or new files and printed no EBADENGINE warning', async () => {
    const git = (args, cwd, timeout = 60000) => run('git', args, { cwd, timeout, label: `git ${args[0]}` });
    const head = (await git(['rev-parse', 'HEAD'], root)).stdout.trim();
    await git(['clone', '--quiet', '--no-checkout', root, clone], root);
    await git(['checkout', '--quiet', '--detach', head], clone);
    (await git(['status', '--porcelain'], clone)).stdout.should.equal('');

    const npm = developerNpm();
    const installed = await run(npm.command, [...npm.args, 'install', '--no-audit', '--no-fund'], {
      cwd: clone,
      env: childEnv(),
      timeout: 300000,
      label: 'npm install in a fresh clone',
    });
    const output = `${installed.stdout}\n${installed.stderr}`;
    output.should.not.match(/EBADENGINE/);
    fs.existsSync(path.join(clone, 'dist', 'nodes', 'o365-config', 'o365-config.js')).should.be.true(
      'npm install builds dist/ (prepare)',
    );
    (await git(['status', '--porcelain'], clone)).stdout.should.equal('');
  });
});
