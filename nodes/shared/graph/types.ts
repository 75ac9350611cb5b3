// The shapes Graph answers with, named by Microsoft's own types (@microsoft/microsoft-graph-types: types only,
// nothing of it ships). Every field is optional and unchecked: an answer, like a flow's message, is input, so the
// code reads a field, then checks it.
import type { Calendar, DateTimeTimeZone, EmailAddress, Event } from '@microsoft/microsoft-graph-types';

/** Microsoft's type with each of its fields there or not, of a type yet to be checked. */
export type Unchecked<T> = { [K in keyof T]?: unknown };

/** An event as Graph sends it (plus whatever else the answer holds, e.g. `@odata.etag`). */
export type GraphEvent = Unchecked<Event> & Record<string, unknown>;

/** A calendar as Graph's calendar list sends it. */
export type GraphCalendar = Unchecked<Calendar> & Record<string, unknown>;

/** Graph's dateTimeTimeZone: a wall-clock `dateTime` without offset, and the zone it is in. */
export type GraphDateTime = Unchecked<DateTimeTimeZone>;

/** A name and an address, e.g. a calendar's owner. */
export type GraphEmailAddress = Unchecked<EmailAddress>;
