// An error's `cause` as the two places a user sees it (issue 14): a Catch node's msg.error.cause stays the plain
// object DESIGN.md fixes, and the debug sidebar, which prints an uncaught Error's cause with `cause + ""`
// (util.encodeObject of the runtime under test, Node-RED 4 or 5), gets its fields instead of "[object Object]".
'use strict';
require('should');
const path = require('path');
const { startSimulator } = require('../sim/simulator');
const {
  helper,
  onTab,
  loadFlow,
  configFor,
  signedInCredentials,
  waitFor,
  nextMessage,
} = require('../lib/nodes');
const { runtimePackage } = require('../lib/runtime');
const { nodeRedDir } = require('../lib/node-red-dir');

/** The runtime's own encoder of debug sidebar messages (what the debug node's log handler publishes). */
const { encodeObject } = require(
  require.resolve('@node-red/util', { paths: [path.dirname(require.resolve(nodeRedDir(runtimePackage)))] }),
).util;

const UNKNOWN = 'nobody@contoso.onmicrosoft.com';

describe(`an error's cause in Catch nodes and in the debug sidebar (${runtimePackage})`, function () {
  this.timeout(30000);
  let sim;

  before(async () => {
    sim = await startSimulator({});
  });
  after(async () => {
    await sim.close();
  });
  afterEach(async () => {
    await helper.unload();
  });

  async function load() {
    const { node } = configFor(sim);
    await loadFlow(
      onTab([
        node,
        { id: 'caught-events', type: 'o365-events', config: node.id, user: UNKNOWN, wires: [[]] },
        { id: 'catch', type: 'catch', scope: ['caught-events'], uncaught: false, wires: [['caught']] },
        { id: 'caught', type: 'helper' },
        { id: 'loose-events', type: 'o365-events', config: node.id, user: UNKNOWN, wires: [[]] },
      ]),
      { cfg: signedInCredentials(sim).cfg },
    );
    await helper.getNode('cfg').ready;
  }

  it('reaches a Catch node as {status, code, requestId}, nothing added', async () => {
    await load();
    const error = nextMessage(helper.getNode('caught'));
    helper.getNode('caught-events').receive({});
    const { cause } = (await error).error;
    Object.keys(cause).should.containDeep(['status', 'code', 'requestId']);
    Object.keys(cause).should.not.containEql('toString');
    const plain = JSON.parse(JSON.stringify(cause));
    plain.should.containEql({ status: 404, code: 'ErrorInvalidUser' });
    plain.requestId.should.match(/^[0-9a-f-]{36}$/);
  });

  it('shows its fields in the debug sidebar when nobody catches it', async () => {
    await load();
    const before = helper.log().args.length;
    helper.getNode('loose-events').receive({});
    const logged = await waitFor(
      () =>
        helper
          .log()
          .args.slice(before)
          .map((args) => args[0])
          .find((entry) => entry.level === helper.log().ERROR && entry.id === 'loose-events'),
      10000,
      'the uncaught error',
    );
    logged.msg.should.be.an.Error();
    const encoded = encodeObject({ ...logged });
    encoded.format.should.equal('error');
    const shown = JSON.parse(encoded.msg).data;
    shown.code.should.equal('ErrorInvalidUser');
    // The error's code is on its own line just above; the cause line fits the sidebar's 80 characters.
    shown.cause.should.match(/^status: 404 · requestId: [0-9a-f-]{36}$/);
  });
});
