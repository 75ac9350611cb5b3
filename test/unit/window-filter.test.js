// The events node's window test takes shortcuts on the wall clock to avoid time-zone math per event; they must
// never change a decision. Thousands of seeded events around the edges of windows that cross DST changes, in
// zones with and without DST, decided by the shortcut filter and by the exact rule.
'use strict';
require('should');
const { distPath } = require('../lib/dist');

const { windowFilter } = require(distPath('nodes/shared/calendar/events-controller.js'));
const { instantOf } = require(distPath('nodes/shared/time/instants.js'));
const { resolveZone } = require(distPath('nodes/shared/time/zones.js'));
const { fromLocal, isoWithOffset, zonedParts } = require(distPath('nodes/shared/time/wall-clock.js'));

const HOUR = 3_600_000;

/** mulberry32: a small seeded generator, so a failure can be replayed. */
function random(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Graph's dateTime for an instant in a zone ('2026-03-29T02:30:00.0000000'). */
function graphDateTime(ms, iana) {
  const p = zonedParts(ms, iana);
  const two = (n) => String(n).padStart(2, '0');
  return `${p.year}-${two(p.month)}-${two(p.day)}T${two(p.hour)}:${two(p.minute)}:${two(p.second)}.0000000`;
}

function exact(event, window, zone) {
  const from = instantOf(event.start, zone);
  const to = instantOf(event.end, zone);
  return from < window.end && (to > window.start || (to === from && from >= window.start));
}

describe('windowFilter: the wall-clock shortcuts never change a decision', () => {
  // Windows whose edges sit right at DST changes (where wall clock and instants disagree by an hour), and
  // plain ones; a filter that trusted the wall clock too close to an edge fails here.
  const at = (year, month, day, hour = 0, minute = 0) => ({ year, month, day, hour, minute });
  const cases = [
    ['Europe/Berlin', 'W. Europe Standard Time', at(2026, 3, 29, 1, 30), at(2026, 3, 29, 4)],
    ['Europe/Berlin', 'W. Europe Standard Time', at(2026, 3, 28, 22), at(2026, 3, 29, 2, 30)],
    ['Europe/Berlin', 'W. Europe Standard Time', at(2026, 10, 25, 1, 30), at(2026, 10, 25, 3, 30)],
    ['Europe/Berlin', 'W. Europe Standard Time', at(2026, 3, 28), at(2026, 3, 30)],
    ['America/New_York', 'Eastern Standard Time', at(2026, 3, 8, 1), at(2026, 3, 8, 4)],
    ['America/Santiago', 'Pacific SA Standard Time', at(2026, 9, 5, 23), at(2026, 9, 6, 2)],
    ['Asia/Kolkata', 'India Standard Time', at(2026, 11, 27), at(2026, 11, 28)],
  ];
  for (const [iana, windows, from, to] of cases) {
    it(`${iana}: ${JSON.stringify(from)} … ${JSON.stringify(to)}`, () => {
      const zone = resolveZone(iana);
      const start = fromLocal(from, iana);
      const end = fromLocal(to, iana);
      const window = { start, end, startIso: isoWithOffset(start, iana), endIso: isoWithOffset(end, iana) };
      const accept = windowFilter(window, zone);
      const next = random(start % 100000);
      let decided = 0;
      for (let i = 0; i < 4000; i++) {
        // Starts spread over the window ± 6 hours, lengths from 0 to 4 hours, on 5-minute steps.
        const s = start - 6 * HOUR + Math.floor(next() * ((end - start + 12 * HOUR) / 300000)) * 300000;
        const e = s + Math.floor(next() * 49) * 300000;
        // Half in the window's zone (by its Windows name, as Graph answers), half in UTC.
        const tz = i % 2 ? windows : 'UTC';
        const tzIana = i % 2 ? iana : 'UTC';
        const event = {
          isAllDay: false,
          start: { dateTime: graphDateTime(s, tzIana), timeZone: tz },
          end: { dateTime: graphDateTime(e, tzIana), timeZone: tz },
        };
        accept(event).should.equal(exact(event, window, zone), JSON.stringify(event));
        decided += 1;
      }
      decided.should.equal(4000);
    });
  }
});
