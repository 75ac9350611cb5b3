// A simulator of the Microsoft identity platform v2 and the Graph calendar API on loopback, for tests and the demo.
//
// One HTTP server answers both hosts: the login host (/{tenant}/oauth2/v2.0/authorize|token|devicecode,
// /devicelogin) and Graph (/v1.0/...). The tenant's data is described at the top of data.js. The behaviour follows
// Microsoft's documentation (identity platform: auth code, device code, client credentials, AADSTS errors; Graph:
// calendarView, event, errors, throttling), with knobs and injectable faults for what tests need.
//
//   const { startSimulator } = require('./test/sim/simulator');
//   const sim = await startSimulator({ port: 0, seed: 42, eventCount: 3000, anchor: Date.now() });
//
// Standalone: node test/sim/simulator.js [--port N] [--events N] [--seed N] prints one JSON line
// { url, tenantId, tenantDomain, apps, users } and runs until SIGINT/SIGTERM.
'use strict';
const http = require('http');
const tz = require('./tz');
const { Model, toMs, parseIsoInstant, parseLocalDateTime, randomSource } = require('./model');
const data = require('./data');
const { Identity, HttpError } = require('./identity');
const { Graph } = require('./graph');
const { Writes } = require('./write');
const { Schedule } = require('./schedule');
const { renderEvent } = require('./render');
const { readBody, firstValues, sendJson, aadErrorBody } = require('./http');

const FAULT_TARGETS = ['graph', 'token', 'devicecode'];
const FAULT_TYPES = ['429', '503', '504', '500', 'reset', 'slow', 'brokenJson', '401'];
const UTC_CONTEXT = { zone: { name: 'UTC', iana: 'UTC' }, textBody: false };

function defaultKnobs(users) {
  return {
    accessTokenLifetime: 3599,
    refreshIn: undefined,
    revokeUsedRefreshTokens: false,
    declineConsent: false,
    interactiveConsent: false,
    signInAs: users.megan.upn,
    consentMissing: false,
    secretExpired: false,
    graphLatencyMs: 0,
    mailboxConcurrency: 4,
    concurrencyRetryAfter: 1,
    deviceInterval: 5,
    deviceExpiresIn: 900,
    appAccess: 'all',
    tokenEndpointDown: false,
    roomSharedWithMegan: true,
  };
}

function classify(pathname) {
  if (/^\/v1\.0(\/|$)/.test(pathname)) return 'graph';
  if (pathname === '/devicelogin') return 'devicelogin';
  const m = /^\/([^/]+)\/oauth2\/v2\.0\/(authorize|token|devicecode)$/.exec(pathname);
  if (m) return m[2];
  return 'other';
}

function decodeLoosely(text) {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

class Simulator {
  constructor(options = {}) {
    this.seed = options.seed === undefined ? 42 : Number(options.seed) >>> 0;
    this.anchor = options.anchor === undefined ? Date.now() : toMs(options.anchor);
    this.eventCount = options.eventCount === undefined ? 3000 : Number(options.eventCount);
    this.tenantId = data.TENANT_ID;
    this.tenantDomain = data.TENANT_DOMAIN;
    this.tenantName = data.TENANT_NAME;
    this.url = '';
    this.clockOffset = 0;
    this.requests = [];
    this.stats = { maxInFlight: {}, faultsInjected: 0, refreshes: 0 };
    this.faults = [];
    this.timers = new Set();
    this.sequence = 0;
    this.model = new Model({ seed: this.seed, anchor: this.anchor, clock: () => this.now() });
    const seeded = data.seedTenant(this.model, {
      seed: this.seed,
      anchor: this.anchor,
      eventCount: this.eventCount,
    });
    this.users = seeded.users;
    this.fixtures = seeded.fixtures;
    this.apps = data.defaultApps();
    this.knobs = defaultKnobs(this.users);
    this.identity = new Identity(this);
    this.graph = new Graph(this);
    this.writes = new Writes(this);
    this.schedule = new Schedule(this, options);
    this.server = http.createServer((req, res) => this.handle(req, res));
  }

  listen(port) {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port || 0, '127.0.0.1', () => {
        this.server.off('error', reject);
        this.url = `http://127.0.0.1:${this.server.address().port}`;
        resolve(this);
      });
    });
  }

  // ---- clock and timers ---------------------------------------------------------------------------------------

  /** The simulator's clock (ms): real time plus whatever advanceClock added. */
  now() {
    return Date.now() + this.clockOffset;
  }

  advanceClock(ms) {
    this.clockOffset += Number(ms);
    return this.now();
  }

  /** A real-time wait that never keeps the process alive and ends when the simulator closes. */
  delay(ms) {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      timer.unref();
      timer.resolve = resolve;
      this.timers.add(timer);
    });
  }

  // ---- HTTP ---------------------------------------------------------------------------------------------------

  async handle(req, res) {
    const rawUrl = req.url || '/';
    const q = rawUrl.indexOf('?');
    const rawPath = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const rawQuery = q < 0 ? '' : rawUrl.slice(q + 1);
    const kind = classify(rawPath);
    const entry = {
      seq: ++this.sequence,
      time: this.now(),
      kind,
      method: req.method,
      path: decodeLoosely(rawPath),
      rawPath,
      rawQuery,
      query: firstValues(new URLSearchParams(rawQuery)),
      headers: { ...req.headers },
      form: undefined,
      grantType: undefined,
      mailbox: undefined,
      status: undefined,
      fault: undefined,
    };
    this.requests.push(entry);
    res.on('close', () => {
      res.simClosed = true;
      entry.status = res.writableFinished || res.headersSent ? res.statusCode : 0;
    });
    try {
      let form;
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        const body = await readBody(req);
        entry.rawBody = body;
        if (/^application\/x-www-form-urlencoded\b/i.test(req.headers['content-type'] || '')) {
          form = firstValues(new URLSearchParams(body.toString('utf8')));
          entry.form = form;
          entry.grantType = form.grant_type;
        } else if (body.length) {
          // A JSON body (Graph writes), kept in the log as received.
          try {
            entry.json = JSON.parse(body.toString('utf8'));
          } catch {
            entry.badJson = true;
          }
        }
      }
      if (kind === 'graph') {
        if (this.schedule.owns(entry))
          return await this.schedule.handle(req, res, entry, this.takeFault('graph', entry));
        await this.graph.handle(req, res, entry, this.takeFault('graph', entry));
        return;
      }
      const tenantSegment = decodeLoosely(rawPath.split('/')[1] || '');
      if (kind === 'token' || kind === 'devicecode') {
        if (req.method !== 'POST') {
          this.sendAadError(
            res,
            this.identity.error(
              405,
              'invalid_request',
              900561,
              `The endpoint only accepts POST requests. Received a ${req.method} request.`,
            ),
          );
          return;
        }
        const fault = this.takeFault(kind, entry);
        if (fault && !(await this.applyLoginFault(res, fault))) return;
        try {
          const answer =
            kind === 'token'
              ? this.identity.token(req, tenantSegment, form)
              : this.identity.deviceCode(req, tenantSegment, form);
          sendJson(res, 200, answer, { 'Cache-Control': 'no-store, no-cache', Pragma: 'no-cache' });
        } catch (err) {
          if (!(err instanceof HttpError)) throw err;
          this.sendAadError(res, err);
        }
        return;
      }
      if (kind === 'authorize') {
        if (req.method === 'POST') this.identity.consent(req, res, form || {});
        else this.identity.authorize(req, res, tenantSegment, entry.query);
        return;
      }
      if (kind === 'devicelogin') {
        this.identity.deviceLogin(req, res, form, entry.query);
        return;
      }
      sendJson(res, 404, { error: 'not_found', message: `The simulator serves nothing at ${rawPath}.` });
    } catch (err) {
      if (res.headersSent || res.destroyed) return;
      const status = err.status || 500;
      sendJson(res, status, { error: 'simulator_error', message: String((err && err.stack) || err) });
    }
  }

  sendAadError(res, err) {
    sendJson(res, err.status, err.body, { 'Cache-Control': 'no-store, no-cache', ...(err.headers || {}) });
  }

  /** Applies a fault on the login host. Returns true when the request should then be answered normally. */
  async applyLoginFault(res, fault) {
    const headers = {};
    if (fault.retryAfter !== undefined && (fault.type === '429' || fault.type === '503')) {
      headers['Retry-After'] = String(fault.retryAfter);
    }
    const send = (status, error, code, message) => {
      const body = aadErrorBody({ error, codes: [code], message, now: this.now(), loginUrl: this.url });
      sendJson(res, status, body, { 'Cache-Control': 'no-store, no-cache', ...headers });
      return false;
    };
    switch (fault.type) {
      case 'reset':
        res.socket.destroy();
        return false;
      case 'slow':
        await this.delay(Number(fault.delayMs) || 0);
        return !res.destroyed;
      case 'brokenJson':
        res.simBrokenJson = true;
        return true;
      case '429':
        return send(
          429,
          'temporarily_unavailable',
          90055,
          'There are too many incoming requests. Retry later.',
        );
      case '503':
        return send(
          503,
          'temporarily_unavailable',
          90033,
          'A transient error has occurred. Please try again.',
        );
      case '504':
        return send(
          504,
          'temporarily_unavailable',
          90033,
          'A transient error has occurred. Please try again.',
        );
      case '500':
        return send(500, 'server_error', 90033, 'An internal error has occurred. Please try again.');
      case '401':
        return send(401, 'invalid_client', 7000215, 'Invalid client secret provided.');
      default:
        return true;
    }
  }

  // ---- faults -------------------------------------------------------------------------------------------------

  /** Queues a fault: { on, type, retryAfter?, delayMs?, times = 1, match? }. */
  fault(spec) {
    const f = { times: 1, ...spec, type: String(spec.type) };
    if (!FAULT_TARGETS.includes(f.on)) throw new Error(`fault.on must be one of ${FAULT_TARGETS.join(', ')}`);
    if (!FAULT_TYPES.includes(f.type)) throw new Error(`fault.type must be one of ${FAULT_TYPES.join(', ')}`);
    this.faults.push(f);
    return f;
  }

  clearFaults() {
    this.faults.length = 0;
  }

  takeFault(on, entry) {
    const i = this.faults.findIndex(
      (f) =>
        f.on === on &&
        f.times > 0 &&
        (f.match === undefined ||
          entry.path.includes(f.match) ||
          `${entry.rawPath}?${entry.rawQuery}`.includes(f.match)),
    );
    if (i < 0) return undefined;
    const f = this.faults[i];
    f.times -= 1;
    if (f.times <= 0) this.faults.splice(i, 1);
    this.stats.faultsInjected += 1;
    entry.fault = f.type;
    return f;
  }

  clearLog() {
    this.requests.length = 0;
  }

  // ---- identity shortcuts ---------------------------------------------------------------------------------------

  resolveUser(key) {
    if (key === undefined || key === null) return this.users.megan;
    const user = Object.hasOwn(this.users, key) ? this.users[key] : this.model.user(key);
    if (!user) throw new Error(`unknown user ${key}`);
    return user;
  }

  /** The token endpoint's answer for a signed-in user (or, with appOnly, for client credentials), without HTTP. */
  issueTokens({
    user,
    app = 'confidential',
    scope = 'offline_access openid profile Calendars.Read Calendars.Read.Shared',
    appOnly = false,
  } = {}) {
    let registration = app;
    if (typeof app === 'string') registration = Object.hasOwn(this.apps, app) ? this.apps[app] : undefined;
    if (!registration) throw new Error(`unknown app ${app}`);
    if (appOnly) return this.identity.issueApp(registration);
    const parsed = this.identity.parseScopes(scope);
    if (parsed.unknown) throw new Error(`unknown scope ${parsed.unknown}`);
    return this.identity.issueDelegated({
      app: registration,
      user: this.resolveUser(user),
      scopes: parsed.scopes,
      publicClient: !registration.secret || app === 'public',
    });
  }

  /**
   * Makes every refresh token issued so far (for one user, or all) fail with that AADSTS code and OAuth `error`
   * (invalid_grant unless given, e.g. interaction_required) and `suberror` (MFA codes default to basic_action).
   */
  revokeRefreshTokens({ user, code = 70008, error = 'invalid_grant', suberror } = {}) {
    const upn = user === undefined ? undefined : this.resolveUser(user).upn.toLowerCase();
    const numeric = Number(code);
    const sub =
      suberror !== undefined
        ? suberror
        : numeric === 65001
          ? 'consent_required'
          : numeric === 50076 || numeric === 50079
            ? 'basic_action'
            : undefined;
    let count = 0;
    for (const rec of this.identity.refreshTokens.values()) {
      if (upn === undefined || rec.upn.toLowerCase() === upn) {
        rec.revoked = { code: numeric, error, suberror: sub };
        count++;
      }
    }
    return count;
  }

  approveDevice(userCode, upn) {
    const rec = this.identity.approve(userCode, upn === undefined ? undefined : this.resolveUser(upn).upn);
    return { userCode: rec.userCode, status: rec.status, upn: rec.upn };
  }

  declineDevice(userCode) {
    const rec = this.identity.decline(userCode);
    return { userCode: rec.userCode, status: rec.status };
  }

  pendingDeviceCodes() {
    const now = this.now();
    return [...this.identity.deviceCodes.values()]
      .filter((r) => r.status === 'pending' && now < r.expiresAt)
      .map((r) => ({
        userCode: r.userCode,
        deviceCode: r.deviceCode,
        clientId: r.clientId,
        scopes: r.scopes.slice(),
        interval: r.interval,
        expiresAt: r.expiresAt,
      }));
  }

  // ---- data ---------------------------------------------------------------------------------------------------

  calendars(upn) {
    return this.model.calendarsOf(this.resolveUser(upn)).map((c) => ({
      id: c.id,
      name: c.name,
      isDefaultCalendar: c.isDefault,
      owner: { name: c.owner.displayName, address: c.owner.upn },
    }));
  }

  calendarOf(upn, calendarId) {
    const user = this.resolveUser(upn);
    const calendar = this.model.calendar(user, calendarId);
    if (!calendar) throw new Error(`unknown calendar ${calendarId} of ${user.upn}`);
    return calendar;
  }

  /** Adds an event given in Graph's shape (start/end as {dateTime, timeZone}, or ms/Date/ISO with offset). */
  addEvent(upn, calendarId, partial = {}) {
    const calendar = this.calendarOf(upn, calendarId);
    const spec = eventSpec(partial, calendar.owner, undefined, this.now());
    this.added = (this.added || 0) + 1;
    const item = this.model.insert(calendar, spec, randomSource((this.seed * 31 + this.added) >>> 0));
    return renderEvent(Model.itemInstance(item, 'UTC'), UTC_CONTEXT);
  }

  /** Changes an event, an occurrence (which becomes an exception) or an exception; new changeKey and lastModified. */
  updateEvent(upn, eventId, patch = {}) {
    const user = this.resolveUser(upn);
    const found = this.model.find(user, eventId);
    if (!found) throw new Error(`no event ${eventId} in ${user.upn}'s calendars`);
    const { item, day } = found;
    const now = this.now();
    if (day === undefined) {
      const spec = eventSpec(patch, user, item, now);
      Object.assign(item, spec);
      item.htmlCache = undefined;
      item.changeKey = Model.nextChangeKey(item.changeKey, now);
      item.lastModifiedMs = now;
      item.type = item.recurrence ? 'seriesMaster' : 'singleInstance';
      this.model.prepare(item);
      this.model.touch(item.calendar);
      return renderEvent(Model.itemInstance(item, 'UTC'), UTC_CONTEXT);
    }
    const previous = item.exceptions.get(day);
    const exception = previous && !previous.deleted ? previous : { patch: {}, changeKey: item.changeKey };
    Object.assign(exception.patch, exceptionPatch(patch, item));
    exception.changeKey = Model.nextChangeKey(exception.changeKey, now);
    exception.lastModifiedMs = now;
    item.exceptions.set(day, exception);
    this.model.touch(item.calendar);
    return renderEvent(this.model.seriesInstance(item, day, 'UTC'), UTC_CONTEXT);
  }

  /** Deletes an event or series; an occurrence id deletes just that occurrence. */
  removeEvent(upn, eventId) {
    return this.model.remove(this.resolveUser(upn), eventId);
  }

  /** A mailbox shared with megan (and readable by app tokens) with `count` evenly spread single events. */
  createBulkMailbox(upn, count, { start, end } = {}) {
    const startMs = start === undefined ? this.anchor : toMs(start);
    const endMs = end === undefined ? startMs + 90 * tz.DAY : toMs(end);
    if (!(endMs > startMs)) throw new Error('createBulkMailbox: end must be after start');
    const user = data.createBulkMailbox(this.model, {
      seed: this.seed,
      upn,
      count,
      start: startMs,
      end: endMs,
      shareWith: this.users.megan.upn,
    });
    return { id: user.id, upn: user.upn, displayName: user.displayName, isRoom: user.isRoom };
  }

  /** The ids calendarView returns for a window, ordered by start (as with $orderby=start/dateTime). */
  expectedView({ user, calendarId = null, start, end, timeZone } = {}) {
    const calendar = this.calendarOf(user, calendarId);
    const startMs = toMs(start);
    const endMs = toMs(end);
    if (Number.isNaN(startMs) || Number.isNaN(endMs)) throw new Error('expectedView needs start and end');
    if (!(endMs > startMs)) return [];
    const zone = tz.preferredZone(timeZone) || { iana: 'UTC' };
    const list = this.model.view(calendar, startMs, endMs, zone.iana);
    return list
      .slice()
      .sort((a, b) => a.startMs - b.startMs || a.order - b.order)
      .map((i) => i.id);
  }

  /** The ids /events returns (single events and series masters), in storage order. */
  expectedEvents({ user, calendarId = null } = {}) {
    return this.model.storedItems(this.calendarOf(user, calendarId), 'UTC').map((i) => i.id);
  }

  async close() {
    for (const timer of this.timers) {
      clearTimeout(timer);
      timer.resolve();
    }
    this.timers.clear();
    await new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

/** Parses an addEvent/updateEvent time: {dateTime, timeZone}, ISO text, ms or Date. */
function parseWhen(value, zone, allDay) {
  let wall;
  let ms;
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const text = String(value.dateTime || '');
    const zoneName = value.timeZone || zone;
    const iana = tz.ianaOf(zoneName);
    if (!iana) throw new Error(`unknown time zone ${zoneName}`);
    if (/(Z|[+-]\d{2}:?\d{2})$/i.test(text)) ms = parseIsoInstant(text);
    else {
      wall = parseLocalDateTime(text);
      if (wall === undefined) throw new Error(`bad dateTime ${text}`);
      ms = tz.fromWall(wall, iana);
    }
  } else if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value)) {
    wall = parseLocalDateTime(value);
    ms = tz.fromWall(wall, tz.ianaOf(zone) || 'UTC');
  } else {
    ms = toMs(value);
    if (Number.isNaN(ms)) throw new Error(`bad time ${value}`);
  }
  if (allDay) {
    const w = wall !== undefined ? wall : ms;
    return { day: Math.floor(w / tz.DAY) };
  }
  return { ms };
}

function personOf(value) {
  if (!value) return undefined;
  if (typeof value === 'string') return { name: value.split('@')[0], address: value };
  const e = value.emailAddress || value;
  return { name: e.name || e.address, address: e.address };
}

function locationOf(value) {
  if (value === undefined) return undefined;
  if (value === null) return null;
  if (typeof value === 'string') return { displayName: value };
  return { ...value };
}

/**
 * An internal item spec from a Graph-shaped event (partial). With `existing`, fields not in the partial keep the
 * existing values (used by updateEvent).
 */
function eventSpec(partial, owner, existing, now) {
  const spec = {};
  const has = (k) => Object.prototype.hasOwnProperty.call(partial, k);
  for (const k of [
    'subject',
    'isCancelled',
    'showAs',
    'sensitivity',
    'importance',
    'reminderMinutesBeforeStart',
    'isReminderOn',
    'hasAttachments',
    'responseRequested',
  ]) {
    if (has(k)) spec[k] = partial[k];
  }
  if (has('categories')) spec.categories = partial.categories.slice();
  if (has('id') && !existing) spec.id = partial.id;
  const isAllDay = has('isAllDay') ? !!partial.isAllDay : existing ? existing.isAllDay : false;
  spec.isAllDay = isAllDay;
  const startTz =
    (partial.start && partial.start.timeZone) ||
    partial.originalStartTimeZone ||
    (existing && existing.startTz) ||
    'UTC';
  if (!tz.ianaOf(startTz)) throw new Error(`unknown time zone ${startTz}`);
  const endTz =
    (partial.end && partial.end.timeZone) ||
    partial.originalEndTimeZone ||
    (existing && existing.endTz) ||
    startTz;
  if (has('start') || has('end') || has('isAllDay') || !existing) {
    if (!has('start') && !existing) throw new Error('addEvent needs start');
    spec.startTz = startTz;
    spec.endTz = endTz;
    if (isAllDay) {
      const start = has('start')
        ? parseWhen(partial.start, startTz, true).day
        : existing.isAllDay
          ? existing.startDay
          : Math.floor(tz.toWall(existing.startMs, existing.iana) / tz.DAY);
      const end = has('end')
        ? parseWhen(partial.end, endTz, true).day
        : existing && existing.isAllDay && !has('start')
          ? existing.endDay
          : start + 1;
      Object.assign(spec, {
        startDay: start,
        endDay: Math.max(end, start + 1),
        startMs: undefined,
        endMs: undefined,
      });
    } else {
      const start = has('start') ? parseWhen(partial.start, startTz, false).ms : existing.startMs;
      const duration = existing && !existing.isAllDay ? existing.endMs - existing.startMs : 30 * tz.MINUTE;
      const end = has('end') ? parseWhen(partial.end, endTz, false).ms : start + duration;
      if (!Number.isFinite(start) || !Number.isFinite(end)) throw new Error('bad start or end');
      Object.assign(spec, {
        startMs: start,
        endMs: Math.max(end, start),
        startDay: undefined,
        endDay: undefined,
      });
    }
  }
  if (has('location')) spec.location = locationOf(partial.location);
  if (has('attendees')) {
    spec.attendees = (partial.attendees || []).map((a) => {
      const p = personOf(a);
      return { ...p, type: a.type || 'required', response: (a.status && a.status.response) || 'none' };
    });
  }
  if (has('organizer')) {
    spec.organizer = personOf(partial.organizer);
    spec.isOrganizer = spec.organizer.address.toLowerCase() === owner.upn.toLowerCase();
    if (!spec.isOrganizer) {
      spec.response = (partial.responseStatus && partial.responseStatus.response) || 'accepted';
    }
  }
  // The owner's answer (accepted, tentativelyAccepted, declined, ...): what a trigger's skipDeclined looks at.
  if (has('responseStatus') && partial.responseStatus) spec.response = partial.responseStatus.response;
  if (has('onlineMeeting') || has('isOnlineMeeting')) {
    const join = partial.onlineMeeting && partial.onlineMeeting.joinUrl;
    spec.joinUrl =
      join ||
      (partial.isOnlineMeeting
        ? `https://teams.microsoft.com/l/meetup-join/19%3ameeting_sim${now}%40thread.v2/0`
        : null);
    spec.isOnlineMeeting = !!spec.joinUrl;
  }
  if (has('body') && partial.body) {
    if (String(partial.body.contentType).toLowerCase() === 'html') {
      spec.bodyHtml = String(partial.body.content || '');
    } else {
      spec.bodyText = String(partial.body.content || '');
      spec.bodyHtml = undefined;
    }
  }
  if (has('recurrence')) {
    spec.recurrence = partial.recurrence ? JSON.parse(JSON.stringify(partial.recurrence)) : null;
    if (spec.recurrence) {
      const type = spec.recurrence.pattern && spec.recurrence.pattern.type;
      const known = [
        'daily',
        'weekly',
        'absoluteMonthly',
        'relativeMonthly',
        'absoluteYearly',
        'relativeYearly',
      ];
      if (!known.includes(type)) throw new Error(`unsupported recurrence pattern ${type}`);
      if (!spec.recurrence.range) spec.recurrence.range = { type: 'noEnd' };
    }
  }
  if (!existing) {
    spec.createdMs = now;
    spec.lastModifiedMs = now;
  }
  return spec;
}

/** The fields of an occurrence's exception from a Graph-shaped patch. */
function exceptionPatch(patch, item) {
  const out = {};
  for (const k of ['subject', 'isCancelled', 'showAs', 'sensitivity', 'importance']) {
    if (k in patch) out[k] = patch[k];
  }
  if ('categories' in patch) out.categories = patch.categories.slice();
  if ('location' in patch) out.location = locationOf(patch.location);
  if ('body' in patch && patch.body) {
    if (String(patch.body.contentType).toLowerCase() === 'html') {
      out.bodyHtml = String(patch.body.content || '');
    } else out.bodyText = String(patch.body.content || '');
  }
  if ('start' in patch || 'end' in patch) {
    if (item.isAllDay) {
      if ('start' in patch) out.startDay = parseWhen(patch.start, item.startTz, true).day;
      if ('end' in patch) out.endDay = parseWhen(patch.end, item.endTz, true).day;
    } else {
      if ('start' in patch) out.startMs = parseWhen(patch.start, item.startTz, false).ms;
      if ('end' in patch) out.endMs = parseWhen(patch.end, item.endTz, false).ms;
      if ('start' in patch && !('end' in patch)) out.endMs = out.startMs + item.durationMs;
    }
  }
  return out;
}

/** Starts a simulator listening on 127.0.0.1. Options: { port, seed, eventCount, anchor } (all optional). */
async function startSimulator(options = {}) {
  const sim = new Simulator(options);
  await sim.listen(options.port);
  return sim;
}

module.exports = { startSimulator, Simulator };

if (require.main === module) {
  const args = process.argv.slice(2);
  const arg = (name) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const options = {};
  if (arg('port') !== undefined) options.port = Number(arg('port'));
  if (arg('events') !== undefined) options.eventCount = Number(arg('events'));
  if (arg('seed') !== undefined) options.seed = Number(arg('seed'));
  startSimulator(options).then(
    (sim) => {
      const users = Object.fromEntries(Object.entries(sim.users).map(([k, u]) => [k, u.upn]));
      process.stdout.write(
        `${JSON.stringify({ url: sim.url, tenantId: sim.tenantId, tenantDomain: sim.tenantDomain, apps: sim.apps, users })}\n`,
      );
      const stop = () => sim.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    },
    (err) => {
      process.stderr.write(`${err.stack || err}\n`);
      process.exit(1);
    },
  );
}
