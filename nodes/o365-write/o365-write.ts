// o365-write ("calendar write"): creates, changes, deletes, answers or cancels a calendar event for each message,
// through the config node's Graph client. The message is checked completely before any request; errors go to
// done(err) with the message unchanged, so a Catch node can send it again.
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import type { O365ConfigNode } from '../shared/node-red/config-node';
import { NodeRunner } from '../shared/node-red/runner';
import {
  authStatusListener,
  configProblem,
  statusForError,
  statusMissingPermission,
  statusNotConfigured,
  statusWaiting,
  statusWriting,
  statusWritten,
} from '../shared/node-red/status';
import { ActionSetting, resolveWrite, WriteSettings } from '../shared/calendar/writing';
import { sendWrite } from '../shared/calendar/writer';
import { now } from '../shared/time/clock';
import { localClock } from '../shared/time/wall-clock';

interface WriteDef extends NodeDef {
  config: string;
  user?: string;
  calendarId?: string;
  action?: string;
  timezone?: string;
  allowMsgMailbox?: boolean;
}

type Msg = NodeMessageInFlow & Record<string, unknown>;

function settingsFrom(def: WriteDef): WriteSettings {
  return {
    user: def.user ?? '',
    calendarId: def.calendarId ?? '',
    // An unknown action is reported per message (an error naming it), not by refusing to start.
    action: (def.action || 'create') as ActionSetting,
    timezone: def.timezone ?? '',
    allowMsgMailbox: def.allowMsgMailbox === true,
  };
}

export = function (RED: NodeAPI) {
  function O365Write(this: Node, def: WriteDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const config = RED.nodes.getNode(def.config) as O365ConfigNode | null;
    const settings = settingsFrom(def);

    const onState = authStatusListener((status) => node.status(status));
    if (config) config.register(onState);
    else node.status(statusNotConfigured());

    async function run(msg: Msg, send: (m: Msg) => void, signal: AbortSignal): Promise<void> {
      const problem = configProblem(config);
      if (problem) throw problem;
      await config!.ready;
      const manager = config!.manager!;
      const plan = resolveWrite(settings, msg, manager.mode, now());
      node.status(statusWriting());
      const result = await sendWrite(config!.graph!, plan, {
        configKey: manager.key,
        mode: manager.mode,
        signIn: () => {
          const auth = config!.authStatus();
          return { account: auth.account?.username, scopes: auth.scopes };
        },
        backoffBaseMs: config!.tuning.backoffBaseMs,
        signal,
        onWait: (seconds) => node.status(statusWaiting(seconds)),
      });
      if (runner.closed) return;
      node.status(statusWritten(result.action, localClock(now(), plan.zone.iana), plan.subject));
      // The message changes only now, after the write: a failed one reaches Catch exactly as it came in.
      msg.payload = result.event ?? { id: result.id, action: result.action };
      send(msg);
    }

    const runner = new NodeRunner<Msg>(
      {
        failed: (error) =>
          node.status(
            error.cause.permission
              ? statusMissingPermission(error.cause.permission, config?.manager?.mode === 'application')
              : statusForError(error),
          ),
        // Writes happen on input only; there is no poll to report.
        reportPollError: (error, msg) => node.error(error, msg),
      },
      { pollMs: 0 },
    );

    node.on('input', (msg: NodeMessageInFlow, send, done) => {
      runner.input((signal) => run(msg as Msg, (m) => send(m), signal), done);
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      runner.close();
      if (config) config.deregister(onState);
      done();
    });
  }
  RED.nodes.registerType('o365-write', O365Write);
};
