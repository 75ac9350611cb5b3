// Sends a checked write (writing.ts) through the Graph client: a create that is safe to retry (transactionId, and a
// look-up by it before creating again), updates and deletes retried where that is safe, answers and cancel sent
// once, and a refused write (403) explained by the permission it lacks.
import { O365Error } from '../node-red/errors';
import { t } from '../node-red/i18n';
import {
  calendarPath,
  eventsPath,
  GraphClient,
  mailboxKey,
  mailboxPath,
  RequestOptions,
} from '../graph/graph-client';
import { backoffMs, sleep } from '../graph/http';
import { addInstants } from '../time/instants';
import type { GraphEvent } from './events-controller';
import { ANSWER_ACTIONS, WriteAction, WritePlan } from './writing';

export interface WriteContext {
  configKey: string;
  mode: 'delegated' | 'application';
  /**
   * The sign-in as it is now (delegated): its account, to tell the own mailbox from another, and its granted
   * scopes, to say which permission a 403 lacks. Asked after the request: a refresh may have just learnt them.
   */
  signIn?: () => { account?: string; scopes?: string[] };
  /** First step of the backoff between attempts of a create or delete. */
  backoffBaseMs: number;
  signal?: AbortSignal;
  onWait?: (seconds: number, reason: string) => void;
}

export interface WriteResult {
  action: WriteAction;
  id: string;
  /** create and update: the event as o365-events emits it (instants added, in the plan's zone). */
  event?: GraphEvent;
}

/** Attempts of a create or delete whose answer left open whether it happened (timeouts, network faults, 5xx). */
export const MAX_UNCLEAR_ATTEMPTS = 4;

/**
 * transactionIds this process has sent, per mailbox and calendar (bounded, oldest dropped): a message that comes
 * back (a Catch → retry loop) looks its event up before it creates anything, whatever Graph does with a repeated
 * transactionId.
 */
const sentTransactions = new Map<string, true>();
const MAX_REMEMBERED = 2000;

function remember(key: string): boolean {
  const known = sentTransactions.delete(key);
  sentTransactions.set(key, true);
  if (sentTransactions.size > MAX_REMEMBERED) sentTransactions.delete(sentTransactions.keys().next().value!);
  return known;
}

/** An answer that leaves open whether the write happened: no answer, a broken connection, or a server error. */
function isUnclear(err: unknown): err is O365Error {
  if (!(err instanceof O365Error)) return false;
  if (err.code === 'TIMEOUT' || err.code === 'NETWORK_ERROR') return true;
  return (err.cause.status ?? 0) >= 500;
}

function statusOf(err: unknown): number | undefined {
  return err instanceof O365Error ? err.cause.status : undefined;
}

/** Waits as Graph asked (Retry-After) or by backoff, showing the wait. */
async function pause(err: O365Error, attempt: number, ctx: WriteContext): Promise<void> {
  const ms =
    err.cause.retryAfterSeconds !== undefined
      ? err.cause.retryAfterSeconds * 1000
      : backoffMs(attempt, ctx.backoffBaseMs);
  ctx.onWait?.(ms / 1000, err.code);
  await sleep(ms, ctx.signal);
}

/** The event to emit: Graph's answer without its @odata.context (o365-events' items have none), instants added. */
function emitted(event: Record<string, unknown>, plan: WritePlan): GraphEvent {
  const { '@odata.context': _context, ...rest } = event;
  return addInstants(rest, plan.zone);
}

/**
 * The event a create made, found by its transactionId in the calendar around the event's time: the event itself,
 * or for a series the master behind an occurrence. Undefined when it is not there.
 */
async function findCreated(
  graph: GraphClient,
  plan: WritePlan,
  request: RequestOptions,
): Promise<GraphEvent | undefined> {
  if (!plan.span) return undefined;
  const url = graph.url(`${mailboxPath(plan.user)}${calendarPath(plan.calendarId)}/calendarView`, {
    startDateTime: new Date(plan.span.start).toISOString(),
    endDateTime: new Date(plan.span.end).toISOString(),
    $top: '1000',
  });
  const { items } = await graph.getAll(url, request);
  const found = items.find((e) => e.transactionId === plan.transactionId);
  if (found) return found;
  const masters = new Set(
    items.map((e) => e.seriesMasterId).filter((id): id is string => typeof id === 'string'),
  );
  for (const id of masters) {
    const { body } = await graph.get(graph.url(`${mailboxPath(plan.user)}${eventsPath(id)}`), request);
    if (body.transactionId === plan.transactionId) return body;
  }
  return undefined;
}

/** The error after a create whose outcome stayed unclear: sending the same message again is safe, and says so. */
function unclearCreate(err: O365Error, plan: WritePlan): O365Error {
  return new O365Error(
    err.code,
    t('errors.write.createUnclear', { detail: err.message, transactionId: plan.transactionId ?? '' }),
    err.cause,
  );
}

async function create(
  graph: GraphClient,
  plan: WritePlan,
  ctx: WriteContext,
  request: RequestOptions,
): Promise<GraphEvent> {
  const url = graph.url(`${mailboxPath(plan.user)}${calendarPath(plan.calendarId)}/events`);
  const lookUp = async (cause: O365Error): Promise<GraphEvent | undefined> => {
    try {
      return await findCreated(graph, plan, request);
    } catch (err) {
      if (err instanceof O365Error && err.code === 'ABORTED') throw err;
      throw unclearCreate(cause, plan);
    }
  };
  if (remember(`${request.mailbox}|${plan.calendarId}|${plan.transactionId}`)) {
    // This very message was sent before: its event may exist already.
    const found = await findCreated(graph, plan, request);
    if (found) return found;
  }
  for (let attempt = 0; ; attempt += 1) {
    try {
      // Not `idempotent`: the client would send the POST again blindly; 429 (answered before anything happens)
      // is still waited out and retried by the client.
      const page = await graph.request(url, {
        ...request,
        method: 'POST',
        body: plan.body,
        idempotent: false,
      });
      return page.body;
    } catch (err) {
      if (err instanceof O365Error && err.code === 'ErrorDuplicateTransactionId') {
        // Graph says this transactionId made an event already: that event is the answer.
        const found = await lookUp(err);
        if (found) return found;
        throw err;
      }
      if (!isUnclear(err)) throw err;
      await pause(err, attempt, ctx);
      const found = await lookUp(err);
      if (found) return found;
      if (attempt + 1 >= MAX_UNCLEAR_ATTEMPTS) throw unclearCreate(err, plan);
    }
  }
}

/** DELETE, retried after an unclear answer; a 404 to a retry means the first one did it. */
async function remove(
  graph: GraphClient,
  url: string,
  ctx: WriteContext,
  request: RequestOptions,
): Promise<void> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      await graph.request(url, { ...request, method: 'DELETE', idempotent: false });
      return;
    } catch (err) {
      if (attempt > 0 && statusOf(err) === 404) return;
      if (!isUnclear(err) || attempt + 1 >= MAX_UNCLEAR_ATTEMPTS) throw err;
      await pause(err, attempt, ctx);
    }
  }
}

/** A refused write (403) as an error naming the permission it needs and what to do. */
function explainRefusal(err: unknown, plan: WritePlan, ctx: WriteContext): unknown {
  if (!(err instanceof O365Error) || err.cause.status !== 403) return err;
  const detail = err.message;
  if (ctx.mode === 'application') {
    const permission = 'Calendars.ReadWrite';
    return new O365Error(err.code, t('errors.write.appPermission', { user: plan.user, permission, detail }), {
      ...err.cause,
      permission,
    });
  }
  const { account, scopes } = ctx.signIn?.() ?? {};
  const own = !plan.user || (!!account && plan.user.toLowerCase() === account.toLowerCase());
  const permission = own ? 'Calendars.ReadWrite' : 'Calendars.ReadWrite.Shared';
  // A sign-in deployed with the flow learns its granted scopes only at its first refresh.
  const grants = scopes?.length ? scopes : undefined;
  const granted = grants?.map((s) => s.toLowerCase());
  const has =
    !!granted &&
    (granted.includes(permission.toLowerCase()) || (own && granted.includes('calendars.readwrite.shared')));
  if (has) {
    const key = own ? 'errors.write.refused' : 'errors.write.notSharedForEditing';
    return new O365Error(err.code, t(key, { user: plan.user, detail }), err.cause);
  }
  const key = own || granted ? 'errors.write.missingScope' : 'errors.write.missingScopeOrShare';
  const grantedText = grants ? grants.join(' ') : t('errors.write.grantsUnknown');
  return new O365Error(err.code, t(key, { permission, user: plan.user, granted: grantedText, detail }), {
    ...err.cause,
    permission,
  });
}

/** Sends one checked write; resolves with what the node emits. */
export async function sendWrite(
  graph: GraphClient,
  plan: WritePlan,
  ctx: WriteContext,
): Promise<WriteResult> {
  const request: RequestOptions = {
    mailbox: mailboxKey(plan.user, ctx.configKey),
    // The created or changed event comes back in the node's zone, as o365-events reads it.
    headers: { Prefer: `outlook.timezone="${plan.zone.windows}"` },
    signal: ctx.signal,
    onWait: ctx.onWait,
  };
  try {
    if (plan.action === 'create') {
      const event = emitted(await create(graph, plan, ctx, request), plan);
      return { action: plan.action, id: String(event.id ?? ''), event };
    }
    const eventUrl = (action?: string) =>
      graph.url(`${mailboxPath(plan.user)}${eventsPath(plan.eventId!, action)}`);
    if (plan.action === 'update') {
      // PATCH with the same body twice has the effect of once: the client retries it like a read.
      const page = await graph.request(eventUrl(), {
        ...request,
        method: 'PATCH',
        body: plan.body,
        idempotent: true,
      });
      const event = emitted(page.body, plan);
      return { action: plan.action, id: plan.eventId!, event };
    }
    if (plan.action === 'delete') {
      await remove(graph, eventUrl(), ctx, request);
      return { action: plan.action, id: plan.eventId! };
    }
    // Answers and cancel send mail: sent once (only a 429, which Graph answers before acting, is retried).
    const graphAction = plan.action === 'cancel' ? 'cancel' : ANSWER_ACTIONS[plan.action]!;
    await graph.request(eventUrl(graphAction), {
      ...request,
      method: 'POST',
      body: plan.body,
      idempotent: false,
    });
    return { action: plan.action, id: plan.eventId! };
  } catch (err) {
    throw explainRefusal(err, plan, ctx);
  }
}
