/**
 * The global rules of game servers, checked by reading Redis directly (across the region slots and the
 * server index slot): one record per serverId in all regions together, one live record per address, and
 * the index naming exactly the records that exist. Returns the violations (empty = consistent).
 */
import type { RedisConnection } from "../../src/store";
import { KEY, regionKey, SERVER_INDEX, serverIndexKey } from "../../src/store/keys";

interface Entry {
  region: string;
  token: number;
  address: string;
  leaseExpiresAt: number;
  retire?: { serverId: string; region: string; token: number; address: string }[] | Record<string, never>;
}

interface RegionRecord {
  address: string;
  state: string;
  token?: number;
  sessionId?: string;
  leaseExpiresAt: number;
}

async function hash(redis: RedisConnection, key: string): Promise<Record<string, string>> {
  const flat = await redis.command<string[]>(key, ["HGETALL", key], true);
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
}

export interface ServerIndexSnapshot {
  where: Map<string, Entry>;
  address: Record<string, string>;
  records: Map<string, { region: string; rec: RegionRecord }[]>;
}

export async function serverIndexSnapshot(redis: RedisConnection, prefix: string, regions: readonly string[]): Promise<ServerIndexSnapshot> {
  const whereRaw = await hash(redis, serverIndexKey(prefix, SERVER_INDEX.Where));
  const where = new Map(Object.entries(whereRaw).map(([id, j]) => [id, JSON.parse(j) as Entry]));
  const address = await hash(redis, serverIndexKey(prefix, SERVER_INDEX.Address));
  const records = new Map<string, { region: string; rec: RegionRecord }[]>();
  for (const region of regions) {
    for (const [id, j] of Object.entries(await hash(redis, regionKey(prefix, region, KEY.Servers)))) {
      const list = records.get(id) ?? [];
      list.push({ region, rec: JSON.parse(j) as RegionRecord });
      records.set(id, list);
    }
  }
  return { where, address, records };
}

/**
 * `quiescent`: every call has completed (no crash between steps), so no retire task may be pending and every
 * index entry has its record.
 */
export async function checkServerIndex(redis: RedisConnection, prefix: string, regions: readonly string[], o: { quiescent: boolean }): Promise<string[]> {
  const bad: string[] = [];
  const { where, address, records } = await serverIndexSnapshot(redis, prefix, regions);
  const pending = new Set<string>();
  for (const [id, e] of where) {
    for (const t of Array.isArray(e.retire) ? e.retire : []) pending.add(`${t.serverId}|${t.region}|${t.token}`);
    if (o.quiescent && Array.isArray(e.retire) && e.retire.length) bad.push(`index entry ${id} still has retire tasks ${JSON.stringify(e.retire)}`);
  }
  const byAddress = new Map<string, string[]>();
  for (const [id, list] of records) {
    if (list.length > 1) bad.push(`server ${id} has records in ${list.map((x) => x.region).join(" and ")}`);
    for (const { region, rec } of list) {
      const e = where.get(id);
      const isPending = pending.has(`${id}|${region}|${rec.token}`);
      if (!isPending) {
        if (!e) bad.push(`server ${id} in ${region} has no index entry`);
        else if (e.region !== region || e.token !== rec.token) bad.push(`server ${id}: record ${region}/${rec.token}, index ${e.region}/${e.token}`);
        if (address[rec.address] !== id) bad.push(`server ${id}'s address ${rec.address} is held by ${address[rec.address]} in the index`);
      }
      const ids = byAddress.get(rec.address) ?? [];
      ids.push(isPending ? `${id}(retiring)` : id);
      byAddress.set(rec.address, ids);
    }
  }
  for (const [addr, ids] of byAddress) if (ids.filter((x) => !x.endsWith("(retiring)")).length > 1) bad.push(`address ${addr} has records ${ids.join(", ")}`);
  for (const [id, e] of where) {
    if (e.token > 0 && address[e.address] !== id) bad.push(`index entry ${id} at ${e.address}, but the address is held by ${address[e.address]}`);
    if (o.quiescent && e.token > 0 && !records.get(id)?.some((x) => x.region === e.region && x.rec.token === e.token))
      bad.push(`index entry ${id} (${e.region}/${e.token}) has no record`);
  }
  for (const [addr, id] of Object.entries(address)) {
    const e = where.get(id);
    if (!e) bad.push(`address ${addr} held by ${id}, which the index does not know`);
    else if (e.address !== addr && !(Array.isArray(e.retire) && e.retire.some((t) => t.address === addr)))
      bad.push(`address ${addr} held by ${id}, which is at ${e.address}`);
  }
  return bad;
}
