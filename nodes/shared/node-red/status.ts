// Every status shown on the canvas and every error handed to done(): one place, so they stay consistent.
import type { NodeStatus } from 'node-red';
import { O365Error } from './errors';
import { t } from './i18n';
import type { AuthStatus } from '../auth/token-manager';
import { localDate, pad, zonedParts } from '../time/wall-clock';

/** Enough of the config node for the checks here (avoids a cycle with the node module). */
interface ConfigLike {
  manager?: unknown;
  problem?: O365Error;
}

const MAX_STATUS = 60;

function short(text: string): string {
  return text.length > MAX_STATUS ? `${text.slice(0, MAX_STATUS - 1)}…` : text;
}

/** Why a node cannot use its config node, or undefined when it can. */
export function configProblem(config: ConfigLike | null | undefined): O365Error | undefined {
  if (!config) return new O365Error('NOT_CONFIGURED', t('errors.noConfig'), { code: 'NOT_CONFIGURED' });
  if (!config.manager)
    return config.problem ?? new O365Error('INVALID_CONFIG', t('errors.signInRequired'), {});
  return undefined;
}

export function statusForAuth(status: AuthStatus): NodeStatus {
  switch (status.state) {
    case 'signed-in': {
      const who = status.account?.name ?? status.account?.username;
      return {
        fill: 'green',
        shape: 'dot',
        text: short(who ? t('status.signedInAs', { account: who }) : t('status.signedIn')),
      };
    }
    case 'pending':
      return { fill: 'yellow', shape: 'ring', text: t('status.waitingForDevice') };
    case 'signed-out':
      return { fill: 'grey', shape: 'ring', text: t('status.signedOut') };
    default:
      return signInRequired(status.aadsts);
  }
}

/** Red ring "sign-in required", with Microsoft's code when there is one ("sign-in required (AADSTS50076)"). */
function signInRequired(aadsts: number[] | undefined): NodeStatus {
  const code = aadsts?.[aadsts.length - 1];
  const text = code ? t('status.signInRequiredCode', { code }) : t('status.signInRequired');
  return { fill: 'red', shape: 'ring', text: short(text) };
}

/**
 * The listener a reading node registers with its config node: it shows a sign-in that cannot be used, and a green
 * ring once it can be used again (the node's own status after its next read replaces that).
 */
export function authStatusListener(show: (status: NodeStatus) => void): (status: AuthStatus) => void {
  let last: AuthStatus | undefined;
  return (status) => {
    const wasBlocked = last !== undefined && last.state !== 'signed-in';
    last = status;
    if (status.state !== 'signed-in') show(statusForAuth(status));
    else if (wasBlocked) show({ fill: 'green', shape: 'ring', text: t('status.signedIn') });
  };
}

/** Green dot with a count and the time of the read, e.g. "12 events · 10:42". */
export function statusCount(key: string, count: number, time: string): NodeStatus {
  return { fill: 'green', shape: 'dot', text: short(t(key, { count, time })) };
}

/**
 * The free/busy node's green dot, e.g. "12 rooms · 5 free · 10:42" ("mailboxes" when not all are rooms), with
 * "· 1 unreadable" when Graph could not read some of them.
 */
export function statusSchedule(
  summary: { count: number; free: number; unreadable: number; rooms: boolean },
  time: string,
): NodeStatus {
  const key = summary.rooms ? 'status.schedule.rooms' : 'status.schedule.mailboxes';
  const unreadable = summary.unreadable ? t('status.schedule.unreadable', { count: summary.unreadable }) : '';
  const text = t(key, { count: summary.count, free: summary.free, unreadable, time });
  return { fill: 'green', shape: 'dot', text: short(text) };
}

/** Blue ring while a read is on its way. */
export function statusFetching(): NodeStatus {
  return { fill: 'blue', shape: 'ring', text: t('status.fetching') };
}

export function statusForError(err: O365Error): NodeStatus {
  if (err.code === 'SIGN_IN_REQUIRED') return signInRequired(err.cause.aadsts);
  return { fill: 'red', shape: 'ring', text: short(err.message) };
}

/** Blue ring while a write is on its way. */
export function statusWriting(): NodeStatus {
  return { fill: 'blue', shape: 'ring', text: t('status.write.writing') };
}

/** Green dot after a write: what was done, to which subject, and when, e.g. "created «Focus» · 10:42". */
export function statusWritten(action: string, time: string, subject?: string): NodeStatus {
  const done = t(`status.write.actions.${action}`);
  const text = subject
    ? t('status.write.doneSubject', { action: done, subject, time })
    : t('status.write.done', { action: done, time });
  return { fill: 'green', shape: 'dot', text: short(text) };
}

/** Red ring for a write refused for a missing permission: which one, and (delegated) that it takes a new sign-in. */
export function statusMissingPermission(permission: string, application: boolean): NodeStatus {
  const key = application ? 'status.write.appNeedsPermission' : 'status.write.needsPermission';
  return { fill: 'red', shape: 'ring', text: short(t(key, { permission })) };
}

export function statusWaiting(seconds: number): NodeStatus {
  return { fill: 'yellow', shape: 'ring', text: t('status.waiting', { seconds: Math.ceil(seconds) }) };
}

export function statusNotConfigured(): NodeStatus {
  return { fill: 'grey', shape: 'ring', text: t('status.notConfigured') };
}

/** The error a node hands to done(): ours as it is, anything else reduced to a message without details. */
export function toNodeError(err: unknown): O365Error {
  if (err instanceof O365Error) return err;
  return new O365Error('INTERNAL', t('errors.internal'), { code: 'INTERNAL' });
}

// ---- calendar trigger and calendar state ---------------------------------------------------------------------

/** "09:00" when `ms` is on the same local date as `now`, else "2026-11-28 09:00" (the node's zone). */
export function localTimeLabel(ms: number, zone: string, now: number): string {
  const p = zonedParts(ms, zone);
  const time = `${pad(p.hour)}:${pad(p.minute)}`;
  return localDate(ms, zone) === localDate(now, zone) ? time : `${localDate(ms, zone)} ${time}`;
}

/** "in 12 min", "in 3 h", "in 2 d" (rounded up: never says sooner than it is). */
export function relativeLabel(ms: number, now: number): string {
  const minutes = Math.max(0, Math.ceil((ms - now) / 60_000));
  if (minutes < 120) return t('status.trigger.inMinutes', { n: minutes });
  const hours = Math.ceil(minutes / 60);
  if (hours < 48) return t('status.trigger.inHours', { n: hours });
  return t('status.trigger.inDays', { n: Math.ceil(hours / 24) });
}

function subjectOf(event: Record<string, unknown> | null | undefined): string {
  const subject = event && typeof event.subject === 'string' ? event.subject.trim() : '';
  return subject || t('status.noSubject');
}

/** The trigger's next firing: "next: start «Stand-up» 09:00 (in 12 min)". */
export function statusNextFiring(
  next: { edge: string; at: number; event: Record<string, unknown> },
  zone: string,
  now: number,
): NodeStatus {
  return {
    fill: 'green',
    shape: 'dot',
    text: short(
      t('status.trigger.next', {
        edge: t(`status.trigger.edge.${next.edge}`),
        subject: subjectOf(next.event),
        time: localTimeLabel(next.at, zone, now),
        in: relativeLabel(next.at, now),
      }),
    ),
  };
}

/** A trigger with nothing planned: "no events in the next 24 h". */
export function statusNoFirings(): NodeStatus {
  return { fill: 'green', shape: 'ring', text: t('status.trigger.none') };
}

/** The state: "busy until 10:30 · Planning" / "free until 11:00" / "free". */
export function statusCalendarState(
  state: { busy: boolean; current: Array<Record<string, unknown>>; untilMs?: number },
  zone: string,
  now: number,
): NodeStatus {
  const until = state.untilMs === undefined ? undefined : localTimeLabel(state.untilMs, zone, now);
  if (state.busy) {
    const subject = subjectOf(state.current[0]);
    const text = until
      ? t('status.state.busyUntil', { time: until, subject })
      : t('status.state.busy', { subject });
    return { fill: 'red', shape: 'dot', text: short(text) };
  }
  const text = until ? t('status.state.freeUntil', { time: until }) : t('status.state.free');
  return { fill: 'green', shape: 'dot', text: short(text) };
}
