import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import pg from 'pg';

export const migrationsDir = fileURLToPath(new URL('./migrations', import.meta.url));

/** Applies every pending SQL migration in `migrations/` to the database at `databaseUrl`. */
export async function migrate(databaseUrl: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const applied = await runner({
      dbClient: client,
      dir: migrationsDir,
      direction: 'up',
      migrationsTable: 'pgmigrations',
      singleTransaction: true,
      // several processes may start together on one database: the second waits for the first
      advisoryLockMode: 'wait',
      log: () => {},
    });
    return applied.map((migration) => migration.name);
  } finally {
    await client.end();
  }
}
