// o365-auth: placeholder until the sign-in flow lands.
import type { NodeAPI, Node, NodeDef } from 'node-red';

export = function (RED: NodeAPI) {
  function O365AuthNode(this: Node, config: NodeDef) {
    RED.nodes.createNode(this, config);
    this.status({ fill: 'grey', shape: 'ring', text: 'o365-auth.status.notConfigured' });
  }
  RED.nodes.registerType('o365-auth', O365AuthNode);
};
