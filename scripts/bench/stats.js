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
 * The verdict on a target ratio. Wall time on a shared machine is noisy; process CPU time is steadier (a busy
 * neighbour mostly delays the process rather than making it compute more), and per-round ratios show how much the
 * rounds disagree. A ratio counts as steadily over when even its first quartile of the per-round ratios is over
 * (three rounds in four). So:
 * - both medians within the target: met;
 * - CPU time steadily over: not met, a regression (the subject computes more);
 * - wall time steadily over (CPU not): not met, the subject waits more than the floor;
 * - over on a median only, the rounds spread across the target: not decided, a noisy run.
 */
function verdict(wall, cpu, target) {
  const over = (r) => r.ofMedians > target;
  const steadilyOver = (r) => r.paired.q1 > target;
  if (!over(wall) && !over(cpu)) return { met: true, text: 'met' };
  if (steadilyOver(cpu)) {
    return {
      met: false,
      text: 'NOT met: CPU time is over the target in most rounds (the subject computes more): a regression',
    };
  }
  if (steadilyOver(wall)) {
    return {
      met: false,
      text: 'NOT met: wall time is over the target in most rounds, CPU time is not: the subject waits more',
    };
  }
  return {
    met: undefined,
    text:
      'not decided: over on the median, but the rounds spread across the target; a noisy run, ' +
      'run again (or with more --rounds)',
  };
}

module.exports = { quantile, spread, relativeIqr, ratios, verdict };
