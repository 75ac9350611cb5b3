// Named points of the package's work, published on node:diagnostics_channel so that a tool (or a test) can watch
// them; without a subscriber a publish costs a property read and does nothing.
import diagnostics from 'node:diagnostics_channel';

/** The channel's name; a message is `{ name }`, one of the point names below. */
export const POINT_CHANNEL = 'o365-calendar:point';

/** Who writes files atomically and publishes their points: the token store and the trigger's fired sets. */
export type PointPrefix = 'store' | 'fired';

/**
 * The points published today: a file's temp copy written and synced, then renamed over the file (token store,
 * fired sets), and a refresh's token answer received but not yet stored (token manager).
 */
export type PointName =
  `${PointPrefix}:after-temp-write` | `${PointPrefix}:after-rename` | 'refresh:after-token-response';

const points = diagnostics.channel(POINT_CHANNEL);

/** Publishes that the work reached `name`; subscribers run synchronously, exactly here. */
export function reached(name: PointName): void {
  if (points.hasSubscribers) points.publish({ name });
}
