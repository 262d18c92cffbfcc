/**
 * Finished orchestrations are purged once the store has forgotten their tickets (TICKET_RETENTION_SECONDS):
 * without this every matched player left ~4 KB of Durable history behind forever (issue 9). A ticket older
 * than the retention reads 404 ticket_not_found either way, so nothing a client can see changes.
 */
import type { InstanceHistory, Ports } from "./ports";

export async function purgeFinishedInstances(p: Pick<Ports, "settings" | "clock" | "log"> & { instanceHistory: InstanceHistory }): Promise<number> {
  const createdBefore = new Date(p.clock() - p.settings.ticketRetentionSeconds * 1000);
  const purged = await p.instanceHistory.purgeFinished(createdBefore);
  if (purged > 0) p.log.log(`purgeInstances: ${purged} finished instance(s) created before ${createdBefore.toISOString()} purged`);
  return purged;
}
