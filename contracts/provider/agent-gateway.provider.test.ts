// Verifies the committed HTTP pact (contracts/pacts/) against the real control plane: in this
// process, on a database cloned from the migrated template, over real HTTP. Provider states create
// real rows (provider-states.ts); the consumer's credentials, cursors and ETags reach the requests
// through provider-state injection, so no requestFilter rewrites anything.
import path from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startTestControlPlane, type TestControlPlane } from '../../control-plane/test/support.ts';
import { gatewayProvider, pactFileName, pactsDir } from '../support/participants.ts';
import { assertStatesHandled, providerStates } from './provider-states.ts';
import { verificationEnv } from './verification-env.ts';
import { verifyPact } from './verify-pact.ts';

let cp: TestControlPlane;
beforeAll(async () => {
  cp = await startTestControlPlane(verificationEnv);
});
afterAll(() => cp?.close());

describe('the agent gateway as a provider', () => {
  it('honours every interaction of the fleet agent’s committed pact', async () => {
    const pactFile = path.join(pactsDir, pactFileName(gatewayProvider));
    const { stateHandlers } = providerStates(cp);
    assertStatesHandled(pactFile, stateHandlers);
    await verifyPact(pactFile, {
      provider: gatewayProvider,
      providerBaseUrl: cp.url,
      stateHandlers,
    });
  }, 120_000);
});
