// What ships holds no test-only behaviour: the forced kill and the moved clock live under test/ (preloaded by the
// harness), the package only names its points on diagnostics_channel and reads Date.now().
'use strict';
const fs = require('fs');
const path = require('path');
require('should');
const { distPath } = require('../lib/dist');

const root = path.resolve(__dirname, '..', '..');

function filesUnder(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(full) : [full];
  });
}

describe('the shipped package', function () {
  it('has no test hook in its compiled code', function () {
    const files = filesUnder(distPath('nodes')).filter((f) => /\.(js|html)$/.test(f));
    files.length.should.be.above(20);
    const found = [];
    for (const file of files) {
      const text = fs.readFileSync(file, 'utf8');
      for (const needle of ['O365_CRASH', 'O365_TEST_CLOCK', 'SIGKILL', 'test-hooks', 'process.kill']) {
        if (text.includes(needle)) found.push(`${path.relative(root, file)}: ${needle}`);
      }
    }
    found.should.eql([]);
  });

  it('packs only dist/, the examples, the README and the licence', function () {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
    pkg.files.should.eql(['dist/', 'examples/', 'README.md', 'LICENSE']);
    fs.existsSync(distPath('test')).should.be.false();
  });
});
