// o365-schedule ("free/busy"): free/busy of many mailboxes and rooms through Graph's getSchedule, on input and
// optionally on a timer, as one array or one message per mailbox (with msg.parts).
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import { fetchSchedules, resolveScheduleRequest, ScheduleSettings } from '../shared/calendar/freebusy';
import { messagesPerItem } from '../shared/node-red/parts';
import type { O365ConfigNode } from '../shared/node-red/config-node';
import { NodeRunner } from '../shared/node-red/runner';
import {
  authStatusListener,
  configProblem,
  statusFetching,
  statusForError,
  statusNotConfigured,
  statusSchedule,
  statusWaiting,
} from '../shared/node-red/status';
import { now } from '../shared/time/clock';
import { zonedParts } from '../shared/time/wall-clock';

interface ScheduleDef extends NodeDef {
  config: string;
  user?: string;
  mailboxes?: string;
  allRooms?: boolean;
  roomList?: string;
  start?: string;
  end?: string;
  interval?: string | number;
  timezone?: string;
  pollMinutes?: string | number;
  output?: string;
  allowMsgMailbox?: boolean;
}

type Msg = NodeMessageInFlow & Record<string, unknown>;

function settingsFrom(def: ScheduleDef): ScheduleSettings {
  return {
    user: def.user ?? '',
    mailboxes: def.mailboxes ?? '',
    allRooms: def.allRooms === true,
    roomList: def.roomList ?? '',
    start: def.start || 'now',
    end: def.end || 'now+8h',
    interval: def.interval,
    timezone: def.timezone ?? '',
    allowMsgMailbox: def.allowMsgMailbox === true,
  };
}

function pollMs(value: unknown): number {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n * 60_000 : 0;
}

function clock(zone: string): string {
  const p = zonedParts(now(), zone);
  return `${String(p.hour).padStart(2, '0')}:${String(p.minute).padStart(2, '0')}`;
}

export = function (RED: NodeAPI) {
  function O365Schedule(this: Node, def: ScheduleDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const config = RED.nodes.getNode(def.config) as O365ConfigNode | null;
    const settings = settingsFrom(def);
    const each = def.output === 'each';

    const onState = authStatusListener((status) => node.status(status));
    if (config) config.register(onState);
    else node.status(statusNotConfigured());

    /** Reads once and sends; a problem that did not stop the read is reported after the message went out. */
    async function run(msg: Msg, send: (m: NodeMessage | NodeMessage[]) => void, signal: AbortSignal) {
      const problem = configProblem(config);
      if (problem) throw problem;
      await config!.ready;
      const manager = config!.manager!;
      const context = {
        configKey: manager.key,
        mode: manager.mode,
        graphEndpoint: manager.settings.client.graphEndpoint,
      };
      const request = resolveScheduleRequest(settings, msg, { ...context, now: now() });
      node.status(statusFetching());
      const result = await fetchSchedules(
        config!.graph!,
        request,
        { ...context, signal, onWait: (seconds) => node.status(statusWaiting(seconds)) },
        now,
      );
      if (runner.closed) return;
      const entries = result.entries;
      const extra = {
        user: request.user,
        window: { start: result.window.startIso, end: result.window.endIso },
      };
      node.status(
        statusSchedule(
          {
            count: entries.length,
            free: entries.filter((e) => e.busy === false).length,
            unreadable: entries.filter((e) => e.error).length,
            rooms: result.allRooms,
          },
          clock(request.zone.iana),
        ),
      );
      // An empty list (a room list without rooms) is news for a board too; `each` has nothing to send then.
      if (each) for (const out of messagesPerItem(RED, msg, entries, extra)) send(out);
      else send(Object.assign(msg, extra, { payload: entries }));
      if (result.problem) throw result.problem;
    }

    // Inputs queue behind each other (nothing is dropped); a poll tick during a read is skipped instead.
    const runner = new NodeRunner<Msg>(
      {
        failed: (error) => node.status(statusForError(error)),
        poll: () => {
          if (configProblem(config)?.code === 'INVALID_CONFIG') return undefined;
          const msg = { _msgid: RED.util.generateId(), topic: 'poll' } as unknown as Msg;
          return { msg, run: (signal) => run(msg, (m) => node.send(m), signal) };
        },
        reportPollError: (error, msg) => node.error(error, msg),
      },
      { pollMs: config ? pollMs(def.pollMinutes) : 0 },
    );
    runner.start();

    node.on('input', (msg: NodeMessageInFlow, send, done) => {
      runner.input((signal) => run(msg as Msg, send, signal), done);
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      runner.close();
      if (config) config.deregister(onState);
      done();
    });
  }
  RED.nodes.registerType('o365-schedule', O365Schedule);
};
