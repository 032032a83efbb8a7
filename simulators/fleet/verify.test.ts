// The agent's verifier against bytes written out by hand from docs/dataplane.md, so it is checked
// against the documented canonical form rather than against itself.
import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FleetAgent } from './agent.ts';
import { pinKeys, verifyEvent } from './verify.ts';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
const [kid] = [...pinKeys([pem]).keys()];

const event = {
  cell: 'cell-1',
  epoch: '5f3a9c1e',
  sequence: 3,
  type: 'resource.updated',
  resourceId: '6d1f7a56-3c1e-4b4e-9a43-3f1f1d6c2a10',
  orgId: '0b7f1d3e-8f0a-4a39-8e1c-5b2f3a1d9c77',
  generation: 2,
  // keys out of order on purpose: the wire order must not matter
  desired: {
    spec: { storageGb: 20, engine: 'postgres' },
    name: 'orders',
    kind: 'database',
    generation: 2,
    phase: 'active',
    orgId: '0b7f1d3e-8f0a-4a39-8e1c-5b2f3a1d9c77',
    cell: 'cell-1',
  },
  traceparent: null,
  emittedAt: '2030-01-01T12:00:00.123Z',
};
const documented =
  'planewright-event-v1\n{"cell":"cell-1","desired":{"cell":"cell-1","generation":2,"kind":"database","name":"orders",' +
  '"orgId":"0b7f1d3e-8f0a-4a39-8e1c-5b2f3a1d9c77","phase":"active","spec":{"engine":"postgres","storageGb":20}},' +
  '"emittedAt":"2030-01-01T12:00:00.123Z","epoch":"5f3a9c1e","generation":2,"orgId":"0b7f1d3e-8f0a-4a39-8e1c-5b2f3a1d9c77",' +
  '"resourceId":"6d1f7a56-3c1e-4b4e-9a43-3f1f1d6c2a10","sequence":3,"traceparent":null,"type":"resource.updated"}';
const signed = {
  event,
  signature: sign(null, Buffer.from(documented), privateKey).toString('base64url'),
  kid,
};
const keys = pinKeys([pem]);
const context = { cell: 'cell-1', epoch: '5f3a9c1e', lastAppliedSequence: 2, generationOf: () => undefined };

describe('verifyEvent', () => {
  it('accepts the documented canonical form and drops fields added in transit', () => {
    const verdict = verifyEvent({ ...signed, event: { ...event, extra: 'x' } }, keys, context);
    expect(verdict).toMatchObject({ ok: true });
    expect(verdict.ok && 'extra' in verdict.event).toBe(false);
  });

  it('rejects an altered, unsigned or missing-field event', () => {
    expect(verifyEvent({ ...signed, event: { ...event, generation: 3 } }, keys, context)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
    const { traceparent: _dropped, ...missing } = event;
    expect(verifyEvent({ ...signed, event: missing }, keys, context)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
    expect(verifyEvent({ ...signed, signature: '' }, keys, context)).toEqual({
      ok: false,
      reason: 'unsigned',
    });
    expect(verifyEvent('nope', keys, context)).toEqual({ ok: false, reason: 'unsigned' });
  });

  it('rejects replays, gaps and stale generations after a good signature', () => {
    expect(verifyEvent(signed, keys, { ...context, lastAppliedSequence: 3 })).toEqual({
      ok: false,
      reason: 'replayed',
    });
    expect(verifyEvent(signed, keys, { ...context, lastAppliedSequence: 1 })).toEqual({
      ok: false,
      reason: 'gap',
    });
    expect(verifyEvent(signed, keys, { ...context, generationOf: () => 5 })).toEqual({
      ok: false,
      reason: 'stale',
    });
  });

  it('refuses an event of another epoch, and an epoch relabelled after signing', () => {
    // the agent pinned the epoch of a snapshot taken after a database restore; the event is a
    // genuine one of the history before it, at exactly the next sequence
    expect(verifyEvent(signed, keys, { ...context, epoch: 'a1b2c3d4' })).toEqual({
      ok: false,
      reason: 'wrong_epoch',
    });
    expect(verifyEvent({ ...signed, event: { ...event, epoch: 'a1b2c3d4' } }, keys, context)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
    const { epoch: _dropped, ...missing } = event;
    expect(verifyEvent({ ...signed, event: missing }, keys, context)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });
});

describe('FleetAgent without a control plane', () => {
  it('backs off on an unreachable control plane and stop() ends it at once', async () => {
    // port 9 (discard) on loopback: refused at once, nothing listens there in CI
    const agent = new FleetAgent({
      url: 'http://127.0.0.1:9',
      bootstrapToken: 'pwb_x',
      strategy: 'exponential',
      backoffBaseMs: 10,
      backoffCapMs: 60_000,
    });
    agent.start();
    const deadline = Date.now() + 5_000;
    while (agent.status.errors < 3 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(agent.status).toMatchObject({ state: 'backingOff', connected: false });
    const started = Date.now();
    await agent.stop();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(agent.status.state).toBe('stopped');
    expect(agent.get('anything')).toBeUndefined();
  });
});
