// The agent gateway over real HTTP, with a real control plane: registration, cell scoping,
// signed events, the snapshot's ETag, the long-poll, status reports, pruning and rate limits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApiClient,
  apiClient,
  startTestControlPlane,
  type TestControlPlane,
} from '../../test/support.ts';
import { databaseSpec } from '../../test/walk.ts';
import { pruneOutbox } from './prune.ts';
import { ConcurrencyLimit, TokenBuckets } from './rate-limit.ts';
import { pinPublicKeys, verifySignedEvent, verifySnapshotSignature } from './verify.ts';

let cp: TestControlPlane;
let owner: { client: ApiClient; orgId: string };

beforeAll(async () => {
  // a generous bucket, so that only the rate-limit test (its own control plane) meets it
  cp = await startTestControlPlane({ AGENT_RATE_LIMIT_BURST: '1000', AGENT_RATE_LIMIT_PER_SEC: '1000' });
  owner = await cp.newOrg('gateway');
});
afterAll(() => cp?.close());

async function createResource(cell: string, name: string) {
  const created = await owner.client.post(`/v1/orgs/${owner.orgId}/resources`, {
    kind: 'database',
    name,
    spec: databaseSpec,
    cell,
  });
  expect(created.status).toBeLessThan(300);
  return created.body as { resource: { id: string; generation: number }; flowId: string };
}

describe('agent registration', () => {
  it('registers once with a bootstrap token; a second use is refused', async () => {
    const minted = await cp.admin.post('/v1/admin/cells/cell-1/bootstrap-tokens', { ttlSeconds: 600 });
    expect(minted.status).toBe(201);
    expect(minted.body.token).toMatch(/^pwb_/);
    const first = await cp.anonymous.post('/v1/agent/register', {
      bootstrapToken: minted.body.token,
      name: 'a-1',
    });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      cell: 'cell-1',
      token: expect.stringMatching(/^pwa_/),
      controlPlaneKeys: [{ kid: cp.eventSigner.kid, publicKeyPem: cp.eventSigner.publicKeyPem }],
    });
    const again = await cp.anonymous.post('/v1/agent/register', {
      bootstrapToken: minted.body.token,
      name: 'a-2',
    });
    expect(again.status).toBe(401);
    expect(again.body.error.code).toBe('unauthorized');
    // only hashes are stored
    const { rows } = await cp.deps.db.query(
      'SELECT secret_hash FROM agents WHERE id = $1 UNION ALL SELECT token_hash FROM agent_bootstrap_tokens',
      [first.body.agentId],
    );
    for (const row of rows) expect(JSON.stringify(row)).not.toContain(first.body.token);
  });

  it('refuses an expired token, an unknown cell, and a bootstrap token minted without the admin token', async () => {
    const minted = await cp.admin.post('/v1/admin/cells/cell-1/bootstrap-tokens', {});
    await cp.deps.db.query("UPDATE agent_bootstrap_tokens SET expires_at = now() - interval '1 s'");
    const expired = await cp.anonymous.post('/v1/agent/register', {
      bootstrapToken: minted.body.token,
      name: 'late',
    });
    expect(expired.status).toBe(401);
    expect((await cp.admin.post('/v1/admin/cells/cell-9/bootstrap-tokens', {})).status).toBe(404);
    expect((await owner.client.post('/v1/admin/cells/cell-1/bootstrap-tokens', {})).status).toBe(403);
  });

  it('keeps agent and user credentials apart, in both directions', async () => {
    const agent = await cp.newAgent('cell-1');
    // an agent cannot open tenant, user or admin routes
    expect((await agent.client.get('/v1/users/me')).status).toBe(403);
    expect((await agent.client.get(`/v1/orgs/${owner.orgId}/resources`)).status).toBe(403);
    expect((await agent.client.get('/v1/admin/flows')).status).toBe(403);
    // a user, an API key or the operator cannot open agent routes
    const key = await owner.client.post(`/v1/orgs/${owner.orgId}/api-keys`, { name: 'k', role: 'admin' });
    for (const client of [owner.client, cp.admin]) {
      expect((await client.get('/v1/agent/snapshot')).status).toBe(403);
      expect((await client.post('/v1/agent/heartbeat', { appliedSequence: 0 })).status).toBe(403);
    }
    const keyClient = apiClient(cp.url, key.body.key);
    expect((await keyClient.get('/v1/agent/events?after=0')).status).toBe(403);
    // no credential, or a forged one
    expect((await cp.anonymous.get('/v1/agent/snapshot')).status).toBe(401);
    const forged = `${agent.token.slice(0, -4)}AAAA`;
    const forgedClient = apiClient(cp.url, forged);
    expect((await forgedClient.get('/v1/agent/snapshot')).status).toBe(401);
  });
});

describe('events and snapshots, scoped to the cell', () => {
  it("delivers a cell-1 resource to cell-1's agent as a verified signed event, never to cell-2's", async () => {
    const one = await cp.newAgent('cell-1', 'one');
    const two = await cp.newAgent('cell-2', 'two');
    const start1 = (await one.client.get('/v1/agent/snapshot')).body.sequence as number;
    const start2 = (await two.client.get('/v1/agent/snapshot')).body.sequence as number;
    const mine = await createResource('cell-1', 'scoped-1');

    const page = await one.client.get(`/v1/agent/events?after=${start1}&wait=5000`);
    expect(page.status).toBe(200);
    const event = page.body.events.find(
      (e: { event: { resourceId: string } }) => e.event.resourceId === mine.resource.id,
    );
    expect(event).toBeDefined();
    const keys = pinPublicKeys([one.publicKeyPem]);
    const verified = verifySignedEvent(event, keys, { cell: 'cell-1', lastAppliedSequence: start1 });
    expect(verified.outcome).toBe('ok');
    expect(event.event).toMatchObject({
      type: 'resource.created',
      cell: 'cell-1',
      epoch: page.body.epoch,
      orgId: owner.orgId,
    });

    const other = await two.client.get(`/v1/agent/events?after=${start2}`);
    expect(other.status).toBe(200);
    expect(JSON.stringify(other.body)).not.toContain(mine.resource.id);
    const otherSnapshot = await two.client.get('/v1/agent/snapshot');
    expect(JSON.stringify(otherSnapshot.body)).not.toContain(mine.resource.id);
    const snapshot = await one.client.get('/v1/agent/snapshot');
    expect(snapshot.body.resources.map((r: { resourceId: string }) => r.resourceId)).toContain(
      mine.resource.id,
    );
  });

  it('answers 304 without a body when If-None-Match is the current ETag', async () => {
    const agent = await cp.newAgent('cell-2');
    const first = await agent.client.get('/v1/agent/snapshot');
    expect(first.status).toBe(200);
    const etag = first.headers.get('etag')!;
    expect(etag).toBe(first.body.etag);
    const again = await agent.client.get('/v1/agent/snapshot', { 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(again.body).toBeUndefined();
    await createResource('cell-2', 'etag-mover');
    const moved = await agent.client.get('/v1/agent/snapshot', { 'if-none-match': etag });
    expect(moved.status).toBe(200);
    expect(moved.headers.get('etag')).not.toBe(etag);
  });

  it('wakes a long-poll when a change commits, before its wait ends', async () => {
    const agent = await cp.newAgent('cell-1');
    const { sequence } = (await agent.client.get('/v1/agent/snapshot')).body;
    const started = performance.now();
    const polling = agent.client.get(`/v1/agent/events?after=${sequence}&wait=20000`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const created = await createResource('cell-1', 'wake-up');
    const page = await polling;
    expect(performance.now() - started).toBeLessThan(15_000);
    expect(page.status).toBe(200);
    expect(page.body.events[0].event.resourceId).toBe(created.resource.id);
  });

  it('answers 410 snapshot_required once the cursor is pruned, and when it is ahead', async () => {
    const agent = await cp.newAgent('cell-2');
    await createResource('cell-2', 'prune-a');
    await createResource('cell-2', 'prune-b');
    await pruneOutbox(cp.deps.db, { keepMs: 0, keepPerCell: 1 });
    const pruned = await agent.client.get('/v1/agent/events?after=0');
    expect(pruned.status).toBe(410);
    expect(pruned.body.error).toMatchObject({ code: 'snapshot_required', details: { reason: 'pruned' } });
    const ahead = await agent.client.get('/v1/agent/events?after=999999');
    expect(ahead.status).toBe(410);
    expect(ahead.body.error.details.reason).toBe('ahead');
  });
});

describe('status reports and heartbeats', () => {
  it('moves a provisioning resource to ready; a report for another cell is not_found and not applied', async () => {
    const agent = await cp.newAgent('cell-1');
    const mine = await createResource('cell-1', 'to-ready');
    const theirs = await createResource('cell-2', 'not-yours');
    const reported = await agent.client.post('/v1/agent/status', {
      reports: [
        { resourceId: mine.resource.id, observedGeneration: 1, status: { ready: true } },
        { resourceId: theirs.resource.id, observedGeneration: 1, status: { ready: true } },
      ],
    });
    expect(reported.status).toBe(200);
    expect(reported.body.results).toEqual([
      { resourceId: mine.resource.id, outcome: 'applied' },
      { resourceId: theirs.resource.id, outcome: 'not_found' },
    ]);
    expect(await cp.deps.flows.waitForCompletion(mine.flowId, 10_000)).toMatchObject({ state: 'succeeded' });
    const ready = await owner.client.get(`/v1/orgs/${owner.orgId}/resources/${mine.resource.id}`);
    expect(ready.body).toMatchObject({ phase: 'ready', observedGeneration: 1 });
    const untouched = await owner.client.get(`/v1/orgs/${owner.orgId}/resources/${theirs.resource.id}`);
    expect(untouched.body.observedGeneration).toBe(0);
  });

  it('stores the heartbeat: last seen and the applied sequence', async () => {
    const agent = await cp.newAgent('cell-1');
    const beat = await agent.client.post('/v1/agent/heartbeat', { appliedSequence: 3 });
    expect(beat.status).toBe(204);
    const { rows } = await cp.deps.db.query(
      'SELECT last_seen_at, applied_sequence FROM agents WHERE id = $1',
      [agent.agentId],
    );
    expect(rows[0].last_seen_at).toBeInstanceOf(Date);
    expect(Number(rows[0].applied_sequence)).toBe(3);
  });
});

describe('rate limits', () => {
  it('answers 429 with Retry-After and the error body once an agent has spent its bucket', async () => {
    const limited = await startTestControlPlane({
      AGENT_RATE_LIMIT_BURST: '3',
      AGENT_RATE_LIMIT_PER_SEC: '0.5',
    });
    try {
      const agent = await limited.newAgent('cell-1');
      const statuses: number[] = [];
      let last: Awaited<ReturnType<ApiClient['get']>> | undefined;
      for (let i = 0; i < 5; i += 1) {
        last = await agent.client.post('/v1/agent/heartbeat', { appliedSequence: 0 });
        statuses.push(last.status);
      }
      expect(statuses.slice(0, 3)).toEqual([204, 204, 204]);
      expect(last!.status).toBe(429);
      expect(Number(last!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(last!.body.error).toMatchObject({ code: 'rate_limited', requestId: expect.any(String) });
      // another agent has its own bucket
      const other = await limited.newAgent('cell-1', 'other');
      expect((await other.client.get('/v1/agent/snapshot')).status).toBe(200);
    } finally {
      await limited.close();
    }
  });

  it('answers 429 with Retry-After when too many snapshots are being built at once', async () => {
    const agent = await cp.newAgent('cell-1');
    // a change, so that the cached snapshot is not current and one must be built
    await createResource('cell-1', 'snapshot-busy');
    const { snapshots } = cp.deps.agentLimits;
    const held: Array<() => void> = [];
    for (let release = snapshots.tryAcquire(); release; release = snapshots.tryAcquire()) held.push(release);
    try {
      const refused = await agent.client.get('/v1/agent/snapshot');
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(refused.body.error.code).toBe('rate_limited');
    } finally {
      for (const release of held) release();
    }
    expect((await agent.client.get('/v1/agent/snapshot')).status).toBe(200);
  });

  it('bounds the whole gateway and registrations, counting each refusal by reason', async () => {
    const limited = await startTestControlPlane({
      AGENT_GLOBAL_RATE_LIMIT_PER_SEC: '4',
      AGENT_REGISTER_RATE_LIMIT_PER_SEC: '2',
    });
    try {
      const first = await limited.newAgent('cell-1', 'g1');
      const second = await limited.newAgent('cell-1', 'g2');
      const minted = await limited.admin.post('/v1/admin/cells/cell-1/bootstrap-tokens', {});
      const register = await limited.anonymous.post('/v1/agent/register', {
        bootstrapToken: minted.body.token,
        name: 'g3',
      });
      expect(register.status).toBe(429);
      expect(Number(register.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      // the refused registration left the token unused
      expect(
        (await limited.deps.db.query('SELECT used_at FROM agent_bootstrap_tokens WHERE agent_id IS NULL'))
          .rows,
      ).toEqual([{ used_at: null }]);
      // four requests a second across all agents, whichever agent sends them
      const statuses: number[] = [];
      for (let i = 0; i < 6; i += 1) {
        const agent = i % 2 ? first : second;
        statuses.push((await agent.client.post('/v1/agent/heartbeat', { appliedSequence: 0 })).status);
      }
      expect(statuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(1);
      const metrics = (await limited.anonymous.get('/metrics')).body as string;
      expect(metrics).toMatch(/planewright_agent_requests_rejected_total\{reason="global_rate"\} [1-9]/);
      expect(metrics).toMatch(/planewright_agent_requests_rejected_total\{reason="register_rate"\} 1/);
    } finally {
      await limited.close();
    }
  });

  it('signs the snapshot over cell, epoch, sequence and resources', async () => {
    const agent = await cp.newAgent('cell-1', 'snapshot-signature');
    await createResource('cell-1', 'signed-snapshot');
    const snapshot = (await agent.client.get('/v1/agent/snapshot')).body;
    const keys = pinPublicKeys([cp.eventSigner.publicKeyPem]);
    expect(snapshot.kid).toBe(cp.eventSigner.kid);
    expect(verifySnapshotSignature(snapshot, keys, 'cell-1')).toBe(true);
    // served from the cache, the same signature
    expect((await agent.client.get('/v1/agent/snapshot')).body.signature).toBe(snapshot.signature);
    const altered = structuredClone(snapshot);
    altered.resources[0].desired.spec.storageGb = 1;
    expect(verifySnapshotSignature(altered, keys, 'cell-1')).toBe(false);
    expect(
      verifySnapshotSignature({ ...snapshot, resources: snapshot.resources.slice(1) }, keys, 'cell-1'),
    ).toBe(false);
    expect(verifySnapshotSignature({ ...snapshot, sequence: snapshot.sequence + 1 }, keys, 'cell-1')).toBe(
      false,
    );
    expect(verifySnapshotSignature(snapshot, keys, 'cell-2')).toBe(false);
  });

  it('builds a cell snapshot once per change: the rest of a returning cell is served from the cache', async () => {
    const agents = await Promise.all([0, 1, 2, 3].map((i) => cp.newAgent('cell-2', `cache-${i}`)));
    await createResource('cell-2', 'cached-snapshot');
    const count = async () => {
      const text = (await cp.anonymous.get('/metrics')).body as string;
      const read = (source: string) =>
        Number(
          new RegExp(`planewright_agent_snapshots_total\\{source="${source}"\\} (\\d+)`).exec(text)?.[1] ?? 0,
        );
      return {
        built: read('built') + read('shared'),
        cached: read('cached'),
        notModified: read('not_modified'),
      };
    };
    const before = await count();
    const snapshots = await Promise.all(agents.map((agent) => agent.client.get('/v1/agent/snapshot')));
    const etags = new Set(snapshots.map((snapshot) => snapshot.headers.get('etag')));
    expect(etags.size).toBe(1);
    const after = await count();
    expect(after.built + after.cached - before.built - before.cached).toBe(4);
    expect(after.built - before.built).toBeLessThanOrEqual(4);
    // once built, the same snapshot is served from the cache until the cell changes
    await agents[0]!.client.get('/v1/agent/snapshot');
    expect((await count()).cached).toBeGreaterThan(after.cached);
    const notModified = await agents[1]!.client.get('/v1/agent/snapshot', {
      'if-none-match': [...etags][0]!,
    });
    expect(notModified.status).toBe(304);
    expect((await count()).notModified).toBe(after.notModified + 1);
  });

  it('refills a token bucket over time and bounds the concurrency limit', () => {
    let now = 0;
    const buckets = new TokenBuckets({ ratePerSec: 2, burst: 2, now: () => now });
    expect(buckets.take('a').ok).toBe(true);
    expect(buckets.take('a').ok).toBe(true);
    expect(buckets.take('a')).toEqual({ ok: false, retryAfterSeconds: 1 });
    now = 500;
    expect(buckets.take('a').ok).toBe(true);
    const small = new TokenBuckets({ ratePerSec: 1, burst: 1, maxKeys: 2, now: () => now });
    for (const key of ['x', 'y', 'z']) small.take(key);
    expect(small.size).toBe(2);
    const limit = new ConcurrencyLimit(1);
    const release = limit.tryAcquire()!;
    expect(limit.tryAcquire()).toBeUndefined();
    release();
    release();
    expect(limit.inUse).toBe(0);
  });
});
