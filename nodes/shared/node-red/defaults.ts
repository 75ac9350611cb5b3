// Default values of node properties that the runtime and the editor both need: written once here, and inlined by
// the build into the editor (window.O365Calendar.defaults), like the grammar. Browser-safe: no imports.

/** o365-events `select`: the fields most flows use, without the heavy HTML body. */
export const DEFAULT_SELECT =
  'subject,start,end,isAllDay,location,organizer,attendees,showAs,isCancelled,type,seriesMasterId,webLink,onlineMeeting,bodyPreview,categories,sensitivity';

/** o365-config `scopes` in delegated mode: reading one's own and shared calendars, the refresh token, the name. */
export const DEFAULT_SCOPES = 'offline_access openid profile Calendars.Read Calendars.Read.Shared';
