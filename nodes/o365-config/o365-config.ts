// o365-config: holds the registration and the sign-in of one Microsoft 365 account, hands out access tokens
// and a Graph client to the nodes that use it, and tells them its sign-in state (like core's MQTT broker node).
import fs from 'fs';
import os from 'os';
import path from 'path';
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { registerAdminApi } from '../shared/auth/admin-api';
import { O365Error } from '../shared/node-red/errors';
import { GraphClient } from '../shared/graph/graph-client';
import { t, useTranslator } from '../shared/node-red/i18n';
import { clientSettings, ConfigProps } from '../shared/node-red/settings';
import { registerDeployed, unregisterDeployed, useStore } from '../shared/auth/sign-in';
import type { O365ConfigNode, StateListener } from '../shared/node-red/config-node';
import { TokenStore } from '../shared/auth/token-store';
import { AuthStatus, MirroredTokens, TokenManager } from '../shared/auth/token-manager';
import { CalendarReader, readCalendarView } from '../shared/calendar/calendar-reader';
import { explainAccess } from '../shared/calendar/events-controller';
import { configProblem } from '../shared/node-red/status';
import { systemClock } from '../shared/time/clock';

interface ConfigDef extends NodeDef, ConfigProps {}

interface ConfigCredentials extends MirroredTokens {
  clientId?: string;
  clientSecret?: string;
}

const CREDENTIALS = {
  clientId: { type: 'text' },
  clientSecret: { type: 'password' },
  refreshToken: { type: 'password' },
  accessToken: { type: 'password' },
  expiresAt: { type: 'password' },
  clientKind: { type: 'password' },
} as const;

/** A settings.js value (a property of RED.settings) or a runtime one such as _credentialSecret (only via get). */
function readSetting(RED: NodeAPI, name: string): unknown {
  const settings = RED.settings as unknown as Record<string, unknown> & { get?: (name: string) => unknown };
  if (settings[name] !== undefined) return settings[name];
  try {
    return settings.get?.(name);
  } catch {
    return undefined;
  }
}

/** One folder per Node-RED project: <userDir>/o365-calendar/<project or "default">. */
function storeDir(RED: NodeAPI): string {
  const userDir = (readSetting(RED, 'userDir') as string | undefined) ?? path.join(os.homedir(), '.node-red');
  let project = 'default';
  try {
    const projects = JSON.parse(fs.readFileSync(path.join(userDir, '.config.projects.json'), 'utf8')) as {
      activeProject?: unknown;
    };
    if (typeof projects.activeProject === 'string' && /^[A-Za-z0-9._-]+$/.test(projects.activeProject)) {
      project = `project-${projects.activeProject}`;
    }
  } catch {
    // No projects: the default folder.
  }
  return path.join(userDir, 'o365-calendar', project);
}

/** settings.js `o365Calendar: { requestTimeout: ms, retryDelay: ms }`, within sane bounds. */
function readTuning(value: unknown): { timeoutMs: number; backoffBaseMs: number } {
  const options = (value && typeof value === 'object' ? value : {}) as Record<string, unknown>;
  const pick = (raw: unknown, fallback: number, min: number, max: number) =>
    typeof raw === 'number' && Number.isFinite(raw) ? Math.min(max, Math.max(min, raw)) : fallback;
  return {
    timeoutMs: pick(options.requestTimeout, 30_000, 100, 300_000),
    backoffBaseMs: pick(options.retryDelay, 1000, 1, 60_000),
  };
}

const sweepers = new WeakMap<object, () => void>();

export = function (RED: NodeAPI) {
  useTranslator((key, params) => RED._(key, params as Record<string, string | number> | undefined));
  // Captured now, before the flows load: Node-RED deletes _credentialSecret when credentialSecret is set later,
  // and the store may still be encrypted with it.
  const keySecrets = [readSetting(RED, 'credentialSecret'), readSetting(RED, '_credentialSecret')].filter(
    (s): s is string => typeof s === 'string' && s.length > 0,
  );
  const dataDir = storeDir(RED);
  const store = new TokenStore({ dir: dataDir, keySecrets, warn: (message) => RED.log.warn(message) });
  const tuning = readTuning(readSetting(RED, 'o365Calendar'));
  useStore(store);
  registerAdminApi(RED);

  // Files of config nodes gone for over 24 hours are swept once the flows are known. One listener per runtime:
  // a test helper loads this module again and again into the same runtime.
  const previous = sweepers.get(RED.events);
  if (previous) RED.events.removeListener('flows:started', previous);
  const sweep = () => {
    const keys = new Set<string>();
    RED.nodes.eachNode((n: NodeDef & { _alias?: string }) => {
      if (n.type === 'o365-config') keys.add(n._alias || n.id);
    });
    store.sweep(keys).catch(() => undefined);
  };
  sweepers.set(RED.events, sweep);
  RED.events.on('flows:started', sweep);

  function O365Config(this: O365ConfigNode, def: ConfigDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const listeners = new Set<StateListener>();
    const credentials = (node.credentials ?? {}) as ConfigCredentials;
    const id = node.id;
    const key = (node as unknown as { _alias?: string })._alias || node.id;

    node.redirectUri = '';
    node.dataDir = dataDir;
    node.tuning = tuning;
    node.register = (listener) => {
      listeners.add(listener);
      listener(node.authStatus());
    };
    node.deregister = (listener) => {
      listeners.delete(listener);
    };

    try {
      const parsed = clientSettings(def, credentials.clientId, credentials.clientSecret, tuning.timeoutMs);
      node.redirectUri = parsed.redirectUri;
      node.manager = new TokenManager(
        { id, key, mode: parsed.mode, client: parsed.client },
        {
          store,
          warn: (message) => node.warn(message),
          mirror: (tokens) => {
            // A new object from the stored credentials: this.credentials holds substituted ${ENV} values.
            const merged: Record<string, unknown> = { ...(RED.nodes.getCredentials(id) ?? {}) };
            for (const field of ['refreshToken', 'accessToken', 'expiresAt', 'clientKind'] as const) {
              if (tokens && tokens[field] !== undefined) merged[field] = tokens[field];
              else delete merged[field];
            }
            RED.nodes.addCredentials(id, merged);
          },
        },
      );
      node.graph = new GraphClient({
        graphEndpoint: parsed.client.graphEndpoint,
        getToken: async (rejected) => {
          await node.ready;
          return node.manager!.getAccessToken(rejected);
        },
        timeoutMs: tuning.timeoutMs,
        backoffBaseMs: tuning.backoffBaseMs,
      });
    } catch (err) {
      node.problem =
        err instanceof O365Error ? err : new O365Error('INVALID_CONFIG', t('errors.signInRequired'), {});
    }

    // The one calendar read per mailbox and calendar that trigger and state nodes share.
    node.calendarReader = new CalendarReader({
      clock: systemClock,
      read: async (request, context) => {
        const problem = configProblem(node);
        if (problem) throw problem;
        await node.ready;
        const manager = node.manager!;
        try {
          return await readCalendarView(node.graph!, request, { ...context, configKey: manager.key });
        } catch (err) {
          throw explainAccess(err, { user: request.user, calendarId: request.calendarId }, manager.mode);
        }
      },
    });

    node.authStatus = () =>
      node.manager
        ? node.manager.status()
        : { state: 'sign-in-required', reason: node.problem?.message ?? t('errors.signInRequired') };

    if (node.manager) {
      const manager = node.manager;
      manager.on('state', (status: AuthStatus) => {
        for (const listener of listeners) listener(status);
      });
      registerDeployed(manager);
      node.ready = manager
        .init({
          refreshToken: credentials.refreshToken,
          accessToken: credentials.accessToken,
          expiresAt: credentials.expiresAt,
          clientKind: credentials.clientKind,
        })
        .catch((err: unknown) => {
          node.warn(err instanceof O365Error ? err.message : t('errors.storeUnreadable'));
        });
    } else {
      node.ready = Promise.resolve();
      node.warn(node.problem?.message ?? '');
    }

    node.on('close', (_removed: boolean, done: () => void) => {
      // Nothing is deleted here: disabling a tab reports its nodes as removed too.
      listeners.clear();
      node.calendarReader.close();
      if (node.manager) {
        unregisterDeployed(node.manager);
        node.manager.close();
      }
      done();
    });
  }

  RED.nodes.registerType('o365-config', O365Config as unknown as (this: Node, def: NodeDef) => void, {
    credentials: CREDENTIALS as unknown as Record<string, { type: 'text' | 'password' }>,
  });
};
