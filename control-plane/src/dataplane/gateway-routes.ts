// The agent gateway over HTTP (issue 5, items 3 and 5, first part of 7): registration with a
// bootstrap token, the cell's snapshot with an ETag, a long-poll of signed events, status reports
// and heartbeats. Every agent route takes its cell from the agent's credential, never the request.

import { type Api, takeOrRefuse } from '../api/route.ts';
import { z } from '../api/zod.ts';
import type { AppDeps } from '../deps.ts';
import { ApiError, badRequest } from '../errors.ts';
import {
  type AgentIdentity,
  createBootstrapToken,
  rateLimited,
  recordHeartbeat,
  registerAgent,
} from './agents.ts';
import { type CellSnapshot, maxEventsPerRead, readCellHead, readEvents } from './feed.ts';
import { type AgentSealedSecret, agentEncryptionKey, sealForAgent } from './seal.ts';
import { recordObservedStatus } from './status.ts';
import { snapshotSigningInput } from './verify.ts';

/** The longest long-poll an agent may ask for. */
export const maxWaitMs = 30_000;

// Postgres text and jsonb cannot hold NUL: refused here as bad input rather than at the database
const text = (max: number) =>
  z
    .string()
    .max(max)
    .refine((value) => !value.includes('\u0000'), 'must not contain NUL characters');
const cellId = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9-]+$/, 'a cell id such as "cell-1"');

const controlPlaneKey = z
  .object({ kid: z.string(), publicKeyPem: z.string().describe('SPKI PEM of the Ed25519 key; pin it') })
  .openapi('ControlPlaneKey');

const desired = z.record(z.string(), z.unknown()).nullable();
const sealedSecret = z
  .object({
    name: z.string(),
    version: z.number().int(),
    resourceId: z.uuid(),
    agentId: z.uuid(),
    epk: z.string().describe('Ephemeral X25519 public key, base64url'),
    iv: z.string(),
    ciphertext: z.string(),
    tag: z.string(),
    kid: z.string(),
    signature: z.string().describe('Ed25519 by the event key over the sealed secret; see docs/dataplane.md'),
  })
  .openapi('SealedSecret');
const sealedSecrets = z
  .array(sealedSecret)
  .optional()
  .describe("The secret the spec's secretRef names, sealed to the calling agent's encryption key");
const signedEvent = z
  .object({
    event: z.object({
      cell: z.string(),
      epoch: z.string().describe("The cell's history (the snapshot's epoch); signed"),
      sequence: z.number().int(),
      type: z.string(),
      resourceId: z.uuid(),
      orgId: z.uuid(),
      generation: z.number().int(),
      desired,
      traceparent: z.string().nullable(),
      emittedAt: z.string(),
    }),
    signature: z.string(),
    kid: z.string(),
    secrets: sealedSecrets,
  })
  .openapi('SignedEvent');

const statusReport = z
  .object({
    resourceId: z.uuid(),
    observedGeneration: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    status: z
      .record(z.string(), z.unknown())
      .refine((value) => !JSON.stringify(value).includes('\\u0000'), 'must not contain NUL characters'),
    error: z
      .object({
        class: z.enum(['internal', 'customer']),
        message: text(2000).min(1),
        hint: text(2000).optional(),
      })
      .strict()
      .optional(),
    deleted: z.boolean().optional(),
    observedSpec: z
      .record(z.string(), z.unknown())
      .refine((value) => !JSON.stringify(value).includes('\\u0000'), 'must not contain NUL characters')
      .optional()
      .describe(
        'The spec the data plane actually runs; another than the desired one at the same generation is drift',
      ),
  })
  .strict();

export function registerAgentGatewayRoutes(api: Api): void {
  api.route({
    method: 'post',
    path: '/v1/admin/cells/{cellId}/bootstrap-tokens',
    summary: "Mint a one-time bootstrap token for a cell's agent (shown once, stored hashed, expiring)",
    tags: ['admin', 'agents'],
    access: { kind: 'admin' },
    params: z.object({ cellId }),
    body: z
      .object({
        ttlSeconds: z
          .number()
          .int()
          .min(60)
          .max(7 * 86_400)
          .optional()
          .describe('How long the token stays valid; default AGENT_BOOTSTRAP_TTL_MS'),
      })
      .strict(),
    response: {
      status: 201,
      schema: z.object({
        id: z.uuid(),
        cell: z.string(),
        token: z.string().describe('The bootstrap token, shown in this response only'),
        expiresAt: z.iso.datetime(),
      }),
    },
    handler: async ({ deps, params, body }) => {
      const ttlMs = body.ttlSeconds ? body.ttlSeconds * 1000 : deps.config.AGENT_BOOTSTRAP_TTL_MS;
      const created = await createBootstrapToken(deps.db, params.cellId, ttlMs);
      return { ...created, expiresAt: created.expiresAt.toISOString() };
    },
  });

  api.route({
    method: 'post',
    path: '/v1/agent/register',
    summary:
      "Trade a one-time bootstrap token for the agent's credential, scoped to the token's cell (401 when the token is unknown, used or expired)",
    tags: ['agents'],
    access: { kind: 'public' },
    body: z
      .object({
        bootstrapToken: text(200).min(1),
        name: z
          .string()
          .min(1)
          .max(100)
          .regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits and . _ : -'),
        encryptionKey: z
          .object({
            kty: z.literal('OKP'),
            crv: z.literal('X25519'),
            x: z.string().regex(/^[A-Za-z0-9_-]{43}$/, '32 bytes in base64url'),
          })
          .strict()
          .optional()
          .describe(
            "The agent's X25519 public key (JWK): customer secrets are sealed to it. Without it, none are sent",
          ),
      })
      .strict(),
    response: {
      status: 201,
      schema: z
        .object({
          agentId: z.uuid(),
          cell: z.string(),
          token: z.string().describe('The agent credential (`pwa_…`), shown in this response only'),
          controlPlaneKeys: z.array(controlPlaneKey).describe('Keys that sign events: pin them'),
        })
        .openapi('RegisteredAgent'),
    },
    handler: async ({ deps, body, res }) => {
      takeOrRefuse(deps, res, 'register_rate', 'register', 'too many agents are registering');
      let encryptionKey: string | null = null;
      if (body.encryptionKey) {
        try {
          agentEncryptionKey(body.encryptionKey.x);
          encryptionKey = body.encryptionKey.x;
        } catch {
          throw badRequest('encryptionKey is not an X25519 public key');
        }
      }
      const { agent, token } = await registerAgent(deps.db, body.bootstrapToken, body.name, encryptionKey);
      return {
        agentId: agent.id,
        cell: agent.cell,
        token,
        controlPlaneKeys: [{ kid: deps.eventSigner.kid, publicKeyPem: deps.eventSigner.publicKeyPem }],
      };
    },
  });

  api.route({
    method: 'get',
    path: '/v1/agent/snapshot',
    summary:
      "The agent's cell's whole desired state, with an ETag; If-None-Match with the current ETag answers 304 without reading any resource",
    tags: ['agents'],
    access: { kind: 'agent' },
    response: {
      status: 200,
      schema: z
        .object({
          cell: z.string(),
          sequence: z.number().int().describe('Follow with GET /v1/agent/events?after=<sequence>'),
          epoch: z.string().nullable(),
          etag: z.string(),
          resources: z.array(z.object({ resourceId: z.uuid(), desired, secrets: sealedSecrets })),
          signature: z
            .string()
            .describe(
              'Ed25519 by the event key over cell, epoch, sequence and resources; see docs/dataplane.md',
            ),
          kid: z.string(),
        })
        .openapi('CellSnapshot'),
    },
    otherResponses: { 304: 'Not modified: the If-None-Match ETag is current' },
    handler: async ({ deps, agent, req, res }) => {
      const cell = agent!.cell;
      const ifNoneMatch = req.header('if-none-match');
      if (ifNoneMatch) {
        const head = await readCellHead(deps.db, cell);
        if (etagMatches(ifNoneMatch, head.etag)) {
          deps.metrics.agentSnapshots.inc({ source: 'not_modified' });
          res.setHeader('ETag', head.etag);
          res.status(304).end();
          return;
        }
      }
      // at most AGENT_SNAPSHOT_CONCURRENCY builds at once; a current cached snapshot costs no slot
      const { snapshot, source } = await deps.snapshotCache.get(cell, async (build) => {
        const release = deps.agentLimits.snapshots.tryAcquire();
        if (!release) {
          deps.metrics.agentRequestsRejected.inc({ reason: 'snapshot_concurrency' });
          res.setHeader('Retry-After', '1');
          throw rateLimited('too many snapshots are being built; retry after 1 s', 1);
        }
        try {
          return await build();
        } finally {
          release();
        }
      });
      deps.metrics.agentSnapshots.inc({ source });
      const secrets = await sealFor(deps, agent!, snapshot.resources);
      res.setHeader('ETag', snapshot.etag);
      return {
        ...snapshot,
        ...signSnapshot(deps, snapshot),
        resources: snapshot.resources.map((entry, index) => withSecrets(entry, secrets[index]!)),
      };
    },
  });

  api.route({
    method: 'get',
    path: '/v1/agent/events',
    summary:
      "Signed events of the agent's cell after a cursor, oldest first; waits up to `wait` ms for one when there is none. 410 snapshot_required when the cursor was pruned or is ahead",
    tags: ['agents'],
    access: { kind: 'agent' },
    query: z.object({
      after: z.coerce
        .number()
        .int()
        .min(0)
        .max(Number.MAX_SAFE_INTEGER)
        .describe('The last sequence applied'),
      wait: z.coerce
        .number()
        .int()
        .min(0)
        .max(maxWaitMs)
        .default(0)
        .describe('Long-poll time in ms (≤ 30000)'),
      limit: z.coerce.number().int().min(1).max(maxEventsPerRead).default(100),
    }),
    response: {
      status: 200,
      schema: z
        .object({
          cell: z.string(),
          events: z.array(signedEvent),
          currentSequence: z.number().int(),
          epoch: z.string().nullable(),
        })
        .openapi('EventPage'),
    },
    otherResponses: { 410: 'snapshot_required: re-hydrate from GET /v1/agent/snapshot' },
    handler: async ({ deps, agent, query, res }) => {
      const cell = agent!.cell;
      const read = () => sharedRead(deps, cell, query.after, query.limit);
      let page = await read();
      if (page.kind === 'events' && page.events.length === 0 && query.wait > 0) {
        // the client going away ends the wait, so a dropped long-poll holds no waiter
        const aborted = new AbortController();
        const onClose = () => aborted.abort();
        res.once('close', onClose);
        try {
          const outcome = await deps.outboxListener.waitFor(
            cell,
            page.currentSequence,
            query.wait,
            aborted.signal,
          );
          if (outcome === 'aborted') return;
          if (outcome === 'overloaded') {
            deps.metrics.agentRequestsRejected.inc({ reason: 'waiters' });
            res.setHeader('Retry-After', '1');
            throw rateLimited('too many long-polls are waiting; retry after 1 s', 1);
          }
          if (outcome === 'changed') page = await read();
        } finally {
          res.off('close', onClose);
        }
      }
      if (page.kind === 'snapshot_required') {
        throw new ApiError(410, 'snapshot_required', page.message, {
          reason: page.reason,
          afterSequence: page.afterSequence,
          oldestSequence: page.oldestSequence,
          currentSequence: page.currentSequence,
        });
      }
      const secrets = await sealFor(
        deps,
        agent!,
        page.events.map(({ event }) => ({ resourceId: event.resourceId, desired: event.desired })),
      );
      return {
        cell: page.cell,
        events: page.events.map((signed, index) => withSecrets(signed, secrets[index]!)),
        currentSequence: page.currentSequence,
        epoch: page.epoch,
      };
    },
  });

  api.route({
    method: 'post',
    path: '/v1/agent/status',
    summary:
      "Report what the data plane observed, per resource; each report's outcome is applied, not_found (unknown or of another cell), stale or future_generation",
    tags: ['agents'],
    access: { kind: 'agent' },
    body: z.object({ reports: z.array(statusReport).min(1).max(500) }).strict(),
    response: {
      status: 200,
      schema: z.object({
        results: z.array(
          z.object({
            resourceId: z.uuid(),
            outcome: z.enum(['applied', 'not_found', 'stale', 'future_generation']),
          }),
        ),
      }),
    },
    handler: async ({ deps, agent, body }) => {
      const ids = new Set(body.reports.map((report) => report.resourceId));
      if (ids.size !== body.reports.length) throw badRequest('report each resource at most once per request');
      const results = [];
      for (const report of body.reports) {
        const outcome = await recordObservedStatus(deps.db, report, { cell: agent!.cell });
        results.push({ resourceId: report.resourceId, outcome });
      }
      return { results };
    },
  });

  api.route({
    method: 'post',
    path: '/v1/agent/heartbeat',
    summary: 'Tell the control plane the agent is alive and which sequence it has applied',
    tags: ['agents'],
    access: { kind: 'agent' },
    body: z.object({ appliedSequence: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER) }).strict(),
    response: { status: 204 },
    handler: async ({ deps, agent, body }) => {
      await recordHeartbeat(deps.db, agent!.id, body.appliedSequence);
    },
  });
}

// a built snapshot is shared by every agent of its cell until the cell changes: signed once
const snapshotSignatures = new WeakMap<CellSnapshot, { signature: string; kid: string }>();
function signSnapshot(deps: AppDeps, snapshot: CellSnapshot) {
  let signed = snapshotSignatures.get(snapshot);
  if (!signed) {
    signed = {
      signature: deps.eventSigner.signBytes(snapshotSigningInput(snapshot)),
      kid: deps.eventSigner.kid,
    };
    snapshotSignatures.set(snapshot, signed);
  }
  return signed;
}

// A change wakes every agent of its cell at once, all with the same cursor: they share one read
const readsInFlight = new WeakMap<AppDeps, Map<string, ReturnType<typeof readEvents>>>();
function sharedRead(deps: AppDeps, cell: string, after: number, limit: number) {
  let reads = readsInFlight.get(deps);
  if (!reads) {
    reads = new Map();
    readsInFlight.set(deps, reads);
  }
  const key = `${cell}\u0000${after}\u0000${limit}`;
  let read = reads.get(key);
  if (!read) {
    read = readEvents(deps.db, deps.eventSigner, { cell, afterSequence: after, limit });
    reads.set(key, read);
    const forget = () => reads.delete(key);
    read.then(forget, forget);
  }
  return read;
}

/** Seals, for the calling agent, the secret each entry's spec names (none without its encryption key). */
function sealFor(deps: AppDeps, agent: AgentIdentity, entries: Parameters<typeof sealForAgent>[1]) {
  return sealForAgent(
    deps.db,
    entries,
    { id: agent.id, encryptionKey: agent.encryptionKey ? agentEncryptionKey(agent.encryptionKey) : null },
    { kek: deps.kek, signer: deps.eventSigner },
  );
}

const withSecrets = <T extends object>(entry: T, secrets: AgentSealedSecret[]) =>
  secrets.length > 0 ? { ...entry, secrets } : entry;

/** If-None-Match holds one ETag, a list, or `*`; weak ETags (`W/"…"`) compare by their value. */
function etagMatches(header: string, etag: string): boolean {
  return header
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .some((tag) => tag === '*' || tag === etag);
}
