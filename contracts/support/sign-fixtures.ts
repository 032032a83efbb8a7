// Prints the signature of each event fixture, made by the control plane's own signer with the
// contract key: `node contracts/support/sign-fixtures.ts`. Paste them into event-fixtures.ts.
// The consumer test then checks the fleet's verifier accepts them, and the provider verification
// checks the control plane still produces them from real rows.
import { createEventSigner, type OutboxEvent, parseSigningKey } from '../../control-plane/index.ts';
import { contractKey } from './contract-key.ts';
import { eventFixtures } from './event-fixtures.ts';

const signer = createEventSigner(parseSigningKey(contractKey.privateKeyBase64));
for (const fixture of eventFixtures) {
  const { signature } = signer.signEvent(fixture.message.event as OutboxEvent);
  console.log(`${fixture.description}: ${signature}`);
}
