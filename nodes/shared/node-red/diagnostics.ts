// Named points of the package's work, published on node:diagnostics_channel so that a tool (or a test) can watch
// them; without a subscriber a publish costs a property read and does nothing.
import diagnostics from 'node:diagnostics_channel';

/** The channel's name; a message is `{ name }`, one of the point names below. */
export const POINT_CHANNEL = 'o365-calendar:point';

/**
 * The points published today: a token set's temp file written and synced, then renamed over the store file
 * (token store), and a refresh's token answer received but not yet stored (token manager).
 */
export type PointName = 'store:after-temp-write' | 'store:after-rename' | 'refresh:after-token-response';

const points = diagnostics.channel(POINT_CHANNEL);

/** Publishes that the work reached `name`; subscribers run synchronously, exactly here. */
export function reached(name: PointName): void {
  if (points.hasSubscribers) points.publish({ name });
}
