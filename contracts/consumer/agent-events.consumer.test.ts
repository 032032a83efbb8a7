// The fleet agent as a consumer of signed events (`{ event, signature, kid }`, each element of an
// events page): the message handler is what the agent runs on every event, the fleet's own
// `verifyEvent`, and it must accept the message.
//
// Why the messages are pinned by value, not by matchers: the agent verifies an Ed25519 signature
// over the canonical JSON of the event's signed fields. A signature matched "by type" would make the
// consumer verify a made-up string (it would refuse it), and an event whose fields were matched by
// type could not carry a valid signature either. So the contract holds real signed events: signed
// with a fixed test key (support/contract-key.ts) whose public key the contract names in a provider
// state, and whose every signed field the event's provider state pins. The provider verification
// runs the real control plane with that key as EVENT_SIGNING_KEY, creates the rows the state
// describes, reads the event from its real outbox and signs it with its real signer; Ed25519 is
// deterministic, so the signature must come out byte for byte as here. That pins the two
// implementations of the signed form together: the control plane's signer (provider side) and the
// fleet's verifier (here), which docs/dataplane.md says are written apart on purpose.
import { PactV4 } from '@pact-foundation/pact';
import { afterAll, describe, expect, it } from 'vitest';
import { pinKeys, verifyEvent } from '../../simulators/fleet/index.ts';
import { contractKey } from '../support/contract-key.ts';
import { type EventFixture, eventFixtures } from '../support/event-fixtures.ts';
import { checkGeneratedPact, generatedPact } from '../support/pact-files.ts';
import { consumer, eventsProvider, pactFileName, states } from '../support/participants.ts';

const generated = generatedPact();
afterAll(() => generated.remove());
const pact = new PactV4({ consumer, provider: eventsProvider, dir: generated.dir, logLevel: 'warn' });

/**
 * What the agent runs on a received event, in the context it would hold: its cell, the epoch of the
 * snapshot it hydrated from, the sequence before this one applied, and the resource's generation
 * it holds, if any. Answers the verified event; throws on any rejection.
 */
function receiveSignedEvent(message: unknown, fixture: EventFixture) {
  const { event } = fixture.message;
  const verdict = verifyEvent(message, pinKeys([contractKey.publicKeyPem]), {
    cell: fixture.params.cell,
    epoch: fixture.params.epoch,
    lastAppliedSequence: event.sequence - 1,
    generationOf: (resourceId) => (resourceId === event.resourceId ? fixture.heldGeneration : undefined),
  });
  if (!verdict.ok) throw new Error(`the agent refused ${fixture.description}: ${verdict.reason}`);
  return verdict.event;
}

describe('the fleet agent receives signed events', () => {
  for (const fixture of eventFixtures) {
    it(`verifies and accepts ${fixture.description}`, () =>
      pact
        .addAsynchronousInteraction()
        .given(states.signingKey, { kid: contractKey.kid, publicKeyPem: contractKey.publicKeyPem })
        .given(fixture.state, fixture.params)
        .expectsToReceive(fixture.description, (builder) => builder.withJSONContent(fixture.message))
        .executeTest(async (message) => {
          expect(receiveSignedEvent(message.contents.content, fixture)).toEqual(fixture.message.event);
        }));
  }

  // not part of the contract: shows the handler above verifies for real, so accepting means something
  it('refuses the same events altered, signed by a key it does not pin, or older than what it holds', () => {
    for (const fixture of eventFixtures) {
      const altered = structuredClone(fixture.message);
      altered.event.generation += 1;
      expect(() => receiveSignedEvent(altered, fixture)).toThrow(/bad_signature/);
      expect(() => receiveSignedEvent({ ...fixture.message, kid: 'AAAAAAAAAAAAAAAA' }, fixture)).toThrow(
        /unknown_key/,
      );
      // the same generation passes (a resync); an older one than the agent holds does not
      if (fixture.heldGeneration !== undefined) {
        const newer = { ...fixture, heldGeneration: fixture.heldGeneration + 1 };
        expect(() => receiveSignedEvent(fixture.message, newer)).toThrow(/stale/);
      }
    }
  });

  it('matches the committed contract (contracts/pacts/)', () => {
    checkGeneratedPact(generated, pactFileName(eventsProvider));
  });
});
