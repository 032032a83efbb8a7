// The agent's local data plane: what it runs, by resource id, and the point of the cell's history
// it reflects. It is in memory, outlives its agent (a crashed agent restarts onto it) and keeps
// answering while the control plane is away — that is the point of a data plane.
import { inspect } from 'node:util';
import type { DesiredResource } from './verify.ts';

/** A secret held for a resource. Its value is readable, but never printed or serialized. */
export class HeldSecret {
  readonly name: string;
  readonly version: number;
  readonly #value: string;

  constructor(name: string, version: number, value: string) {
    this.name = name;
    this.version = version;
    this.#value = value;
  }

  get value(): string {
    return this.#value;
  }

  toJSON() {
    return { name: this.name, version: this.version, value: '[redacted]' };
  }

  [inspect.custom]() {
    return `HeldSecret(${this.name} v${this.version})`;
  }
}

export interface LocalResource {
  resourceId: string;
  /** The generation last applied (a failed apply leaves the one before). */
  generation: number;
  /** The desired state last applied. */
  desired: DesiredResource;
  /** What actually runs: `desired.spec` as applied, unless someone changed it by hand (drift). */
  spec: Record<string, unknown>;
  secrets?: Record<string, HeldSecret>;
  appliedAt: number;
}

export class LocalDataPlane {
  /** The last sequence applied from the cell's history (the agent's cursor). */
  sequence = 0;
  /** The history followed: the epoch of the snapshot hydrated from (undefined: never hydrated). */
  epoch: string | null | undefined;
  /** The ETag of what is held, for `If-None-Match`. */
  etag: string | undefined;
  private readonly resources = new Map<string, LocalResource>();

  get(resourceId: string): LocalResource | undefined {
    return this.resources.get(resourceId);
  }

  ids(): string[] {
    return [...this.resources.keys()];
  }

  get size(): number {
    return this.resources.size;
  }

  /** Runs `desired` (its spec copied, so drift never touches what was desired). */
  put(resourceId: string, desired: DesiredResource, secrets?: Record<string, HeldSecret>): LocalResource {
    const resource: LocalResource = {
      resourceId,
      generation: desired.generation,
      desired,
      spec: structuredClone(desired.spec),
      appliedAt: Date.now(),
    };
    if (secrets) resource.secrets = secrets;
    this.resources.set(resourceId, resource);
    return resource;
  }

  remove(resourceId: string): boolean {
    return this.resources.delete(resourceId);
  }

  /** A change made by hand on the data plane: the running spec moves, the generation does not. */
  drift(resourceId: string, patch: Record<string, unknown>): LocalResource | undefined {
    const resource = this.resources.get(resourceId);
    if (resource) resource.spec = { ...resource.spec, ...patch };
    return resource;
  }
}
