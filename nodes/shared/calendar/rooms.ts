// The tenant's rooms and room lists from Graph's places API, cached an hour per config node.
//
// Microsoft (learn.microsoft.com/graph/api/place-list): GET /places/microsoft.graph.room lists every room,
// /places/microsoft.graph.roomlist the room lists, /places/{roomListEmailAddress}/microsoft.graph.roomlist/rooms
// the rooms of one list (by its address, not its id); 100 places a page by default, more pages by @odata.nextLink;
// rooms hidden from the address list are not listed; permission Place.Read.All (delegated or application, admin
// consent); the global cloud only.
import { O365Error } from '../node-red/errors';
import { GraphClient, pathSegment } from '../graph/graph-client';
import { hasPlacesApi } from '../graph/clouds';
import { abortedError } from '../graph/http';
import { t } from '../node-red/i18n';
import { now } from '../time/clock';

/** How long a listing is reused: rooms change rarely, and a board that polls every minute should not page. */
export const ROOMS_CACHE_MS = 3_600_000;
const PAGE_SIZE = '100';
const ROOM_FIELDS = 'emailAddress,displayName,capacity,building,floorNumber';
const LIST_FIELDS = 'emailAddress,displayName';

export interface Room {
  emailAddress: string;
  displayName: string | null;
  capacity: number | null;
  building: string | null;
  floorNumber: number | null;
}

export interface RoomList {
  emailAddress: string;
  displayName: string | null;
}

export interface PlacesContext {
  /** The config node's key: the cache is per config node (and Graph endpoint). */
  configKey: string;
  mode: 'delegated' | 'application';
  signal?: AbortSignal;
  onWait?: (seconds: number, reason: string) => void;
}

export interface Listing<T> {
  items: T[];
  /** Graph requests this call made: 0 when the cache answered. */
  requests: number;
}

interface Entry {
  at: number;
  value: Promise<{ items: unknown[]; requests: number }>;
}

const cache = new Map<string, Entry>();
const MAX_CACHED = 200;

/** Refuses allRooms/roomList before any request where Microsoft has no places API. */
export function checkPlacesCloud(graphEndpoint: string, field: string): void {
  if (!hasPlacesApi(graphEndpoint)) {
    throw new O365Error('PLACES_UNAVAILABLE', t('errors.schedule.placesCloud'), {
      code: 'PLACES_UNAVAILABLE',
      field,
    });
  }
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value ? value : null;
}

function number(value: unknown): number | null {
  const n = typeof value === 'string' && value.trim() ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) ? n : null;
}

function toRoom(place: Record<string, unknown>): Room | undefined {
  const emailAddress = text(place.emailAddress);
  if (!emailAddress) return undefined;
  return {
    emailAddress,
    displayName: text(place.displayName),
    capacity: number(place.capacity),
    building: text(place.building),
    floorNumber: number(place.floorNumber),
  };
}

function toRoomList(place: Record<string, unknown>): RoomList | undefined {
  const emailAddress = text(place.emailAddress);
  return emailAddress ? { emailAddress, displayName: text(place.displayName) } : undefined;
}

/** The places API's errors in words a flow author can act on: the permission by name, an unknown room list. */
function explain(err: unknown, context: PlacesContext, roomList: string): unknown {
  if (!(err instanceof O365Error)) return err;
  const detail = err.message;
  if (err.cause.status === 403) {
    const key = context.mode === 'application' ? 'placesPermissionApplication' : 'placesPermissionDelegated';
    return new O365Error(err.code, t(`errors.schedule.${key}`, { detail }), {
      ...err.cause,
      field: 'allRooms',
    });
  }
  if (err.cause.status === 404 && roomList) {
    return new O365Error(err.code, t('errors.schedule.roomListUnknown', { roomList, detail }), {
      ...err.cause,
      field: 'roomList',
    });
  }
  return err;
}

/** Resolves with `promise`, or rejects as aborted as soon as `signal` fires (the shared listing goes on). */
function untilAborted<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(abortedError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortedError());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * Every item of a places collection, from the cache when it is younger than an hour. Listings in flight are
 * shared (two boards on one config node page once); a failed one is not kept.
 */
async function cachedListing<T>(
  graph: GraphClient,
  url: string,
  convert: (place: Record<string, unknown>) => T | undefined,
  context: PlacesContext,
  roomList: string,
): Promise<Listing<T>> {
  const key = `${context.configKey}|${url}`;
  let entry = cache.get(key);
  const fresh = !entry || now() - entry.at >= ROOMS_CACHE_MS;
  if (!entry || fresh) {
    const value = graph
      .getAll(url, { mailbox: `places:${context.configKey}`, onWait: context.onWait })
      .then((listing) => ({
        items: listing.items.map(convert).filter((item) => item !== undefined) as unknown[],
        requests: listing.requests,
      }));
    entry = { at: now(), value };
    if (cache.size >= MAX_CACHED) cache.clear();
    cache.set(key, entry);
    value.catch(() => {
      if (cache.get(key)?.value === value) cache.delete(key);
    });
  }
  try {
    const listing = await untilAborted(entry.value, context.signal);
    return { items: listing.items as T[], requests: fresh ? listing.requests : 0 };
  } catch (err) {
    throw explain(err, context, roomList);
  }
}

/** The tenant's rooms in the places API's order, or the rooms of one room list (given by its address). */
export function listRooms(
  graph: GraphClient,
  roomList: string,
  context: PlacesContext,
): Promise<Listing<Room>> {
  const path = roomList
    ? `/v1.0/places/${pathSegment(roomList, 'roomList')}/microsoft.graph.roomlist/rooms`
    : '/v1.0/places/microsoft.graph.room';
  const url = graph.url(path, { $top: PAGE_SIZE, $select: ROOM_FIELDS });
  return cachedListing(graph, url, toRoom, context, roomList);
}

/** The tenant's room lists. */
export function listRoomLists(graph: GraphClient, context: PlacesContext): Promise<Listing<RoomList>> {
  const url = graph.url('/v1.0/places/microsoft.graph.roomlist', { $top: PAGE_SIZE, $select: LIST_FIELDS });
  return cachedListing(graph, url, toRoomList, context, '');
}
