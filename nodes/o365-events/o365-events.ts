// o365-events: placeholder until the events controller lands.
import type { NodeAPI, Node, NodeDef } from 'node-red';

export = function (RED: NodeAPI) {
  function O365EventsNode(this: Node, config: NodeDef) {
    RED.nodes.createNode(this, config);
    this.status({ fill: 'grey', shape: 'ring', text: 'o365-events.status.notConfigured' });
  }
  RED.nodes.registerType('o365-events', O365EventsNode);
};
