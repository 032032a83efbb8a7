// Fault schedules applied to a real environment: a simulator rule, a toxic on the fault proxy
// between the agents and the control plane, and a fleet fault — each visible where it acts, and
// all of them in the environment's journal.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { startEnvironment } from '../env/environment.ts';
import { startPostgres } from '../env/postgres.ts';
import { applyFaultSchedule, collectJournal, loadFaultSchedule, parseFaultSchedule } from './schedule.ts';

describe('fault schedules', () => {
  it('apply to simulators, the fault proxy and the fleet, and land in the journal', async () => {
    const { adminUrl, templateDatabase } = inject('postgres');
    const server = await startPostgres({ databaseUrl: adminUrl });
    await using env = await startEnvironment({
      seed: 3,
      postgres: { server, template: templateDatabase },
      simulators: ['stripe'],
      fleet: { agentsPerCell: 1, cells: ['cell-1'], agent: { waitMs: 1_000 } },
    });
    await env.fleet!.waitFor((counters) => counters.inSync === 1, 15_000);
    const dir = mkdtempSync(join(tmpdir(), 'pw-faults-'));
    const file = join(dir, 'faults.yaml');
    writeFileSync(
      file,
      [
        'faults:',
        '  - component: stripe',
        '    rule: { match: { method: POST, path: /v1/customers }, fault: { kind: error, status: 503 }, count: 1 }',
        '  - component: proxy',
        '    toxic: { name: slow-agents, type: latency, stream: downstream, attributes: { latency: 150 } }',
        '  - component: fleet',
        '    fault: { kind: partition, durationMs: 200 }',
        '    share: 1',
      ].join('\n'),
    );
    const applied = applyFaultSchedule(env, loadFaultSchedule(file));
    await applied.ready;

    const post = () =>
      fetch(`${env.stripe!.url}/v1/customers`, {
        method: 'POST',
        headers: { authorization: 'Bearer sk_test_x', 'content-type': 'application/x-www-form-urlencoded' },
        body: 'email=a%40example.test',
      }).then((response) => response.status);
    expect(await post()).toBe(503);
    expect(await post()).toBe(200);
    const toxics = await fetch(`${env.faultProxy!.url}/proxies/control-plane/toxics`).then((r) => r.json());
    expect(toxics).toEqual([expect.objectContaining({ name: 'slow-agents', type: 'latency' })]);
    await env.fleet!.waitFor((counters) => counters.partitioned === 0 && counters.inSync === 1, 15_000);

    const journal = collectJournal(env);
    expect(journal.seed).toBe(3);
    expect(journal.simulators.stripe!.entries.filter((entry) => entry.fault)).toHaveLength(1);
    expect(JSON.stringify(journal.fleet)).toContain('partition');
    expect(journal.proxy).toBeDefined();
    applied.stop();
  });

  it('refuses a schedule that names no known component or a bad toxic, saying where', () => {
    expect(() => parseFaultSchedule({ faults: [{ component: 'mainframe' }] })).toThrow(
      /PW_FAULTS_INVALID: .*faults\.0\.component/,
    );
    expect(() => parseFaultSchedule({ faults: [{ component: 'proxy', toxic: {} }] })).toThrow(
      /faults\.0\.toxic\.type/,
    );
    expect(() => parseFaultSchedule({ faults: [], extra: 1 })).toThrow(/PW_FAULTS_INVALID/);
    const dir = mkdtempSync(join(tmpdir(), 'pw-faults-'));
    writeFileSync(join(dir, 'bad.json'), '{ not json');
    expect(() => loadFaultSchedule(join(dir, 'bad.json'))).toThrow(
      /PW_FAULTS_INVALID: .*bad\.json is not valid json/,
    );
    expect(() => loadFaultSchedule(join(dir, 'missing.yaml'))).toThrow(/PW_FAULTS_UNREADABLE/);
  });
});
