// OpenID Connect discovery and the JWKS, with the fields Auth0's tenants publish. Endpoints the
// simulator does not serve (authorize, device code, MFA, registration) are left out rather than
// advertised, so a client that discovers them fails at discovery, not halfway through a flow.
import type { Router } from 'express';
import type { AuthDeps } from '../deps.ts';

export function discoveryDocument(deps: AuthDeps) {
  const issuer = deps.jwt.issuer;
  return {
    issuer,
    token_endpoint: `${issuer}oauth/token`,
    userinfo_endpoint: `${issuer}userinfo`,
    jwks_uri: `${issuer}.well-known/jwks.json`,
    scopes_supported: [
      'openid',
      'profile',
      'offline_access',
      'name',
      'given_name',
      'family_name',
      'nickname',
      'email',
      'email_verified',
      'picture',
      'created_at',
      'identities',
      'phone',
      'address',
    ],
    response_types_supported: [
      'code',
      'token',
      'id_token',
      'code token',
      'code id_token',
      'token id_token',
      'code token id_token',
    ],
    response_modes_supported: ['query', 'fragment', 'form_post'],
    grant_types_supported: [
      'password',
      'http://auth0.com/oauth/grant-type/password-realm',
      'client_credentials',
      'refresh_token',
    ],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [deps.config.signingAlg],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    claims_supported: [
      'aud',
      'auth_time',
      'created_at',
      'email',
      'email_verified',
      'exp',
      'family_name',
      'given_name',
      'iat',
      'identities',
      'iss',
      'name',
      'nickname',
      'phone_number',
      'picture',
      'sub',
    ],
    request_uri_parameter_supported: false,
    request_parameter_supported: false,
  };
}

export function installDiscovery(router: Router, deps: AuthDeps): void {
  router.get('/.well-known/openid-configuration', (_req, res) => {
    res.set('cache-control', 'public, max-age=15').json(discoveryDocument(deps));
  });
  router.get('/.well-known/jwks.json', (_req, res) => {
    const keys = deps.state.keys.published(deps.clock.now()).map((key) => key.jwk);
    res.set('cache-control', 'public, max-age=15').json({ keys });
  });
}
