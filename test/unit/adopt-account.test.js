// Which account a node added in the editor takes (the rule behind examples without an account node of their own).
// The browser test proves the same code in the real editors of Node-RED 4 and 5; here the cases, one by one.
'use strict';
require('should');
const { EventEmitter } = require('events');
const { distPath } = require('../lib/dist');

const { accountToAdopt, accountProperties, adoptAccountsOnAdd } = require(
  distPath('nodes/shared/node-red/adopt-account.js'),
);

describe('adopting the one account for a node added without one', () => {
  const one = [{ id: 'acc' }];
  const none = () => false;

  it('takes the only account when the node names none, names "_ADD_" or names one that does not exist', () => {
    accountToAdopt('', 'tab', one, none).should.equal('acc');
    accountToAdopt(undefined, 'tab', one, none).should.equal('acc');
    accountToAdopt('_ADD_', 'tab', one, none).should.equal('acc');
    accountToAdopt('ex-week-cfg', 'tab', one, none).should.equal('acc');
  });

  it('keeps an account that exists, and leaves the choice to the person with none or several', () => {
    (accountToAdopt('other', 'tab', one, (id) => id === 'other') === null).should.be.true();
    (accountToAdopt('', 'tab', [], none) === null).should.be.true();
    (accountToAdopt('', 'tab', [{ id: 'a' }, { id: 'b' }], none) === null).should.be.true();
  });

  it('counts only the accounts the node’s flow can see (an account scoped to another flow does not)', () => {
    accountToAdopt('', 'tab', [{ id: 'a' }, { id: 'b', z: 'other-tab' }], none).should.equal('a');
    accountToAdopt('', 'tab', [{ id: 'a', z: 'tab' }], none).should.equal('a');
    (accountToAdopt('', 'tab', [{ id: 'b', z: 'other-tab' }], none) === null).should.be.true();
  });

  it('finds the account properties of a node type by their config type', () => {
    accountProperties({
      id: 'n',
      type: 'o365-events',
      _def: { defaults: { name: {}, config: { type: 'o365-config' }, other: { type: 'mqtt-broker' } } },
    }).should.eql(['config']);
  });

  describe('in an editor (RED.events and RED.nodes as Node-RED 4 and 5 have them)', () => {
    /** The parts of the editor's RED the module uses, over plain maps. */
    function editor(configs) {
      const events = new EventEmitter();
      const byId = new Map(configs.map((c) => [c.id, { users: [], type: 'o365-config', ...c }]));
      const validated = [];
      const RED = {
        events: { on: (name, handler) => events.on(name, handler) },
        nodes: {
          node: (id) => byId.get(id) || null,
          eachConfig: (visit) => [...byId.values()].forEach(visit),
          updateConfigNodeUsers: (node) => byId.get(node.config).users.push(node),
        },
        editor: { validateNode: (node) => validated.push(node.id) },
      };
      adoptAccountsOnAdd(RED);
      const add = (node) => events.emit('nodes:add', node);
      return { add, byId, validated };
    }
    const def = { defaults: { config: { type: 'o365-config' } } };

    it('adopts on an import, a paste or a palette drop (nodes marked changed), not on loading the flows', () => {
      const { add, byId, validated } = editor([{ id: 'acc' }]);
      const imported = { id: 'n1', type: 'o365-events', z: 'tab', config: '', changed: true, _def: def };
      const loaded = { id: 'n2', type: 'o365-events', z: 'tab', config: '', _def: def };
      add(imported);
      add(loaded);
      imported.config.should.equal('acc');
      loaded.config.should.equal('');
      byId.get('acc').users.should.eql([imported]);
      validated.should.eql(['n1']);
    });
  });
});
