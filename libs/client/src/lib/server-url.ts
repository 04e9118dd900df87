import { ClientError } from './errors';

/** The coordinator's base URL without a trailing slash; throws `ClientError('OPTIONS')` for anything but http(s). */
export function checkServerUrl(server: string): string {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new ClientError('OPTIONS', `server passed to createClient() must be an absolute http(s) URL but got '${server}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ClientError('OPTIONS', `server passed to createClient() must be an http: or https: URL but got '${server}'`);
  }
  return url.href.replace(/\/$/, '');
}

/** socket.io's origin and path for a server URL; a path prefix (behind a proxy) keeps the default namespace '/'. */
export function socketAddress(serverUrl: string): { origin: string; path: string } {
  const url = new URL(serverUrl);
  return { origin: url.origin, path: `${url.pathname.replace(/\/$/, '')}/socket.io/` };
}

/** The backbone's absolute URL and headers: the client token unlocks a protected backbone (§9), but only on the coordinator's own origin. */
export function backboneRequestOf(serverUrl: string, backboneUrl: string, token: string): { url: string; headers: Record<string, string> } {
  const url = new URL(backboneUrl, serverUrl).href;
  const headers: Record<string, string> = new URL(url).origin === new URL(serverUrl).origin ? { Authorization: `Bearer ${token}` } : {};
  return { url, headers };
}
