// The national clouds: which login host and which Graph host a config node talks to.
import { configError } from '../node-red/errors';

export type CloudName = 'global' | 'usgov' | 'usgovdod' | 'china' | 'custom';

/** Where one config node signs in and reads: base URLs without a trailing slash. */
export interface Endpoints {
  authorityHost: string;
  graphEndpoint: string;
}

const CLOUDS: Record<Exclude<CloudName, 'custom'>, Endpoints> = {
  global: {
    authorityHost: 'https://login.microsoftonline.com',
    graphEndpoint: 'https://graph.microsoft.com',
  },
  usgov: { authorityHost: 'https://login.microsoftonline.us', graphEndpoint: 'https://graph.microsoft.us' },
  usgovdod: {
    authorityHost: 'https://login.microsoftonline.us',
    graphEndpoint: 'https://dod-graph.microsoft.us',
  },
  china: {
    authorityHost: 'https://login.partner.microsoftonline.cn',
    graphEndpoint: 'https://microsoftgraph.chinacloudapi.cn',
  },
};

export const CLOUD_NAMES: readonly CloudName[] = ['global', 'usgov', 'usgovdod', 'china', 'custom'];

function baseUrl(value: string, field: string): string {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw configError(field, 'urlForm', { field, value });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw configError(field, 'urlScheme', { field, value: url.protocol });
  }
  if (url.search || url.hash || url.username || url.password) throw configError(field, 'urlPlain', { field });
  return url.toString().replace(/\/+$/, '');
}

/** The hosts of a cloud; `custom` takes them from the node's `authorityHost` and `graphEndpoint`. */
export function resolveEndpoints(cloud: string, authorityHost = '', graphEndpoint = ''): Endpoints {
  if (cloud === 'custom') {
    if (!authorityHost || !graphEndpoint) {
      throw configError(authorityHost ? 'graphEndpoint' : 'authorityHost', 'customMissing');
    }
    return {
      authorityHost: baseUrl(authorityHost, 'authorityHost'),
      graphEndpoint: baseUrl(graphEndpoint, 'graphEndpoint'),
    };
  }
  const hosts = CLOUDS[(cloud || 'global') as Exclude<CloudName, 'custom'>];
  if (!hosts) {
    throw configError('cloud', 'cloud', { value: cloud, names: CLOUD_NAMES.join(', ') });
  }
  return { ...hosts };
}

/**
 * Whether Graph's places API (rooms, room lists) can be asked at this Graph endpoint: Microsoft offers it in the
 * global cloud only, not in US Government L4/L5 or China (learn.microsoft.com/graph/api/place-list). A custom
 * endpoint may front the global cloud, so it is asked.
 */
export function hasPlacesApi(graphEndpoint: string): boolean {
  const host = new URL(graphEndpoint).host;
  return ![CLOUDS.usgov, CLOUDS.usgovdod, CLOUDS.china].some((c) => new URL(c.graphEndpoint).host === host);
}
