// The demo's living calendar (`npm start`): a mailbox shared with Megan that always has a few short meetings a few
// minutes ahead, added as the clock moves on, so a newcomer sees a calendar trigger fire and a calendar state flip
// within the first minutes.
'use strict';

const MINUTE = 60_000;
const SUBJECTS = ['Stand-up', 'Coffee chat', 'Planning', 'Design review', 'One-on-one', 'Retro'];
const DEMO_ROOM = 'demo.room@contoso.onmicrosoft.com';

/**
 * Creates the mailbox and keeps at least `ahead` meetings in the future: the first starts in 2 minutes, each lasts
 * 2 to 4 minutes, with a gap of 2 minutes (one pair touches, so the state shows a merged block). Returns stop().
 */
function startDemoCalendar(sim, { upn = DEMO_ROOM, ahead = 3, checkMs = 20_000 } = {}) {
  sim.createBulkMailbox(upn, 0);
  let count = 0;
  let lastEnd = sim.now(); // the first meeting starts two minutes from now
  const top = () => {
    const now = sim.now();
    let future = sim.expectedView({ user: upn, start: now, end: now + 24 * 3600_000 }).length;
    while (future < ahead) {
      // Every third meeting follows the one before without a gap: busy stays on across both.
      const start = Math.max(lastEnd + (count % 3 === 2 ? 0 : 2 * MINUTE), now + MINUTE);
      const end = start + (2 + (count % 3)) * MINUTE;
      sim.addEvent(upn, null, { subject: SUBJECTS[count % SUBJECTS.length], start, end, showAs: 'busy' });
      lastEnd = end;
      count += 1;
      future += 1;
    }
  };
  top();
  const timer = setInterval(top, checkMs);
  timer.unref();
  return { upn, stop: () => clearInterval(timer) };
}

module.exports = { startDemoCalendar, DEMO_ROOM };
