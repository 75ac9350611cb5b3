// The editor gives a node that arrives without a Microsoft 365 account (an imported example, a pasted node, a
// palette drop) the one account this Node-RED has, so the examples ship without a blank account node of their own.
// Browser-safe on purpose: no imports; the build inlines it into o365-config.html (window.O365Calendar.adoptAccount).

/** The config node type every calendar node points at. */
export const ACCOUNT_TYPE = 'o365-config';

/** What this module reads of a node in the editor (RED.nodes keeps many more fields). */
export interface EditorNode {
  id: string;
  type: string;
  z?: string;
  changed?: boolean;
  users?: EditorNode[];
  _def?: { category?: string; defaults?: Record<string, { type?: string } | undefined> };
  [property: string]: unknown;
}

/** The parts of the editor's RED object this module uses (Node-RED 4.1 and 5 have them all). */
export interface EditorApi {
  events: { on(event: string, handler: (node: EditorNode) => void): void };
  nodes: {
    node(id: string): EditorNode | null | undefined;
    eachConfig(visit: (node: EditorNode) => boolean | void): void;
    updateConfigNodeUsers?: (node: EditorNode) => void;
  };
  editor?: { validateNode?: (node: EditorNode) => unknown };
}

/** The properties of a node type that name an account (`config` for every node of this package). */
export function accountProperties(node: EditorNode): string[] {
  const defaults = node._def?.defaults ?? {};
  return Object.keys(defaults).filter((name) => defaults[name]?.type === ACCOUNT_TYPE);
}

/**
 * The account a node added just now should use: the only account its flow can see, when the node names none or
 * one that does not exist here. Null otherwise: a node keeps an account that exists, and with several accounts the
 * person picks one (the node stays invalid until then, and the deploy says so).
 */
export function accountToAdopt(
  current: unknown,
  nodeFlow: string | undefined,
  accounts: Array<{ id: string; z?: string }>,
  exists: (id: string) => boolean,
): string | null {
  if (typeof current === 'string' && current !== '' && current !== '_ADD_' && exists(current)) return null;
  const visible = accounts.filter((account) => !account.z || account.z === nodeFlow);
  return visible.length === 1 ? visible[0].id : null;
}

let installed = false;

/**
 * Listens for nodes added to the editor. Only nodes marked changed count (an import, a paste, a palette drop): the
 * flows loaded from the server at start-up are not, so what is deployed is never altered behind anyone's back.
 */
export function adoptAccountsOnAdd(RED: EditorApi): void {
  if (installed) return;
  installed = true;
  RED.events.on('nodes:add', (node) => {
    if (!node || !node.changed || node._def?.category === 'config') return;
    const properties = accountProperties(node);
    if (!properties.length) return;
    const accounts: EditorNode[] = [];
    RED.nodes.eachConfig((config) => {
      if (config.type === ACCOUNT_TYPE) accounts.push(config);
    });
    let adopted = false;
    for (const property of properties) {
      const id = accountToAdopt(node[property], node.z, accounts, (candidate) => {
        const found = RED.nodes.node(candidate);
        return Boolean(found && found.type === ACCOUNT_TYPE);
      });
      if (id === null) continue;
      node[property] = id;
      adopted = true;
    }
    if (!adopted) return;
    // The account's list of users drives "unused config node" and the account dialog's "used by N nodes".
    if (typeof RED.nodes.updateConfigNodeUsers === 'function') RED.nodes.updateConfigNodeUsers(node);
    else
      for (const property of properties) {
        const account = RED.nodes.node(node[property] as string);
        if (account?.users && !account.users.includes(node)) account.users.push(node);
      }
    RED.editor?.validateNode?.(node);
  });
}
