// The signed events of the message contract, each with the provider state that produces it. Every
// signed field is pinned by the state's parameters, so the control plane, given that state and the
// contract key, emits exactly this event, and Ed25519 being deterministic, exactly this signature.
// After changing a fixture, re-sign it with `node contracts/support/sign-fixtures.ts` (it signs with
// the control plane's signer and the contract key) and paste the signatures below.
import { contractKey } from './contract-key.ts';
import { states } from './participants.ts';

/** What the provider state pins: every field of the event but its type, sequence and generation. */
export interface EventStateParams {
  [key: string]: string | null | Record<string, string | number>;
  /** A cell of the contract's own, so its sequences start at 1. */
  cell: string;
  /** The name of the cell's history (`outbox_cells.epoch`). */
  epoch: string;
  orgId: string;
  resourceId: string;
  kind: string;
  name: string;
  spec: Record<string, string | number>;
  /** The W3C traceparent of the transaction that made the change; null for a change made by hand (SQL). */
  traceparent: string | null;
  /** When the change was written. */
  emittedAt: string;
}

export interface EventFixture {
  description: string;
  state: string;
  params: EventStateParams;
  /** The generation the agent already applied for the resource (the events before this one), if any. */
  heldGeneration?: number;
  message: {
    event: {
      cell: string;
      epoch: string;
      sequence: number;
      type: 'resource.created' | 'resource.deleted' | 'resource.resync';
      resourceId: string;
      orgId: string;
      generation: number;
      desired: {
        kind: string;
        name: string;
        spec: Record<string, string | number>;
        generation: number;
        phase: 'active';
        orgId: string;
        cell: string;
      } | null;
      traceparent: string | null;
      emittedAt: string;
    };
    signature: string;
    kid: string;
  };
}

const createdParams: EventStateParams = {
  cell: 'contract-cell-1',
  epoch: 'c0ffee01',
  orgId: '7a3e2c1d-0b9f-4e8d-a7c6-5b4a39281706',
  resourceId: '2f6c8e0a-4b1d-4c3e-9f5a-7d8b6e4c2a11',
  kind: 'database',
  name: 'orders',
  spec: { engine: 'postgres', version: '16', storageGb: 20 },
  traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  emittedAt: '2030-01-01T12:00:00.123Z',
};

const deletedParams: EventStateParams = {
  cell: 'contract-cell-2',
  epoch: 'c0ffee02',
  orgId: '9c8b7a6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
  resourceId: '5e7d9c1b-3a2f-4e6d-8b0c-9a1f3e5d7c20',
  kind: 'database',
  name: 'invoices',
  spec: { engine: 'postgres', version: '16', storageGb: 10 },
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  emittedAt: '2030-01-02T08:30:00.456Z',
};

// an operator's change in psql: no request, so no trace, and the event says so
const byHandParams: EventStateParams = {
  cell: 'contract-cell-3',
  epoch: 'c0ffee03',
  orgId: '3d2c1b0a-9f8e-4d7c-a6b5-4c3d2e1f0a9b',
  resourceId: '8a9b0c1d-2e3f-4a5b-9c6d-7e8f9a0b1c2d',
  kind: 'pipeline',
  name: 'nightly-export',
  spec: { source: 'postgres://orders-db.internal:5432/orders', sink: 's3://exports/orders' },
  traceparent: null,
  emittedAt: '2030-01-03T03:00:00.789Z',
};

const resyncedParams: EventStateParams = {
  cell: 'contract-cell-4',
  epoch: 'c0ffee04',
  orgId: '1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b',
  resourceId: '4c3b2a19-0807-4f6e-9d5c-4b3a29180716',
  kind: 'database',
  name: 'ledger',
  spec: { engine: 'postgres', version: '17', storageGb: 50 },
  traceparent: '00-5c0e9a4b7d3f2e1a0b9c8d7e6f5a4b3c-1a2b3c4d5e6f7a8b-01',
  emittedAt: '2030-01-04T16:45:00.012Z',
};

const desiredOf = (params: EventStateParams) => ({
  kind: params.kind,
  name: params.name,
  spec: params.spec,
  generation: 1,
  phase: 'active' as const,
  orgId: params.orgId,
  cell: params.cell,
});

const signedFields = (params: EventStateParams) => ({
  cell: params.cell,
  epoch: params.epoch,
  resourceId: params.resourceId,
  orgId: params.orgId,
  generation: 1,
  traceparent: params.traceparent,
  emittedAt: params.emittedAt,
});

export const eventFixtures: EventFixture[] = [
  {
    description: 'a signed resource.created event',
    state: states.resourceCreated,
    params: createdParams,
    message: {
      event: {
        ...signedFields(createdParams),
        sequence: 1,
        type: 'resource.created',
        desired: desiredOf(createdParams),
      },
      signature: '65i7TTeAm4c1DeCz-0RYTYq0QzfB2KtSYUFQZkATxvC0GhGvmecgm71eMS2NnK3avoDlIWnXWA3shA37N8DwBw',
      kid: contractKey.kid,
    },
  },
  {
    description: 'a signed resource.created event of a change made by hand (no traceparent)',
    state: states.resourceCreated,
    params: byHandParams,
    message: {
      event: {
        ...signedFields(byHandParams),
        sequence: 1,
        type: 'resource.created',
        desired: desiredOf(byHandParams),
      },
      signature: 'urpPmU4Ir5c_INk7J5KBza7eRf_ZY0DRnxpOJFyyKHcFFSMydRgIqtLJlKlPEiz4lVRL_vh8FlBpsK3MJfD-AQ',
      kid: contractKey.kid,
    },
  },
  {
    description: 'a signed resource.deleted event',
    state: states.resourceDeleted,
    params: deletedParams,
    heldGeneration: 1,
    message: {
      event: { ...signedFields(deletedParams), sequence: 2, type: 'resource.deleted', desired: null },
      signature: 'n-QIhxuAj_8UuvzPW0LX7pF0iQ8YFzyHkfSCwtekfpZN8LpYXTIWky3OepHSoc66uY0dNGnD0m87DkHKhDdpAg',
      kid: contractKey.kid,
    },
  },
  {
    // the same generation again (drift, a retry after an internal error, a rotated secret): the
    // agent must re-apply it, not refuse it as stale
    description: 'a signed resource.resync event',
    state: states.resourceResynced,
    params: resyncedParams,
    heldGeneration: 1,
    message: {
      event: {
        ...signedFields(resyncedParams),
        sequence: 2,
        type: 'resource.resync',
        desired: desiredOf(resyncedParams),
      },
      signature: 'M4lV5m3hrBpUQnRMLK7lzCHfvwkvIk7cGyr1wMeiMho664QUbRmEz9AX_XMHb41EjZzSPkQpqs4sZCheDBiCBQ',
      kid: contractKey.kid,
    },
  },
];
