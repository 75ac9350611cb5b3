// The breaks `npm run mutate` (scripts/mutate.js) makes, one at a time: each names a behaviour, the exact text that
// implements it, a broken version, and the tests that must then fail. `find` must occur exactly once in `file`
// (take a line or two of context). Optional: `grep` (mocha --grep, to run only the tests that matter),
// `timeout` (mocha's per-test timeout, ms), `nodeRed` ('node-red-5' to run on Node-RED 5; the run uses this Node).
// Add a node's mutants in a block of their own, with a heading comment.
'use strict';

const RUNNER = 'nodes/shared/node-red/runner.ts';
const STATUS = 'nodes/shared/node-red/status.ts';
const EVENTS = 'nodes/o365-events/o365-events.ts';
const TOKENS = 'nodes/shared/auth/token-manager.ts';
const GRAPH = 'nodes/shared/graph/graph-client.ts';
const CONTROLLER = 'nodes/shared/calendar/events-controller.ts';
const WINDOW = 'nodes/shared/time/window.ts';

const POLLING_TEST = 'test/runtime/polling.test.js';
const EVENTS_TEST = 'test/runtime/events.test.js';
const FAULTS_HARDENING = 'test/hardening/1-faults.test.js';

module.exports = [
  // ---- NodeRunner: queue and polling ------------------------------------------------------------------------------
  {
    name: 'runner: inputs run at the same time instead of one after another',
    file: RUNNER,
    find: `  input(run: Run, done: (err?: Error) => void): void {
    this.queue = this.queue.then(async () => {`,
    replace: `  input(run: Run, done: (err?: Error) => void): void {
    this.queue = Promise.resolve().then(async () => {`,
    tests: [POLLING_TEST],
    grep: 'input messages queue',
  },
  {
    name: 'runner: a poll tick is not skipped while a fetch runs',
    file: RUNNER,
    find: 'if (this.closedFlag || this.running) return;',
    replace: 'if (this.closedFlag || (this.running && this.closedFlag)) return;',
    tests: [POLLING_TEST],
    grep: 'skips a tick',
  },

  // ---- canvas status -----------------------------------------------------------------------------------------------
  {
    name: 'status: no green ring when a sign-in problem clears',
    file: STATUS,
    find: "else if (wasBlocked) show({ fill: 'green', shape: 'ring', text: t('status.signedIn') });",
    replace: "else if (wasBlocked) void t('status.signedIn');",
    tests: [EVENTS_TEST],
    grep: 'status',
  },
  {
    name: 'status: after a read the status is not the green dot (after an error it stays red)',
    file: EVENTS,
    find: "node.status(statusCount('status.events', events.length, localClock(now(), request.zone.iana)));",
    replace: "void statusCount('status.events', events.length, localClock(now(), request.zone.iana));",
    tests: [EVENTS_TEST],
    grep: 'fault 500',
  },

  // ---- o365-events output ------------------------------------------------------------------------------------------
  {
    name: "events: msg.parts.len is not 1 in 'each' output",
    file: EVENTS,
    find: "parts: { id, index, count: events.length, len: 1, type: 'array' },",
    replace: "parts: { id, index, count: events.length, len: events.length, type: 'array' },",
    tests: [EVENTS_TEST],
    grep: 'msg.parts',
  },

  // ---- faults: the simulator must really inject what a test asks for (a break in the test's own tools) ----------
  {
    name: 'simulator: Graph faults are queued but never injected',
    file: 'test/sim/simulator.js',
    find: `    if (i < 0) return undefined;
    const f = this.faults[i];`,
    replace: `    if (i < 0 || on === 'graph') return undefined;
    const f = this.faults[i];`,
    tests: [EVENTS_TEST],
    grep: 'fault',
  },

  // The same break against the packed package in a real Node-RED (slower: packs and starts Node-RED).
  {
    name: 'simulator: Graph faults are queued but never injected (hardening)',
    file: 'test/sim/simulator.js',
    find: `    if (i < 0) return undefined;
    const f = this.faults[i];`,
    replace: `    if (i < 0 || on === 'graph') return undefined;
    const f = this.faults[i];`,
    tests: [FAULTS_HARDENING],
    grep: '504 twice|slower than the request timeout',
    timeout: 900_000,
  },

  // ---- tokens: outage fall-back and single flight ------------------------------------------------------------------
  {
    name: 'tokens: a token endpoint outage fails reads although the access token is still valid',
    file: TOKENS,
    find: '        if (!force && base.accessToken && this.clock.now() < base.expiresAt - 30_000) return base;\n',
    replace: '',
    tests: [EVENTS_TEST],
    grep: 'token endpoint',
  },
  {
    name: 'tokens: the outage fall-back uses a token that expires within 30 s',
    file: TOKENS,
    find: 'if (!force && base.accessToken && this.clock.now() < base.expiresAt - 30_000) return base;',
    replace: 'if (!force && base.accessToken && this.clock.now() < base.expiresAt) return base;',
    tests: [EVENTS_TEST],
    grep: 'token endpoint',
  },
  {
    name: 'tokens: the outage fall-back hands back a token Graph just refused (401)',
    file: TOKENS,
    find: 'if (!force && base.accessToken && this.clock.now() < base.expiresAt - 30_000) return base;',
    replace: 'if (base.accessToken && this.clock.now() < base.expiresAt - 30_000) return base;',
    tests: [EVENTS_TEST],
    grep: 'token endpoint',
  },
  {
    name: 'tokens: a refresh tries the token endpoint 5 times in an outage, not 3',
    file: 'nodes/shared/auth/oauth.ts',
    find: 'const TOKEN_ATTEMPTS = 3;',
    replace: 'const TOKEN_ATTEMPTS = 5;',
    tests: [EVENTS_TEST],
    grep: 'token endpoint',
  },
  {
    name: 'tokens: a refresh tries the token endpoint 5 times in an outage, not 3 (hardening)',
    file: 'nodes/shared/auth/oauth.ts',
    find: 'const TOKEN_ATTEMPTS = 3;',
    replace: 'const TOKEN_ATTEMPTS = 5;',
    tests: [FAULTS_HARDENING],
    grep: 'inside the refresh window',
    timeout: 900_000,
  },
  {
    name: 'tokens: concurrent refreshes are not single flight',
    file: TOKENS,
    find: 'const running = inflight.get(this.key);',
    replace: 'const running = inflight.get(this.key) && undefined;',
    tests: ['test/runtime/auth.test.js'],
    grep: 'concurrent token requests',
  },

  // ---- Graph client: Retry-After and paging ------------------------------------------------------------------------
  {
    name: 'graph: Retry-After is ignored (backoff instead)',
    file: GRAPH,
    find: `error.cause.retryAfterSeconds !== undefined
          ? error.cause.retryAfterSeconds * 1000`,
    replace: `false
          ? 0`,
    tests: [EVENTS_TEST],
    grep: 'fault',
  },
  {
    name: 'graph: paging stops after the first page',
    file: GRAPH,
    find: "next = typeof link === 'string' && link ? link : undefined;",
    replace: "next = typeof link === 'string' && !link ? link : undefined;",
    tests: [EVENTS_TEST],
    grep: 'requests',
  },

  // ---- the window's end is exclusive -------------------------------------------------------------------------------
  {
    name: 'window: an event starting exactly at the end is kept',
    file: CONTROLLER,
    find: 'return from < window.end && (to > window.start',
    replace: 'return from <= window.end && (to > window.start',
    tests: ['test/unit/window-filter.test.js'],
  },
  {
    name: 'window: an all-day event on the end date is kept',
    file: WINDOW,
    find: 'return from < window.end && to > window.start;',
    replace: 'return from <= window.end && to > window.start;',
    tests: ['test/unit/window.test.js'],
    grep: 'all-day',
  },

  // ---- sign-in (issue 13: refresh margin, sign-in bound to its config node, pickers during a dialog sign-in) ----
  {
    name: 'sign-in: the refresh margin is 1 minute instead of 5',
    file: 'nodes/shared/auth/oauth.ts',
    find: 'export const REFRESH_MARGIN_MS = 5 * 60_000;',
    replace: 'export const REFRESH_MARGIN_MS = 1 * 60_000;',
    tests: ['test/runtime/auth.test.js'],
    grep: 'less than 5 minutes',
  },
  {
    name: "sign-in: a redirected URL from another config node's sign-in is accepted",
    file: 'nodes/shared/auth/sign-in.ts',
    find: 'if (!entry || (ownerId !== undefined && entry.manager.settings.id !== ownerId)) {',
    replace: 'if (!entry) {',
    tests: ['test/runtime/auth.test.js'],
    grep: 'bound to its own config node',
  },
  {
    name: "sign-in: an unfinished dialog sign-in hides the running node's sign-in from the pickers",
    file: 'nodes/shared/auth/sign-in.ts',
    find: "if (draft && (!running || draft.status().state === 'signed-in')) return draft;",
    replace: 'if (draft) return draft;',
    tests: ['test/runtime/admin.test.js'],
    grep: 'left unfinished',
  },

  // ---- calendar trigger and calendar state (issue 10) ------------------------------------------------------------
  {
    name: 'trigger: the offset is applied backwards (-10m fires after the edge)',
    file: 'nodes/shared/calendar/trigger-plan.ts',
    find: 'at: edgeAt + settings.offsetMs,',
    replace: 'at: edgeAt - settings.offsetMs,',
    tests: ['test/unit/trigger-plan.test.js'],
  },
  {
    name: 'trigger: the message goes out before the fired set is on disk',
    file: 'nodes/shared/calendar/trigger-plan.ts',
    find: `      try {
        await write;
      } catch (err) {
        this.options.persistFailed(err);
      }
      if (!firings.length || this.stopped) return;`,
    replace: `      if (firings.length && !this.stopped) {
        const firedAt = this.options.clock.now();
        this.options.send(firings.map((f) => ({ ...f, firedAt })));
      }
      try {
        await write;
      } catch (err) {
        this.options.persistFailed(err);
      }
      return;`,
    tests: ['test/unit/trigger-plan.test.js'],
  },
  {
    name: 'state: touching events do not join the busy block (until ends at the first)',
    file: 'nodes/shared/calendar/calendar-state.ts',
    find: 'for (const e of list) if (e.start <= blockEnd && e.end > blockEnd) blockEnd = e.end;',
    replace: 'for (const e of list) if (e.start < blockEnd && e.end > blockEnd) blockEnd = e.end;',
    tests: ['test/unit/calendar-state.test.js'],
  },

  // ---- free/busy (issue 11) --------------------------------------------------------------------------------------
  {
    name: 'free/busy: batches of 25 schedules (Graph documents 20)',
    file: 'nodes/shared/calendar/freebusy.ts',
    find: 'export const MAX_SCHEDULES_PER_REQUEST = 20;',
    replace: 'export const MAX_SCHEDULES_PER_REQUEST = 25;',
    tests: ['test/runtime/schedule.test.js'],
    grep: '250 rooms',
  },
  {
    name: 'free/busy: oof does not count as busy',
    file: 'nodes/shared/calendar/freebusy.ts',
    find: "const BUSY = new Set(['busy', 'tentative', 'oof']);",
    replace: "const BUSY = new Set(['busy', 'tentative']);",
    tests: ['test/unit/freebusy.test.js'],
  },

  // ---- calendar write (issue 12) ---------------------------------------------------------------------------------
  {
    name: 'write: a message sent again is not looked up by its transactionId before creating',
    file: 'nodes/shared/calendar/writer.ts',
    find: `    const found = await findCreated(graph, plan, request);
    if (found) return found;
  }`,
    replace: `    void findCreated;
  }`,
    tests: ['test/runtime/write.test.js'],
    grep: 'Catch',
  },

  // ---- instants (every node) -------------------------------------------------------------------------------------
  {
    name: "instants: the ISO form of an edge ignores the hour's offset",
    file: 'nodes/shared/time/instants.ts',
    find: 'if (facts && own === zone.iana) return { ms, iso: localIso(local) + facts.offset };',
    replace: "if (facts && own === zone.iana) return { ms, iso: localIso(local) + '+00:00' };",
    tests: ['test/runtime/trigger.test.js', 'test/runtime/write.test.js'],
  },
];
