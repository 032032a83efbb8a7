// The provider states of both pacts, set up in a real control plane: real rows made through the
// control plane's own functions (bootstrap tokens, registration, the cell head) and, for resources,
// the same INSERT the API runs, so the outbox triggers write the events exactly as in production.
// Each handler answers the values the consumer asked to be injected (`fromProviderState`).
import { readFileSync } from 'node:fs';
import type { VerifierOptions } from '@pact-foundation/pact';
// not re-exported by control-plane/index.ts (yet): the one import past its public surface
import {
  createBootstrapToken,
  readCellHead,
  readEvents,
  registerAgent,
  type SignedEvent,
  setOutboxTraceparent,
  withTransaction,
} from '../../control-plane/index.ts';
import type { TestControlPlane } from '../../control-plane/test/support.ts';
import { states } from '../support/participants.ts';

type StateHandlers = NonNullable<VerifierOptions['stateHandlers']>;
type Params = Record<string, unknown>;
interface ResourceFields {
  cell: string;
  kind: string;
  name: string;
  spec: Record<string, unknown>;
  traceparent?: string | null;
}

const bootstrapTtlMs = 10 * 60_000;

/** Everything the verification of both pacts needs from one control plane. */
export function providerStates(cp: TestControlPlane) {
  const db = cp.deps.db;
  // the signed event the last event state produced, for the message provider to serve
  let produced: { cell: string; sequence: number } | undefined;

  const newAgent = async (params: Params) => {
    const minted = await createBootstrapToken(db, String(params.cell), bootstrapTtlMs);
    const encryptionKey = (params.encryptionKey as { x?: string } | undefined)?.x ?? null;
    const { agent, token } = await registerAgent(
      db,
      minted.token,
      String(params.name ?? 'contract-agent'),
      encryptionKey,
    );
    return { agentToken: token, agentId: agent.id };
  };

  let owner: Promise<{ orgId: string }> | undefined;
  /** A resource created as the API creates it (the same INSERT), in a transaction stamped with a traceparent. */
  const createResource = async (resource: ResourceFields, orgId: string, id?: string) => {
    const { rows } = await withTransaction(db, async (tx) => {
      await setOutboxTraceparent(tx, resource.traceparent ?? null);
      return tx.query<{ id: string }>(
        `INSERT INTO resources (id, org_id, kind, name, spec, cell_id)
         VALUES (COALESCE($1::uuid, gen_random_uuid()), $2, $3, $4, $5, $6) RETURNING id`,
        [id ?? null, orgId, resource.kind, resource.name, JSON.stringify(resource.spec), resource.cell],
      );
    });
    return rows[0]!.id;
  };

  /** The cell, its history's name and the organization a pinned event names, as the contract gives them. */
  const pinnedCell = async (params: Params) => {
    await db.query('INSERT INTO cells (id, capacity) VALUES ($1, 1000) ON CONFLICT (id) DO NOTHING', [
      params.cell,
    ]);
    // the counter row the first event would create, with the contract's epoch rather than a random one
    await db.query('INSERT INTO outbox_cells (cell_id, last_sequence, epoch) VALUES ($1, 0, $2)', [
      params.cell,
      params.epoch,
    ]);
    await db.query('INSERT INTO organizations (id, name, slug) VALUES ($1, $2, $2)', [
      params.orgId,
      `contract-${String(params.orgId).slice(0, 8)}`,
    ]);
  };

  /**
   * The event at `sequence` was written at the contract's `emittedAt`: the only signed field the
   * database takes from its clock (clock_timestamp()), which no test can set, so it is pinned after
   * the trigger wrote the event. Everything else in the event is the trigger's own output.
   */
  const pinEmittedAt = async (params: Params, sequence: number) => {
    await db.query('UPDATE outbox_events SET created_at = $3 WHERE cell_id = $1 AND sequence = $2', [
      params.cell,
      sequence,
      params.emittedAt,
    ]);
    produced = { cell: String(params.cell), sequence };
  };

  const stateHandlers: StateHandlers = {
    [states.bootstrapTokenMinted]: async (params) => {
      const minted = await createBootstrapToken(db, String((params as Params).cell), bootstrapTtlMs);
      return { bootstrapToken: minted.token };
    },

    [states.agentRegistered]: async (params) => newAgent(params as Params),

    [states.agentWithResource]: async (params) => {
      const p = params as Params & { resource: Omit<ResourceFields, 'cell' | 'name'> };
      const agent = await newAgent(p);
      // an organization made through the API, once; resource names are unique within it
      owner ??= cp.newOrg('contract');
      const name = `db-${agent.agentId.slice(0, 8)}`;
      const resourceId = await createResource(
        { ...p.resource, cell: String(p.cell), name },
        (await owner).orgId,
      );
      // the resource's event is the cell's latest: the cursor just before it reads exactly that event
      const head = await readCellHead(db, String(p.cell));
      return { ...agent, resourceId, generation: 1, afterSequence: head.sequence - 1, etag: head.etag };
    },

    [states.agentWithSecret]: async (params) => {
      const p = params as Params & { resource: Omit<ResourceFields, 'cell' | 'name'>; secretName: string };
      const agent = await newAgent(p);
      // an organization of its own, whose secret is stored through the API as a customer would
      const org = await cp.newOrg('contract-secrets');
      const stored = await org.client.post(`/v1/orgs/${org.orgId}/secrets`, {
        name: p.secretName,
        value: `contract-only-${agent.agentId}`,
      });
      if (stored.status !== 201)
        throw new Error(`PW_CONTRACT_STATE: storing a secret: ${JSON.stringify(stored.body)}`);
      const resourceId = await createResource(
        { ...p.resource, cell: String(p.cell), name: `db-${agent.agentId.slice(0, 8)}` },
        org.orgId,
      );
      const head = await readCellHead(db, String(p.cell));
      return { ...agent, resourceId, afterSequence: head.sequence - 1 };
    },

    [states.agentCursorAhead]: async (params) => {
      const p = params as Params;
      const agent = await newAgent(p);
      const head = await readCellHead(db, String(p.cell));
      return { ...agent, afterSequence: head.sequence + Number(p.aheadBy ?? 100) };
    },

    // spends the agent's token bucket for real, through the gateway, until it refuses
    [states.agentRateLimited]: async (params) => {
      const agent = await newAgent(params as Params);
      for (let attempt = 0; attempt < 1_000; attempt += 1) {
        const response = await fetch(`${cp.url}/v1/agent/heartbeat`, {
          method: 'POST',
          headers: { authorization: `Bearer ${agent.agentToken}`, 'content-type': 'application/json' },
          body: JSON.stringify({ appliedSequence: 0 }),
        });
        await response.arrayBuffer();
        if (response.status === 429) return agent;
      }
      throw new Error(
        'PW_CONTRACT_STATE: the gateway never refused the agent; is AGENT_RATE_LIMIT_BURST huge?',
      );
    },

    [states.signingKey]: async (params) => {
      const { kid, publicKeyPem } = params as Params;
      if (kid !== cp.eventSigner.kid || publicKeyPem !== cp.eventSigner.publicKeyPem) {
        throw new Error(
          `PW_CONTRACT_KEY: the control plane signs with kid ${cp.eventSigner.kid}, the contract pins ${String(kid)}; ` +
            'run the verification with EVENT_SIGNING_KEY = contractKey.privateKeyBase64',
        );
      }
    },

    [states.resourceCreated]: async (params) => {
      const p = params as Params & ResourceFields;
      await pinnedCell(p);
      await createResource(p, String(p.orgId), String(p.resourceId));
      await pinEmittedAt(p, 1);
    },

    [states.resourceDeleted]: async (params) => {
      const p = params as Params & ResourceFields;
      await pinnedCell(p);
      await createResource(p, String(p.orgId), String(p.resourceId));
      // finalized as the deprovision flow does it, in a transaction stamped like the creation
      await withTransaction(db, async (tx) => {
        await setOutboxTraceparent(tx, p.traceparent ?? null);
        await tx.query("UPDATE resources SET phase = 'deleted', deleted_at = now() WHERE id = $1", [
          p.resourceId,
        ]);
      });
      await pinEmittedAt(p, 2);
    },

    [states.resourceResynced]: async (params) => {
      const p = params as Params & ResourceFields;
      await pinnedCell(p);
      await createResource(p, String(p.orgId), String(p.resourceId));
      // re-sent as the reconciler re-sends it: outbox_resync, in a transaction stamped like the creation
      await withTransaction(db, async (tx) => {
        await setOutboxTraceparent(tx, p.traceparent ?? null);
        await tx.query('SELECT outbox_resync($1)', [p.resourceId]);
      });
      await pinEmittedAt(p, 2);
    },
  };

  /** The message provider: the event the state produced, read from the outbox and signed by the control plane. */
  const producedEvent = async (): Promise<SignedEvent> => {
    if (!produced) throw new Error('PW_CONTRACT_STATE: no event state was set up before the message');
    const page = await readEvents(db, cp.eventSigner, {
      cell: produced.cell,
      afterSequence: produced.sequence - 1,
      limit: 1,
    });
    if (page.kind !== 'events' || !page.events[0]) {
      throw new Error(
        `PW_CONTRACT_STATE: no event ${produced.sequence} in ${produced.cell}: ${JSON.stringify(page)}`,
      );
    }
    return page.events[0];
  };

  return { stateHandlers, producedEvent };
}

/**
 * Refuses to verify a pact naming a provider state without a handler: Pact itself only warns and
 * goes on, and the interaction would then fail for a reason far from its cause.
 */
export function assertStatesHandled(pactFile: string, handlers: StateHandlers): string[] {
  const pact = JSON.parse(readFileSync(pactFile, 'utf8')) as {
    interactions: { description: string; providerStates?: { name: string }[] }[];
  };
  const missing = pact.interactions.flatMap((interaction) =>
    (interaction.providerStates ?? [])
      .filter((state) => !(state.name in handlers))
      .map((state) => `"${state.name}" (${interaction.description})`),
  );
  if (missing.length > 0) {
    throw new Error(`PW_CONTRACT_STATE_UNHANDLED: no provider state handler for ${missing.join(', ')}`);
  }
  return pact.interactions.map((interaction) => interaction.description);
}
