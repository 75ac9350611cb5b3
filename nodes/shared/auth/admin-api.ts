// The editor's admin API (DESIGN.md's table): sign-in start, callback, device code, paste exchange, status,
// sign-out, the client-secret test, the calendar picker and the free/busy dialog's room and room-list pickers. JSON
// bodies only (that also stops cross-site form posts), small bodies, escaped HTML on the callback page, and errors
// without secrets.
import type { NodeAPI } from 'node-red';
import type { Request, Response, NextFunction, RequestHandler } from 'express';
import { O365Error } from '../node-red/errors';
import { t } from '../node-red/i18n';
import { GraphClient } from '../graph/graph-client';
import { listCalendars } from '../calendar/calendar-list';
import { checkPlacesCloud, listRoomLists, listRooms } from '../calendar/rooms';
import { clientSettings, ClientSettings } from '../node-red/settings';
import { testClientSecret } from './oauth';
import {
  beginDeviceSignIn,
  beginSignIn,
  completeSignIn,
  dialogStatus,
  knownManager,
  managerFor,
  parseSignInInput,
  signInManagers,
  store,
  storeKeyFor,
} from './sign-in';
import { publicStatus, TokenManager } from './token-manager';

const MAX_BODY_BYTES = 16 * 1024;
/** The pickers' bodies hold a node id and a room list's address. */
const PICKER_BODY_BYTES = 1024;
const ID = /^[A-Za-z0-9._-]{1,64}$/;

function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Refuses requests another site's page makes: Node-RED's admin API allows every origin (CORS *), so without
 * adminAuth a page the user visits could fetch() these endpoints. The editor itself is same-origin.
 */
function sameOrigin(req: Request, res: Response, next: NextFunction): void {
  const site = req.headers['sec-fetch-site'];
  const origin = req.headers.origin;
  let foreign = site === 'cross-site' || site === 'same-site';
  if (!foreign && typeof origin === 'string' && origin !== 'null') {
    try {
      foreign = new URL(origin).host !== req.headers.host;
    } catch {
      foreign = true;
    }
  } else if (origin === 'null') foreign = true;
  if (foreign) {
    res.status(403).json({ error: 'forbidden', message: t('admin.crossSite') });
    return;
  }
  next();
}

/** JSON object bodies only, at most `maxBytes` long. */
function jsonBody(maxBytes: number) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const length = Number(req.headers['content-length'] ?? 0);
    if (!req.is('application/json')) {
      res.status(415).json({ error: 'unsupported_media_type', message: t('admin.jsonOnly') });
      return;
    }
    if (length > maxBytes || JSON.stringify(req.body ?? {}).length > maxBytes) {
      res.status(413).json({ error: 'too_large', message: t('admin.tooLarge') });
      return;
    }
    if (!req.body || typeof req.body !== 'object' || Array.isArray(req.body)) {
      res.status(400).json({ error: 'bad_request', message: t('admin.badBody') });
      return;
    }
    next();
  };
}

const jsonOnly = jsonBody(MAX_BODY_BYTES);

function nodeId(value: unknown): string {
  if (typeof value !== 'string' || !ID.test(value)) {
    throw new O365Error('BAD_REQUEST', t('admin.badId'), { code: 'BAD_REQUEST' });
  }
  return value;
}

/** An error as JSON for the editor: message and code, nothing else of it. */
function fail(res: Response, err: unknown): void {
  if (err instanceof O365Error) {
    // Upstream trouble (Microsoft unreachable or answering nonsense) is a 502; anything else is about the request.
    const upstream =
      ['NETWORK_ERROR', 'TIMEOUT', 'BAD_RESPONSE', 'TLS_ERROR', 'RESPONSE_TOO_LARGE'].includes(err.code) ||
      (err.cause.status ?? 0) >= 500;
    const status = err.code === 'NOT_FOUND' ? 404 : upstream ? 502 : 400;
    res.status(status).json({ error: err.code, message: err.message, field: err.cause.field });
    return;
  }
  res.status(500).json({ error: 'internal', message: t('admin.internal') });
}

function callbackPage(title: string, detail: string, ok: boolean): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:3em auto;padding:0 1.5em;max-width:36em;color:#333}
h1{font-size:1.3em;color:${ok ? '#2e7d32' : '#c62828'}}</style></head>
<body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(detail)}</p><p>${escapeHtml(t('admin.closeWindow'))}</p>
<script>setTimeout(function(){try{window.close()}catch(e){}},${ok ? 1500 : 60000});</script></body></html>`;
}

export function registerAdminApi(RED: NodeAPI): void {
  const app = RED.httpAdmin;
  const read = RED.auth.needsPermission('o365-config.read') as RequestHandler;
  const write = RED.auth.needsPermission('o365-config.write') as RequestHandler;

  /** The registration as the dialog holds it now (a secret it only has as __PWRD__ comes from the credentials). */
  function dialogSettings(body: Record<string, unknown>): ClientSettings {
    const id = nodeId(body.id);
    const settings = (body.settings && typeof body.settings === 'object' ? body.settings : {}) as Record<
      string,
      unknown
    >;
    const stored = (RED.nodes.getCredentials(id) ?? {}) as Record<string, unknown>;
    const sent = body.clientSecret;
    // The editor only holds a saved secret as __PWRD__ (or sends none): take it from the stored credentials then.
    // An empty string is a cleared field: no secret (a public client must not send one).
    const secret = sent === undefined || sent === '__PWRD__' ? stored.clientSecret : sent;
    const clientId =
      typeof settings.clientId === 'string' && settings.clientId ? settings.clientId : stored.clientId;
    return clientSettings(settings, clientId, secret);
  }

  /** The manager for a sign-in started from the dialog, built from the settings the dialog holds now. */
  function dialogManager(body: Record<string, unknown>): TokenManager {
    const id = nodeId(body.id);
    const parsed = dialogSettings(body);
    return managerFor({ id, key: storeKeyFor(id), mode: parsed.mode, client: parsed.client });
  }

  app.post('/o365/auth/start', write, sameOrigin, jsonOnly, async (req: Request, res: Response) => {
    try {
      const body = req.body as Record<string, unknown>;
      const manager = dialogManager(body);
      await manager.ready();
      const settings = body.settings as Record<string, unknown>;
      const redirectUri = typeof settings.redirectUri === 'string' ? settings.redirectUri.trim() : '';
      const started = beginSignIn(manager, redirectUri);
      res.json({ url: started.url, attempt: started.attemptId });
    } catch (err) {
      fail(res, err);
    }
  });

  app.post('/o365/auth/device', write, sameOrigin, jsonOnly, async (req: Request, res: Response) => {
    try {
      const manager = dialogManager(req.body as Record<string, unknown>);
      const started = await beginDeviceSignIn(manager, {
        onFailed: (err) => RED.log.warn(t('admin.deviceFailed', { message: err.message })),
      });
      res.json({
        userCode: started.userCode,
        verificationUri: started.verificationUri,
        message: started.message,
        expiresAt: new Date(started.expiresAt).toISOString(),
        attempt: started.attemptId,
      });
    } catch (err) {
      fail(res, err);
    }
  });

  // Tries the secret the dialog holds against the token endpoint (client credentials, token discarded), so a
  // wrong or expired secret shows now, not at the next refresh.
  app.post('/o365/auth/test', write, sameOrigin, jsonOnly, async (req: Request, res: Response) => {
    try {
      const parsed = dialogSettings(req.body as Record<string, unknown>);
      await testClientSecret(parsed.client);
      res.json({ ok: true, message: t('admin.secretOk') });
    } catch (err) {
      fail(res, err);
    }
  });

  app.post('/o365/auth/exchange', write, sameOrigin, jsonOnly, async (req: Request, res: Response) => {
    try {
      const body = req.body as Record<string, unknown>;
      const id = nodeId(body.id);
      if (typeof body.input !== 'string' || !body.input.trim()) {
        throw new O365Error('BAD_REQUEST', t('errors.noCode'), { code: 'BAD_REQUEST' });
      }
      await completeSignIn(parseSignInInput(body.input), id);
      res.json(publicStatus(await dialogStatus(id)));
    } catch (err) {
      fail(res, err);
    }
  });

  app.get('/o365/auth/callback', async (req: Request, res: Response) => {
    res.set('Content-Type', 'text/html; charset=utf-8');
    res.set('Cache-Control', 'no-store');
    res.set('Referrer-Policy', 'no-referrer');
    const query = req.query as Record<string, unknown>;
    const pick = (name: string) => (typeof query[name] === 'string' ? (query[name] as string) : undefined);
    const state = pick('state');
    if (!state) {
      res.status(400).send(callbackPage(t('admin.signInFailed'), t('errors.unknownState'), false));
      return;
    }
    try {
      const status = await completeSignIn({
        state,
        code: pick('code'),
        error: pick('error'),
        errorDescription: pick('error_description'),
      });
      const who = status.account?.name ?? status.account?.username ?? '';
      res.send(callbackPage(t('admin.signedIn'), who ? t('admin.signedInAs', { account: who }) : '', true));
    } catch (err) {
      const message = err instanceof O365Error ? err.message : t('admin.internal');
      res.status(400).send(callbackPage(t('admin.signInFailed'), message, false));
    }
  });

  app.get('/o365/auth/status/:id', read, sameOrigin, async (req: Request, res: Response) => {
    try {
      const id = nodeId(req.params.id);
      res.json(publicStatus(await dialogStatus(id)));
    } catch (err) {
      fail(res, err);
    }
  });

  app.post('/o365/auth/signout', write, sameOrigin, jsonOnly, async (req: Request, res: Response) => {
    try {
      const id = nodeId((req.body as Record<string, unknown>).id);
      // Every manager of this node (the running one and a dialog's draft share the store) stops using its tokens.
      const managers = signInManagers(id);
      for (const manager of managers) {
        await manager.ready();
        await manager.signOut();
      }
      if (!managers.length) await store().signOut(storeKeyFor(id));
      res.json(publicStatus(await dialogStatus(id)));
    } catch (err) {
      fail(res, err);
    }
  });

  /** The signed-in manager of a config node (deployed or only signed in from its dialog) and a Graph client. */
  function pickerClient(value: unknown): { manager: TokenManager; graph: GraphClient } {
    const manager = knownManager(nodeId(value));
    if (!manager) throw new O365Error('NOT_FOUND', t('errors.signInRequired'), { code: 'NOT_FOUND' });
    const graph = new GraphClient({
      graphEndpoint: manager.settings.client.graphEndpoint,
      getToken: (rejected) => manager.getAccessToken(rejected),
      maxAttempts: 2,
    });
    return { manager, graph };
  }

  app.get('/o365/calendars/:id', write, sameOrigin, async (req: Request, res: Response) => {
    try {
      const { manager, graph } = pickerClient(req.params.id);
      const user = typeof req.query.user === 'string' ? req.query.user.trim() : '';
      res.json(await listCalendars(graph, { user, configKey: manager.key, mode: manager.mode }));
    } catch (err) {
      fail(res, err);
    }
  });

  // The free/busy dialog's pickers: the tenant's rooms (or a room list's) and the room lists, from the places API
  // (Place.Read.All), through the same hour-long cache as the node. Like the calendar picker, they can read what
  // the registration reaches, hence o365-config.write.
  app.post(
    '/o365/places/rooms',
    write,
    sameOrigin,
    jsonBody(PICKER_BODY_BYTES),
    async (req: Request, res: Response) => {
      try {
        const body = req.body as Record<string, unknown>;
        const { manager, graph } = pickerClient(body.id);
        const roomList = typeof body.roomList === 'string' ? body.roomList.trim() : '';
        checkPlacesCloud(manager.settings.client.graphEndpoint, roomList ? 'roomList' : 'allRooms');
        const { items } = await listRooms(graph, roomList, { configKey: manager.key, mode: manager.mode });
        res.json(items);
      } catch (err) {
        fail(res, err);
      }
    },
  );

  app.post(
    '/o365/places/roomlists',
    write,
    sameOrigin,
    jsonBody(PICKER_BODY_BYTES),
    async (req: Request, res: Response) => {
      try {
        const { manager, graph } = pickerClient((req.body as Record<string, unknown>).id);
        checkPlacesCloud(manager.settings.client.graphEndpoint, 'roomList');
        const { items } = await listRoomLists(graph, { configKey: manager.key, mode: manager.mode });
        res.json(items);
      } catch (err) {
        fail(res, err);
      }
    },
  );
}
