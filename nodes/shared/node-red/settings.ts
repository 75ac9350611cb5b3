// A config node's properties (deployed or sent by the editor) checked and turned into the OAuth client settings.
import { resolveEndpoints } from '../graph/clouds';
import { configError } from './errors';
import { isMultiTenantAlias, OAuthClient } from '../auth/oauth';
import type { AuthMode } from '../auth/token-manager';

import { DEFAULT_SCOPES } from './defaults';
export { DEFAULT_SCOPES };

export interface ConfigProps {
  tenant?: unknown;
  cloud?: unknown;
  authorityHost?: unknown;
  graphEndpoint?: unknown;
  mode?: unknown;
  scopes?: unknown;
  redirectUri?: unknown;
}

export interface ClientSettings {
  mode: AuthMode;
  client: OAuthClient;
  redirectUri: string;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

function text(value: unknown): string {
  return typeof value === 'string' ? value.trim() : '';
}

/** Checks the properties and credentials; throws INVALID_CONFIG naming the field that is wrong. */
export function clientSettings(
  props: ConfigProps,
  clientId: unknown,
  clientSecret: unknown,
  timeoutMs?: number,
): ClientSettings {
  const mode = text(props.mode) || 'delegated';
  if (mode !== 'delegated' && mode !== 'application') throw configError('mode', 'mode', { value: mode });
  const tenant = text(props.tenant);
  if (!tenant) throw configError('tenant', 'tenantMissing');
  if (!GUID.test(tenant) && !DOMAIN.test(tenant) && !isMultiTenantAlias(tenant)) {
    throw configError('tenant', 'tenantForm', { value: tenant });
  }
  if (mode === 'application' && isMultiTenantAlias(tenant))
    throw configError('tenant', 'applicationTenant', { value: tenant });
  const id = text(clientId);
  if (!id) throw configError('clientId', 'clientIdMissing');
  if (!GUID.test(id)) throw configError('clientId', 'clientIdForm', { value: id });
  const endpoints = resolveEndpoints(
    text(props.cloud) || 'global',
    text(props.authorityHost),
    text(props.graphEndpoint),
  );
  const secret =
    typeof clientSecret === 'string' && clientSecret && clientSecret !== '__PWRD__'
      ? clientSecret
      : undefined;
  if (mode === 'application' && !secret) throw configError('clientSecret', 'applicationSecret');
  return {
    mode,
    redirectUri: text(props.redirectUri),
    client: {
      authorityHost: endpoints.authorityHost,
      graphEndpoint: endpoints.graphEndpoint,
      tenant,
      clientId: id,
      clientSecret: secret,
      scopes: text(props.scopes) || DEFAULT_SCOPES,
      timeoutMs,
    },
  };
}
