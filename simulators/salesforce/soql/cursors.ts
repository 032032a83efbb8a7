import type { Clock } from '../clock.ts';
import { invalidQueryLocator } from '../errors.ts';
import { createIdGenerator, keyPrefixes } from '../ids.ts';

/** The body of `GET /query` and of `GET /query/{locator}`. */
export type QueryPage = {
  totalSize: number;
  done: boolean;
  records: Record<string, unknown>[];
  nextRecordsUrl?: string;
};

export type QueryCursorOptions = {
  clock: Clock;
  /** Records per page when the request sets none. Salesforce's default is 2000. */
  batchSize?: number;
  /** A cursor not read for this long is gone (Salesforce: 15 minutes). */
  idleTimeoutMs?: number;
  /** Open cursors kept at most; the least recently read is dropped first (bounds memory). */
  maxOpen?: number;
};

type Cursor = { records: Record<string, unknown>[]; lastReadMs: number };

/**
 * Query locators: a result larger than one batch is kept as a snapshot, and each page names the
 * next by `nextRecordsUrl` (`/services/data/vXX.X/query/01g…-2000`), as Salesforce's cursors do.
 */
export function createQueryCursors(options: QueryCursorOptions) {
  const { clock, idleTimeoutMs = 15 * 60_000, maxOpen = 50 } = options;
  const defaultBatchSize = options.batchSize ?? 2000;
  const cursors = new Map<string, Cursor>();
  const ids = createIdGenerator();

  function page(
    id: string,
    cursor: Cursor,
    offset: number,
    batchSize: number,
    apiVersion: string,
  ): QueryPage {
    const end = offset + batchSize;
    const records = cursor.records.slice(offset, end);
    if (end >= cursor.records.length) {
      cursors.delete(id);
      return { totalSize: cursor.records.length, done: true, records };
    }
    // re-inserting moves the cursor to the back of the eviction order
    cursors.delete(id);
    cursors.set(id, { ...cursor, lastReadMs: clock.now() });
    return {
      totalSize: cursor.records.length,
      done: false,
      records,
      nextRecordsUrl: `/services/data/v${apiVersion}/query/${id}-${end}`,
    };
  }

  return {
    /** The first page of a result; opens a cursor when more pages follow. */
    firstPage(
      records: Record<string, unknown>[],
      apiVersion: string,
      batchSize = defaultBatchSize,
    ): QueryPage {
      if (records.length <= batchSize) return { totalSize: records.length, done: true, records };
      const id = ids.next(keyPrefixes.QueryLocator);
      while (cursors.size >= maxOpen) cursors.delete(cursors.keys().next().value!);
      return page(id, { records, lastReadMs: clock.now() }, 0, batchSize, apiVersion);
    },

    /** The page a locator (`01g…-2000`, or the whole nextRecordsUrl) points at. */
    nextPage(locator: string, apiVersion: string, batchSize = defaultBatchSize): QueryPage {
      const match = /^([A-Za-z0-9]{15,18})-(\d+)$/.exec(locator.split('/').pop() ?? '');
      const cursor = match ? cursors.get(match[1]!) : undefined;
      if (!match || !cursor || clock.now() - cursor.lastReadMs > idleTimeoutMs) {
        if (match) cursors.delete(match[1]!);
        throw invalidQueryLocator();
      }
      const offset = Number(match[2]);
      if (offset > cursor.records.length) throw invalidQueryLocator();
      return page(match[1]!, cursor, offset, batchSize, apiVersion);
    },

    openCount: () => cursors.size,

    reset(): void {
      cursors.clear();
      ids.reset();
    },
  };
}

export type QueryCursors = ReturnType<typeof createQueryCursors>;
