// The simulated Microsoft Graph v1.0 calendar API: calendars, calendarView, events, paging, throttling, errors.
'use strict';
const tz = require('./tz');
const { parseIsoInstant } = require('./model');
const {
  renderEvent,
  renderCalendar,
  parseSelect,
  EVENT_PROPERTY_NAMES,
  CALENDAR_PROPERTY_NAMES,
} = require('./render');
const { sendJson, graphErrorBody, guid } = require('./http');

const MAX_WINDOW_DAYS = 1825;
const ODATA_JSON =
  'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';
const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
const ACCESS_DENIED = 'Access is denied. Check credentials and try again.';
const ORDERABLE = {
  'start/datetime': (i) => i.startMs,
  'end/datetime': (i) => i.endMs,
  subject: (i) => (i.exc && i.exc.patch.subject !== undefined ? i.exc.patch.subject : i.item.subject),
  createddatetime: (i) => i.item.createdMs,
  lastmodifieddatetime: (i) => (i.exc ? i.exc.lastModifiedMs : i.item.lastModifiedMs),
};

class GraphError {
  constructor(status, code, message, headers = {}) {
    this.status = status;
    this.code = code;
    this.message = message;
    this.headers = headers;
  }
}

/**
 * Splits a raw path into segments, decoding each one once. Graph reads an encoded slash as a separator ('%2F' in
 * an id gives 400 "Resource not found for the segment …", observed:
 * github.com/microsoftgraph/microsoft-graph-docs/issues/10167), so it is decoded before the split.
 */
function segmentsOf(rawPath) {
  return rawPath
    .replace(/%2F/gi, '/')
    .split('/')
    .slice(1)
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        throw new GraphError(
          400,
          'BadRequest',
          `The request URI is not valid: invalid percent-encoding in '${s}'.`,
        );
      }
    });
}

/**
 * Parses /v1.0/{me|users/{x}}/... into { mailbox: 'me' | {key}, target } where target is one of
 * { kind: 'user' } | { kind: 'calendars' } | { kind: 'calendar', calendarId|null } | { kind: 'calendarView'|'events',
 * calendarId|null }. The segments after the mailbox are kept for @odata.context.
 */
function parseRoute(rawPath) {
  const seg = segmentsOf(rawPath);
  if (seg[0] !== 'v1.0') throw new GraphError(400, 'BadRequest', `Invalid version: ${seg[0] || ''}`);
  let i = 1;
  let mailbox;
  const first = (seg[i] || '').toLowerCase();
  // users('{id | upn}'): OData's key form, which Graph documents for a UPN that starts with '$'
  // (learn.microsoft.com/graph/api/user-get, "HTTP request"); a quote inside the key is doubled.
  const keyForm = /^users\('((?:[^']|'')*)'\)$/i.exec(seg[i] || '');
  if (first === 'me') {
    mailbox = 'me';
    i += 1;
  } else if (keyForm) {
    mailbox = { key: keyForm[1].replace(/''/g, "'") };
    i += 1;
  } else if (first === 'users' && seg[i + 1]) {
    if (seg[i + 1].startsWith('$')) {
      // /users/$x@y reads as a system query option: 400 (same page of the docs).
      throw new GraphError(
        400,
        'BadRequest',
        `The request URI is not valid: the segment '${seg[i + 1]}' starts with '$'; address the user as users('${seg[i + 1]}').`,
      );
    }
    mailbox = { key: seg[i + 1] };
    i += 2;
  } else {
    throw new GraphError(400, 'BadRequest', `Resource not found for the segment '${seg[i] || ''}'.`);
  }
  const rest = seg.slice(i);
  const lower = rest.map((s) => s.toLowerCase());
  const notFound = (s) => new GraphError(400, 'BadRequest', `Resource not found for the segment '${s}'.`);
  let target;
  if (rest.length === 0) target = { kind: 'user' };
  else if (lower[0] === 'calendars' && rest.length === 1) target = { kind: 'calendars' };
  else if (lower[0] === 'calendar' && rest.length === 1) target = { kind: 'calendar', calendarId: null };
  else if (lower[0] === 'calendars' && rest.length === 2) target = { kind: 'calendar', calendarId: rest[1] };
  else {
    let calendarId = null;
    let j = 0;
    if (lower[0] === 'calendar') j = 1;
    else if (lower[0] === 'calendars') {
      calendarId = rest[1];
      j = 2;
    }
    const leaf = lower[j];
    if (rest.length !== j + 1) {
      if (rest.length > j + 1 && (leaf === 'calendarview' || leaf === 'events')) {
        throw new GraphError(
          400,
          'BadRequest',
          `The simulator does not implement '${rest.slice(j).join('/')}' (only list reads of calendarView and events).`,
        );
      }
      throw notFound(rest[j] || rest[rest.length - 1]);
    }
    if (leaf === 'calendarview') target = { kind: 'calendarView', calendarId };
    else if (leaf === 'events') target = { kind: 'events', calendarId };
    else throw notFound(rest[j]);
  }
  return { mailbox, target, rest };
}

/** The path after the mailbox as @odata.context writes it: calendars('id')/calendarView. */
function contextPath(rest) {
  const out = [];
  for (let i = 0; i < rest.length; i++) {
    if (rest[i].toLowerCase() === 'calendars' && i + 1 < rest.length) {
      out.push(`calendars('${encodeURIComponent(rest[i + 1])}')`);
      i++;
    } else {
      out.push(rest[i]);
    }
  }
  return out.join('/');
}

/** Reads Prefer: outlook.timezone="X" and outlook.body-content-type="text". */
function parsePrefer(header) {
  const text = Array.isArray(header) ? header.join(',') : header || '';
  const out = {};
  const zone = /outlook\.timezone\s*=\s*(?:"([^"]*)"|([^,;\s]+))/i.exec(text);
  if (zone) out.timeZone = zone[1] !== undefined ? zone[1] : zone[2];
  const body = /outlook\.body-content-type\s*=\s*"?(text|html)"?/i.exec(text);
  if (body) out.bodyType = body[1].toLowerCase();
  return out;
}

class Graph {
  constructor(core) {
    this.core = core;
    this.inFlight = new Map();
  }

  /** Resolves the mailbox of a route for a token record (for the log and concurrency), without failing. */
  mailboxOf(route, tokenRec) {
    if (!route) return undefined;
    if (route.mailbox === 'me') {
      return tokenRec && tokenRec.kind === 'delegated' ? this.core.model.user(tokenRec.upn) : undefined;
    }
    return this.core.model.user(route.mailbox.key);
  }

  authenticate(req) {
    const header = req.headers.authorization || '';
    const m = /^Bearer\s*(.*)$/i.exec(header);
    const token = m ? m[1].trim() : '';
    const challenge = {
      'WWW-Authenticate': `Bearer realm="", authorization_uri="${this.core.url}/common/oauth2/authorize", client_id="${GRAPH_APP_ID}"`,
    };
    if (!token) throw new GraphError(401, 'InvalidAuthenticationToken', 'Access token is empty.', challenge);
    const rec = this.core.identity.accessToken(token);
    if (!rec) {
      const message =
        token.split('.').length === 3
          ? 'Access token validation failure. Invalid audience or signature.'
          : 'IDX14100: JWT is not well formed, there are no dots (.).';
      throw new GraphError(401, 'InvalidAuthenticationToken', message, challenge);
    }
    if (this.core.now() >= rec.exp) {
      throw new GraphError(
        401,
        'InvalidAuthenticationToken',
        'Lifetime validation failed, the token is expired.',
        challenge,
      );
    }
    return rec;
  }

  /** Can the token read this calendar (or, with calendar null, list this user's calendars)? */
  checkAccess(tokenRec, user, calendar) {
    const knobs = this.core.knobs;
    if (tokenRec.kind === 'app') {
      if (!tokenRec.roles.some((r) => r.startsWith('Calendars.'))) {
        throw new GraphError(403, 'ErrorAccessDenied', ACCESS_DENIED);
      }
      if (knobs.appAccess === 'rooms' && !user.isRoom) {
        throw new GraphError(403, 'ErrorAccessDenied', ACCESS_DENIED);
      }
      return;
    }
    if (!tokenRec.scopes.some((s) => s.startsWith('Calendars.'))) {
      throw new GraphError(403, 'ErrorAccessDenied', ACCESS_DENIED);
    }
    if (user.upn.toLowerCase() === tokenRec.upn.toLowerCase()) return;
    if (!tokenRec.scopes.some((s) => s.endsWith('.Shared'))) {
      throw new GraphError(403, 'ErrorAccessDenied', ACCESS_DENIED);
    }
    if (calendar && !this.sharedWith(calendar, tokenRec.upn)) {
      throw new GraphError(403, 'ErrorAccessDenied', ACCESS_DENIED);
    }
  }

  /**
   * A delegated sharee reaches another mailbox's default calendar only by the `calendar` shortcut; that mailbox's
   * calendar list and its calendars by id are not hers to see (a shared custom calendar is read through her own
   * copy, /me/calendars/{copy id}): learn.microsoft.com/graph/outlook-get-shared-events-calendars. Graph answers
   * 404 ErrorItemNotFound (observed for the list: github.com/microsoftgraph/microsoft-graph-docs/issues/21343).
   */
  checkForeignFolder(tokenRec, user, target) {
    if (tokenRec.kind !== 'delegated' || user.upn.toLowerCase() === tokenRec.upn.toLowerCase()) return;
    if (target.kind === 'calendars' || (target.calendarId !== null && target.calendarId !== undefined)) {
      throw new GraphError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
    }
  }

  sharedWith(calendar, upn) {
    const viewer = upn.toLowerCase();
    if (calendar.owner.upn.toLowerCase() === viewer) return true;
    if (calendar.sharedByKnob) {
      return !!this.core.knobs[calendar.sharedByKnob] && viewer === this.core.users.megan.upn.toLowerCase();
    }
    return calendar.sharedWith.has(viewer);
  }

  admit(upn) {
    const key = upn.toLowerCase();
    const current = this.inFlight.get(key) || 0;
    if (current >= Number(this.core.knobs.mailboxConcurrency)) return false;
    this.inFlight.set(key, current + 1);
    const peak = this.core.stats.maxInFlight;
    if (!(peak[key] >= current + 1)) peak[key] = current + 1;
    return true;
  }

  release(upn) {
    const key = upn.toLowerCase();
    const n = (this.inFlight.get(key) || 1) - 1;
    if (n <= 0) this.inFlight.delete(key);
    else this.inFlight.set(key, n);
  }

  sendError(res, ids, err) {
    sendJson(res, err.status, graphErrorBody(err.code, err.message, ids, this.core.now()), err.headers);
  }

  /** Handles one /v1.0 request. `entry` is its request-log entry; `fault` the injected fault, if any. */
  async handle(req, res, entry, fault) {
    const ids = { requestId: guid(), clientRequestId: req.headers['client-request-id'] || guid() };
    res.setHeader('request-id', ids.requestId);
    res.setHeader('client-request-id', ids.clientRequestId);
    res.simContentType = ODATA_JSON;
    let route;
    let routeError;
    const writes = this.core.writes;
    try {
      route = writes.claims(req.method, entry.rawPath)
        ? writes.parseRoute(entry.rawPath)
        : parseRoute(entry.rawPath);
    } catch (err) {
      if (!(err instanceof GraphError)) throw err;
      routeError = err;
    }
    const tokenRec = this.core.identity.accessToken(
      ((req.headers.authorization || '').match(/^Bearer\s+(.+)$/i) || [])[1],
    );
    const mailboxUser = this.mailboxOf(route, tokenRec);
    if (mailboxUser) entry.mailbox = mailboxUser.upn;
    else if (route && route.mailbox !== 'me') entry.mailbox = route.mailbox.key;

    if (fault && fault.type !== 'slow' && fault.type !== 'brokenJson') {
      this.sendFault(res, ids, fault);
      return;
    }
    if (fault && fault.type === 'brokenJson') res.simBrokenJson = true;

    const latency = Number(this.core.knobs.graphLatencyMs) || 0;
    let admitted;
    try {
      if (!['GET', 'POST', 'PATCH', 'DELETE'].includes(req.method)) {
        throw new GraphError(405, 'Request_BadRequest', `The simulator does not serve ${req.method}.`);
      }
      const token = this.authenticate(req);
      if (routeError) throw routeError;
      if (route.mailbox === 'me' && token.kind === 'app') {
        throw new GraphError(
          400,
          'BadRequest',
          '/me request is only valid with delegated authentication flow.',
        );
      }
      const user = mailboxUser;
      if (!user) {
        throw new GraphError(
          404,
          'ErrorInvalidUser',
          `The requested user '${route.mailbox.key}' is invalid.`,
        );
      }
      if (!this.admit(user.upn)) {
        const retryAfter = String(this.core.knobs.concurrencyRetryAfter);
        throw new GraphError(
          429,
          'ApplicationThrottled',
          'Application is over its MailboxConcurrency limit.',
          {
            'Retry-After': retryAfter,
          },
        );
      }
      admitted = user.upn;
      // The client may have gone already; then 'close' has fired and would never release the slot.
      if (res.simClosed) this.release(admitted);
      else res.once('close', () => this.release(admitted));
      const wait = latency + (fault && fault.type === 'slow' ? Number(fault.delayMs) || 0 : 0);
      if (wait > 0) await this.core.delay(wait);
      if (route.target.kind === 'write') {
        await this.respond(res, ids, writes.answer(req, entry, route, token, user));
        return;
      }
      const { body, headers } = this.answer(req, entry, route, token, user);
      if (!res.destroyed) sendJson(res, 200, body, headers);
    } catch (err) {
      if (!(err instanceof GraphError)) throw err;
      if (!admitted && latency > 0 && err.status !== 429) await this.core.delay(latency);
      if (!res.destroyed) this.sendError(res, ids, err);
    }
  }

  /** Sends a write's answer ({status, body?, headers?}), or the fault a test queued for after the write. */
  async respond(res, ids, { status, body, headers = {}, after }) {
    if (after && after.type === 'slow') await this.core.delay(Number(after.delayMs) || 0);
    else if (after) {
      this.sendFault(res, ids, after);
      return;
    }
    if (res.destroyed) return;
    if (body !== undefined) sendJson(res, status, body, headers);
    else {
      res.writeHead(status, headers);
      res.end();
    }
  }

  sendFault(res, ids, fault) {
    const headers = {};
    if (fault.retryAfter !== undefined && (fault.type === '429' || fault.type === '503')) {
      headers['Retry-After'] = String(fault.retryAfter);
    }
    switch (fault.type) {
      case 'reset':
        res.socket.destroy();
        return;
      case '429':
        this.sendError(
          res,
          ids,
          new GraphError(
            429,
            fault.code || 'TooManyRequests',
            fault.message || 'Too many requests. Retry after the time given in the Retry-After header.',
            headers,
          ),
        );
        return;
      case '503':
        this.sendError(
          res,
          ids,
          new GraphError(
            503,
            'ServiceNotAvailable',
            'The service is temporarily unavailable. Please try again later.',
            headers,
          ),
        );
        return;
      case '504':
        this.sendError(
          res,
          ids,
          new GraphError(
            504,
            'GatewayTimeout',
            'The gateway did not receive a response from the service in time.',
            headers,
          ),
        );
        return;
      case '500':
        this.sendError(
          res,
          ids,
          new GraphError(500, 'InternalServerError', 'An internal server error occurred.', headers),
        );
        return;
      case '401':
        this.sendError(
          res,
          ids,
          new GraphError(
            401,
            'InvalidAuthenticationToken',
            'Lifetime validation failed, the token is expired.',
            {
              'WWW-Authenticate': `Bearer realm="", authorization_uri="${this.core.url}/common/oauth2/authorize", client_id="${GRAPH_APP_ID}"`,
            },
          ),
        );
        return;
      default:
        throw new Error(`unknown fault type ${fault.type}`);
    }
  }

  /** The 200 answer for an admitted request, or throws a GraphError. */
  answer(req, entry, route, token, user) {
    const model = this.core.model;
    const q = {};
    for (const [k, v] of new URLSearchParams(entry.rawQuery)) {
      const key = k.toLowerCase();
      if (!(key in q)) q[key] = v;
    }
    for (const unsupported of ['$filter', '$search', '$expand', '$apply']) {
      if (unsupported in q) {
        throw new GraphError(400, 'BadRequest', `The simulator does not support ${unsupported}.`);
      }
    }
    const target = route.target;
    if (target.kind === 'user') {
      const scopes = token.kind === 'app' ? [] : token.scopes;
      if (!scopes.some((s) => s.startsWith('User.'))) {
        throw new GraphError(
          403,
          'Authorization_RequestDenied',
          'Insufficient privileges to complete the operation.',
        );
      }
      return {
        body: {
          '@odata.context': `${this.core.url}/v1.0/$metadata#users/$entity`,
          id: user.id,
          displayName: user.displayName,
          mail: user.mail,
          userPrincipalName: user.upn,
        },
      };
    }
    const contextBase = `${this.core.url}/v1.0/$metadata#users('${encodeURIComponent(route.mailbox === 'me' ? user.id : route.mailbox.key)}')`;
    if (target.kind !== 'user') this.checkForeignFolder(token, user, target);
    if (target.kind === 'calendars') {
      this.checkAccess(token, user, null);
      const visible = model
        .calendarsOf(user)
        .filter((c) => token.kind === 'app' || this.sharedWith(c, token.upn));
      if (visible.length === 0) throw new GraphError(403, 'ErrorAccessDenied', ACCESS_DENIED);
      const select = this.select(q, CALENDAR_PROPERTY_NAMES, 'microsoft.graph.calendar');
      return this.page(
        entry,
        q,
        visible,
        (c) => renderCalendar(c, select),
        `${contextBase}/calendars`,
        select,
      );
    }
    const calendar = model.calendar(user, target.calendarId);
    if (!calendar) {
      throw new GraphError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
    }
    this.checkAccess(token, user, calendar);
    if (target.kind === 'calendar') {
      const select = this.select(q, CALENDAR_PROPERTY_NAMES, 'microsoft.graph.calendar');
      return {
        body: { '@odata.context': `${contextBase}/calendars/$entity`, ...renderCalendar(calendar, select) },
      };
    }

    const prefer = parsePrefer(req.headers.prefer);
    const zone = tz.preferredZone(prefer.timeZone);
    if (prefer.timeZone !== undefined && prefer.timeZone.trim() !== '' && !zone) {
      // Graph's answer to a zone it does not know (observed: microsoftgraph/microsoft-graph-docs#6870).
      throw new GraphError(
        400,
        'TimeZoneNotSupportedException',
        `A valid TimeZone value must be specified. The following TimeZone value is not supported: '${prefer.timeZone}'.`,
      );
    }
    const applied = [];
    if (zone) applied.push(`outlook.timezone="${prefer.timeZone}"`);
    if (prefer.bodyType) applied.push(`outlook.body-content-type="${prefer.bodyType}"`);
    const ctx = { zone: zone || { name: 'UTC', iana: 'UTC' }, textBody: prefer.bodyType === 'text' };
    const select = this.select(q, EVENT_PROPERTY_NAMES, 'microsoft.graph.event');
    const order = this.orderBy(q);

    let list;
    if (target.kind === 'calendarView') {
      const startText = q.startdatetime;
      const endText = q.enddatetime;
      if (startText === undefined || endText === undefined || startText === '' || endText === '') {
        throw new GraphError(
          400,
          'ErrorInvalidParameter',
          'This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.',
        );
      }
      const start = parseIsoInstant(startText);
      const end = parseIsoInstant(endText);
      if (Number.isNaN(start)) {
        throw new GraphError(
          400,
          'ErrorInvalidParameter',
          `The value '${startText}' of parameter 'StartDateTime' is invalid.`,
        );
      }
      if (Number.isNaN(end)) {
        throw new GraphError(
          400,
          'ErrorInvalidParameter',
          `The value '${endText}' of parameter 'EndDateTime' is invalid.`,
        );
      }
      if (end - start > MAX_WINDOW_DAYS * tz.DAY) {
        throw new GraphError(
          400,
          'ErrorInvalidRequest',
          "Your request can't be completed. The range between the start and end dates is greater than the allowed " +
            `range. Maximum number of days: ${MAX_WINDOW_DAYS}`,
        );
      }
      list = end > start ? model.view(calendar, start, end, ctx.zone.iana) : [];
    } else {
      list = model.storedItems(calendar, ctx.zone.iana);
    }
    if (order) list = Graph.sorted(list, order);
    const context = `${contextBase}/${contextPath(route.rest)}`;
    const result = this.page(entry, q, list, (inst) => renderEvent(inst, ctx, select), context, select);
    if (applied.length) result.headers = { 'Preference-Applied': applied.join(', ') };
    return result;
  }

  select(q, names, typeName) {
    if (q.$select === undefined) return undefined;
    const parsed = parseSelect(q.$select, names);
    if (parsed.unknown) {
      throw new GraphError(
        400,
        'RequestBroker--ParseUri',
        `Could not find a property named '${parsed.unknown}' on type '${typeName}'.`,
      );
    }
    return parsed.fields;
  }

  orderBy(q) {
    if (q.$orderby === undefined) return undefined;
    const keys = [];
    for (const part of q.$orderby.split(',')) {
      const m = /^\s*(\S+)(?:\s+(asc|desc))?\s*$/i.exec(part);
      const getter = m && ORDERABLE[m[1].toLowerCase()];
      if (!getter) {
        const name = m ? m[1] : part.trim();
        throw new GraphError(
          400,
          'RequestBroker--ParseUri',
          `Could not find a property named '${name}' on type 'microsoft.graph.event'.`,
        );
      }
      keys.push({ name: m[1].toLowerCase(), getter, desc: !!m[2] && m[2].toLowerCase() === 'desc' });
    }
    return keys;
  }

  /** A sorted copy; ties keep storage order. Cached with the list it came from. */
  static sorted(list, keys) {
    if (!list.sortedCache) list.sortedCache = new Map();
    const cacheKey = keys.map((k) => `${k.name} ${k.desc}`).join(',');
    let out = list.sortedCache.get(cacheKey);
    if (!out) {
      out = list.slice().sort((a, b) => {
        for (const k of keys) {
          const x = k.getter(a);
          const y = k.getter(b);
          const c = x < y ? -1 : x > y ? 1 : 0;
          if (c !== 0) return k.desc ? -c : c;
        }
        return a.order - b.order;
      });
      list.sortedCache.set(cacheKey, out);
    }
    return out;
  }

  /** One page of a collection: $top (1..1000, default 10), $skip, @odata.nextLink, $count. */
  page(entry, q, list, render, context, select) {
    let top = 10;
    if (q.$top !== undefined) {
      top = /^\d+$/.test(q.$top) ? Number(q.$top) : NaN;
      if (!(top >= 1 && top <= 1000)) {
        throw new GraphError(
          400,
          'ErrorInvalidParameter',
          `Invalid value '${q.$top}' for $top: it must be an integer from 1 to 1000.`,
        );
      }
    }
    let skip = 0;
    if (q.$skip !== undefined) {
      skip = /^\d+$/.test(q.$skip) ? Number(q.$skip) : NaN;
      if (!(skip >= 0)) {
        throw new GraphError(400, 'ErrorInvalidParameter', `Invalid value '${q.$skip}' for $skip.`);
      }
    }
    const body = { '@odata.context': select ? `${context}(${[...select].join(',')})` : context };
    if (q.$count === 'true') body['@odata.count'] = list.length;
    if (skip + top < list.length) body['@odata.nextLink'] = this.nextLink(entry, skip + top);
    body.value = list.slice(skip, skip + top).map(render);
    return { body };
  }

  /** The same request with the next $skip: the raw query pieces are kept as received (encodings included). */
  nextLink(entry, skip) {
    const pieces = entry.rawQuery ? entry.rawQuery.split('&') : [];
    const kept = pieces.filter((p) => {
      if (p === '') return false;
      const key = p.split('=')[0];
      let decoded = key;
      try {
        decoded = decodeURIComponent(key.replace(/\+/g, ' '));
      } catch {
        // keep undecodable keys as they are
      }
      return decoded.toLowerCase() !== '$skip';
    });
    kept.push(`$skip=${skip}`);
    return `${this.core.url}${entry.rawPath}?${kept.join('&')}`;
  }
}

module.exports = { Graph, GraphError, parseRoute, parsePrefer, segmentsOf };
