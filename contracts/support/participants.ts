// Who the contracts are between, where their pact files live, and the provider states both sides
// name. The consumer writes a state into the pact; the provider verification must have a handler
// for every state the committed pact names (it checks that before verifying).
import { fileURLToPath } from 'node:url';

// Pact's native core reports anonymous usage over the network unless told not to; a test run has
// no business calling out (set here, as every contract test imports this module first)
process.env.PACT_DO_NOT_TRACK ??= 'true';

export const consumer = 'planewright-fleet-agent';
/** The agent gateway's HTTP API (`/v1/agent/…`). */
export const gatewayProvider = 'planewright-agent-gateway';
/** The signed events the gateway serves, as messages: the outbox, read and signed by the control plane. */
export const eventsProvider = 'planewright-agent-events';

/** The committed pacts: what the provider verifies, and what the consumer tests must reproduce. */
export const pactsDir = fileURLToPath(new URL('../pacts/', import.meta.url));
export const pactFileName = (provider: string) => `${consumer}-${provider}.json`;

export const states = {
  /** params `{cell}` → `{bootstrapToken}` */
  bootstrapTokenMinted: 'an operator minted a bootstrap token for a cell',
  /** params `{cell, name}` → `{agentToken, agentId}` */
  agentRegistered: 'an agent is registered in a cell',
  /** params `{cell, name, kind, spec}` → `{agentToken, agentId, resourceId, generation, afterSequence, etag}`:
   * `afterSequence` is the cell's sequence just before the resource's event */
  agentWithResource: 'an agent is registered in a cell that holds a resource',
  /** params `{cell, name, encryptionKey, resource: {kind, spec, traceparent}, secretName}` →
   * `{agentToken, agentId, resourceId, afterSequence}`: the resource's spec names a secret of its org */
  agentWithSecret:
    'an agent with an encryption key is registered in a cell that holds a resource using a secret',
  /** params `{cell, name, aheadBy}` → `{agentToken, agentId, afterSequence}`: a cursor past the cell's latest sequence */
  agentCursorAhead: "an agent's cursor is ahead of its cell's latest sequence",
  /** params `{cell, name}` → `{agentToken, agentId}`: its token bucket is empty */
  agentRateLimited: 'an agent has spent its request budget',
  /** params `{kid, publicKeyPem}`: the control plane signs events with this key */
  signingKey: 'the control plane signs events with the contract test key',
  /** params: the event's every signed field but `type`, `sequence` and `generation` (see event-fixtures.ts) */
  resourceCreated: 'a resource was created in a cell',
  /** the same params: the resource was created, then finalized as deleted */
  resourceDeleted: 'a resource was created in a cell, then deleted',
  /** the same params: the resource was created, then re-sent at the same generation (`resource.resync`) */
  resourceResynced: 'a resource was created in a cell, then re-sent',
} as const;
