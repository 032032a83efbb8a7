// Customer secrets on their way to the data plane, over real HTTP: sealed to the asking agent's
// X25519 key inside its cell's events and snapshot, opened only with that key, refused when moved
// or altered; never sent to an agent without a key; re-sent, at the new version, when rotated.
import {
  createDecipheriv,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  type KeyObject,
  verify,
} from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiClient, startTestControlPlane, type TestControlPlane } from '../../test/support.ts';
import { databaseSpec } from '../../test/walk.ts';
import { type AgentSealedSecret, sealedSecretAad, sealedSecretSigningInput } from './seal.ts';

let cp: TestControlPlane;
let owner: { client: ApiClient; orgId: string };

beforeAll(async () => {
  cp = await startTestControlPlane({ AGENT_RATE_LIMIT_BURST: '1000', AGENT_RATE_LIMIT_PER_SEC: '1000' });
  owner = await cp.newOrg('sealed');
});
afterAll(() => cp?.close());

/** What an agent does with a sealed secret (written from docs/dataplane.md, not from seal.ts). */
function open(sealed: AgentSealedSecret, privateKey: KeyObject, eventKey: KeyObject): string {
  if (!verify(null, sealedSecretSigningInput(sealed), eventKey, Buffer.from(sealed.signature, 'base64url')))
    throw new Error('bad signature');
  const epk = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: sealed.epk }, format: 'jwk' });
  const shared = diffieHellman({ privateKey, publicKey: epk });
  const key = Buffer.from(hkdfSync('sha256', shared, Buffer.alloc(0), 'planewright-secret-v1', 32));
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64url'));
  decipher.setAAD(sealedSecretAad(sealed));
  decipher.setAuthTag(Buffer.from(sealed.tag, 'base64url'));
  return Buffer.concat([
    decipher.update(Buffer.from(sealed.ciphertext, 'base64url')),
    decipher.final(),
  ]).toString('utf8');
}

function keyPair() {
  const { publicKey, privateKey } = generateKeyPairSync('x25519');
  const x = publicKey.export({ format: 'jwk' }).x as string;
  return { privateKey, jwk: { kty: 'OKP' as const, crv: 'X25519' as const, x } };
}

describe('sealed secrets', () => {
  it('reach only the agents of the resource cell, each sealed to its own key, and follow a rotation', async () => {
    const secret = await owner.client.post(`/v1/orgs/${owner.orgId}/secrets`, {
      name: 'db-password',
      value: 's3cr3t-value-1',
    });
    expect(secret.status).toBe(201);
    const created = await owner.client.post(`/v1/orgs/${owner.orgId}/resources`, {
      kind: 'database',
      name: 'with-secret',
      spec: { ...databaseSpec, secretRef: 'db-password' },
      cell: 'cell-1',
    });
    expect(created.status).toBe(202);
    const resourceId = created.body.resource.id as string;
    const eventKey = createPublicKey(cp.eventSigner.publicKeyPem);

    const keysA = keyPair();
    const keysB = keyPair();
    const agentA = await cp.newAgent('cell-1', 'a', { encryptionKey: keysA.jwk });
    const agentB = await cp.newAgent('cell-1', 'b', { encryptionKey: keysB.jwk });
    const keyless = await cp.newAgent('cell-1', 'keyless');
    const otherCell = await cp.newAgent('cell-2', 'other', { encryptionKey: keyPair().jwk });

    const eventsA = await agentA.client.get('/v1/agent/events?after=0');
    const mine = eventsA.body.events.find(
      (signed: { event: { resourceId: string } }) => signed.event.resourceId === resourceId,
    );
    expect(mine.secrets).toHaveLength(1);
    const sealedA = mine.secrets[0] as AgentSealedSecret;
    expect(sealedA).toMatchObject({ name: 'db-password', version: 1, resourceId, agentId: agentA.agentId });
    expect(open(sealedA, keysA.privateKey, eventKey)).toBe('s3cr3t-value-1');
    // the value never travels in the clear
    expect(JSON.stringify(eventsA.body)).not.toContain('s3cr3t-value-1');
    // B cannot open A's copy; its own opens with its key
    expect(() => open(sealedA, keysB.privateKey, eventKey)).toThrow();
    const snapshotB = await agentB.client.get('/v1/agent/snapshot');
    const entryB = snapshotB.body.resources.find(
      (entry: { resourceId: string }) => entry.resourceId === resourceId,
    );
    expect(open(entryB.secrets[0], keysB.privateKey, eventKey)).toBe('s3cr3t-value-1');

    // moved to another resource or agent, or altered: it no longer opens
    expect(() => open({ ...sealedA, agentId: agentB.agentId }, keysA.privateKey, eventKey)).toThrow();
    expect(() => open({ ...sealedA, resourceId: agentB.agentId }, keysA.privateKey, eventKey)).toThrow();
    const flipped = Buffer.from(sealedA.ciphertext, 'base64url');
    flipped[0]! ^= 1;
    expect(() =>
      open({ ...sealedA, ciphertext: flipped.toString('base64url') }, keysA.privateKey, eventKey),
    ).toThrow(/signature/);

    // an agent without a key gets the resource but no secret; another cell's agent, neither
    const keylessEvents = await keyless.client.get('/v1/agent/events?after=0');
    const keylessEntry = keylessEvents.body.events.find(
      (signed: { event: { resourceId: string } }) => signed.event.resourceId === resourceId,
    );
    expect(keylessEntry).toBeDefined();
    expect(keylessEntry.secrets).toBeUndefined();
    const otherEvents = await otherCell.client.get('/v1/agent/events?after=0');
    expect(JSON.stringify(otherEvents.body)).not.toContain(resourceId);

    // rotating the secret re-sends the resource, sealed at the new version
    const after = eventsA.body.currentSequence as number;
    const rotated = await owner.client.put(`/v1/orgs/${owner.orgId}/secrets/${secret.body.id}/value`, {
      value: 's3cr3t-value-2',
    });
    expect(rotated.status).toBe(200);
    const next = await agentA.client.get(`/v1/agent/events?after=${after}`);
    expect(next.body.events).toHaveLength(1);
    expect(next.body.events[0].event).toMatchObject({ type: 'resource.resync', resourceId, generation: 1 });
    const resealed = next.body.events[0].secrets[0] as AgentSealedSecret;
    expect(resealed.version).toBe(2);
    expect(open(resealed, keysA.privateKey, eventKey)).toBe('s3cr3t-value-2');
  });

  it('refuses an encryption key that is not an X25519 public key', async () => {
    const minted = await cp.admin.post('/v1/admin/cells/cell-1/bootstrap-tokens', {});
    const ed = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x as string;
    const bad = await cp.anonymous.post('/v1/agent/register', {
      bootstrapToken: minted.body.token,
      name: 'bad-key',
      encryptionKey: { kty: 'OKP', crv: 'X25519', x: 'too-short' },
    });
    expect(bad.status).toBe(400);
    // the token is still unused after a refused registration
    const good = await cp.anonymous.post('/v1/agent/register', {
      bootstrapToken: minted.body.token,
      name: 'good-key',
      encryptionKey: { kty: 'OKP', crv: 'X25519', x: ed },
    });
    // any 32 bytes are an X25519 public key: accepted
    expect(good.status).toBe(201);
  });
});
