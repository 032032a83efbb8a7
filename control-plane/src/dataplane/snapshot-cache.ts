// The snapshot side of storm protection (issue 5, item 7): when every agent of a cell comes back
// at once, each asks for the cell's snapshot. The cache keeps the last snapshot built per cell,
// keyed by its ETag (epoch and sequence): a request reads the cell's head (one primary-key row),
// and while it matches, no resource is read again. Concurrent requests for a cell that changed
// share one build.
import type { Queryable } from '../db/pool.ts';
import { type CellSnapshot, readCellHead, readSnapshot } from './feed.ts';

export type SnapshotSource = 'cached' | 'built' | 'shared';

export class SnapshotCache {
  private readonly latest = new Map<string, CellSnapshot>();
  private readonly building = new Map<string, Promise<CellSnapshot>>();
  private readonly db: Queryable;

  constructor(db: Queryable) {
    this.db = db;
  }

  /**
   * The cell's current snapshot. `build` is called only when the cached one is not current and no
   * build for the cell is under way (it may refuse, for example when too many are being built).
   */
  async get(
    cell: string,
    guard: <T>(build: () => Promise<T>) => Promise<T> = (build) => build(),
  ): Promise<{ snapshot: CellSnapshot; source: SnapshotSource }> {
    const head = await readCellHead(this.db, cell);
    const cached = this.latest.get(cell);
    if (cached && cached.etag === head.etag) return { snapshot: cached, source: 'cached' };
    const under = this.building.get(cell);
    if (under) {
      const snapshot = await under;
      // only a build of a state at least as new as the head read above will do
      if (snapshot.epoch === head.epoch && snapshot.sequence >= head.sequence)
        return { snapshot, source: 'shared' };
    }
    const build = guard(() => readSnapshot(this.db, cell));
    this.building.set(cell, build);
    try {
      const snapshot = await build;
      const current = this.latest.get(cell);
      // a slower, older build never replaces a newer one
      if (!current || current.epoch !== snapshot.epoch || current.sequence <= snapshot.sequence)
        this.latest.set(cell, snapshot);
      return { snapshot, source: 'built' };
    } finally {
      if (this.building.get(cell) === build) this.building.delete(cell);
    }
  }
}
