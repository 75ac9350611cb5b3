// o365-trigger ("calendar trigger"): fires one message when an event starts or ends (with an offset), planned from
// the config node's shared calendar read, at most once per event, edge and instant, across restarts.
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { CalendarWatch } from '../shared/calendar/watch-node';
import { FiredStore } from '../shared/calendar/fired-store';
import { Firing, TriggerController, triggerSpan } from '../shared/calendar/trigger-plan';
import { TriggerDef, TriggerNodeSettings, triggerSettings } from '../shared/calendar/watch-settings';
import type { O365ConfigNode } from '../shared/node-red/config-node';
import { O365Error } from '../shared/node-red/errors';
import { t } from '../shared/node-red/i18n';
import { NodeRunner } from '../shared/node-red/runner';
import {
  authStatusListener,
  configProblem,
  statusForError,
  statusNextFiring,
  statusNoFirings,
  statusNotConfigured,
  statusWaiting,
  toNodeError,
} from '../shared/node-red/status';
import { systemClock } from '../shared/time/clock';
import { addInstants } from '../shared/time/instants';
import { isoWithOffset } from '../shared/time/wall-clock';

interface TriggerNodeDef extends NodeDef, TriggerDef {
  config: string;
}

type Msg = NodeMessageInFlow & Record<string, unknown>;

function codeOf(err: unknown): string {
  const code = err && typeof err === 'object' ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : 'error';
}

const sweepers = new WeakMap<object, () => void>();

export = function (RED: NodeAPI) {
  // After every deploy, the fired sets of trigger nodes no longer deployed go after the token store's grace period
  // (a disabled tab or a node deployed away for a moment comes back to its memory). One listener per runtime.
  const previous = sweepers.get(RED.events);
  if (previous) RED.events.removeListener('flows:started', previous);
  const sweep = () => {
    const dirs = new Set<string>();
    const triggers: string[] = [];
    RED.nodes.eachNode((n) => {
      if (n.type === 'o365-trigger') triggers.push(n.id);
      const config = n.type === 'o365-config' ? (RED.nodes.getNode(n.id) as O365ConfigNode | null) : null;
      if (config?.dataDir) dirs.add(config.dataDir);
    });
    for (const dir of dirs) FiredStore.sweep(dir, triggers, systemClock.now()).catch(() => undefined);
  };
  sweepers.set(RED.events, sweep);
  RED.events.on('flows:started', sweep);

  function O365Trigger(this: Node, def: TriggerNodeDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const clock = systemClock;
    const config = RED.nodes.getNode(def.config) as O365ConfigNode | null;
    let settings: TriggerNodeSettings | undefined;
    let problem: O365Error | undefined;
    try {
      settings = triggerSettings(def);
    } catch (err) {
      problem = toNodeError(err);
    }
    let controller: TriggerController | undefined;
    let store: FiredStore | undefined;
    let watch: CalendarWatch | undefined;
    let readError: O365Error | undefined;
    let closed = false;

    // A node whose own settings cannot work keeps saying so, whatever the sign-in does.
    const onState = authStatusListener((status) => {
      if (!problem) node.status(status);
    });
    if (config) config.register(onState);

    const pollMsg = () => ({ _msgid: RED.util.generateId(), topic: 'poll' }) as unknown as Msg;

    function showStatus(): void {
      if (!config) return node.status(statusNotConfigured());
      const blocked = problem ?? readError;
      if (blocked) return node.status(statusForError(blocked));
      if (!controller?.hasPlan || !settings) return;
      const next = controller.next();
      node.status(next ? statusNextFiring(next, settings.zone.iana, clock.now()) : statusNoFirings());
    }

    function send(firings: Firing[]): void {
      const zone = settings!.zone.iana;
      for (const firing of firings) {
        const msg = {
          _msgid: RED.util.generateId(),
          topic: firing.edge,
          payload: firing.event,
          trigger: {
            edge: firing.edge,
            offset: settings!.offset,
            edgeAt: isoWithOffset(firing.edgeAt, zone),
            at: isoWithOffset(firing.at, zone),
            firedAt: isoWithOffset(firing.firedAt, zone),
            late: firing.late,
          },
          user: watch?.user ?? '',
          calendarId: watch?.calendarId ?? '',
        };
        node.send(RED.util.cloneMessage(msg));
      }
    }

    // Loads the fired set, then joins the shared reader; nothing fires before both are in place.
    const ready = (async () => {
      if (problem || !config || !settings) return;
      if (configProblem(config)?.code === 'NOT_CONFIGURED') return;
      const s = settings;
      store = await FiredStore.open(config.dataDir, node.id, clock.now());
      if (closed) return;
      controller = new TriggerController({
        clock,
        settings: s,
        store,
        send,
        persistFailed: (err) =>
          node.error(
            new O365Error('PERSIST_FAILED', t('errors.calendar.persist', { reason: codeOf(err) }), {
              code: 'PERSIST_FAILED',
            }),
            pollMsg(),
          ),
        changed: showStatus,
      });
      watch = new CalendarWatch(config, s, {
        span: (now) => triggerSpan(now, s.catchUpMs, s.offsetMs),
        read: (result) => {
          readError = undefined;
          void controller!.applyRead(result.events.map((event) => addInstants(event as never, s.zone)));
        },
        failed: (error, quiet) => {
          // The plan stays: an outage never silences a meeting already known.
          readError = error;
          showStatus();
          if (!quiet && error.code !== 'INVALID_CONFIG') node.error(error, pollMsg());
        },
        waiting: (seconds) => node.status(statusWaiting(seconds)),
      });
      const mode = config.manager?.mode ?? 'delegated';
      if (mode === 'delegated' || s.user) watch.start();
    })().catch((err: unknown) => {
      problem = toNodeError(err);
      showStatus();
    });
    if (problem || !config) showStatus();

    const runner = new NodeRunner<Msg>(
      {
        failed: (error) => node.status(statusForError(error)),
        reportPollError: (error, msg) => node.error(error, msg),
      },
      { pollMs: 0 },
    );

    node.on('input', (msg: NodeMessageInFlow, _send, done) => {
      runner.input(async () => {
        if (problem) throw problem;
        const blocked = configProblem(config);
        if (blocked) throw blocked;
        await ready;
        if (problem) throw problem;
        await watch!.refresh(msg as Msg, config!.manager!.mode);
        await controller!.settled();
      }, done);
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      runner.close();
      watch?.close();
      controller?.stop();
      if (config) config.deregister(onState);
      // The next instance of this node reads the fired set: every write must be on disk first.
      void ready
        .then(() => store?.flush())
        .then(
          () => done(),
          () => done(),
        );
    });
  }
  RED.nodes.registerType('o365-trigger', O365Trigger);
};
