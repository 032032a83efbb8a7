// The fleet agent's side of the agent gateway's HTTP API: every call GatewayClient makes, against
// Pact's mock server. Values the control plane makes up (tokens, ids, signatures, sequences, ETags)
// are matched by form; values only the provider knows and the agent must send back (its bootstrap
// token, its credential, a cursor, an ETag, a resource id) come from the provider state
// (`fromProviderState`). The last test compares the generated pact with contracts/pacts/.
import { MatchersV3, PactV4 } from '@pact-foundation/pact';
import { afterAll, describe, expect, it } from 'vitest';
import { GatewayClient, HttpError } from '../../simulators/fleet/index.ts';
import { checkGeneratedPact, generatedPact } from '../support/pact-files.ts';
import { consumer, gatewayProvider, pactFileName, states } from '../support/participants.ts';
import {
  agentToken,
  base64url,
  etag,
  examples,
  isoMillis,
  kid,
  publicKeyPem,
  retryAfterSeconds,
  signature,
  stateRef,
  traceparent,
  uuid,
} from '../support/patterns.ts';

const { eachLike, equal, fromProviderState, integer, like, regex, string } = MatchersV3;

const generated = generatedPact();
afterAll(() => generated.remove());
const pact = new PactV4({ consumer, provider: gatewayProvider, dir: generated.dir, logLevel: 'warn' });

const cell = 'cell-1';
const agent = { cell, name: 'contract-agent' };
const spec = { engine: 'postgres', version: '16', storageGb: 10 };
/** A resource of the agent's cell, created by a traced request (so its event carries a traceparent). */
const withResource = { ...agent, resource: { kind: 'database', spec, traceparent: examples.traceparent } };
/** The agent's X25519 public key: a real one, since the provider checks it. */
const encryptionKey = {
  kty: 'OKP',
  crv: 'X25519',
  x: base64url(32, examples.encryptionKeyX),
};
/** A resource whose spec names a secret of its organization, in the cell of an agent with an encryption key. */
const withSecret = {
  ...agent,
  encryptionKey: { kty: 'OKP', crv: 'X25519', x: examples.encryptionKeyX },
  resource: {
    kind: 'database',
    spec: { ...spec, secretRef: 'db-password' },
    traceparent: examples.traceparent,
  },
  secretName: 'db-password',
};
/** The agent's own credential: only the provider knows it, so the provider state supplies it. */
const authorization = {
  authorization: fromProviderState(`Bearer ${stateRef('agentToken')}`, `Bearer ${examples.agentToken}`),
};
/** The client of an agent that registered before, pointed at the mock server. */
const at = (url: string) => new GatewayClient({ url, token: examples.agentToken, requestTimeoutMs: 5_000 });

/** A resource's desired state as events and snapshots carry it; the agent checks `cell` is its own. */
const desired = {
  kind: string('database'),
  name: string('orders'),
  spec: like(spec),
  generation: integer(1),
  phase: regex(/^(active|suspended|deprovisioning)$/, 'active'),
  orgId: uuid(examples.orgId),
  cell: equal(cell),
};

/** An element of an events page: the event and its signature; the agent verifies it before use. */
const signedEvent = {
  event: {
    cell: equal(cell),
    epoch: string('5f3a9c1e'),
    sequence: integer(42),
    type: regex(/^resource\.(created|updated|deleted|resync)$/, 'resource.created'),
    resourceId: uuid(examples.resourceId),
    orgId: uuid(examples.orgId),
    generation: integer(1),
    desired,
    traceparent: traceparent(),
    emittedAt: isoMillis(),
  },
  signature: signature(),
  kid: kid(),
};

/** A customer error is shown to the customer as is, with its hint; the agent keeps what ran before. */
const failedApply = <T>(resourceId: T) => ({
  resourceId,
  observedGeneration: 1,
  status: { ready: false, phase: 'active' },
  error: {
    class: 'customer' as const,
    message: 'storageGb 10 is below the 20 GB minimum of the plan',
    hint: 'raise spec.storageGb to 20 or more',
  },
});

describe('the fleet agent and the agent gateway', () => {
  it('registers with a one-time bootstrap token and gets its credential and the keys to pin', () =>
    pact
      .addInteraction()
      .given(states.bootstrapTokenMinted, { cell })
      .uponReceiving('a registration with a one-time bootstrap token')
      .withRequest('POST', '/v1/agent/register', (request) =>
        request.jsonBody({
          bootstrapToken: fromProviderState(stateRef('bootstrapToken'), examples.bootstrapToken),
          name: agent.name,
        }),
      )
      .willRespondWith(201, (response) =>
        response.jsonBody({
          agentId: uuid(examples.agentId),
          // the cell the operator minted the token for
          cell,
          token: agentToken(),
          controlPlaneKeys: eachLike({ kid: kid(), publicKeyPem: publicKeyPem() }),
        }),
      )
      .executeTest(async (mock) => {
        const gateway = new GatewayClient({ url: mock.url });
        const registered = await gateway.register({
          bootstrapToken: examples.bootstrapToken,
          name: agent.name,
        });
        expect(registered).toEqual({
          agentId: examples.agentId,
          cell,
          token: examples.agentToken,
          controlPlaneKeys: [{ kid: examples.kid, publicKeyPem: examples.publicKeyPem }],
        });
      }));

  it('registers with its X25519 encryption key, so that secrets can be sealed to it', () =>
    pact
      .addInteraction()
      .given(states.bootstrapTokenMinted, { cell })
      .uponReceiving('a registration with a bootstrap token and an encryption key')
      .withRequest('POST', '/v1/agent/register', (request) =>
        request.jsonBody({
          bootstrapToken: fromProviderState(stateRef('bootstrapToken'), examples.bootstrapToken),
          name: agent.name,
          encryptionKey,
        }),
      )
      .willRespondWith(201, (response) =>
        response.jsonBody({
          agentId: uuid(examples.agentId),
          cell,
          token: agentToken(),
          controlPlaneKeys: eachLike({ kid: kid(), publicKeyPem: publicKeyPem() }),
        }),
      )
      .executeTest(async (mock) => {
        const registered = await new GatewayClient({ url: mock.url }).register({
          bootstrapToken: examples.bootstrapToken,
          name: agent.name,
          encryptionKey: { kty: 'OKP', crv: 'X25519', x: examples.encryptionKeyX },
        });
        expect(registered.token).toBe(examples.agentToken);
      }));

  it("hydrates from the cell's snapshot, which carries an ETag", () =>
    pact
      .addInteraction()
      .given(states.agentWithResource, withResource)
      .uponReceiving('a snapshot request without an ETag')
      .withRequest('GET', '/v1/agent/snapshot', (request) => request.headers(authorization))
      .willRespondWith(200, (response) =>
        response.headers({ ETag: etag() }).jsonBody({
          cell,
          sequence: integer(41),
          epoch: string('5f3a9c1e'),
          etag: etag(),
          resources: eachLike({ resourceId: uuid(examples.resourceId), desired }),
        }),
      )
      .executeTest(async (mock) => {
        const snapshot = await at(mock.url).snapshot();
        expect(snapshot.notModified).toBe(false);
        if (snapshot.notModified) return;
        expect(snapshot).toMatchObject({ cell, sequence: 41, epoch: '5f3a9c1e', etag: examples.etag });
        expect(snapshot.resources).toEqual([
          {
            resourceId: examples.resourceId,
            desired: {
              kind: 'database',
              name: 'orders',
              spec,
              generation: 1,
              phase: 'active',
              orgId: examples.orgId,
              cell,
            },
          },
        ]);
      }));

  it('is told 304 Not Modified when the ETag it holds is current', () =>
    pact
      .addInteraction()
      .given(states.agentWithResource, withResource)
      .uponReceiving('a snapshot request with the current ETag')
      .withRequest('GET', '/v1/agent/snapshot', (request) =>
        request.headers({
          ...authorization,
          'If-None-Match': fromProviderState(stateRef('etag'), examples.etag),
        }),
      )
      .willRespondWith(304, (response) => response.headers({ ETag: etag() }))
      .executeTest(async (mock) => {
        const snapshot = await at(mock.url).snapshot({ etag: examples.etag });
        expect(snapshot).toEqual({ notModified: true, etag: examples.etag });
      }));

  it('long-polls for the signed events after its cursor', () =>
    pact
      .addInteraction()
      .given(states.agentWithResource, withResource)
      .uponReceiving('a long-poll for events after the cursor')
      .withRequest('GET', '/v1/agent/events', (request) =>
        request
          .headers(authorization)
          .query({ after: fromProviderState(stateRef('afterSequence'), '41'), wait: '10000', limit: '100' }),
      )
      .willRespondWith(200, (response) =>
        response.jsonBody({
          cell,
          events: eachLike(signedEvent),
          currentSequence: integer(42),
          epoch: string('5f3a9c1e'),
        }),
      )
      .executeTest(async (mock) => {
        const page = await at(mock.url).events({ after: 41, wait: 10_000, limit: 100 });
        expect(page.currentSequence).toBe(42);
        expect(page.events).toHaveLength(1);
        expect(page.events[0]).toMatchObject({
          event: { cell, sequence: 42, resourceId: examples.resourceId, generation: 1 },
          signature: examples.signature,
          kid: examples.kid,
        });
      }));

  it('is told 410 snapshot_required when its cursor is ahead of the cell', () =>
    pact
      .addInteraction()
      .given(states.agentCursorAhead, { ...agent, aheadBy: 100 })
      .uponReceiving('a long-poll with a cursor ahead of the cell')
      .withRequest('GET', '/v1/agent/events', (request) =>
        request
          .headers(authorization)
          .query({ after: fromProviderState(stateRef('afterSequence'), '141'), wait: '0', limit: '100' }),
      )
      .willRespondWith(410, (response) =>
        response.jsonBody({
          error: {
            code: 'snapshot_required',
            message: string('cursor 141 is past cell cell-1 latest sequence 41'),
            details: { reason: regex(/^(pruned|ahead)$/, 'ahead') },
          },
        }),
      )
      .executeTest(async (mock) => {
        const refused = await at(mock.url)
          .events({ after: 141 })
          .catch((error: unknown) => error);
        expect(refused).toBeInstanceOf(HttpError);
        expect(refused).toMatchObject({ status: 410, code: 'snapshot_required' });
      }));

  it('reports the observed status of what it applied', () =>
    pact
      .addInteraction()
      .given(states.agentWithResource, withResource)
      .uponReceiving('a status report for an applied resource')
      .withRequest('POST', '/v1/agent/status', (request) =>
        request.headers(authorization).jsonBody({
          reports: [
            {
              resourceId: fromProviderState(stateRef('resourceId'), examples.resourceId),
              observedGeneration: 1,
              status: { ready: true, phase: 'active' },
              // what the local data plane runs: the control plane compares it with the desired spec (drift)
              observedSpec: spec,
            },
          ],
        }),
      )
      .willRespondWith(200, (response) =>
        response.jsonBody({ results: [{ resourceId: uuid(examples.resourceId), outcome: 'applied' }] }),
      )
      .executeTest(async (mock) => {
        const answer = await at(mock.url).status([
          {
            resourceId: examples.resourceId,
            observedGeneration: 1,
            status: { ready: true, phase: 'active' },
            observedSpec: spec,
          },
        ]);
        expect(answer).toEqual({ results: [{ resourceId: examples.resourceId, outcome: 'applied' }] });
      }));

  it('reports an apply that failed, with the class of its error', () =>
    pact
      .addInteraction()
      .given(states.agentWithResource, withResource)
      .uponReceiving('a status report of an apply that failed with a customer error')
      .withRequest('POST', '/v1/agent/status', (request) =>
        request.headers(authorization).jsonBody({
          reports: [failedApply(fromProviderState(stateRef('resourceId'), examples.resourceId))],
        }),
      )
      .willRespondWith(200, (response) =>
        response.jsonBody({ results: [{ resourceId: uuid(examples.resourceId), outcome: 'applied' }] }),
      )
      .executeTest(async (mock) => {
        const answer = await at(mock.url).status([failedApply(examples.resourceId)]);
        expect(answer.results).toEqual([{ resourceId: examples.resourceId, outcome: 'applied' }]);
      }));

  it('receives the secrets its resources use, sealed to its encryption key, next to the signed event', () =>
    pact
      .addInteraction()
      .given(states.agentWithSecret, withSecret)
      .uponReceiving('a long-poll for events of a resource using a secret')
      .withRequest('GET', '/v1/agent/events', (request) =>
        request
          .headers(authorization)
          .query({ after: fromProviderState(stateRef('afterSequence'), '41'), wait: '10000', limit: '100' }),
      )
      .willRespondWith(200, (response) =>
        response.jsonBody({
          cell,
          events: eachLike({
            ...signedEvent,
            secrets: eachLike({
              name: string(withSecret.secretName),
              version: integer(1),
              resourceId: uuid(examples.resourceId),
              agentId: uuid(examples.agentId),
              epk: base64url(32, examples.sealed.epk),
              iv: base64url(12, examples.sealed.iv),
              ciphertext: regex(/^[A-Za-z0-9_-]+$/, examples.sealed.ciphertext),
              tag: base64url(16, examples.sealed.tag),
              kid: kid(),
              signature: signature(),
            }),
          }),
          currentSequence: integer(42),
          epoch: string('5f3a9c1e'),
        }),
      )
      .executeTest(async (mock) => {
        const page = await at(mock.url).events({ after: 41, wait: 10_000, limit: 100 });
        expect(page.events[0]?.secrets).toEqual([
          {
            name: 'db-password',
            version: 1,
            resourceId: examples.resourceId,
            agentId: examples.agentId,
            ...examples.sealed,
            kid: examples.kid,
            signature: examples.signature,
          },
        ]);
      }));

  it('sends a heartbeat with the sequence it has applied', () =>
    pact
      .addInteraction()
      .given(states.agentRegistered, agent)
      .uponReceiving('a heartbeat with the applied sequence')
      .withRequest('POST', '/v1/agent/heartbeat', (request) =>
        request.headers(authorization).jsonBody({ appliedSequence: integer(42) }),
      )
      .willRespondWith(204)
      .executeTest(async (mock) => {
        await expect(at(mock.url).heartbeat(42)).resolves.toBeUndefined();
      }));

  it('is told 429 with Retry-After when it is over its rate limit, and surfaces the delay', () =>
    pact
      .addInteraction()
      .given(states.agentRateLimited, agent)
      .uponReceiving('a long-poll from an agent over its rate limit')
      .withRequest('GET', '/v1/agent/events', (request) =>
        request.headers(authorization).query({ after: '0', wait: '0', limit: '100' }),
      )
      .willRespondWith(429, (response) =>
        response.headers({ 'Retry-After': retryAfterSeconds('100') }).jsonBody({
          error: { code: 'rate_limited', message: string('too many requests from this agent') },
        }),
      )
      .executeTest(async (mock) => {
        const refused = await at(mock.url)
          .events({ after: 0 })
          .catch((error: unknown) => error);
        expect(refused).toBeInstanceOf(HttpError);
        expect(refused).toMatchObject({ status: 429, code: 'rate_limited', retryAfterMs: 100_000 });
      }));

  it('matches the committed contract (contracts/pacts/)', () => {
    checkGeneratedPact(generated, pactFileName(gatewayProvider));
  });
});
