// How the control plane under verification is configured: the test defaults (control-plane/test/
// support.ts) and only these changes, each needed by a provider state.
import { contractKey } from '../support/contract-key.ts';

export const verificationEnv = {
  // the message contract pins signatures made with this key (see agent-events.consumer.test.ts)
  EVENT_SIGNING_KEY: contractKey.privateKeyBase64,
  // every state registers a fresh agent with a full bucket (AGENT_RATE_LIMIT_BURST, 20 requests);
  // a near-zero refill keeps an emptied bucket empty however slow the machine, so the rate-limit
  // state is real (the agent spends its budget through the gateway) and still deterministic
  AGENT_RATE_LIMIT_PER_SEC: '0.01',
  // the reconciler's timer would re-send (resync) resources between a state's setup and the
  // request, moving ETags and cursors under the interaction; the contract does not cover it
  RECONCILE_INTERVAL_MS: '0',
};
