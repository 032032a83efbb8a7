// Runs replay by seed: the same seed and the same connections give the same toxicity decisions.
import { Toxiproxy } from 'toxiproxy-node-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { faultProxyDecisions, startFaultProxy } from '../index.ts';
import { FaultProxyJournal } from './journal.ts';
import { exchange, portOf, startEchoServer, type TestServer } from './testing.ts';

let echo: TestServer;
beforeAll(async () => {
  echo = await startEchoServer();
});
afterAll(async () => {
  await echo?.close();
});

/** A fault proxy with two half-toxic toxics and `connections` connections made one after another. */
async function run(seed: number, connections: number) {
  await using faults = await startFaultProxy({ seed });
  const toxiproxy = new Toxiproxy(faults.url);
  const proxy = await toxiproxy.createProxy({
    name: 'agents',
    listen: '127.0.0.1:0',
    upstream: echo.address,
  });
  await proxy.addToxic({
    name: 'lag',
    type: 'latency',
    stream: 'downstream',
    toxicity: 0.5,
    attributes: { latency: 1, jitter: 1 },
  });
  await proxy.addToxic({
    name: 'cut',
    type: 'slicer',
    stream: 'upstream',
    toxicity: 0.3,
    attributes: { average_size: 2, size_variation: 1, delay: 0 },
  });
  for (let i = 0; i < connections; i++) {
    const received = await exchange(portOf(proxy.listen), { send: `message ${i}`, end: true });
    expect(received.data.toString()).toBe(`message ${i}`);
  }
  return { journal: faults.journal(), url: faults.url };
}

describe('seeded decisions', () => {
  test('the same seed gives the same decisions; another seed other ones', async () => {
    const first = await run(42, 12);
    const second = await run(42, 12);
    const other = await run(43, 12);
    const decisions = faultProxyDecisions(first.journal.entries);
    // two toxics, each drawn once per connection, upstream link first
    expect(decisions).toHaveLength(24);
    expect(decisions.slice(0, 2)).toMatchObject([
      { proxy: 'agents', toxic: 'cut', type: 'slicer', stream: 'upstream', connection: 1, toxicity: 0.3 },
      { proxy: 'agents', toxic: 'lag', type: 'latency', stream: 'downstream', connection: 1, toxicity: 0.5 },
    ]);
    const applied = decisions.filter((decision) => decision.decision === 'applied').length;
    expect(applied).toBeGreaterThan(0);
    expect(applied).toBeLessThan(24);
    for (const decision of decisions) {
      expect(decision.decision === 'applied').toBe(decision.draw! < decision.toxicity!);
    }
    expect(faultProxyDecisions(second.journal.entries)).toEqual(decisions);
    expect(faultProxyDecisions(other.journal.entries)).not.toEqual(decisions);
    expect(first.journal).toMatchObject({ component: 'fault-proxy', seed: 42, dropped: 0, nextSeq: 24 });
  });

  test('an update draws again; the journal is served as JSON', async () => {
    await using faults = await startFaultProxy({ seed: 5 });
    const toxiproxy = new Toxiproxy(faults.url);
    const proxy = await toxiproxy.createProxy({ name: 'p', listen: '127.0.0.1:0', upstream: echo.address });
    const toxic = await proxy.addToxic({
      name: 'lag',
      type: 'latency',
      stream: 'downstream',
      toxicity: 0.5,
      attributes: { latency: 0, jitter: 0 },
    });
    const held = exchange(portOf(proxy.listen), { send: 'x', until: (data) => data.length > 0 });
    await held;
    const before = faults.journal().nextSeq;
    const open = exchange(portOf(proxy.listen), { send: 'y' });
    while (faults.journal().nextSeq === before) await new Promise((resolve) => setTimeout(resolve, 5));
    await toxic.update({ ...toxic.toJson(), toxicity: 1 });
    const entries = faults.journal(before).entries;
    expect(entries).toMatchObject([
      { connection: 2, toxicity: 0.5 },
      { connection: 2, toxicity: 1, decision: 'applied' },
    ]);
    const served = await (await fetch(`${faults.url}/_planewright/journal?since=${before}`)).json();
    expect(served).toEqual(JSON.parse(JSON.stringify(faults.journal(before))));
    expect((await fetch(`${faults.url}/_planewright/journal?since=-1`)).status).toBe(400);
    await proxy.remove();
    await open;
  });
});

describe('the journal', () => {
  test('is bounded: the oldest entries go and are counted', () => {
    const journal = new FaultProxyJournal({ seed: 1, limit: 100 });
    const entry = {
      proxy: 'p',
      toxic: 't',
      type: 'timeout',
      stream: 'upstream',
      connection: 1,
      decision: 'applied',
    } as const;
    for (let i = 0; i < 250; i++) journal.append({ ...entry, connection: i + 1 });
    const document = journal.toJSON();
    expect(document.entries.length).toBeLessThanOrEqual(100);
    expect(document.dropped + document.entries.length).toBe(250);
    expect(document.entries.at(-1)).toMatchObject({ seq: 250, connection: 250 });
    expect(journal.toJSON(249).entries).toHaveLength(1);
  });
});
