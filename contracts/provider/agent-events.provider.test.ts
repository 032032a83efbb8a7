// Verifies the committed message pact (contracts/pacts/): each message is produced from the real
// outbox of a real control plane. The provider state writes the rows (the triggers write the event),
// `readEvents` reads it and the control plane's signer signs it, with the contract key configured as
// EVENT_SIGNING_KEY, so the signature must equal the one the fleet agent verified.
import path from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startTestControlPlane, type TestControlPlane } from '../../control-plane/test/support.ts';
import { eventsProvider, pactFileName, pactsDir } from '../support/participants.ts';
import { assertStatesHandled, providerStates } from './provider-states.ts';
import { verificationEnv } from './verification-env.ts';
import { verifyPact } from './verify-pact.ts';

let cp: TestControlPlane;
beforeAll(async () => {
  cp = await startTestControlPlane(verificationEnv);
});
afterAll(() => cp?.close());

describe('the signed events as a message provider', () => {
  it('produces every message of the fleet agent’s committed pact from its outbox', async () => {
    const pactFile = path.join(pactsDir, pactFileName(eventsProvider));
    const { stateHandlers, producedEvent } = providerStates(cp);
    const descriptions = assertStatesHandled(pactFile, stateHandlers);
    // every message is "the event the provider state just produced"
    const messageProviders = Object.fromEntries(
      descriptions.map((description) => [description, producedEvent]),
    );
    await verifyPact(pactFile, {
      provider: eventsProvider,
      stateHandlers,
      messageProviders,
    });
  }, 120_000);
});
