// `npm start` only (loaded into the editor page by editorTheme.page.scripts): when an editor has opened, press the
// buttons of the demo's inject nodes that fire at start-up (id `demo-…`, "inject once"), once per page. Their first
// messages went out before any editor was connected, so without this the debug sidebar would stay empty until
// the newcomer found the right button.
/* global RED, $ -- the Node-RED editor's globals */
'use strict';
(function () {
  var flowsLoaded = false;
  var connected = false;
  var pressed = false;

  function pressStartupButtons() {
    // Both are needed: the nodes to press, and the comms connection the debug messages come back on.
    if (!flowsLoaded || !connected || pressed) return;
    pressed = true;
    RED.nodes.eachNode(function (node) {
      if (node.type === 'inject' && node.once && /^demo-/.test(node.id)) {
        $.ajax({ url: 'inject/' + node.id, type: 'POST' }); // what the node's button does
      }
    });
  }

  RED.events.on('flows:loaded', function () {
    flowsLoaded = true;
    pressStartupButtons();
  });
  RED.comms.on('connect', function () {
    connected = true;
    pressStartupButtons();
  });
})();
