// Every status shown on the canvas and every error handed to done(): one place, so they stay consistent.
import type { NodeStatus } from 'node-red';
import { O365Error } from './errors';
import { t } from './i18n';
import type { AuthStatus } from '../auth/token-manager';

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
      return { fill: 'red', shape: 'ring', text: t('status.signInRequired') };
  }
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
  if (err.code === 'SIGN_IN_REQUIRED')
    return { fill: 'red', shape: 'ring', text: t('status.signInRequired') };
  return { fill: 'red', shape: 'ring', text: short(err.message) };
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
