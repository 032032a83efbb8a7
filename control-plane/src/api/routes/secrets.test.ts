import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestControlPlane, type TestControlPlane } from '../../../test/support.ts';
import { decryptSecret, kekFromConfig } from '../../crypto/envelope.ts';
import { recordObservedStatus } from '../../dataplane/status.ts';

let cp: TestControlPlane;
beforeAll(async () => {
  cp = await startTestControlPlane();
});
afterAll(() => cp?.close());

async function sealedRow(id: string) {
  const { rows } = await cp.deps.db.query(
    'SELECT org_id, version, kek_id, wrapped_key, ciphertext FROM secrets WHERE id = $1',
    [id],
  );
  return rows[0];
}

const open = (row: Awaited<ReturnType<typeof sealedRow>>, id: string) =>
  decryptSecret(
    { kekId: row.kek_id, wrappedKey: row.wrapped_key, ciphertext: row.ciphertext },
    { orgId: row.org_id, secretId: id, version: row.version },
    kekFromConfig(cp.deps.config),
  );

/** Every row of every table, as text (bytea shows as hex): where a leaked value would be found. */
async function databaseContains(needle: string): Promise<string[]> {
  const { rows: tables } = await cp.deps.db.query<{ name: string }>(
    `SELECT quote_ident(table_name) AS name FROM information_schema.tables
      WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
  );
  const hex = Buffer.from(needle).toString('hex');
  const found: string[] = [];
  for (const { name } of tables) {
    const { rows } = await cp.deps.db.query(
      `SELECT count(*)::int AS n FROM ${name} t WHERE strpos(t::text, $1) > 0 OR strpos(t::text, $2) > 0`,
      [needle, hex],
    );
    if (rows[0].n > 0) found.push(name);
  }
  return found;
}

describe('secrets', () => {
  it('stores envelope-encrypted values and answers with metadata only', async () => {
    const owner = await cp.newOrg('vault');
    const value = `pg-password-${randomUUID()}`;
    const created = await owner.client.post(`/v1/orgs/${owner.orgId}/secrets`, {
      name: 'warehouse-db',
      value,
      description: 'read replica',
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.any(String),
      name: 'warehouse-db',
      description: 'read replica',
      version: 1,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    const twin = await owner.client.post(`/v1/orgs/${owner.orgId}/secrets`, { name: 'twin', value });
    expect(twin.status).toBe(201);

    const list = await owner.client.get(`/v1/orgs/${owner.orgId}/secrets`);
    const one = await owner.client.get(`/v1/orgs/${owner.orgId}/secrets/${created.body.id}`);
    expect(list.body.data.map((s: { name: string }) => s.name)).toEqual(['twin', 'warehouse-db']);
    expect(one.body).toEqual(created.body);
    for (const response of [created, twin, list, one]) {
      expect(JSON.stringify(response.body)).not.toContain(value);
      expect(JSON.stringify(response.body)).not.toMatch(/ciphertext|wrapped/i);
    }

    // no table holds the plaintext, in text or in bytes, audit log included
    expect(await databaseContains(value)).toEqual([]);
    const a = await sealedRow(created.body.id);
    const b = await sealedRow(twin.body.id);
    expect(a.kek_id).toBe(cp.deps.config.SECRETS_KEK_ID);
    expect(a.ciphertext.equals(b.ciphertext)).toBe(false);
    expect(a.wrapped_key.equals(b.wrapped_key)).toBe(false);
    // the data plane's path opens both; each envelope only under its own row's id
    expect(open(a, created.body.id)).toBe(value);
    expect(open(b, twin.body.id)).toBe(value);
    expect(() => open(a, twin.body.id)).toThrow(/PW_SECRET_UNREADABLE/);
  });

  it('rotates a value under a new data key and audits every change without the value', async () => {
    const owner = await cp.newOrg('rotator');
    const first = `first-${randomUUID()}`;
    const second = `second-${randomUUID()}`;
    const created = await owner.client.post(`/v1/orgs/${owner.orgId}/secrets`, {
      name: 'api-token',
      value: first,
    });
    const before = await sealedRow(created.body.id);
    const rotated = await owner.client.put(`/v1/orgs/${owner.orgId}/secrets/${created.body.id}/value`, {
      value: second,
    });
    expect(rotated.status).toBe(200);
    expect(rotated.body).toMatchObject({ id: created.body.id, name: 'api-token', version: 2 });
    expect(JSON.stringify(rotated.body)).not.toContain(second);
    const after = await sealedRow(created.body.id);
    expect(after.wrapped_key.equals(before.wrapped_key)).toBe(false);
    expect(after.ciphertext.equals(before.ciphertext)).toBe(false);
    expect(open(after, created.body.id)).toBe(second);
    // the old envelope does not pass for the new version
    expect(() => open({ ...before, version: 2 }, created.body.id)).toThrow(/PW_SECRET_UNREADABLE/);

    expect((await owner.client.delete(`/v1/orgs/${owner.orgId}/secrets/${created.body.id}`)).status).toBe(
      204,
    );
    expect((await owner.client.get(`/v1/orgs/${owner.orgId}/secrets/${created.body.id}`)).status).toBe(404);
    const audit = await cp.deps.db.query(
      `SELECT action, data FROM audit_log WHERE target_id = $1 ORDER BY id`,
      [created.body.id],
    );
    expect(audit.rows).toEqual([
      { action: 'secret.created', data: { name: 'api-token', version: 1 } },
      { action: 'secret.rotated', data: { name: 'api-token', version: 2 } },
      { action: 'secret.deleted', data: { name: 'api-token', version: 2 } },
    ]);
    expect(await databaseContains(first)).toEqual([]);
    expect(await databaseContains(second)).toEqual([]);
  });

  it('refuses to delete a secret a live resource names, until the resource is deleted', async () => {
    const owner = await cp.newOrg('refs');
    const base = `/v1/orgs/${owner.orgId}`;
    const secret = await owner.client.post(`${base}/secrets`, { name: 'pg-creds', value: 'hunter2' });
    const created = await owner.client.post(`${base}/resources`, {
      kind: 'database',
      name: 'orders',
      spec: { engine: 'postgres', version: '16', storageGb: 10, secretRef: 'pg-creds' },
    });
    expect(created.status).toBe(202);
    const refused = await owner.client.delete(`${base}/secrets/${secret.body.id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.details.resources).toEqual([{ id: created.body.resource.id, name: 'orders' }]);

    // still referenced while the data plane removes the resource
    const deletion = await owner.client.delete(`${base}/resources/${created.body.resource.id}`);
    expect((await owner.client.delete(`${base}/secrets/${secret.body.id}`)).status).toBe(409);
    await recordObservedStatus(cp.deps.db, {
      resourceId: created.body.resource.id,
      observedGeneration: 1,
      status: {},
      deleted: true,
    });
    expect(await cp.deps.flows.waitForCompletion(deletion.body.flowId, 10_000)).toMatchObject({
      state: 'succeeded',
    });
    expect((await owner.client.delete(`${base}/secrets/${secret.body.id}`)).status).toBe(204);
  });

  it('enforces roles, tenancy and limits with clear 4xx answers that never echo the value', async () => {
    const owner = await cp.newOrg('limits');
    const other = await cp.newOrg('others');
    const base = `/v1/orgs/${owner.orgId}/secrets`;
    const member = await cp.newUser('member');
    await member.client.get('/v1/orgs');
    await cp.deps.db.query(
      `INSERT INTO memberships (org_id, user_id, role) SELECT $1, id, 'member' FROM users WHERE subject = $2`,
      [owner.orgId, member.sub],
    );
    const created = await owner.client.post(base, { name: 'exact-limit', value: 'x'.repeat(64 * 1024) });
    expect(created.status).toBe(201);

    const tooBig = 'é'.repeat(32 * 1024 + 1); // 65 538 bytes in UTF-8, fewer characters than the limit
    const big = await owner.client.post(base, { name: 'big', value: tooBig });
    expect(big.status).toBe(400);
    expect(big.body.error.message).toMatch(/at most 64 KiB.*at value/);
    expect(big.body.error.details.issues).toEqual([
      { in: 'body', path: 'value', message: 'must be at most 64 KiB in UTF-8' },
    ]);
    expect(JSON.stringify(big.body)).not.toContain('éé');
    const rotateBig = await owner.client.put(`${base}/${created.body.id}/value`, { value: tooBig });
    expect(rotateBig.status).toBe(400);

    expect((await owner.client.post(base, { name: 'exact-limit', value: 'again' })).status).toBe(409);
    expect((await owner.client.post(base, { name: 'Bad Name', value: 'v' })).status).toBe(400);
    expect((await owner.client.post(base, { name: 'empty', value: '' })).status).toBe(400);
    expect((await owner.client.post(base, { name: 'n', value: 1234 })).status).toBe(400);
    expect((await owner.client.post(base, { name: 'n', value: 'v', kekId: 'mine' })).status).toBe(400);
    expect(
      (await owner.client.put(`${base}/${created.body.id}/value`, { value: 'v', version: 9 })).status,
    ).toBe(400);
    expect((await owner.client.get(`${base}/not-a-uuid`)).status).toBe(400);
    expect((await owner.client.get(`${base}?limit=0`)).status).toBe(400);
    expect((await owner.client.get(`${base}/${randomUUID()}`)).status).toBe(404);

    // a member reads metadata but changes nothing
    expect((await member.client.get(base)).status).toBe(200);
    expect((await member.client.post(base, { name: 'mine', value: 'v' })).status).toBe(403);
    expect((await member.client.put(`${base}/${created.body.id}/value`, { value: 'v' })).status).toBe(403);
    expect((await member.client.delete(`${base}/${created.body.id}`)).status).toBe(403);

    // another tenant sees nothing, whether through its own organization or ours
    const foreign = `/v1/orgs/${other.orgId}/secrets/${created.body.id}`;
    expect((await other.client.get(foreign)).status).toBe(404);
    expect((await other.client.put(`${foreign}/value`, { value: 'v' })).status).toBe(404);
    expect((await other.client.delete(foreign)).status).toBe(404);
    expect((await other.client.get(`${base}/${created.body.id}`)).status).toBe(404);
    expect((await other.client.post(base, { name: 'intruder', value: 'v' })).status).toBe(404);
  });

  it('pages through secrets by name', async () => {
    const owner = await cp.newOrg('pages');
    const base = `/v1/orgs/${owner.orgId}/secrets`;
    for (const name of ['c', 'a', 'b']) await owner.client.post(base, { name, value: name });
    const first = await owner.client.get(`${base}?limit=2`);
    expect(first.body.data.map((s: { name: string }) => s.name)).toEqual(['a', 'b']);
    const second = await owner.client.get(`${base}?limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body).toMatchObject({ data: [{ name: 'c' }], nextCursor: null });
  });
});
