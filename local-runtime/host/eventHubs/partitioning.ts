/** Which partition an event lands on: by partition key (stable hash), else round-robin per hub, as Event Hubs does. */

/** FNV-1a: a stable hash so a partition key always maps to the same partition. */
export function partitionForKey(key: string, partitions: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % partitions;
}

export class PartitionChooser {
  private readonly next = new Map<string, number>();

  constructor(readonly partitions: number) {}

  choose(hub: string, partitionKey: string | undefined): number {
    if (partitionKey) return partitionForKey(partitionKey, this.partitions);
    const p = (this.next.get(hub) ?? 0) % this.partitions;
    this.next.set(hub, p + 1);
    return p;
  }
}
