import type { TestProject } from 'vitest/node';
import { migrate } from '../../control-plane/index.ts';
import { createEmptyDatabase, type StartedPostgres, startPostgres } from '../env/postgres.ts';

export const templateDatabase = 'planewright_template';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The test run's Postgres server: embedded, or DATABASE_URL's. */
    postgres: { adminUrl: string; templateDatabase: string };
  }
}

let server: StartedPostgres | undefined;

/** One Postgres for the whole run, with a migrated template that each test file clones. */
export async function setup(project: TestProject): Promise<void> {
  try {
    server = await startPostgres();
    const url = await createEmptyDatabase(server, templateDatabase);
    await migrate(url);
    project.provide('postgres', { adminUrl: server.adminUrl, templateDatabase });
  } catch (error) {
    // vitest reports a failed global setup but still exits 0 (whatever exitCode says): a run that
    // tested nothing must fail, so say why and stop here
    console.error('the test run could not start its Postgres:', error);
    await server?.stop();
    process.exit(1);
  }
}

export async function teardown(): Promise<void> {
  await server?.stop();
}
