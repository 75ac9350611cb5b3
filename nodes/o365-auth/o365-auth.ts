// o365-auth: sign-in from a flow, for Node-RED without the editor at hand. An empty input gives the authorize URL,
// the redirected URL (or a bare code) completes it, topic "device" runs a device-code sign-in, "status" and
// "signout" do what they say. No token, code or secret ever goes into a message.
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import type { O365ConfigNode } from '../shared/node-red/config-node';
import { O365Error } from '../shared/node-red/errors';
import { t } from '../shared/node-red/i18n';
import { beginDeviceSignIn, beginSignIn, completeSignIn, parseSignInInput } from '../shared/auth/sign-in';
import { configProblem, statusForAuth, statusNotConfigured, toNodeError } from '../shared/node-red/status';
import { AuthStatus, publicStatus } from '../shared/auth/token-manager';

interface AuthDef extends NodeDef {
  config: string;
}

export = function (RED: NodeAPI) {
  function O365Auth(this: Node, def: AuthDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const config = RED.nodes.getNode(def.config) as O365ConfigNode | null;
    const onState = (status: AuthStatus) => node.status(statusForAuth(status));
    if (config) config.register(onState);
    else node.status(statusNotConfigured());

    node.on('input', async (msg: NodeMessageInFlow & { payload?: unknown }, send, done) => {
      const out = msg as NodeMessageInFlow & { payload?: unknown };
      try {
        const problem = configProblem(config);
        if (problem) throw problem;
        const manager = config!.manager!;
        await config!.ready;
        const topic = typeof msg.topic === 'string' ? msg.topic.trim().toLowerCase() : '';
        if (topic === 'status') {
          out.payload = publicStatus(manager.status());
        } else if (topic === 'signout') {
          await manager.signOut();
          out.payload = publicStatus(manager.status());
        } else if (topic === 'device') {
          const started = await beginDeviceSignIn(manager, {
            onSignedIn: (status) => send({ ...RED.util.cloneMessage(msg), payload: publicStatus(status) }),
            onFailed: (err) => node.error(err, { ...RED.util.cloneMessage(msg), payload: undefined }),
          });
          out.payload = {
            userCode: started.userCode,
            verificationUri: started.verificationUri,
            message: started.message,
            expiresAt: new Date(started.expiresAt).toISOString(),
          };
        } else if (msg.payload !== undefined && msg.payload !== null && typeof msg.payload !== 'string') {
          throw new O365Error('INVALID_INPUT', t('errors.authPayload'), { code: 'INVALID_INPUT' });
        } else if (!msg.payload || !msg.payload.trim()) {
          out.payload = beginSignIn(manager, config!.redirectUri).url;
        } else {
          const input = msg.payload;
          // The pasted URL holds a single-use code: it leaves the message before anything can fail.
          delete out.payload;
          out.payload = publicStatus(await completeSignIn(parseSignInInput(input), config!.id));
        }
        send(out);
        done();
      } catch (err) {
        delete out.payload;
        done(toNodeError(err));
      }
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      if (config) config.deregister(onState);
      done();
    });
  }
  RED.nodes.registerType('o365-auth', O365Auth);
};
