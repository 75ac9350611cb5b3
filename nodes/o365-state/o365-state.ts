// o365-state ("calendar state"): whether the calendar is busy now, the events in progress and the next one, sent
// when that changes (by timer at every start and end, or after a read) and on every input.
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import { CalendarWatch } from '../shared/calendar/watch-node';
import { CalendarState, StateController } from '../shared/calendar/calendar-state';
import { WatchDef, WatchSettings, watchSettings } from '../shared/calendar/watch-settings';
import type { O365ConfigNode } from '../shared/node-red/config-node';
import type { O365Error } from '../shared/node-red/errors';
import { NodeRunner } from '../shared/node-red/runner';
import {
  authStatusListener,
  configProblem,
  statusCalendarState,
  statusForError,
  statusNotConfigured,
  statusWaiting,
  toNodeError,
} from '../shared/node-red/status';
import { systemClock } from '../shared/time/clock';
import { addInstants } from '../shared/time/instants';
import { isoWithOffset } from '../shared/time/wall-clock';

interface StateNodeDef extends NodeDef, WatchDef {
  config: string;
}

type Msg = NodeMessageInFlow & Record<string, unknown>;

/** The span a state node needs: now to 24 h ahead (DESIGN.md). */
const STATE_AHEAD_MS = 86_400_000;

export = function (RED: NodeAPI) {
  function O365State(this: Node, def: StateNodeDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const clock = systemClock;
    const config = RED.nodes.getNode(def.config) as O365ConfigNode | null;
    let settings: WatchSettings | undefined;
    let problem: O365Error | undefined;
    try {
      settings = watchSettings(def);
    } catch (err) {
      problem = toNodeError(err);
    }
    let watch: CalendarWatch | undefined;
    let readError: O365Error | undefined;
    let lastState: CalendarState | undefined;
    /** The input being answered: its message and send, for the state the input emits. */
    let answering: { msg: Msg; send: (m: NodeMessage) => void } | undefined;

    // A node whose own settings cannot work keeps saying so, whatever the sign-in does.
    const onState = authStatusListener((status) => {
      if (!problem) node.status(status);
    });
    if (config) config.register(onState);

    function showStatus(): void {
      if (!config) return node.status(statusNotConfigured());
      const blocked = problem ?? readError;
      if (blocked) return node.status(statusForError(blocked));
      if (lastState && settings) node.status(statusCalendarState(lastState, settings.zone.iana, clock.now()));
    }

    function payloadOf(state: CalendarState) {
      return {
        busy: state.busy,
        current: state.current,
        next: state.next,
        until: state.untilMs === undefined ? null : isoWithOffset(state.untilMs, settings!.zone.iana),
      };
    }

    const controller = new StateController({
      clock,
      emit: (state, reason) => {
        const fields = {
          topic: state.busy ? 'busy' : 'free',
          payload: payloadOf(state),
          user: watch?.user ?? '',
          calendarId: watch?.calendarId ?? '',
        };
        if (reason === 'input' && answering) {
          answering.send(Object.assign(answering.msg, RED.util.cloneMessage(fields as NodeMessage)));
        } else {
          node.send(RED.util.cloneMessage({ _msgid: RED.util.generateId(), ...fields } as NodeMessage));
        }
      },
      updated: (state) => {
        lastState = state;
        showStatus();
      },
    });

    if (!problem && config && settings) {
      const s = settings;
      watch = new CalendarWatch(config, s, {
        span: (now) => ({ start: now, end: now + STATE_AHEAD_MS }),
        read: (result) => {
          readError = undefined;
          const events = result.events.map((event) => addInstants(event as never, s.zone)).filter(s.accept);
          controller.applyRead(events, watch!.inputWaiting);
        },
        failed: (error, quiet) => {
          // The events known so far stay: the timers keep the state current through an outage.
          readError = error;
          showStatus();
          if (!quiet && error.code !== 'INVALID_CONFIG')
            node.error(error, { _msgid: RED.util.generateId(), topic: 'poll' });
        },
        waiting: (seconds) => node.status(statusWaiting(seconds)),
      });
      const mode = config.manager?.mode ?? 'delegated';
      if (mode === 'delegated' || s.user) watch.start();
    }
    showStatus();

    const runner = new NodeRunner<Msg>(
      {
        failed: (error) => node.status(statusForError(error)),
        reportPollError: (error, msg) => node.error(error, msg),
      },
      { pollMs: 0 },
    );

    node.on('input', (msg: NodeMessageInFlow, send, done) => {
      runner.input(async () => {
        if (problem) throw problem;
        const blocked = configProblem(config);
        if (blocked) throw blocked;
        await watch!.refresh(msg as Msg, config!.manager!.mode);
        answering = { msg: msg as Msg, send };
        try {
          controller.input();
        } finally {
          answering = undefined;
        }
      }, done);
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      runner.close();
      watch?.close();
      controller.stop();
      if (config) config.deregister(onState);
      done();
    });
  }
  RED.nodes.registerType('o365-state', O365State);
};
