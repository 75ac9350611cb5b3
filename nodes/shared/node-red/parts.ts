// One message per item with msg.parts, so the core join node in automatic mode rebuilds the array.
import crypto from 'crypto';
import type { NodeAPI, NodeMessage } from 'node-red';

/** Copies of `msg` (without its payload and parts), one per item: payload = the item, plus `extra`. */
export function messagesPerItem(
  RED: NodeAPI,
  msg: NodeMessage & Record<string, unknown>,
  items: unknown[],
  extra: Record<string, unknown>,
): NodeMessage[] {
  const id = crypto.randomUUID();
  const { payload: _payload, parts: _parts, ...base } = msg;
  return items.map((item, index) =>
    Object.assign(RED.util.cloneMessage(base as NodeMessage), extra, {
      payload: item,
      parts: { id, index, count: items.length, len: 1, type: 'array' },
    }),
  );
}
