// o365-config: placeholder until the token lifecycle lands.
import type { NodeAPI, Node, NodeDef } from 'node-red';

export = function (RED: NodeAPI) {
  function O365ConfigNode(this: Node, config: NodeDef) {
    RED.nodes.createNode(this, config);
  }
  RED.nodes.registerType('o365-config', O365ConfigNode, {
    credentials: {
      clientId: { type: 'text' },
      clientSecret: { type: 'password' },
    },
  });
};
