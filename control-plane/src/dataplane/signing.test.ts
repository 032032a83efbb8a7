// Signing and verification without a database: what the fleet agent will run on every event.
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import {
  createEventSigner,
  eventSignerFromConfig,
  generateEventSigningKey,
  parseSigningKey,
  SigningKeyError,
} from './signing.ts';
import { canonicalJson, keyId, type OutboxEvent, pinPublicKeys, verifySignedEvent } from './verify.ts';

const emittedAt = '2030-01-01T12:00:00.000Z';
const now = Date.parse(emittedAt) + 1_000;
const event: OutboxEvent = {
  cell: 'cell-1',
  epoch: '5f3a9c1e',
  sequence: 42,
  type: 'resource.updated',
  resourceId: '6d1f7a56-3c1e-4b4e-9a43-3f1f1d6c2a10',
  orgId: '0b7f1d3e-8f0a-4a39-8e1c-5b2f3a1d9c77',
  generation: 3,
  desired: {
    kind: 'database',
    name: 'orders',
    spec: { engine: 'postgres', version: '16', storageGb: 20, tags: ['a', { z: 1, a: null }] },
    generation: 3,
    phase: 'active',
    orgId: '0b7f1d3e-8f0a-4a39-8e1c-5b2f3a1d9c77',
    cell: 'cell-1',
  },
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  emittedAt,
};

const signer = createEventSigner(generateEventSigningKey().privateKey);
const keys = pinPublicKeys([signer.publicKeyPem]);
const clone = <T>(value: T): T => structuredClone(value);

describe('event signatures', () => {
  it('verifies an event signed by a pinned key, whatever order its keys arrive in', () => {
    const signed = signer.signEvent(event);
    expect(signed).toEqual({ event, signature: expect.stringMatching(/^[\w-]{86}$/), kid: signer.kid });
    expect(verifySignedEvent(signed, keys, { now, maxAgeMs: 60_000 })).toEqual({ outcome: 'ok', event });
    // as JSON over the wire, and reordered as Postgres jsonb or another parser may
    const wire = JSON.parse(JSON.stringify(signed));
    wire.event = Object.fromEntries(Object.entries(wire.event).reverse());
    wire.event.desired.spec = Object.fromEntries(Object.entries(wire.event.desired.spec).reverse());
    expect(verifySignedEvent(wire, keys, { now }).outcome).toBe('ok');
  });

  it('serializes canonically: sorted keys, no whitespace, plain JSON only', () => {
    expect(canonicalJson({ b: [2, { d: 1, c: 'x' }], a: null, é: true })).toBe(
      '{"a":null,"b":[2,{"c":"x","d":1}],"é":true}',
    );
    expect(() => canonicalJson({ a: undefined })).toThrow(TypeError);
    expect(() => canonicalJson({ a: Number.NaN })).toThrow(/finite/);
  });

  it('rejects every altered field as bad_signature', () => {
    const signed = signer.signEvent(event);
    const alterations: Array<(e: any) => void> = [
      (e) => (e.cell = 'cell-2'),
      (e) => (e.epoch = '00000000'),
      (e) => delete e.epoch,
      (e) => (e.sequence = 43),
      (e) => (e.type = 'resource.deleted'),
      (e) => (e.resourceId = e.orgId),
      (e) => (e.orgId = e.resourceId),
      (e) => (e.generation = 4),
      (e) => (e.desired.spec.storageGb = 2000),
      (e) => (e.desired.phase = 'suspended'),
      (e) => (e.desired = null),
      (e) => (e.traceparent = null),
      (e) => (e.emittedAt = '2030-01-01T12:00:00.001Z'),
      (e) => (e.sequence = '42'),
      (e) => delete e.generation,
    ];
    for (const alter of alterations) {
      const forged = clone(signed);
      alter(forged.event);
      expect(verifySignedEvent(forged, keys, { now })).toMatchObject({ outcome: 'bad_signature' });
    }
    const resigned = { ...clone(signed), signature: signer.signEvent({ ...event, sequence: 1 }).signature };
    expect(verifySignedEvent(resigned, keys).outcome).toBe('bad_signature');
    expect(verifySignedEvent({ ...signed, signature: 'AAAA' }, keys).outcome).toBe('bad_signature');
  });

  it('drops fields added in transit: only signed fields reach the agent', () => {
    const signed = clone(signer.signEvent(event)) as any;
    signed.event.secret = 'smuggled';
    const result = verifySignedEvent(signed, keys, { now });
    expect(result).toEqual({ outcome: 'ok', event });
  });

  it('rejects unsigned events, and keys the agent has not pinned', () => {
    const signed = signer.signEvent(event);
    for (const unsigned of [
      null,
      'text',
      { event },
      { event, signature: '', kid: signer.kid },
      { ...signed, kid: undefined },
    ]) {
      expect(verifySignedEvent(unsigned, keys).outcome).toBe('unsigned');
    }
    const stranger = createEventSigner(generateEventSigningKey().privateKey);
    expect(verifySignedEvent(stranger.signEvent(event), keys)).toMatchObject({ outcome: 'unknown_key' });
    // a stranger claiming our kid is caught by the signature
    expect(verifySignedEvent({ ...stranger.signEvent(event), kid: signer.kid }, keys).outcome).toBe(
      'bad_signature',
    );
    // during a rotation, both keys are pinned
    const both = pinPublicKeys([signer.publicKey, stranger.publicKeyPem]);
    expect(verifySignedEvent(stranger.signEvent(event), both).outcome).toBe('ok');
  });

  it('rejects replays (sequence already applied), stale generations, old events and other cells', () => {
    const signed = signer.signEvent(event);
    expect(verifySignedEvent(signed, keys, { lastAppliedSequence: 41 }).outcome).toBe('ok');
    expect(verifySignedEvent(signed, keys, { lastAppliedSequence: 42 })).toMatchObject({
      outcome: 'replayed',
    });
    expect(verifySignedEvent(signed, keys, { lastAppliedSequence: 50 }).outcome).toBe('replayed');
    // event 42 after 41 is next; after 39, events 40 and 41 were lost: re-hydrate, do not skip
    expect(verifySignedEvent(signed, keys, { lastAppliedSequence: 41, requireNext: true }).outcome).toBe(
      'ok',
    );
    expect(verifySignedEvent(signed, keys, { lastAppliedSequence: 39, requireNext: true }).outcome).toBe(
      'gap',
    );
    expect(verifySignedEvent(signed, keys, { lastAppliedSequence: 39 }).outcome).toBe('ok');
    const generations = new Map([[event.resourceId, 3]]);
    expect(
      verifySignedEvent(signed, keys, { lastAppliedGenerationOf: (id) => generations.get(id) }).outcome,
    ).toBe('ok');
    generations.set(event.resourceId, 4);
    expect(
      verifySignedEvent(signed, keys, { lastAppliedGenerationOf: (id) => generations.get(id) }),
    ).toMatchObject({ outcome: 'stale', message: expect.stringContaining('generation 3') });
    expect(verifySignedEvent(signed, keys, { maxAgeMs: 1_000, now }).outcome).toBe('ok');
    expect(verifySignedEvent(signed, keys, { maxAgeMs: 999, now })).toMatchObject({ outcome: 'stale' });
    expect(verifySignedEvent(signed, keys, { cell: 'cell-1' }).outcome).toBe('ok');
    expect(verifySignedEvent(signed, keys, { cell: 'cell-2' }).outcome).toBe('wrong_cell');
  });

  it('refuses a validly signed event of another epoch: sequences restart after a restore, the key does not', () => {
    // the cell's history before a database restore: same key, same cell, the very next sequence
    const old = signer.signEvent({ ...event, epoch: 'a1b2c3d4' });
    const pinned = { cell: 'cell-1', epoch: event.epoch, lastAppliedSequence: 41, requireNext: true };
    expect(verifySignedEvent(signer.signEvent(event), keys, pinned).outcome).toBe('ok');
    expect(verifySignedEvent(old, keys, pinned)).toMatchObject({
      outcome: 'wrong_epoch',
      message: expect.stringContaining('a1b2c3d4'),
    });
    // claiming the current epoch breaks the signature: the epoch is signed
    const relabelled = { ...clone(old), event: { ...clone(old.event), epoch: event.epoch } };
    expect(verifySignedEvent(relabelled, keys, pinned).outcome).toBe('bad_signature');
  });

  it('signs once per distinct event: signatures are deterministic and cached', () => {
    const first = signer.signEvent(event).signature;
    expect(signer.signEvent(clone(event)).signature).toBe(first);
    const uncached = createEventSigner(parseSigningKey(generateEventSigningKey().pkcs8Pem), { cacheSize: 0 });
    expect(uncached.signEvent(event).signature).toBe(uncached.signEvent(event).signature);
  });

  it('names a key by a short hash of its public key', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    expect(keyId(publicKey)).toMatch(/^[\w-]{16}$/);
    expect(keyId(privateKey)).toBe(keyId(publicKey));
    expect(createEventSigner(privateKey).kid).toBe(keyId(publicKey));
  });

  it('keeps the verifier free of control-plane imports, for the fleet agent', () => {
    const source = readFileSync(new URL('./verify.ts', import.meta.url), 'utf8');
    const imports = [...source.matchAll(/^import .* from '([^']+)';$/gm)].map((match) => match[1]);
    expect(imports).toEqual(['node:crypto']);
  });
});

describe('EVENT_SIGNING_KEY', () => {
  const base = {
    DATABASE_URL: 'postgres://localhost/x',
    AUTH_JWKS_URL: 'http://127.0.0.1:9/jwks',
    AUTH_ISSUER: 'http://127.0.0.1:9/',
    AUTH_AUDIENCE: 'planewright',
    SECRETS_KEK: Buffer.alloc(32).toString('base64'),
  };
  const { pkcs8Pem, privateKey } = generateEventSigningKey();

  it('accepts PKCS8 PEM and base64 DER, and signs with that key', () => {
    const der = privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64');
    for (const value of [pkcs8Pem, der]) {
      const config = loadConfig({ ...base, EVENT_SIGNING_KEY: value });
      expect(eventSignerFromConfig(config).kid).toBe(keyId(privateKey));
    }
  });

  it('is required unless TEST_MODE, which generates a key', () => {
    expect(() => loadConfig(base)).toThrow(/EVENT_SIGNING_KEY: is required unless TEST_MODE=true/);
    // reported along with the other bad values
    expect(() => loadConfig({ ...base, PORT: 'eighty' })).toThrow(
      /PORT:[\s\S]*EVENT_SIGNING_KEY: is required/,
    );
    const generated = eventSignerFromConfig(loadConfig({ ...base, TEST_MODE: 'true' }));
    expect(generated.generated).toBe(true);
    expect(() => eventSignerFromConfig({ TEST_MODE: false, EVENT_SIGNING_KEY: undefined })).toThrow(
      SigningKeyError,
    );
  });

  it('refuses other key types and garbage without quoting the value', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    });
    const garbage = 'not-a-key-but-a-secret-value';
    let message = '';
    try {
      loadConfig({ ...base, EVENT_SIGNING_KEY: garbage });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(
      /EVENT_SIGNING_KEY: PW_EVENT_SIGNING_KEY_INVALID: it is not a readable private key/,
    );
    expect(message).not.toContain(garbage);
    expect(message).not.toMatch(/EVENT_SIGNING_KEY: is required/);
    expect(() => parseSigningKey(rsa.toString())).toThrow(/it is a rsa key/);
  });
});
