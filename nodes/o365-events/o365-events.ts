// o365-events: reads calendar events through the config node's Graph client, on input and optionally on a timer,
// and emits them as one array or one message per event (with msg.parts), or only what changed.
import crypto from 'crypto';
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import { BaselineStore } from '../shared/calendar/baseline-store';
import type { O365ConfigNode } from '../shared/node-red/config-node';
import {
  DEFAULT_SELECT,
  diffEvents,
  EventsRequest,
  EventsSettings,
  fetchEvents,
  GraphEvent,
  hasChanges,
  resolveRequest,
  View,
} from '../shared/calendar/events-controller';
import { NodeRunner } from '../shared/node-red/runner';
import {
  authStatusListener,
  configProblem,
  statusCount,
  statusFetching,
  statusForError,
  statusNotConfigured,
  statusWaiting,
} from '../shared/node-red/status';
import { now } from '../shared/time/clock';
import { localClock } from '../shared/time/wall-clock';

interface EventsDef extends NodeDef {
  config: string;
  user?: string;
  calendarId?: string;
  view?: string;
  start?: string;
  end?: string;
  select?: string;
  timezone?: string;
  maxEvents?: string | number;
  output?: string;
  pollMinutes?: string | number;
  changesOnly?: boolean;
  allowMsgMailbox?: boolean;
}

type Msg = NodeMessageInFlow & Record<string, unknown>;

function numberProp(value: unknown, fallback: number): number {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : fallback;
}

function settingsFrom(def: EventsDef): EventsSettings {
  return {
    user: def.user ?? '',
    calendarId: def.calendarId ?? '',
    view: (def.view === 'events' ? 'events' : 'calendarView') as View,
    start: def.start || 'now',
    end: def.end || 'now+7d',
    select: def.select ?? DEFAULT_SELECT,
    timezone: def.timezone ?? '',
    maxEvents: numberProp(def.maxEvents, 0),
    changesOnly: def.changesOnly === true,
    allowMsgMailbox: def.allowMsgMailbox === true,
  };
}

/** The baselines the deployed events nodes read with their own settings (msg.user and msg.calendarId aside). */
function deployedBaselineKeys(RED: NodeAPI): Set<string> {
  const keys = new Set<string>();
  RED.nodes.eachNode((n) => {
    if (n.type !== 'o365-events') return;
    const settings = settingsFrom(n as EventsDef);
    if (!settings.changesOnly) return;
    keys.add(
      BaselineStore.key({
        nodeId: n.id,
        user: settings.user.trim(),
        calendarId: settings.calendarId.trim(),
        view: settings.view,
        start: settings.start,
        end: settings.end,
      }),
    );
  });
  return keys;
}

const sweepers = new WeakMap<object, () => void>();

export = function (RED: NodeAPI) {
  // After every deploy, the baselines no deployed node reads go after the token store's grace period (a baseline
  // read through msg.user is marked too, and unmarked when it is read again). One listener per runtime.
  const previous = sweepers.get(RED.events);
  if (previous) RED.events.removeListener('flows:started', previous);
  const sweep = () => {
    const dirs = new Set<string>();
    RED.nodes.eachNode((n) => {
      const config = n.type === 'o365-config' ? (RED.nodes.getNode(n.id) as O365ConfigNode | null) : null;
      if (config?.dataDir) dirs.add(config.dataDir);
    });
    const used = deployedBaselineKeys(RED);
    for (const dir of dirs) new BaselineStore(dir).sweep(used).catch(() => undefined);
  };
  sweepers.set(RED.events, sweep);
  RED.events.on('flows:started', sweep);

  function O365Events(this: Node, def: EventsDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const config = RED.nodes.getNode(def.config) as O365ConfigNode | null;
    const settings = settingsFrom(def);
    const each = def.output === 'each';
    const baselines = config && settings.changesOnly ? new BaselineStore(config.dataDir) : undefined;

    const onState = authStatusListener((status) => node.status(status));
    if (config) config.register(onState);
    else node.status(statusNotConfigured());

    function baselineKey(request: EventsRequest): string {
      return BaselineStore.key({
        nodeId: node.id,
        user: request.user,
        calendarId: request.calendarId,
        view: request.view,
        start: settings.start,
        end: settings.end,
      });
    }

    /** Fetches once and sends. */
    async function run(msg: Msg, send: (m: NodeMessage | NodeMessage[]) => void, signal: AbortSignal) {
      const problem = configProblem(config);
      if (problem) throw problem;
      await config!.ready;
      const manager = config!.manager!;
      const request = resolveRequest(settings, msg, manager.mode);
      node.status(statusFetching());
      const result = await fetchEvents(config!.graph!, request, {
        configKey: manager.key,
        mode: manager.mode,
        signal,
        onWait: (seconds) => node.status(statusWaiting(seconds)),
      });
      if (runner.closed) return;
      const events = result.events;
      const extra: Record<string, unknown> = { user: request.user, calendarId: request.calendarId };
      if (result.window) extra.window = { start: result.window.startIso, end: result.window.endIso };
      node.status(statusCount('status.events', events.length, localClock(now(), request.zone.iana)));

      if (baselines) {
        const key = baselineKey(request);
        const previous = await baselines.load(key);
        const { changes, next } = diffEvents(previous, events);
        // The baseline moves only after a complete fetch: a failed one never reports false removals.
        if (!hasChanges(changes) && previous) return;
        await baselines.save(key, next);
        if (!hasChanges(changes)) return;
        if (each) {
          const changed: Array<[GraphEvent, string]> = [
            ...changes.added.map((e): [GraphEvent, string] => [e, 'added']),
            ...changes.updated.map((e): [GraphEvent, string] => [e, 'updated']),
            ...changes.removed.map((id): [GraphEvent, string] => [{ id }, 'removed']),
          ];
          sendEach(
            msg,
            send,
            changed.map(([event]) => event),
            extra,
            changed.map(([, change]) => change),
          );
        } else {
          send(Object.assign(RED.util.cloneMessage(msg), extra, { payload: events, changes }));
        }
        return;
      }
      if (each) sendEach(msg, send, events, extra);
      else send(Object.assign(msg, extra, { payload: events }));
    }

    function sendEach(
      msg: Msg,
      send: (m: NodeMessage | NodeMessage[]) => void,
      events: GraphEvent[],
      extra: Record<string, unknown>,
      changeOf?: string[],
    ): void {
      const id = crypto.randomUUID();
      const { payload: _payload, parts: _parts, ...base } = msg;
      events.forEach((event, index) => {
        const out = RED.util.cloneMessage(base as NodeMessage) as Msg;
        Object.assign(out, extra, {
          payload: event,
          parts: { id, index, count: events.length, len: 1, type: 'array' },
        });
        if (changeOf) out.change = changeOf[index];
        send(out);
      });
    }

    // Inputs queue behind each other (nothing is dropped); a poll tick during a fetch is skipped instead.
    const runner = new NodeRunner<Msg>(
      {
        failed: (error) => node.status(statusForError(error)),
        poll: () => {
          // An unconfigured config node is shown on the status; repeating it as an error every tick is noise.
          if (configProblem(config)?.code === 'INVALID_CONFIG') return undefined;
          const msg = { _msgid: RED.util.generateId(), topic: 'poll' } as unknown as Msg;
          return { msg, run: (signal) => run(msg, (m) => node.send(m), signal) };
        },
        reportPollError: (error, msg) => node.error(error, msg),
      },
      { pollMs: config ? numberProp(def.pollMinutes, 0) * 60_000 : 0 },
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
  RED.nodes.registerType('o365-events', O365Events);
};
