// The agent's local data plane: what it runs, by resource id. It is in memory and keeps answering
// while the control plane is away — that is the point of a data plane.
import type { DesiredResource } from './verify.ts';

export interface LocalResource {
  resourceId: string;
  generation: number;
  desired: DesiredResource;
  appliedAt: number;
}

export class LocalDataPlane {
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

  put(resourceId: string, desired: DesiredResource): LocalResource {
    const resource = { resourceId, generation: desired.generation, desired, appliedAt: Date.now() };
    this.resources.set(resourceId, resource);
    return resource;
  }

  remove(resourceId: string): boolean {
    return this.resources.delete(resourceId);
  }
}
