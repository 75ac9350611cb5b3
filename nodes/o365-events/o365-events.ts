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
import { t } from '../shared/node-red/i18n';
import {
  configProblem,
  statusForAuth,
  statusForError,
  statusNotConfigured,
  statusWaiting,
  toNodeError,
} from '../shared/node-red/status';
import { now } from '../shared/test-hooks';
import type { AuthStatus } from '../shared/auth/token-manager';
import { zonedParts } from '../shared/time/wall-clock';

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

function clock(zone: string): string {
  const p = zonedParts(now(), zone);
  return `${String(p.hour).padStart(2, '0')}:${String(p.minute).padStart(2, '0')}`;
}

export = function (RED: NodeAPI) {
  function O365Events(this: Node, def: EventsDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const config = RED.nodes.getNode(def.config) as O365ConfigNode | null;
    const settings = settingsFrom(def);
    const each = def.output === 'each';
    const pollMinutes = numberProp(def.pollMinutes, 0);
    const baselines = config && settings.changesOnly ? new BaselineStore(config.dataDir) : undefined;
    const controller = new AbortController();
    let closed = false;
    let busy = false;
    let queue: Promise<void> = Promise.resolve();
    let pollTimer: NodeJS.Timeout | undefined;
    let lastAuth: AuthStatus | undefined;

    const onState = (status: AuthStatus) => {
      const wasBlocked = lastAuth && lastAuth.state !== 'signed-in';
      lastAuth = status;
      if (status.state !== 'signed-in') node.status(statusForAuth(status));
      else if (wasBlocked) node.status({ fill: 'green', shape: 'ring', text: t('status.signedIn') });
    };
    if (config) config.register(onState);
    else node.status(statusNotConfigured());

    function baselineKey(request: EventsRequest): string {
      return BaselineStore.key([
        node.id,
        request.user,
        request.calendarId,
        request.view,
        settings.start,
        settings.end,
      ]);
    }

    /** Fetches once and sends; errors go to done (input) or node.error with a msg (polling), both reach Catch. */
    async function run(msg: Msg, send: (m: NodeMessage | NodeMessage[]) => void): Promise<void> {
      const problem = configProblem(config);
      if (problem) throw problem;
      await config!.ready;
      const manager = config!.manager!;
      const request = resolveRequest(settings, msg, manager.mode);
      node.status({ fill: 'blue', shape: 'ring', text: t('status.fetching') });
      const result = await fetchEvents(config!.graph!, request, {
        configKey: manager.key,
        mode: manager.mode,
        signal: controller.signal,
        onWait: (seconds) => node.status(statusWaiting(seconds)),
      });
      if (closed) return;
      const events = result.events;
      const extra: Record<string, unknown> = { user: request.user, calendarId: request.calendarId };
      if (result.window) extra.window = { start: result.window.startIso, end: result.window.endIso };
      node.status({
        fill: 'green',
        shape: 'dot',
        text: t('status.events', { count: events.length, time: clock(request.zone.iana) }),
      });

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

    function fail(err: unknown): ReturnType<typeof toNodeError> {
      const error = toNodeError(err);
      if (!closed && error.code !== 'ABORTED') node.status(statusForError(error));
      return error;
    }

    node.on('input', (msg: NodeMessageInFlow, send, done) => {
      // Inputs queue behind each other (nothing is dropped); a poll tick during a fetch is skipped instead.
      queue = queue.then(async () => {
        busy = true;
        try {
          await run(msg as Msg, send);
          done();
        } catch (err) {
          const error = fail(err);
          if (error.code !== 'ABORTED') done(error);
          else done();
        } finally {
          busy = false;
        }
      });
    });

    function poll(): void {
      if (closed || busy) return;
      // An unconfigured config node is shown on the status; repeating it as an error every tick is noise.
      if (configProblem(config)?.code === 'INVALID_CONFIG') return;
      busy = true;
      const msg = { _msgid: RED.util.generateId(), topic: 'poll' } as unknown as Msg;
      queue = queue.then(async () => {
        try {
          await run(msg, (m) => node.send(m));
        } catch (err) {
          const error = fail(err);
          if (error.code !== 'ABORTED') node.error(error, msg);
        } finally {
          busy = false;
        }
      });
    }

    if (pollMinutes > 0 && config) {
      const first = setTimeout(poll, 250);
      first.unref?.();
      pollTimer = setInterval(poll, pollMinutes * 60_000);
      pollTimer.unref?.();
      node.on('close', () => clearTimeout(first));
    }

    node.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      if (pollTimer) clearInterval(pollTimer);
      controller.abort();
      if (config) config.deregister(onState);
      done();
    });
  }
  RED.nodes.registerType('o365-events', O365Events);
};
