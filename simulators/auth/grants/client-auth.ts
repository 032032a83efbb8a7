// Which application is calling /oauth/token: client_id and client_secret from the body
// (client_secret_post) or from HTTP Basic (client_secret_basic). A public client (an SPA) sends
// its id alone. Auth0 answers every failure here the same way, 401 access_denied "Unauthorized",
// so that a caller cannot tell an unknown client from a wrong secret.
import { timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import type { ClientConfig } from '../config.ts';
import { OAuthError } from '../errors.ts';
import { type Params, stringParam } from '../http.ts';
import type { AuthState } from '../state.ts';

interface Credentials {
  clientId: string | undefined;
  clientSecret: string | undefined;
}

/** The client's id and secret, from the Authorization header or the body. */
export function credentialsOf(req: Request, params: Params): Credentials {
  const basic = /^Basic\s+(\S+)$/i.exec(req.get('authorization') ?? '')?.[1];
  if (basic) {
    const decoded = Buffer.from(basic, 'base64').toString();
    const colon = decoded.indexOf(':');
    // RFC 6749 §2.3.1: both halves are form-urlencoded before they are joined
    const decode = (part: string) => decodeURIComponent(part.replace(/\+/g, ' '));
    if (colon > 0)
      return { clientId: decode(decoded.slice(0, colon)), clientSecret: decode(decoded.slice(colon + 1)) };
  }
  return { clientId: stringParam(params, 'client_id'), clientSecret: stringParam(params, 'client_secret') };
}

/** The client id of a token request, for fault rules that match on tenant. */
export function clientIdOf(req: Request, params: Params): string | undefined {
  return credentialsOf(req, params).clientId;
}

const unauthorized = () => new OAuthError(401, 'access_denied', 'Unauthorized');

function secretsEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export function authenticateClient(state: AuthState, req: Request, params: Params): ClientConfig {
  const { clientId, clientSecret } = credentialsOf(req, params);
  if (!clientId) {
    throw new OAuthError(400, 'invalid_request', 'Missing required parameter: client_id');
  }
  const client = state.clients.get(clientId);
  if (!client) throw unauthorized();
  if (client.client_secret !== undefined) {
    if (clientSecret === undefined || !secretsEqual(clientSecret, client.client_secret)) throw unauthorized();
  }
  return client;
}
