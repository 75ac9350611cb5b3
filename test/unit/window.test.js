// The window grammar and the local date math under it, pinned with worked examples in zones with and without DST
// and in one (America/Santiago) whose midnight is skipped on the day DST starts.
'use strict';
const vm = require('vm');
const should = require('should');
const { distPath } = require('../lib/dist');

const w = {
  ...require(distPath('nodes/shared/time/wall-clock.js')),
  ...require(distPath('nodes/shared/time/window.js')),
};

const BERLIN = 'Europe/Berlin'; // CET +01:00 / CEST +02:00; 2026: 29 Mar 02:00→03:00, 25 Oct 03:00→02:00
const NEW_YORK = 'America/New_York'; // EST -05:00 / EDT -04:00; 2026: 8 Mar 02:00→03:00, 1 Nov 02:00→01:00
const KOLKATA = 'Asia/Kolkata'; // +05:30 all year
const TOKYO = 'Asia/Tokyo'; // +09:00 all year
// -04:00 / -03:00; 2026: 6 Sep 00:00→01:00 (midnight skipped), 5 Apr 00:00→4 Apr 23:00 (23:xx on 4 Apr twice)
const SANTIAGO = 'America/Santiago';

const HOUR = 3_600_000;
const DAY = 86_400_000;
const at = (iso) => Date.parse(iso);

/** A window value read in `zone`, shown as ISO with the zone's offset. */
function parsed(value, zone, now, field = 'start') {
  return w.isoWithOffset(w.parseWindowValue(value, field, zone, now), zone);
}

/** Runs fn, expects an O365Error with `code` and `cause.field`, and returns it for more checks. */
function failure(fn, field, code = 'INVALID_WINDOW') {
  let caught;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  should.exist(caught, 'expected an error');
  caught.should.be.instanceOf(Error);
  caught.code.should.equal(code);
  if (field) caught.cause.field.should.equal(field);
  return caught;
}

describe('window: wall-clock math', function () {
  describe('zonedParts and offsetMinutes', function () {
    it('reads the wall clock on both sides of Berlin spring-forward', function () {
      // 00:59:59Z is 01:59:59 CET; one second later, 01:00:00Z, is 03:00:00 CEST
      w.zonedParts(at('2026-03-29T00:59:59Z'), BERLIN).should.eql({
        year: 2026,
        month: 3,
        day: 29,
        hour: 1,
        minute: 59,
        second: 59,
        millisecond: 0,
        weekday: 7,
      });
      w.zonedParts(at('2026-03-29T01:00:00Z'), BERLIN).hour.should.equal(3);
      w.offsetMinutes(at('2026-03-29T00:59:59Z'), BERLIN).should.equal(60);
      w.offsetMinutes(at('2026-03-29T01:00:00Z'), BERLIN).should.equal(120);
    });

    it('reads 01:30 twice on New York fall-back, with different offsets', function () {
      const first = w.zonedParts(at('2026-11-01T05:30:00Z'), NEW_YORK);
      const second = w.zonedParts(at('2026-11-01T06:30:00Z'), NEW_YORK);
      [first.hour, first.minute, second.hour, second.minute].should.eql([1, 30, 1, 30]);
      w.offsetMinutes(at('2026-11-01T05:30:00Z'), NEW_YORK).should.equal(-240);
      w.offsetMinutes(at('2026-11-01T06:30:00Z'), NEW_YORK).should.equal(-300);
    });

    it('handles half-hour offsets, milliseconds and the ISO weekday', function () {
      // 00:00:00.123Z + 05:30 = 05:30:00.123 on Friday 27 Nov 2026
      w.zonedParts(at('2026-11-27T00:00:00.123Z'), KOLKATA).should.eql({
        year: 2026,
        month: 11,
        day: 27,
        hour: 5,
        minute: 30,
        second: 0,
        millisecond: 123,
        weekday: 5,
      });
      w.offsetMinutes(at('2026-06-01T00:00:00Z'), KOLKATA).should.equal(330);
      // 15:00Z + 9h = midnight on Saturday 28 Nov
      const tokyo = w.zonedParts(at('2026-11-27T15:00:00Z'), TOKYO);
      [tokyo.day, tokyo.hour, tokyo.weekday].should.eql([28, 0, 6]);
    });

    it('refuses a zone Intl does not know', function () {
      failure(() => w.zonedParts(0, 'Mars/Olympus'), undefined, 'INVALID_TIMEZONE').message.should.containEql(
        'Mars/Olympus',
      );
    });
  });

  describe('fromLocal', function () {
    it('moves a time in the spring-forward gap forward by the gap', function () {
      // Berlin: 02:30 does not exist on 29 Mar 2026; read with the CET offset it is 01:30Z = 03:30 CEST
      w.fromLocal({ year: 2026, month: 3, day: 29, hour: 2, minute: 30 }, BERLIN).should.equal(
        at('2026-03-29T01:30:00Z'),
      );
      // New York: 02:30 on 8 Mar 2026 → 03:30 EDT = 07:30Z
      w.isoWithOffset(
        w.fromLocal({ year: 2026, month: 3, day: 8, hour: 2, minute: 30 }, NEW_YORK),
        NEW_YORK,
      ).should.equal('2026-03-08T03:30:00-04:00');
      // Santiago: the gap is at midnight, so 00:30 on 6 Sep 2026 becomes 01:30 -03:00 = 04:30Z
      w.fromLocal({ year: 2026, month: 9, day: 6, hour: 0, minute: 30 }, SANTIAGO).should.equal(
        at('2026-09-06T04:30:00Z'),
      );
    });

    it('takes the earlier instant of an ambiguous fall-back time', function () {
      // Berlin 02:30 on 25 Oct 2026 is 00:30Z (CEST) and 01:30Z (CET): the earlier one
      w.fromLocal({ year: 2026, month: 10, day: 25, hour: 2, minute: 30 }, BERLIN).should.equal(
        at('2026-10-25T00:30:00Z'),
      );
      // New York 01:30 on 1 Nov 2026 is 05:30Z (EDT) and 06:30Z (EST)
      w.fromLocal({ year: 2026, month: 11, day: 1, hour: 1, minute: 30 }, NEW_YORK).should.equal(
        at('2026-11-01T05:30:00Z'),
      );
      // Santiago 23:30 on 4 Apr 2026 is 02:30Z (-03:00) and 03:30Z (-04:00)
      w.fromLocal({ year: 2026, month: 4, day: 4, hour: 23, minute: 30 }, SANTIAGO).should.equal(
        at('2026-04-05T02:30:00Z'),
      );
    });

    it('is plain arithmetic in a zone without DST', function () {
      // 02:30 +05:30 = 21:00Z the day before
      w.fromLocal({ year: 2026, month: 3, day: 29, hour: 2, minute: 30 }, KOLKATA).should.equal(
        at('2026-03-28T21:00:00Z'),
      );
      w.fromLocal({ year: 2026, month: 11, day: 27, hour: 9, second: 5, millisecond: 7 }, TOKYO).should.equal(
        at('2026-11-27T00:00:05.007Z'),
      );
    });

    it('defaults the time to midnight, rolls over like Date.UTC and keeps years below 100', function () {
      w.fromLocal({ year: 2026, month: 1, day: 32 }, TOKYO).should.equal(at('2026-01-31T15:00:00Z')); // 1 Feb 00:00 JST
      w.isoWithOffset(w.fromLocal({ year: 99, month: 1, day: 1 }, 'UTC'), 'UTC').should.equal(
        '0099-01-01T00:00:00+00:00',
      );
    });

    it('survives a whole skipped day (Samoa, 30 Dec 2011)', function () {
      // Apia went from -10:00 to +14:00 at the end of 29 Dec: 12:00 on the 30th moves forward 24h
      w.isoWithOffset(
        w.fromLocal({ year: 2011, month: 12, day: 30, hour: 12 }, 'Pacific/Apia'),
        'Pacific/Apia',
      ).should.equal('2011-12-31T12:00:00+14:00');
    });

    it('inverts zonedParts every 37 minutes across both Berlin changes', function () {
      for (let ms = at('2026-03-28T00:00:00Z'); ms < at('2026-03-30T00:00:00Z'); ms += 37 * 60_000) {
        w.fromLocal(w.zonedParts(ms, BERLIN), BERLIN).should.equal(ms);
      }
      // in the repeated hour only the earlier instant comes back
      for (let ms = at('2026-10-24T23:00:00Z'); ms < at('2026-10-25T03:00:00Z'); ms += 37 * 60_000) {
        const expected = ms >= at('2026-10-25T01:00:00Z') && ms < at('2026-10-25T02:00:00Z') ? ms - HOUR : ms;
        w.fromLocal(w.zonedParts(ms, BERLIN), BERLIN).should.equal(expected);
      }
    });
  });

  describe('startOfLocalDay', function () {
    it('is local midnight, whatever the offset that day', function () {
      w.startOfLocalDay(at('2026-03-29T12:00:00Z'), BERLIN).should.equal(at('2026-03-28T23:00:00Z')); // 00:00 CET
      w.startOfLocalDay(at('2026-10-25T12:00:00Z'), BERLIN).should.equal(at('2026-10-24T22:00:00Z')); // 00:00 CEST
      w.startOfLocalDay(at('2026-11-27T20:00:00Z'), TOKYO).should.equal(at('2026-11-27T15:00:00Z')); // 28 Nov JST
      w.startOfLocalDay(at('2026-11-27T20:00:00Z'), KOLKATA).should.equal(at('2026-11-27T18:30:00Z')); // 28 Nov IST
      w.startOfLocalDay(at('2026-11-27T20:00:00Z'), NEW_YORK).should.equal(at('2026-11-27T05:00:00Z')); // 27 Nov EST
    });

    it('is 01:00 on the Santiago day whose midnight is skipped', function () {
      const first = w.startOfLocalDay(at('2026-09-06T15:00:00Z'), SANTIAGO);
      w.isoWithOffset(first, SANTIAGO).should.equal('2026-09-06T01:00:00-03:00');
      first.should.equal(at('2026-09-06T04:00:00Z'));
      // one millisecond earlier is still 5 September
      w.localDate(first - 1, SANTIAGO).should.equal('2026-09-05');
    });

    it('is the one midnight of the Santiago fall-back day, and the first 23:xx the day before', function () {
      // 5 Apr: clocks went from 00:00 -03:00 back to 23:00 -04:00 on the 4th, so the 5th begins at 00:00 -04:00
      w.isoWithOffset(w.startOfLocalDay(at('2026-04-05T12:00:00Z'), SANTIAGO), SANTIAGO).should.equal(
        '2026-04-05T00:00:00-04:00',
      );
      // 03:30Z is the second 23:30 of 4 Apr; that day still began at 00:00 -03:00
      w.isoWithOffset(w.startOfLocalDay(at('2026-04-05T03:30:00Z'), SANTIAGO), SANTIAGO).should.equal(
        '2026-04-04T00:00:00-03:00',
      );
    });

    it('finds the jump when a gap straddles midnight (Toronto, 30 Mar 1919 23:30 EST → 00:30 EDT)', function () {
      w.isoWithOffset(
        w.startOfLocalDay(at('1919-03-31T12:00:00Z'), 'America/Toronto'),
        'America/Toronto',
      ).should.equal('1919-03-31T00:30:00-04:00');
    });
  });

  describe('addLocalDays', function () {
    it('keeps the wall-clock time across Berlin DST changes', function () {
      const spring = w.addLocalDays(at('2026-03-28T09:00:00Z'), 1, BERLIN); // 10:00 CET → 10:00 CEST
      w.isoWithOffset(spring, BERLIN).should.equal('2026-03-29T10:00:00+02:00');
      (spring - at('2026-03-28T09:00:00Z')).should.equal(23 * HOUR);
      const autumn = w.addLocalDays(at('2026-10-24T08:00:00Z'), 1, BERLIN); // 10:00 CEST → 10:00 CET
      w.isoWithOffset(autumn, BERLIN).should.equal('2026-10-25T10:00:00+01:00');
      (autumn - at('2026-10-24T08:00:00Z')).should.equal(25 * HOUR);
      w.isoWithOffset(w.addLocalDays(at('2026-03-30T08:00:00Z'), -2, BERLIN), BERLIN).should.equal(
        '2026-03-28T10:00:00+01:00',
      );
    });

    it('lands a time that falls in a gap after the gap', function () {
      // 02:30 EST on 7 Mar + 1 day = 02:30 on 8 Mar, which does not exist → 03:30 EDT
      w.isoWithOffset(w.addLocalDays(at('2026-03-07T07:30:00Z'), 1, NEW_YORK), NEW_YORK).should.equal(
        '2026-03-08T03:30:00-04:00',
      );
      // Samoa: 29 Dec 2011 12:00 -10:00 + 1 day → 30 Dec never happened → 31 Dec 12:00 +14:00
      w.isoWithOffset(
        w.addLocalDays(at('2011-12-29T22:00:00Z'), 1, 'Pacific/Apia'),
        'Pacific/Apia',
      ).should.equal('2011-12-31T12:00:00+14:00');
    });

    it('is 24 hours in a zone without DST', function () {
      (w.addLocalDays(at('2026-03-28T04:30:00Z'), 1, KOLKATA) - at('2026-03-28T04:30:00Z')).should.equal(DAY);
    });
  });

  describe('isoWithOffset and localDate', function () {
    it('always writes ±hh:mm, never Z, and milliseconds only when there are some', function () {
      w.isoWithOffset(at('2026-11-27T09:42:00Z'), BERLIN).should.equal('2026-11-27T10:42:00+01:00');
      w.isoWithOffset(at('2026-07-01T09:42:00Z'), BERLIN).should.equal('2026-07-01T11:42:00+02:00');
      w.isoWithOffset(at('2026-11-27T09:42:00Z'), 'UTC').should.equal('2026-11-27T09:42:00+00:00');
      w.isoWithOffset(at('2026-11-27T09:42:00.005Z'), 'UTC').should.equal('2026-11-27T09:42:00.005+00:00');
      w.isoWithOffset(at('2026-11-27T09:42:00.120Z'), KOLKATA).should.equal('2026-11-27T15:12:00.120+05:30');
      w.isoWithOffset(at('2026-11-27T09:42:00Z'), NEW_YORK).should.equal('2026-11-27T04:42:00-05:00');
      w.isoWithOffset(at('2026-11-27T12:00:00Z'), 'America/St_Johns').should.equal(
        '2026-11-27T08:30:00-03:30',
      );
    });

    it('parses back to the same instant', function () {
      for (const zone of [BERLIN, NEW_YORK, KOLKATA, TOKYO, SANTIAGO, 'America/St_Johns']) {
        for (
          let ms = at('2026-01-01T00:00:00.250Z');
          ms < at('2027-01-01T00:00:00Z');
          ms += 7 * DAY + 13 * HOUR
        ) {
          Date.parse(w.isoWithOffset(ms, zone)).should.equal(ms);
        }
      }
    });

    it('gives the local date in the zone', function () {
      w.localDate(at('2026-11-27T23:30:00Z'), TOKYO).should.equal('2026-11-28');
      w.localDate(at('2026-11-27T23:30:00Z'), NEW_YORK).should.equal('2026-11-27');
      w.localDate(at('2026-11-27T23:30:00Z'), BERLIN).should.equal('2026-11-28');
    });
  });
});

describe('window: parseWindowValue', function () {
  // Friday 27 Nov 2026, 10:42 in Berlin (CET, +01:00) = 09:42Z
  const NOW = at('2026-11-27T09:42:00Z');

  describe('grammar', function () {
    it('reads the anchors in the node zone', function () {
      parsed('now', BERLIN, NOW).should.equal('2026-11-27T10:42:00+01:00');
      parsed('today', BERLIN, NOW).should.equal('2026-11-27T00:00:00+01:00');
      parsed('tomorrow', BERLIN, NOW).should.equal('2026-11-28T00:00:00+01:00');
      parsed('week', BERLIN, NOW).should.equal('2026-11-23T00:00:00+01:00'); // the Monday
      parsed('week+1w', BERLIN, NOW).should.equal('2026-11-30T00:00:00+01:00');
      w.parseWindowValue('now', 'start', BERLIN, NOW).should.equal(NOW);
    });

    it('takes the date of the instant in the zone: one instant, three different todays', function () {
      const late = at('2026-11-27T20:00:00Z'); // 21:00 Berlin, 01:30 next day Kolkata, 05:00 next day Tokyo
      parsed('today', BERLIN, late).should.equal('2026-11-27T00:00:00+01:00');
      parsed('today', KOLKATA, late).should.equal('2026-11-28T00:00:00+05:30');
      parsed('today', TOKYO, late).should.equal('2026-11-28T00:00:00+09:00');
    });

    it('needs no sign for plus', function () {
      parsed('7d', BERLIN, NOW).should.equal('2026-12-04T10:42:00+01:00');
      parsed('+7d', BERLIN, NOW).should.equal('2026-12-04T10:42:00+01:00');
      parsed('now+7d', BERLIN, NOW).should.equal('2026-12-04T10:42:00+01:00');
      parsed('12h', BERLIN, NOW).should.equal('2026-11-27T22:42:00+01:00');
      parsed('-1h', BERLIN, NOW).should.equal('2026-11-27T09:42:00+01:00');
      parsed('+0d', BERLIN, NOW).should.equal('2026-11-27T10:42:00+01:00');
    });

    it('reads m as minutes, not months', function () {
      parsed('90m', BERLIN, NOW).should.equal('2026-11-27T12:12:00+01:00');
      parsed('today-30m', BERLIN, NOW).should.equal('2026-11-26T23:30:00+01:00');
      parsed('now+2w', BERLIN, NOW).should.equal('2026-12-11T10:42:00+01:00');
    });

    it('counts h as elapsed time and d as wall-clock days across Berlin spring-forward', function () {
      const now = at('2026-03-28T09:00:00Z'); // Saturday 10:00 CET
      parsed('now+24h', BERLIN, now).should.equal('2026-03-29T11:00:00+02:00'); // 09:00Z + 24h
      parsed('now+1d', BERLIN, now).should.equal('2026-03-29T10:00:00+02:00'); // only 23h later
      parsed('today+1d', BERLIN, now).should.equal('2026-03-29T00:00:00+01:00');
      parsed('tomorrow', BERLIN, now).should.equal('2026-03-29T00:00:00+01:00');
      parsed('today+2d', BERLIN, now).should.equal('2026-03-30T00:00:00+02:00');
      // today = 27 Mar 23:00Z; + 48h = 29 Mar 23:00Z = 30 Mar 01:00 CEST
      parsed('today+48h', BERLIN, now).should.equal('2026-03-30T01:00:00+02:00');
      // tomorrow = 28 Mar 23:00Z; + 3h = 02:00Z = 04:00 CEST (02:00-03:00 never happened)
      parsed('tomorrow+3h', BERLIN, now).should.equal('2026-03-29T04:00:00+02:00');
      // and backwards from Monday 10:00 CEST
      const monday = at('2026-03-30T08:00:00Z');
      parsed('-1d', BERLIN, monday).should.equal('2026-03-29T10:00:00+02:00');
      parsed('-2d', BERLIN, monday).should.equal('2026-03-28T10:00:00+01:00');
      parsed('-48h', BERLIN, monday).should.equal('2026-03-28T09:00:00+01:00');
    });

    it('counts h as elapsed time and d as wall-clock days across Berlin fall-back', function () {
      const now = at('2026-10-24T08:00:00Z'); // Saturday 10:00 CEST
      parsed('now+1d', BERLIN, now).should.equal('2026-10-25T10:00:00+01:00'); // 25h later
      parsed('now+24h', BERLIN, now).should.equal('2026-10-25T09:00:00+01:00');
      parsed('today+2d', BERLIN, now).should.equal('2026-10-26T00:00:00+01:00');
      // today = 23 Oct 22:00Z; + 48h = 25 Oct 22:00Z = 23:00 CET
      parsed('today+48h', BERLIN, now).should.equal('2026-10-25T23:00:00+01:00');
    });

    it('does the same in New York, and moves a gap time forward', function () {
      const now = at('2026-03-07T17:00:00Z'); // Saturday 12:00 EST
      parsed('now+1d', NEW_YORK, now).should.equal('2026-03-08T12:00:00-04:00');
      parsed('now+24h', NEW_YORK, now).should.equal('2026-03-08T13:00:00-04:00');
      parsed('week', NEW_YORK, now).should.equal('2026-03-02T00:00:00-05:00');
      parsed('week+1w', NEW_YORK, now).should.equal('2026-03-09T00:00:00-04:00');
      // 02:30 EST + 1d = 02:30 on 8 Mar, inside the gap → 03:30 EDT
      parsed('now+1d', NEW_YORK, at('2026-03-07T07:30:00Z')).should.equal('2026-03-08T03:30:00-04:00');
    });

    it('has 24-hour days where there is no DST', function () {
      const now = at('2026-03-28T04:30:00Z'); // 10:00 IST
      parsed('now+1d', KOLKATA, now).should.equal('2026-03-29T10:00:00+05:30');
      parsed('now+24h', KOLKATA, now).should.equal('2026-03-29T10:00:00+05:30');
      parsed('today', KOLKATA, now).should.equal('2026-03-28T00:00:00+05:30');
      parsed('today+1d', KOLKATA, now).should.equal('2026-03-29T00:00:00+05:30');
    });

    it('starts the week on Monday, also when today is Sunday', function () {
      // Tokyo: Sunday 29 Nov 23:59 → Monday 23 Nov; Monday 30 Nov 00:00 → that same instant
      parsed('week', TOKYO, at('2026-11-29T14:59:00Z')).should.equal('2026-11-23T00:00:00+09:00');
      parsed('week', TOKYO, at('2026-11-29T15:00:00Z')).should.equal('2026-11-30T00:00:00+09:00');
      // Berlin: Sunday 29 Mar 12:00 CEST → Monday 23 Mar (CET); a week on is Monday 30 Mar (CEST), 7d - 1h later
      const sunday = at('2026-03-29T10:00:00Z');
      parsed('week', BERLIN, sunday).should.equal('2026-03-23T00:00:00+01:00');
      parsed('week+1w', BERLIN, sunday).should.equal('2026-03-30T00:00:00+02:00');
      parsed('week', BERLIN, at('2026-03-29T22:30:00Z')).should.equal('2026-03-30T00:00:00+02:00'); // Mon 00:30
    });

    it('anchors days at their first instant where midnight is skipped (Santiago, 6 Sep 2026)', function () {
      parsed('today', SANTIAGO, at('2026-09-06T15:00:00Z')).should.equal('2026-09-06T01:00:00-03:00');
      const saturday = at('2026-09-05T16:00:00Z'); // 12:00 -04:00
      parsed('tomorrow', SANTIAGO, saturday).should.equal('2026-09-06T01:00:00-03:00');
      parsed('today+1d', SANTIAGO, saturday).should.equal('2026-09-06T01:00:00-03:00');
      parsed('today+2d', SANTIAGO, saturday).should.equal('2026-09-07T00:00:00-03:00');
      parsed('now+1d', SANTIAGO, saturday).should.equal('2026-09-06T12:00:00-03:00'); // 23h later
      // 00:30 + 1d falls in the gap → 01:30
      parsed('now+1d', SANTIAGO, at('2026-09-05T04:30:00Z')).should.equal('2026-09-06T01:30:00-03:00');
      const sunday = at('2026-09-06T15:00:00Z');
      parsed('week', SANTIAGO, sunday).should.equal('2026-08-31T00:00:00-04:00');
      parsed('week+1w', SANTIAGO, sunday).should.equal('2026-09-07T00:00:00-03:00');
    });

    it('trims surrounding whitespace', function () {
      parsed('  today\n', BERLIN, NOW).should.equal('2026-11-27T00:00:00+01:00');
    });

    for (const [bad, hint, suggestion] of [
      ['tomorow', '', 'tomorrow'],
      ['tommorrow+1d', '', 'tomorrow+1d'],
      ['Today', 'lower case', 'today'],
      ['NOW', 'lower case', 'now'],
      ['now+1D', 'lower case', 'now+1d'],
      ['now+1M', 'm is minutes and lower case; for months use d or w'],
      ['now+1y', 'units are m = minutes'],
      ['now+7days', 'units are m = minutes', 'now+7d'],
      ['-30s', 'units are m = minutes'],
      ['now+1.5h', 'whole number'],
      ['1,5d', 'whole number'],
      ['now+d', ''],
      ['now+', ''],
      ['+', ''],
      ['7', 'needs a unit'],
      ['now+1d+2h', ''],
      ['now + 7d', 'no spaces', 'now+7d'],
      ['7 d', 'no spaces', '7d'],
      ['yesterday', ''],
      ['now-', ''],
      ['++1d', ''],
      ['week+1', ''],
    ]) {
      it(`refuses ${JSON.stringify(bad)}, naming the field and the value${suggestion ? ', with a guess' : ''}`, function () {
        const err = failure(() => w.parseWindowValue(bad, 'end', BERLIN, NOW), 'end');
        const guess = suggestion ? ` (did you mean ${JSON.stringify(suggestion)}?)` : '';
        err.message.should.startWith(
          `end: ${JSON.stringify(bad)} is not a window value${guess}; use now, today, tomorrow,`,
        );
        err.message.should.containEql(hint);
        err.cause.code.should.equal('INVALID_WINDOW');
      });
    }

    it('says so when the field is empty', function () {
      failure(() => w.parseWindowValue('  ', 'start', BERLIN, NOW), 'start').message.should.startWith(
        'start is empty; use now, today',
      );
    });

    it('refuses offsets beyond what a Date can hold', function () {
      failure(
        () => w.parseWindowValue('now+99999999999999d', 'end', BERLIN, NOW),
        'end',
      ).message.should.equal('end: "now+99999999999999d" is out of range');
      failure(
        () => w.parseWindowValue('+999999999999999999999m', 'end', BERLIN, NOW),
        'end',
      ).message.should.containEql('out of range');
    });

    it('reports an unknown zone as a time-zone error', function () {
      failure(() => w.parseWindowValue('today', 'start', 'Mars/Olympus', NOW), undefined, 'INVALID_TIMEZONE');
    });
  });

  describe('ISO 8601', function () {
    it('takes a string with an offset or Z as given', function () {
      w.parseWindowValue('2026-11-27T10:00:00+05:30', 'start', BERLIN, NOW).should.equal(
        at('2026-11-27T04:30:00Z'),
      );
      parsed('2026-11-27T10:00:00+05:30', BERLIN, NOW).should.equal('2026-11-27T05:30:00+01:00');
      parsed('2026-11-27T10:00:00+0530', BERLIN, NOW).should.equal('2026-11-27T05:30:00+01:00');
      parsed('2026-11-27T10:00-05', BERLIN, NOW).should.equal('2026-11-27T16:00:00+01:00');
      parsed('2026-03-29T01:30:00Z', BERLIN, NOW).should.equal('2026-03-29T03:30:00+02:00');
      // an offset that does not match the zone still names the same instant
      parsed('2026-10-25T02:30:00+01:00', BERLIN, NOW).should.equal('2026-10-25T02:30:00+01:00');
    });

    it('reads a local time in the node zone', function () {
      w.parseWindowValue('2026-11-27T10:00', 'start', BERLIN, NOW).should.equal(at('2026-11-27T09:00:00Z'));
      w.parseWindowValue('2026-11-27T10:00', 'start', NEW_YORK, NOW).should.equal(at('2026-11-27T15:00:00Z'));
      w.parseWindowValue('2026-11-27T10:00', 'start', KOLKATA, NOW).should.equal(at('2026-11-27T04:30:00Z'));
      w.parseWindowValue('2026-11-27 10:00:30', 'start', TOKYO, NOW).should.equal(at('2026-11-27T01:00:30Z'));
    });

    it('moves a non-existent local time forward and takes the earlier of an ambiguous one', function () {
      parsed('2026-03-29T02:30:00', BERLIN, NOW).should.equal('2026-03-29T03:30:00+02:00');
      parsed('2026-03-08T02:30:00', NEW_YORK, NOW).should.equal('2026-03-08T03:30:00-04:00');
      parsed('2026-09-06T00:15', SANTIAGO, NOW).should.equal('2026-09-06T01:15:00-03:00');
      w.parseWindowValue('2026-10-25T02:30', 'start', BERLIN, NOW).should.equal(at('2026-10-25T00:30:00Z'));
      w.parseWindowValue('2026-11-01T01:30', 'start', NEW_YORK, NOW).should.equal(at('2026-11-01T05:30:00Z'));
      w.parseWindowValue('2026-04-04T23:30', 'start', SANTIAGO, NOW).should.equal(at('2026-04-05T02:30:00Z'));
    });

    it("reads a date alone as that day's first instant", function () {
      parsed('2026-11-27', BERLIN, NOW).should.equal('2026-11-27T00:00:00+01:00');
      parsed('2026-11-27', NEW_YORK, NOW).should.equal('2026-11-27T00:00:00-05:00');
      parsed('2026-11-27', KOLKATA, NOW).should.equal('2026-11-27T00:00:00+05:30');
      parsed('2026-09-06', SANTIAGO, NOW).should.equal('2026-09-06T01:00:00-03:00');
      parsed('2028-02-29', TOKYO, NOW).should.equal('2028-02-29T00:00:00+09:00');
    });

    it('keeps milliseconds and drops finer digits (Graph writes seven)', function () {
      parsed('2026-11-27T10:00:00.5', BERLIN, NOW).should.equal('2026-11-27T10:00:00.500+01:00');
      parsed('2026-11-27T10:00:00,25Z', 'UTC', NOW).should.equal('2026-11-27T10:00:00.250+00:00');
      parsed('2026-11-27T00:00:00.0000000', BERLIN, NOW).should.equal('2026-11-27T00:00:00+01:00');
      parsed('2026-11-27T10:00:00.1239999Z', 'UTC', NOW).should.equal('2026-11-27T10:00:00.123+00:00');
    });

    for (const [bad, reason] of [
      ['2026-02-30', 'is not a date: 2026-02 has 28 days'],
      ['2026-02-29T10:00', 'is not a date: 2026-02 has 28 days'],
      ['2026-04-31', 'is not a date: 2026-04 has 30 days'],
      ['2026-13-01', 'has no month 13'],
      ['2026-00-10', 'has no month 0'],
      ['2026-11-27T24:00', 'is not a time of day'],
      ['2026-11-27T10:60', 'is not a time of day'],
      ['2026-11-27T10:00:60Z', 'is not a time of day'],
      ['2026-11-27T10:00+24:00', 'has no offset +24:00'],
      ['2026-11-27T10', 'is not ISO 8601'],
      ['2026-11-27+01:00', 'is not ISO 8601'],
      ['2026-11-27T10:00:00Z[Europe/Berlin]', 'is not ISO 8601'],
      ['20261127T100000Z', 'is not a window value'],
      ['27.11.2026', 'is not a window value'],
    ]) {
      it(`refuses ${JSON.stringify(bad)}`, function () {
        const err = failure(() => w.parseWindowValue(bad, 'start', BERLIN, NOW), 'start');
        err.message.should.startWith(`start: ${JSON.stringify(bad)} `);
        err.message.should.containEql(reason);
      });
    }
  });

  describe('Dates and numbers', function () {
    it('takes a Date as its instant, also one made in another realm (a Function node)', function () {
      w.parseWindowValue(new Date('2026-11-27T09:42:00Z'), 'start', BERLIN, NOW).should.equal(NOW);
      const foreign = vm.runInNewContext('new Date(Date.UTC(2026, 10, 27, 9, 42))');
      (foreign instanceof Date).should.be.false();
      w.parseWindowValue(foreign, 'end', BERLIN, NOW).should.equal(NOW);
    });

    it('refuses an invalid Date', function () {
      failure(() => w.parseWindowValue(new Date('nope'), 'end', BERLIN, NOW), 'end').message.should.equal(
        'end: the Date is invalid (Invalid Date)',
      );
    });

    it('takes a number as epoch milliseconds', function () {
      w.parseWindowValue(1795772520000, 'start', BERLIN, NOW).should.equal(at('2026-11-27T09:42:00Z'));
      w.parseWindowValue(1795772520000.9, 'start', BERLIN, NOW).should.equal(1795772520000);
      w.parseWindowValue(1e11, 'start', BERLIN, NOW).should.equal(1e11); // 1973-03-03T09:46:40Z, the smallest
    });

    it('refuses numbers below 10^11 as probable seconds', function () {
      failure(() => w.parseWindowValue(1e10, 'start', BERLIN, NOW), 'start').message.should.equal(
        'start: 10000000000 is below 10^11, so it is probably seconds since 1970, not epoch milliseconds; ' +
          'send 10000000000000 for that time in milliseconds',
      );
      failure(() => w.parseWindowValue(1795772520, 'end', BERLIN, NOW), 'end').message.should.containEql(
        'send 1795772520000',
      );
      failure(() => w.parseWindowValue(0, 'end', BERLIN, NOW), 'end').message.should.containEql(
        'probably seconds',
      );
      failure(() => w.parseWindowValue(-5, 'end', BERLIN, NOW), 'end').message.should.containEql(
        'probably seconds',
      );
    });

    it('refuses non-finite and out-of-range numbers', function () {
      failure(() => w.parseWindowValue(NaN, 'start', BERLIN, NOW), 'start').message.should.equal(
        'start: NaN is not a time; epoch milliseconds must be a finite number',
      );
      failure(() => w.parseWindowValue(Infinity, 'end', BERLIN, NOW), 'end').message.should.containEql(
        'Infinity',
      );
      failure(() => w.parseWindowValue(9e15, 'end', BERLIN, NOW), 'end').message.should.equal(
        'end: 9000000000000000 is out of range',
      );
    });

    for (const [value, described] of [
      [null, 'null'],
      [undefined, 'undefined'],
      [true, 'a boolean (true)'],
      [{ start: 'now' }, 'an object'],
      [['now'], 'an array'],
      [() => 'now', 'a function'],
      [10n ** 12n, 'a bigint (1000000000000n)'],
    ]) {
      it(`refuses ${described}, naming the field and the type`, function () {
        failure(() => w.parseWindowValue(value, 'start', BERLIN, NOW), 'start').message.should.equal(
          `start: ${described} is not a window value; use now, today, tomorrow, week, an offset like -1h or +7d, ` +
            'ISO 8601, a Date or epoch milliseconds',
        );
      });
    }
  });
});

describe('window: resolveWindow', function () {
  const NOW = at('2026-11-27T09:42:00Z'); // Friday 10:42 in Berlin
  const DEFAULTS = { start: 'now', end: 'now+7d' };

  it('resolves the default window', function () {
    w.resolveWindow(DEFAULTS, {}, BERLIN, NOW).should.eql({
      start: at('2026-11-27T09:42:00Z'),
      end: at('2026-12-04T09:42:00Z'),
      startIso: '2026-11-27T10:42:00+01:00',
      endIso: '2026-12-04T10:42:00+01:00',
    });
  });

  it("resolves today's calendar and a week in a zone without DST", function () {
    w.resolveWindow({ start: 'today', end: 'tomorrow' }, {}, TOKYO, NOW).should.eql({
      start: at('2026-11-26T15:00:00Z'),
      end: at('2026-11-27T15:00:00Z'),
      startIso: '2026-11-27T00:00:00+09:00',
      endIso: '2026-11-28T00:00:00+09:00',
    });
    const week = w.resolveWindow({ start: 'week', end: 'week+1w' }, {}, KOLKATA, NOW);
    [week.startIso, week.endIso].should.eql(['2026-11-23T00:00:00+05:30', '2026-11-30T00:00:00+05:30']);
  });

  it('lets a present override replace the node value, one side at a time', function () {
    const w1 = w.resolveWindow(DEFAULTS, { start: '2026-11-28' }, BERLIN, NOW);
    [w1.startIso, w1.endIso].should.eql(['2026-11-28T00:00:00+01:00', '2026-12-04T10:42:00+01:00']);
    const w2 = w.resolveWindow(DEFAULTS, { end: at('2026-11-27T12:00:00Z') }, BERLIN, NOW);
    [w2.startIso, w2.endIso].should.eql(['2026-11-27T10:42:00+01:00', '2026-11-27T13:00:00+01:00']);
    const w3 = w.resolveWindow(
      DEFAULTS,
      { start: new Date('2026-11-28T00:00:00Z'), end: '2026-11-29T12:00' },
      BERLIN,
      NOW,
    );
    [w3.startIso, w3.endIso].should.eql(['2026-11-28T01:00:00+01:00', '2026-11-29T12:00:00+01:00']);
  });

  it('leaves the node value when the override is undefined, null or blank', function () {
    for (const empty of [undefined, null, '', '   ']) {
      const r = w.resolveWindow(DEFAULTS, { start: empty, end: empty }, BERLIN, NOW);
      [r.startIso, r.endIso].should.eql(['2026-11-27T10:42:00+01:00', '2026-12-04T10:42:00+01:00']);
    }
    const r = w.resolveWindow(DEFAULTS, undefined, BERLIN, NOW);
    r.startIso.should.equal('2026-11-27T10:42:00+01:00');
  });

  it('counts 0 and false as given (and refuses them)', function () {
    failure(() => w.resolveWindow(DEFAULTS, { start: 0 }, BERLIN, NOW), 'start').message.should.containEql(
      'probably seconds',
    );
    failure(() => w.resolveWindow(DEFAULTS, { end: false }, BERLIN, NOW), 'end').message.should.startWith(
      'end: a boolean (false)',
    );
  });

  it('names the field of a bad override', function () {
    failure(() => w.resolveWindow(DEFAULTS, { end: 'tomorow' }, BERLIN, NOW), 'end').message.should.startWith(
      'end: "tomorow" is not a window value',
    );
  });

  it('refuses an end that is not after the start, naming both values', function () {
    failure(
      () => w.resolveWindow({ start: 'now', end: 'today' }, {}, BERLIN, NOW),
      'end',
    ).message.should.equal(
      'end must be after start: start "now" is 2026-11-27T10:42:00+01:00, end "today" is 2026-11-27T00:00:00+01:00',
    );
    failure(() => w.resolveWindow(DEFAULTS, { end: NOW }, BERLIN, NOW), 'end').message.should.equal(
      'end must be after start: start "now" is 2026-11-27T10:42:00+01:00, end 1795772520000 is 2026-11-27T10:42:00+01:00',
    );
    failure(
      () =>
        w.resolveWindow(
          DEFAULTS,
          { start: new Date('2026-12-01T00:00:00Z'), end: '2026-11-30' },
          BERLIN,
          NOW,
        ),
      'end',
    ).message.should.equal(
      'end must be after start: start the Date 2026-12-01T00:00:00.000Z is 2026-12-01T01:00:00+01:00, ' +
        'end "2026-11-30" is 2026-11-30T00:00:00+01:00',
    );
  });

  it('allows 1825 days and refuses 1826', function () {
    // Kolkata has no DST, so 1825 calendar days are exactly 1825 * 24 hours
    const longest = w.resolveWindow({ start: 'today', end: 'today+1825d' }, {}, KOLKATA, NOW);
    (longest.end - longest.start).should.equal(1825 * DAY);
    longest.endIso.should.equal('2031-11-26T00:00:00+05:30');
    failure(
      () => w.resolveWindow({ start: 'today', end: 'today+1826d' }, {}, KOLKATA, NOW),
      'end',
    ).message.should.equal(
      'the window spans 1826 days; Microsoft Graph allows at most 1825 days: ' +
        'start "today" is 2026-11-27T00:00:00+05:30, end "today+1826d" is 2031-11-27T00:00:00+05:30',
    );
    // Berlin: 27 Nov 2026 and 26 Nov 2031 are both in CET, so now+1825d is exactly 1825 * 24 hours on
    const berlin = w.resolveWindow({ start: 'now', end: 'now+1825d' }, {}, BERLIN, NOW);
    berlin.endIso.should.equal('2031-11-26T10:42:00+01:00');
    failure(
      () => w.resolveWindow({ start: 'now', end: 'now+1825d' }, { end: NOW + 1825 * DAY + 1 }, BERLIN, NOW),
      'end',
    ).message.should.startWith(
      'the window spans more than 1825 days; Microsoft Graph allows at most 1825 days:',
    );
  });

  it('builds date-only windows whose end is exclusive', function () {
    const day = (zone, from, to) => {
      const r = w.resolveWindow({ start: from, end: to }, {}, zone, NOW);
      return [(r.end - r.start) / HOUR, r.startIso, r.endIso];
    };
    day(BERLIN, '2026-11-27', '2026-11-28').should.eql([
      24,
      '2026-11-27T00:00:00+01:00',
      '2026-11-28T00:00:00+01:00',
    ]);
    day(BERLIN, '2026-03-29', '2026-03-30').should.eql([
      23,
      '2026-03-29T00:00:00+01:00',
      '2026-03-30T00:00:00+02:00',
    ]);
    day(BERLIN, '2026-10-25', '2026-10-26').should.eql([
      25,
      '2026-10-25T00:00:00+02:00',
      '2026-10-26T00:00:00+01:00',
    ]);
    day(SANTIAGO, '2026-09-06', '2026-09-07').should.eql([
      23,
      '2026-09-06T01:00:00-03:00',
      '2026-09-07T00:00:00-03:00',
    ]);
    day(KOLKATA, '2026-03-29', '2026-03-30').should.eql([
      24,
      '2026-03-29T00:00:00+05:30',
      '2026-03-30T00:00:00+05:30',
    ]);
  });
});

describe('window: all-day events', function () {
  // Friday 27 Nov 2026 in Berlin: today…tomorrow = [26 Nov 23:00Z, 27 Nov 23:00Z)
  const berlinToday = { start: at('2026-11-26T23:00:00Z'), end: at('2026-11-27T23:00:00Z') };
  // the same local day in Tokyo = [26 Nov 15:00Z, 27 Nov 15:00Z)
  const tokyoToday = { start: at('2026-11-26T15:00:00Z'), end: at('2026-11-27T15:00:00Z') };

  it('keeps an event on the first day of the window and drops the days either side (Berlin)', function () {
    w.allDayInWindow('2026-11-26', '2026-11-27', berlinToday, BERLIN).should.be.false(); // day before
    w.allDayInWindow('2026-11-27', '2026-11-28', berlinToday, BERLIN).should.be.true(); // first day
    w.allDayInWindow('2026-11-28', '2026-11-29', berlinToday, BERLIN).should.be.false(); // the end date, exclusive
    w.allDayInWindow('2026-11-20', '2026-12-01', berlinToday, BERLIN).should.be.true(); // spans it
  });

  it('reads the dates as floating: in the zone, not in UTC (Tokyo)', function () {
    // in UTC the 26 Nov event [26 Nov 00:00Z, 27 Nov 00:00Z) would overlap; in Tokyo it ends when the window starts
    w.allDayInWindow(
      '2026-11-26T00:00:00.0000000',
      '2026-11-27T00:00:00.0000000',
      tokyoToday,
      TOKYO,
    ).should.be.false();
    w.allDayInWindow(
      '2026-11-27T00:00:00.0000000',
      '2026-11-28T00:00:00.0000000',
      tokyoToday,
      TOKYO,
    ).should.be.true();
    w.allDayInWindow(
      '2026-11-28T00:00:00.0000000',
      '2026-11-29T00:00:00.0000000',
      tokyoToday,
      TOKYO,
    ).should.be.false();
  });

  it('keeps today and the last partial day of a now…now+7d window', function () {
    // Berlin 10:42 on 27 Nov … 10:42 on 4 Dec
    const window = { start: at('2026-11-27T09:42:00Z'), end: at('2026-12-04T09:42:00Z') };
    w.allDayInWindow('2026-11-26', '2026-11-27', window, BERLIN).should.be.false();
    w.allDayInWindow('2026-11-27', '2026-11-28', window, BERLIN).should.be.true(); // already begun, still today
    w.allDayInWindow('2026-12-04', '2026-12-05', window, BERLIN).should.be.true(); // begins before 10:42
    w.allDayInWindow('2026-12-05', '2026-12-06', window, BERLIN).should.be.false();
  });

  it('uses first instants on a day whose midnight is skipped (Santiago)', function () {
    const window = { start: at('2026-09-06T04:00:00Z'), end: at('2026-09-07T03:00:00Z') }; // 6 Sep 01:00 … 7 Sep 00:00
    w.allDayInWindow('2026-09-05', '2026-09-06', window, SANTIAGO).should.be.false();
    w.allDayInWindow('2026-09-06', '2026-09-07', window, SANTIAGO).should.be.true();
    w.allDayInWindow('2026-09-07', '2026-09-08', window, SANTIAGO).should.be.false();
  });

  it('keeps an event whose dates cannot be read and counts a missing end as one day', function () {
    w.allDayInWindow('soon', '2026-11-28', berlinToday, BERLIN).should.be.true();
    w.allDayInWindow('2026-11-27', undefined, berlinToday, BERLIN).should.be.true();
    w.allDayInWindow('2026-11-26', '', berlinToday, BERLIN).should.be.false();
    w.allDayInWindow('2026-11-26', '2026-11-26', berlinToday, BERLIN).should.be.false();
  });

  it('widens a window by a day each side, but never past 1825 days', function () {
    w.widenForAllDay(berlinToday).should.eql({
      start: at('2026-11-25T23:00:00Z'),
      end: at('2026-11-28T23:00:00Z'),
    });
    const longest = { start: 0, end: 1825 * DAY };
    w.widenForAllDay(longest).should.eql(longest);
    w.widenForAllDay({ start: 0, end: 1824 * DAY }).should.eql({
      start: -12 * HOUR,
      end: 1824 * DAY + 12 * HOUR,
    });
  });
});

describe('window: the grammar’s guess and the messages in German', function () {
  const grammar = require(distPath('nodes/shared/time/grammar.js'));
  const i18n = require(distPath('nodes/shared/node-red/i18n.js'));
  const zones = require(distPath('nodes/shared/time/zones.js'));

  for (const [typed, guess] of [
    ['tommorow', 'tomorrow'],
    ['tomorow+1d', 'tomorrow+1d'],
    ['todya', 'today'],
    ['nwo', 'now'],
    ['weak+1w', 'week+1w'],
    ['Today', 'today'],
    ['now+1D', 'now+1d'],
    ['now + 7 days', 'now+7d'],
    ['today+2dys', 'today+2d'],
    ['now+3hrs', 'now+3h'],
    ['-90mins', '-90m'],
    ['Tomorrow + 1 Day', 'tomorrow+1d'],
  ]) {
    it(`guesses ${JSON.stringify(guess)} for ${JSON.stringify(typed)}`, function () {
      grammar.suggestWindow(typed).should.equal(guess);
      grammar.checkWindowText(typed).params.suggestion.should.equal(guess);
    });
  }

  // No single good guess: months are not minutes, "yesterday" is no typo, a bare number has no unit.
  for (const typed of ['now+1M', 'yesterday', 'tmrw', '7', 'now+', 'week+1', 'now+1y', 'now', '2026-13-01']) {
    it(`makes no guess for ${JSON.stringify(typed)}`, function () {
      should(grammar.suggestWindow(typed)).be.undefined();
    });
  }

  it('counts a swap of neighbours as one edit', function () {
    grammar.editDistance('today', 'todya').should.equal(1);
    grammar.editDistance('tomorrow', 'tommorow').should.equal(2);
    grammar.editDistance('now', 'now').should.equal(0);
  });

  it('says window and zone errors in the language of the catalog', function () {
    const de = JSON.parse(
      require('fs').readFileSync(
        require('path').join(
          __dirname,
          '..',
          '..',
          'nodes',
          'o365-config',
          'locales',
          'de',
          'o365-config.json',
        ),
        'utf8',
      ),
    );
    const lookup = (key) => key.split('.').reduce((at, part) => (at ? at[part] : undefined), de);
    i18n.useTranslator((key, params = {}) => {
      const text = lookup(key);
      return typeof text === 'string'
        ? text.replace(/__([a-zA-Z0-9]+)__/g, (whole, name) =>
            params[name] === undefined ? whole : String(params[name]),
          )
        : key;
    });
    try {
      failure(() => w.parseWindowValue('tommorow', 'start', BERLIN, 0), 'start').message.should.equal(
        'start: "tommorow" ist kein Zeitraumwert (meinten Sie "tomorrow"?); verwenden Sie now, today, tomorrow, ' +
          'week, einen Versatz wie -1h oder +7d, ISO 8601, ein Date oder Epoch-Millisekunden',
      );
      failure(() => w.parseWindowValue('2026-02-30', 'end', BERLIN, 0), 'end').message.should.equal(
        'end: "2026-02-30" ist kein Datum: 2026-02 hat 28 Tage',
      );
      failure(
        () => w.resolveWindow({ start: 'now', end: '-1h' }, {}, 'UTC', Date.UTC(2026, 0, 1)),
        'end',
      ).message.should.startWith(
        'Das Ende muss nach dem Beginn liegen: Beginn "now" ist 2026-01-01T00:00:00+00:00',
      );
      failure(
        () => zones.resolveZone('Mars/Olympus'),
        undefined,
        'INVALID_TIMEZONE',
      ).message.should.startWith('timezone: "Mars/Olympus" ist keine Zeitzone');
    } finally {
      i18n.useTranslator(undefined);
    }
  });
});
