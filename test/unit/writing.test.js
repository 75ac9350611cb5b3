// writing.ts without a runtime: the short form and Graph's shape to one event body, times in the node's zone
// (DST, all-day dates), the derived transactionId, answers, and the errors naming their field.
'use strict';
const should = require('should');
const { distPath } = require('../lib/dist');

const { resolveWrite, transactionIdFor, localDateTime } = require(
  distPath('nodes/shared/calendar/writing.js'),
);

const NOW = Date.parse('2027-03-27T10:17:30.250Z'); // a Saturday; Berlin moves to summer time the next night
const settings = (extra = {}) => ({
  user: '',
  calendarId: '',
  action: 'create',
  timezone: 'Europe/Berlin',
  allowMsgMailbox: false,
  ...extra,
});
const plan = (msg, extra) => resolveWrite(settings(extra), msg, 'delegated', NOW);

function refused(fn, field, message) {
  let error;
  try {
    fn();
  } catch (err) {
    error = err;
  }
  should.exist(error, 'no error');
  error.code.should.equal('INVALID_INPUT');
  error.cause.field.should.equal(field);
  if (message) error.message.should.match(message);
}

describe('writing: messages to Graph writes', function () {
  it('reads relative times in the node zone and sends local wall time with the Windows zone name', () => {
    const p = plan({ _msgid: 'a', payload: { subject: 'S', start: 'now', end: 'tomorrow+9h' } });
    p.body.start.should.eql({ dateTime: '2027-03-27T11:17:30.250', timeZone: 'W. Europe Standard Time' });
    // h is elapsed time: 9 hours after tomorrow's first instant, across the night the clocks go forward, is 10:00.
    p.body.end.should.eql({ dateTime: '2027-03-28T10:00:00', timeZone: 'W. Europe Standard Time' });
    p.span.should.eql({ start: NOW, end: Date.parse('2027-03-28T08:00:00Z') });
    p.zone.iana.should.equal('Europe/Berlin');
  });

  it('takes an offset as given, and moves a local time skipped by DST forward (here onto the start)', () => {
    const p = plan({ payload: { subject: 'S', start: '2027-03-28T01:30:00Z', end: '2027-03-28T04:00' } });
    p.body.start.dateTime.should.equal('2027-03-28T03:30:00');
    p.body.end.dateTime.should.equal('2027-03-28T04:00:00');
    p.span.should.eql({ start: Date.parse('2027-03-28T01:30:00Z'), end: Date.parse('2027-03-28T02:00:00Z') });
    // 02:30 does not exist that night in Berlin: it is 03:30, the start, so the end is not after it.
    refused(
      () => plan({ payload: { subject: 'S', start: '2027-03-28T01:30:00Z', end: '2027-03-28T02:30' } }),
      'payload.end',
      /start 2027-03-28T03:30:00, end 2027-03-28T03:30:00/,
    );
  });

  it('all-day: dates at local midnight, end defaulting to the next day across the DST change', () => {
    const p = plan({ payload: { subject: 'Off', isAllDay: true, start: 'today' } });
    p.body.start.should.eql({ dateTime: '2027-03-27T00:00:00', timeZone: 'W. Europe Standard Time' });
    p.body.end.should.eql({ dateTime: '2027-03-28T00:00:00', timeZone: 'W. Europe Standard Time' });
    const twoDays = plan({
      payload: { subject: 'Off', isAllDay: true, start: '2027-03-28', end: '2027-03-30' },
    });
    twoDays.body.end.dateTime.should.equal('2027-03-30T00:00:00');
    // The look-up window of an all-day create is a day wider on each side.
    twoDays.span.start.should.equal(Date.parse('2027-03-27T23:00:00Z') - 86400000);
    refused(
      () => plan({ payload: { subject: 'Off', isAllDay: true, start: 'now' } }),
      'payload.start',
      /all-day/,
    );
    refused(
      () =>
        plan({
          payload: {
            subject: 'Off',
            isAllDay: true,
            start: { dateTime: '2027-03-27T08:00:00', timeZone: 'UTC' },
          },
        }),
      'payload.start',
      /all-day/,
    );
  });

  it('passes Graph’s shape through, without the instants and the fields Graph sets itself', () => {
    const event = {
      '@odata.etag': 'W/"x"',
      id: 'AAMk1',
      changeKey: 'ck',
      createdDateTime: '2027-01-01T00:00:00Z',
      transactionId: 'from-the-read',
      subject: 'Copied',
      start: { dateTime: '2027-03-30T09:00:00.0000000', timeZone: 'Pacific Standard Time', ms: 1, iso: 'x' },
      end: { dateTime: '2027-03-30T10:00:00.0000000', timeZone: 'Pacific Standard Time', ms: 2, iso: 'y' },
      attendees: [{ type: 'resource', emailAddress: { address: 'room.101@contoso.com', name: 'Room' } }],
      location: { displayName: 'Room', locationType: 'conferenceRoom' },
      importance: 'high',
      recurrence: null,
    };
    const p = plan({ _msgid: 'm', payload: event });
    const { transactionId, ...body } = p.body;
    body.should.eql({
      subject: 'Copied',
      start: { dateTime: '2027-03-30T09:00:00.0000000', timeZone: 'Pacific Standard Time' },
      end: { dateTime: '2027-03-30T10:00:00.0000000', timeZone: 'Pacific Standard Time' },
      attendees: event.attendees,
      location: event.location,
      importance: 'high',
      recurrence: null,
    });
    transactionId.should.not.equal('from-the-read');
    p.span.start.should.equal(Date.parse('2027-03-30T16:00:00Z'));
    event.start.ms.should.equal(1); // the message itself is not changed
  });

  it('converts the short form’s text fields and refuses what Graph would refuse, naming the field', () => {
    const p = plan({
      payload: {
        subject: 'S',
        start: 'now',
        end: 'now+1h',
        location: 'Lobby',
        body: '<b>?</b>',
        categories: 'Red',
        attendees: 'a@b.co',
      },
    });
    p.body.should.containEql({
      location: { displayName: 'Lobby' },
      body: { contentType: 'text', content: '<b>?</b>' },
      categories: ['Red'],
      attendees: [{ emailAddress: { address: 'a@b.co' }, type: 'required' }],
    });
    refused(
      () => plan({ payload: { subject: 'S', start: 'now', end: 'now+1h', categories: [1] } }),
      'payload.categories[0]',
    );
    refused(
      () => plan({ payload: { subject: 'S', start: 'now', end: 'now+1h', location: 5 } }),
      'payload.location',
    );
    refused(
      () => plan({ payload: { subject: 'S', start: 'now', end: 'now+1h', body: { contentType: 'html' } } }),
      'payload.body',
    );
    refused(
      () => plan({ payload: { subject: 'S', start: 'now', end: 'now+1h', attendees: [' x@y'] } }),
      'payload.attendees[0]',
    );
    refused(
      () => plan({ payload: { subject: 'S', start: { dateTime: 'soon' }, end: 'now+1h' } }),
      'payload.start.dateTime',
    );
    refused(
      () => plan({ payload: { subject: 'x'.repeat(256), start: 'now', end: 'now+1h' } }),
      'payload.subject',
      /longer than 255/,
    );
    refused(
      () => plan({ payload: { subject: 'S', start: 'now', end: '-1h' } }),
      'payload.end',
      /after the start/,
    );
  });

  it('the derived transactionId: the same for the same message, its own for another message, mailbox, calendar or part', () => {
    const msg = { _msgid: 'm1', payload: { subject: 'S', start: 'now', end: 'now+30m' } };
    const id = transactionIdFor(msg, '', '');
    id.should.match(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    transactionIdFor(
      { payload: { end: 'now+30m', start: 'now', subject: 'S' }, _msgid: 'm1' },
      '',
      '',
    ).should.equal(id);
    for (const other of [
      transactionIdFor({ ...msg, _msgid: 'm2' }, '', ''),
      transactionIdFor(msg, 'room.101@contoso.com', ''),
      transactionIdFor(msg, '', 'AAMkCal'),
      transactionIdFor({ ...msg, parts: { id: 'p', index: 1 } }, '', ''),
      transactionIdFor({ ...msg, payload: { ...msg.payload, subject: 'T' } }, '', ''),
    ]) {
      other.should.not.equal(id);
    }
    transactionIdFor(msg, 'Room.101@Contoso.com', '').should.equal(
      transactionIdFor(msg, 'room.101@contoso.com', ''),
    );
    transactionIdFor({ ...msg, transactionId: ' mine ' }, '', '').should.equal('mine');
    transactionIdFor({ payload: 1 }, '', '').should.not.equal(transactionIdFor({ payload: 1 }, '', ''));
    const circular = { subject: 'S' };
    circular.self = circular;
    refused(() => transactionIdFor({ _msgid: 'c', payload: circular }, '', ''), 'payload', /JSON/);
  });

  it('answers and cancel read only their fields; the event id comes from msg.eventId or payload.id', () => {
    const event = {
      id: 'AAMkE',
      subject: 'From o365-events',
      start: { dateTime: 'x' },
      comment: 'On holiday',
    };
    const decline = plan({ payload: event }, { action: 'decline' });
    decline.should.containEql({ action: 'decline', eventId: 'AAMkE' });
    decline.body.should.eql({ comment: 'On holiday', sendResponse: true });
    const cancel = plan({ eventId: 'AAMkX', payload: event }, { action: 'cancel' });
    cancel.eventId.should.equal('AAMkX');
    cancel.body.should.eql({ comment: 'On holiday' });
    const del = plan({ eventId: 'AAMkX', payload: 17 }, { action: 'delete' });
    should(del.body).be.undefined();
    refused(
      () =>
        plan(
          { eventId: 'AAMkX', payload: { proposedNewTime: { start: 'now', end: 'now+1h' } } },
          { action: 'accept' },
        ),
      'payload.proposedNewTime',
    );
    refused(() => plan({ eventId: 'x\u0000y' }, { action: 'delete' }), 'eventId');
  });

  it('the action from the node or from msg.action', () => {
    plan({ action: 'delete', eventId: 'AAMk1' }, { action: 'msg' }).action.should.equal('delete');
    refused(
      () => plan({ action: 'Delete', eventId: 'AAMk1' }, { action: 'msg' }),
      'action',
      /msg\.action "Delete"/,
    );
    refused(() => plan({ eventId: 'AAMk1' }, { action: 'remove' }), 'action', /The node's action "remove"/);
  });

  it('localDateTime writes Graph’s wall clock, with milliseconds only when there are some', () => {
    localDateTime(Date.parse('2027-01-02T03:04:05Z'), 'UTC').should.equal('2027-01-02T03:04:05');
    localDateTime(Date.parse('2027-01-02T03:04:05.007Z'), 'Asia/Kolkata').should.equal(
      '2027-01-02T08:34:05.007',
    );
  });
});

describe('writing: the catalogs', function () {
  const fs = require('fs');
  const { root } = require('../lib/dist');
  const read = (file) => JSON.parse(fs.readFileSync(`${root}/nodes/${file}`, 'utf8'));
  /** Every key path of a catalog, e.g. 'o365-config.errors.write.notText'. */
  const keys = (node, prefix = '') =>
    Object.entries(node).flatMap(([k, v]) =>
      v && typeof v === 'object' ? keys(v, `${prefix}${k}.`) : [`${prefix}${k}`],
    );

  it('the write node and its runtime messages exist in en-US and de alike', () => {
    keys(read('o365-write/locales/de/o365-write.json')).should.eql(
      keys(read('o365-write/locales/en-US/o365-write.json')),
    );
    const en = read('o365-config/locales/en-US/o365-config.json')['o365-config'];
    const de = read('o365-config/locales/de/o365-config.json')['o365-config'];
    for (const part of [en.errors.write, en.status.write]) part.should.be.an.Object();
    keys(de.errors.write).should.eql(keys(en.errors.write));
    keys(de.status.write).should.eql(keys(en.status.write));
    de.tip.scopes.should.match(/Calendars\.ReadWrite/);
  });
});
