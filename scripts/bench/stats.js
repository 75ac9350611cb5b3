// The bench's arithmetic and its verdict: quartiles of the rounds, ratios of subject to floor (of the medians, of
// the minimums, and per interleaved round), and whether a ratio over the target is a regression or a noisy run.
'use strict';

/** The q-quantile (0…1) of the values, interpolated between the two nearest ranks. */
function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  const high = Math.ceil(at);
  return sorted[low] + (sorted[high] - sorted[low]) * (at - low);
}

/** min, q1, median, q3, max. */
function spread(values) {
  return {
    min: Math.min(...values),
    q1: quantile(values, 0.25),
    median: quantile(values, 0.5),
    q3: quantile(values, 0.75),
    max: Math.max(...values),
  };
}

/** The interquartile range as a share of the median: how much the rounds disagree. */
function relativeIqr(values) {
  const s = spread(values);
  return (s.q3 - s.q1) / s.median;
}

/**
 * Subject against floor for one measure (wall or CPU ms per fetch, rounds interleaved so round i of both ran
 * back to back): the ratio of the medians, of the minimums, and the spread of the per-round ratios.
 */
function ratios(subject, floor) {
  const paired = subject.map((value, i) => value / floor[i]);
  return {
    ofMedians: quantile(subject, 0.5) / quantile(floor, 0.5),
    ofMinimums: Math.min(...subject) / Math.min(...floor),
    paired: spread(paired),
  };
}

/**
 * The verdict on a target ratio. Wall time on a shared machine is noisy; process CPU time is steady, because a
 * busy neighbour delays the process but does not make it compute more. So:
 * - both ratios within the target: met;
 * - the CPU ratio over the target in most rounds: a regression (the subject computes more);
 * - only the wall ratio over, CPU within, and the per-round wall ratios spread across the target: a noisy run;
 * - the wall ratio over in three rounds of four, CPU within: not met, the subject waits more than the floor.
 */
function verdict(wall, cpu, target) {
  if (wall.ofMedians <= target && cpu.ofMedians <= target) return { met: true, text: 'met' };
  if (cpu.ofMedians > target && cpu.paired.q1 > target) {
    return { met: false, text: 'NOT met: CPU time is over the target as well, a regression' };
  }
  if (wall.ofMedians > target && wall.paired.q1 <= target) {
    return {
      met: undefined,
      text:
        'not decided: the median wall time is over, CPU time is within and the rounds spread across the ' +
        'target; a noisy run, run again',
    };
  }
  return {
    met: false,
    text: 'NOT met: wall time is over in most rounds (CPU time within: the subject waits)',
  };
}

module.exports = { quantile, spread, relativeIqr, ratios, verdict };
