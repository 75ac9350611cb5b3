// Turns the model's instances into Graph's JSON event and calendar objects ($select, time zones, HTML bodies).
'use strict';
const tz = require('./tz');
const { escapeHtml } = require('./model');

// Properties of microsoft.graph.event (and its bases outlookItem, entity) that $select accepts. Navigation
// properties are accepted and produce nothing, as they would need $expand.
const EVENT_NAVIGATION = [
  'attachments',
  'calendar',
  'exceptionOccurrences',
  'extensions',
  'instances',
  'multiValueExtendedProperties',
  'singleValueExtendedProperties',
];

const CALENDAR_PROPS = [
  'id',
  'name',
  'color',
  'hexColor',
  'isDefaultCalendar',
  'changeKey',
  'canShare',
  'canViewPrivateItems',
  'canEdit',
  'allowedOnlineMeetingProviders',
  'defaultOnlineMeetingProvider',
  'isTallyingResponses',
  'isRemovable',
  'owner',
];

// A long, fixed part of every HTML body (a Teams footer and meeting notes), so bodies weigh a few KB as real ones
// do and $select visibly saves bytes.
const NOTES_HTML = [
  '<div class=elementToProof>',
  '<p><b>Agenda</b></p><ol>',
  '<li>Where we are: status of the open work items and what changed since the last meeting</li>',
  '<li>Decisions needed: owners, dates and the budget questions parked last time</li>',
  '<li>Risks and dependencies: suppliers, other teams, holidays and on-call cover</li>',
  '<li>Next steps: who sends the summary, and when we meet again</li></ol>',
  '<p>Please read the shared document before the meeting and add your comments inline, so that the time ',
  'together goes to the questions that need a discussion. If you cannot attend, send your update to the ',
  'organizer beforehand or add it to the notes page; the recording and the chat stay available afterwards.</p>',
  '</div>',
].join('');

const TEAMS_HTML =
  '<div><span style=color:#5F5F5F>________________________________________________________________________________' +
  '</span></div><div lang=en-US><div><span style=font-size:24px>Microsoft Teams meeting</span></div>' +
  '<div><b>Join on your computer, mobile app or room device</b><br><a href="JOIN_URL">Click here to join the meeting' +
  '</a></div><div><a href="https://aka.ms/JoinTeamsMeeting">Learn More</a> | <a href="MEETING_OPTIONS">Meeting ' +
  'options</a></div></div>';

const TEAMS_TEXT =
  '\r\n\r\n________________________________________________________________________________\r\n' +
  'Microsoft Teams meeting\r\nJoin on your computer, mobile app or room device\r\nClick here to join the meeting';

function plainBody(item, exc) {
  const text = exc && exc.patch.bodyText !== undefined ? exc.patch.bodyText : item.bodyText;
  return item.joinUrl ? text + TEAMS_TEXT : text;
}

function htmlBody(item, exc) {
  if (exc && exc.patch.bodyHtml !== undefined) return exc.patch.bodyHtml;
  const own = !(exc && exc.patch.bodyText !== undefined);
  if (item.bodyHtml !== undefined && own) return item.bodyHtml;
  if (own) {
    // Built once per item (updateEvent clears it): bodies are the bulk of a page.
    if (item.htmlCache === undefined) item.htmlCache = buildHtml(item, item.bodyText);
    return item.htmlCache;
  }
  return buildHtml(item, exc.patch.bodyText);
}

function buildHtml(item, text) {
  const teams = item.joinUrl
    ? TEAMS_HTML.replace('JOIN_URL', escapeHtml(item.joinUrl)).replace(
        'MEETING_OPTIONS',
        'https://teams.microsoft.com/meetingOptions/?organizerId=' +
          encodeURIComponent(item.organizer.address),
      )
    : '';
  return (
    '<html>\r\n<head>\r\n<meta http-equiv="Content-Type" content="text/html; charset=utf-8">\r\n' +
    '<meta name="Generator" content="Microsoft Exchange Server">\r\n</head>\r\n<body>\r\n' +
    `<div>${escapeHtml(text)}</div>\r\n${teams}\r\n${NOTES_HTML}\r\n</body>\r\n</html>\r\n`
  );
}

function htmlToText(html) {
  return html
    .replace(/<[^>]*>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}

function eff(inst, key) {
  return inst.exc && inst.exc.patch[key] !== undefined ? inst.exc.patch[key] : inst.item[key];
}

function changeKeyOf(inst) {
  return inst.exc && inst.exc.changeKey ? inst.exc.changeKey : inst.item.changeKey;
}

function dateTimeOf(inst, which, ctx) {
  const zone = ctx.zone;
  if (inst.item.isAllDay) {
    const day = which === 'start' ? inst.startDay : inst.endDay;
    return { dateTime: tz.formatWall(day * tz.DAY), timeZone: zone.name };
  }
  const ms = which === 'start' ? inst.startMs : inst.endMs;
  return { dateTime: tz.formatWall(tz.toWall(ms, zone.iana)), timeZone: zone.name };
}

function emailAddress(person) {
  return { emailAddress: { name: person.name, address: person.address } };
}

function locationObject(loc) {
  if (!loc) {
    return {
      displayName: '',
      locationType: 'default',
      uniqueIdType: 'unknown',
      address: {},
      coordinates: {},
    };
  }
  const out = {
    displayName: loc.displayName,
    locationType: loc.locationType || 'default',
    uniqueId: loc.uniqueId || loc.displayName,
    uniqueIdType: loc.uniqueIdType || 'private',
  };
  if (loc.locationUri) out.locationUri = loc.locationUri;
  out.address = loc.address || {};
  out.coordinates = loc.coordinates || {};
  return out;
}

function iCalUIdOf(inst) {
  const base = inst.item.iCalUId;
  if (inst.day === undefined) return base;
  // Instances carry their original date in bytes 16..19 of the global object id, as Outlook's do.
  const d = new Date(inst.day * tz.DAY);
  const hex =
    d.getUTCFullYear().toString(16).padStart(4, '0') +
    (d.getUTCMonth() + 1).toString(16).padStart(2, '0') +
    d.getUTCDate().toString(16).padStart(2, '0');
  return (base.slice(0, 32) + hex + base.slice(40)).toUpperCase();
}

// Event properties in the order Graph writes them; each renders one field of an instance.
const EVENT_FIELDS = [
  ['@odata.etag', (inst) => `W/"${changeKeyOf(inst)}"`],
  ['id', (inst) => inst.id],
  ['createdDateTime', (inst) => tz.formatUtcStamp(inst.item.createdMs)],
  [
    'lastModifiedDateTime',
    (inst) => tz.formatUtcStamp(inst.exc ? inst.exc.lastModifiedMs : inst.item.lastModifiedMs),
  ],
  ['changeKey', (inst) => changeKeyOf(inst)],
  ['categories', (inst) => eff(inst, 'categories').slice()],
  // Graph returns a transactionId only to the app that set one; set by the simulator's create (write.js).
  ['transactionId', (inst) => inst.item.transactionId || null],
  ['originalStartTimeZone', (inst) => inst.item.startTz],
  ['originalEndTimeZone', (inst) => inst.item.endTz],
  ['iCalUId', (inst) => iCalUIdOf(inst)],
  ['reminderMinutesBeforeStart', (inst) => inst.item.reminderMinutesBeforeStart],
  ['isReminderOn', (inst) => inst.item.isReminderOn],
  ['hasAttachments', (inst) => inst.item.hasAttachments],
  ['subject', (inst) => eff(inst, 'subject')],
  [
    'bodyPreview',
    (inst) => {
      const text =
        inst.item.bodyHtml !== undefined ? htmlToText(inst.item.bodyHtml) : plainBody(inst.item, inst.exc);
      return text.slice(0, 255);
    },
  ],
  ['importance', (inst) => eff(inst, 'importance')],
  ['sensitivity', (inst) => eff(inst, 'sensitivity')],
  ['isAllDay', (inst) => inst.item.isAllDay],
  ['isCancelled', (inst) => eff(inst, 'isCancelled')],
  ['isOrganizer', (inst) => inst.item.isOrganizer],
  ['responseRequested', (inst) => inst.item.responseRequested],
  ['seriesMasterId', (inst) => (inst.day !== undefined ? inst.item.id : null)],
  ['showAs', (inst) => eff(inst, 'showAs')],
  ['type', (inst) => inst.type],
  [
    'webLink',
    (inst) =>
      `https://outlook.office365.com/owa/?itemid=${encodeURIComponent(inst.id)}&exvsurl=1&path=/calendar/item`,
  ],
  ['onlineMeetingUrl', () => null],
  ['isOnlineMeeting', (inst) => inst.item.isOnlineMeeting],
  ['onlineMeetingProvider', (inst) => (inst.item.isOnlineMeeting ? 'teamsForBusiness' : 'unknown')],
  ['allowNewTimeProposals', () => true],
  ['isDraft', () => false],
  ['hideAttendees', () => false],
  ['cancelledOccurrences', () => undefined, true],
  [
    'originalStart',
    (inst) => (inst.day !== undefined ? `${tz.formatWall(inst.originalStartMs).slice(0, 19)}Z` : undefined),
  ],
  [
    'responseStatus',
    (inst) => ({
      response: inst.item.response,
      time:
        inst.item.response === 'organizer' || inst.item.response === 'none'
          ? '0001-01-01T00:00:00Z'
          : tz.formatUtcStamp(inst.item.createdMs).slice(0, 19) + 'Z',
    }),
  ],
  [
    'body',
    (inst, ctx) =>
      ctx.textBody
        ? {
            contentType: 'text',
            content:
              inst.item.bodyHtml !== undefined
                ? htmlToText(inst.item.bodyHtml)
                : plainBody(inst.item, inst.exc),
          }
        : { contentType: 'html', content: htmlBody(inst.item, inst.exc) },
  ],
  ['start', (inst, ctx) => dateTimeOf(inst, 'start', ctx)],
  ['end', (inst, ctx) => dateTimeOf(inst, 'end', ctx)],
  ['location', (inst) => locationObject(eff(inst, 'location'))],
  [
    'locations',
    (inst) => {
      const loc = eff(inst, 'location');
      return loc && loc.displayName ? [locationObject(loc)] : [];
    },
  ],
  [
    'recurrence',
    (inst) => (inst.type === 'seriesMaster' ? JSON.parse(JSON.stringify(inst.item.recurrence)) : null),
  ],
  [
    'attendees',
    (inst) =>
      inst.item.attendees.map((a) => ({
        type: a.type || 'required',
        status: { response: a.response || 'none', time: '0001-01-01T00:00:00Z' },
        emailAddress: { name: a.name, address: a.address },
      })),
  ],
  ['organizer', (inst) => emailAddress(inst.item.organizer)],
  ['onlineMeeting', (inst) => (inst.item.joinUrl ? { joinUrl: inst.item.joinUrl } : null)],
];

const EVENT_PROPERTY_NAMES = new Map(
  EVENT_FIELDS.filter(([name]) => name !== '@odata.etag').map(([name]) => [name.toLowerCase(), name]),
);
for (const name of EVENT_NAVIGATION) EVENT_PROPERTY_NAMES.set(name.toLowerCase(), name);

/**
 * Parses $select against a property list: { fields: Set of canonical names } or { unknown: 'name' }.
 * Names are matched case-insensitively, as Graph does.
 */
function parseSelect(value, names) {
  const fields = new Set();
  for (const raw of String(value).split(',')) {
    const name = raw.trim();
    if (name === '') continue;
    const canonical = names.get(name.toLowerCase());
    if (!canonical) return { unknown: name };
    fields.add(canonical);
  }
  return { fields };
}

/** One instance as a Graph event object; `select` (a Set) limits it to those fields plus id and @odata.etag. */
function renderEvent(inst, ctx, select) {
  const out = {};
  for (const [name, render, onlyWhenSelected] of EVENT_FIELDS) {
    if (select) {
      if (name !== 'id' && name !== '@odata.etag' && !select.has(name)) continue;
    } else if (onlyWhenSelected) {
      continue;
    }
    const value = render(inst, ctx);
    if (value !== undefined) out[name] = value;
    else if (select && select.has(name)) out[name] = name === 'cancelledOccurrences' ? [] : null;
  }
  return out;
}

const CALENDAR_PROPERTY_NAMES = new Map(CALENDAR_PROPS.map((name) => [name.toLowerCase(), name]));

/** A calendar as Graph's calendar object. `viewer` is the user who asks (owner or delegate). */
function renderCalendar(calendar, select) {
  const full = {
    id: calendar.id,
    name: calendar.name,
    color: calendar.color,
    hexColor: calendar.hexColor,
    isDefaultCalendar: calendar.isDefault,
    changeKey: calendar.changeKey,
    // A sharee's copy (read permission): only the owner may share, edit or see private items.
    canShare: !calendar.source,
    canViewPrivateItems: !calendar.source,
    canEdit: !calendar.source,
    allowedOnlineMeetingProviders: ['teamsForBusiness'],
    defaultOnlineMeetingProvider: 'teamsForBusiness',
    isTallyingResponses: true,
    isRemovable: !calendar.isDefault,
    owner: { name: calendar.owner.displayName, address: calendar.owner.upn },
  };
  if (!select) return full;
  const out = {};
  for (const name of CALENDAR_PROPS) if (name === 'id' || select.has(name)) out[name] = full[name];
  return out;
}

module.exports = {
  renderEvent,
  renderCalendar,
  parseSelect,
  EVENT_PROPERTY_NAMES,
  CALENDAR_PROPERTY_NAMES,
  htmlToText,
};
