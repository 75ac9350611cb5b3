// The calendars the editor's picker offers for a mailbox: only ones a read will reach, each with the mailbox to
// read it through. A calendar another user shared is not readable by its id in the owner's mailbox: Graph gives
// the share recipient the owner's default calendar by the `calendar` shortcut and every other shared calendar as
// a copy in her own mailbox (learn.microsoft.com/graph/outlook-get-shared-events-calendars).
import { O365Error } from '../node-red/errors';
import { GraphClient, mailboxKey, mailboxPath } from '../graph/graph-client';
import type { GraphCalendar } from '../graph/types';

export interface CalendarChoice {
  /** The id to read; "" is the mailbox's default calendar by the `calendar` shortcut. */
  id: string;
  name: string;
  isDefaultCalendar: boolean;
  owner?: { name?: string; address?: string };
  /** The mailbox to read it through: the one asked for, or "" (the signed-in user's own copy of a shared one). */
  user: string;
}

export interface ListOptions {
  /** The mailbox asked for; "" is the signed-in user. */
  user: string;
  /** The config node's key (the signed-in user's gate). */
  configKey: string;
  mode: 'delegated' | 'application';
}

const SELECT = 'id,name,isDefaultCalendar,owner';
const MAX_CALENDARS = 500;

function ownerOf(value: unknown): CalendarChoice['owner'] {
  if (!value || typeof value !== 'object') return undefined;
  const { name, address } = value as Record<string, unknown>;
  return {
    name: typeof name === 'string' ? name : undefined,
    address: typeof address === 'string' ? address : undefined,
  };
}

function choiceOf(item: GraphCalendar, user: string): CalendarChoice {
  return {
    id: typeof item.id === 'string' ? item.id : '',
    name: typeof item.name === 'string' ? item.name : '',
    isDefaultCalendar: item.isDefaultCalendar === true,
    owner: ownerOf(item.owner),
    user,
  };
}

/** Not found or access denied: what Graph answers a share recipient for another mailbox's folders. */
function refusedFolder(err: unknown): boolean {
  return err instanceof O365Error && (err.cause.status === 404 || err.cause.status === 403);
}

export async function listCalendars(graph: GraphClient, options: ListOptions): Promise<CalendarChoice[]> {
  const { user, configKey, mode } = options;
  const list = async (mailbox: string): Promise<CalendarChoice[]> => {
    const url = graph.url(`${mailboxPath(mailbox)}/calendars`, { $select: SELECT, $top: '100' });
    const { items } = await graph.getAll(url, {
      mailbox: mailboxKey(mailbox, configKey),
      maxItems: MAX_CALENDARS,
    });
    return items.map((item) => choiceOf(item, mailbox));
  };
  // The signed-in user's own mailbox, an application's reach, or a mailbox delegated whole: its list is readable.
  if (!user || mode === 'application') return list(user);
  try {
    return await list(user);
  } catch (err) {
    if (!refusedFolder(err)) throw err;
    const [own, mine] = await Promise.allSettled([
      graph.get(graph.url(`${mailboxPath(user)}/calendar`, { $select: SELECT }), {
        mailbox: mailboxKey(user, configKey),
      }),
      list(''),
    ]);
    const wanted = user.toLowerCase();
    const choices: CalendarChoice[] = [];
    if (own.status === 'fulfilled') choices.push({ ...choiceOf(own.value.body, user), id: '' });
    if (mine.status === 'fulfilled') {
      for (const choice of mine.value) {
        if (!choice.isDefaultCalendar && choice.owner?.address?.toLowerCase() === wanted)
          choices.push(choice);
      }
    }
    if (choices.length === 0) throw own.status === 'rejected' ? own.reason : err;
    return choices;
  }
}
