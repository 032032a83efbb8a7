// Test support for the control plane's own tests: a database cloned per test file, a JWKS the
// tests sign tokens with, and the app started on a free port over real HTTP.
import { randomBytes, randomUUID } from 'node:crypto';
import { generateKeyPair, SignJWT } from 'jose';
import pg from 'pg';
import { inject } from 'vitest';
import { startDevAuth } from '../../harness/env/dev-auth.ts';
import { createControlPlane, loadConfig, type StartedControlPlane } from '../index.ts';

/** A fresh database for one test file, cloned from the migrated template. */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const { adminUrl, templateDatabase } = inject('postgres');
  const name = `t_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name} TEMPLATE ${templateDatabase}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

export interface TestAuth {
  jwksUrl: string;
  issuer: string;
  /** Signs a user token as the auth provider would. */
  token(claims: {
    sub: string;
    email?: string;
    name?: string;
    iat?: number;
    exp?: number | string;
  }): Promise<string>;
  /** Signs a token with a key the JWKS does not hold. */
  forgedToken(sub: string): Promise<string>;
  close(): Promise<void>;
}

/** The auth provider's stand-in (the harness's dev auth), plus a forger whose key it does not publish. */
export async function startTestAuth(): Promise<TestAuth> {
  const auth = await startDevAuth();
  const forger = await generateKeyPair('ES256');
  return {
    jwksUrl: auth.jwksUrl,
    issuer: auth.issuer,
    token: ({ exp, iat, ...claims }) => auth.sign(claims, { expiresIn: exp ?? '1h', issuedAt: iat }),
    forgedToken: (sub) =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'ES256', kid: 'planewright-dev' })
        .setSubject(sub)
        .setIssuer(auth.issuer)
        .setAudience(auth.audience)
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(forger.privateKey),
    close: () => auth.close(),
  };
}

export const testKek = randomBytes(32).toString('base64');
export const testAdminToken = 'test-admin-token-0123456789';

/** The environment a test control plane runs with; tests override single values. */
export function testEnv(databaseUrl: string, auth: TestAuth, overrides: Record<string, string> = {}) {
  return {
    PORT: '0',
    DATABASE_URL: databaseUrl,
    AUTH_JWKS_URL: auth.jwksUrl,
    AUTH_ISSUER: auth.issuer,
    AUTH_AUDIENCE: 'planewright',
    SECRETS_KEK: testKek,
    ADMIN_TOKEN: testAdminToken,
    TEST_MODE: 'true',
    LOG_LEVEL: 'silent',
    CELLS: 'cell-1:100,cell-2:100',
    FLOW_SWEEP_MS: '200',
    FLOW_RETRY_BASE_MS: '20',
    FLOW_RETRY_MAX_MS: '200',
    ...overrides,
  };
}

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** A small JSON client over real HTTP, authenticated with `token` (a JWT or an API key). */
export function apiClient(baseUrl: string, token?: string) {
  const call = async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiResponse> => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {}
    return { status: response.status, headers: response.headers, body: parsed };
  };
  return {
    get: (path: string, headers?: Record<string, string>) => call('GET', path, undefined, headers),
    post: (path: string, body?: unknown, headers?: Record<string, string>) =>
      call('POST', path, body, headers),
    put: (path: string, body?: unknown) => call('PUT', path, body),
    patch: (path: string, body?: unknown) => call('PATCH', path, body),
    delete: (path: string) => call('DELETE', path),
    call,
  };
}
export type ApiClient = ReturnType<typeof apiClient>;

export interface TestControlPlane extends StartedControlPlane {
  auth: TestAuth;
  databaseUrl: string;
  /** A client for a new user: a token with a fresh subject and email. */
  newUser(name?: string): Promise<{ client: ApiClient; token: string; sub: string; email: string }>;
  /** A new user who owns a new organization. */
  newOrg(
    name?: string,
  ): Promise<{ client: ApiClient; token: string; sub: string; email: string; orgId: string }>;
  /** A data-plane agent of `cell`, registered with a bootstrap token the operator minted. */
  newAgent(
    cell?: string,
    name?: string,
    options?: { encryptionKey?: { kty: 'OKP'; crv: 'X25519'; x: string } },
  ): Promise<{ client: ApiClient; token: string; agentId: string; cell: string; publicKeyPem: string }>;
  admin: ApiClient;
  anonymous: ApiClient;
  close(): Promise<void>;
}

/** Starts the control plane in this process on a fresh database; `close()` stops it and drops the database. */
export async function startTestControlPlane(
  overrides: Record<string, string> = {},
): Promise<TestControlPlane> {
  const database = await createTestDatabase();
  const auth = await startTestAuth();
  const config = loadConfig(testEnv(database.url, auth, overrides));
  const started = await createControlPlane(config).start();
  let counter = 0;
  const newUser = async (name = 'user') => {
    counter += 1;
    const sub = `auth0|${name}-${counter}-${randomUUID().slice(0, 8)}`;
    const email = `${name}-${counter}@example.test`;
    const token = await auth.token({ sub, email, name });
    return { client: apiClient(started.url, token), token, sub, email };
  };
  return {
    ...started,
    auth,
    databaseUrl: database.url,
    newUser,
    async newOrg(name = 'acme') {
      const user = await newUser(`${name}-owner`);
      const slug = `${name}-${randomUUID().slice(0, 8)}`;
      const created = await user.client.post('/v1/orgs', { name, slug });
      if (created.status !== 201) throw new Error(`creating an org failed: ${JSON.stringify(created.body)}`);
      return { ...user, orgId: created.body.id as string };
    },
    async newAgent(cell = 'cell-1', name = 'agent', options = {}) {
      const admin = apiClient(started.url, testAdminToken);
      const minted = await admin.post(`/v1/admin/cells/${cell}/bootstrap-tokens`, {});
      if (minted.status !== 201)
        throw new Error(`minting a bootstrap token failed: ${JSON.stringify(minted.body)}`);
      const registered = await apiClient(started.url).post('/v1/agent/register', {
        bootstrapToken: minted.body.token,
        name,
        ...options,
      });
      if (registered.status !== 201)
        throw new Error(`registering an agent failed: ${JSON.stringify(registered.body)}`);
      const { token, agentId, controlPlaneKeys } = registered.body;
      return {
        client: apiClient(started.url, token),
        token,
        agentId,
        cell: registered.body.cell,
        publicKeyPem: controlPlaneKeys[0].publicKeyPem,
      };
    },
    admin: apiClient(started.url, testAdminToken),
    anonymous: apiClient(started.url),
    async close() {
      await started.stop();
      await auth.close();
      await database.drop();
    },
  };
}
