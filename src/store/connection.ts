/**
 * One Redis connection abstraction for standalone Redis and Redis Cluster (Azure Managed Redis with the
 * OSS cluster policy), with password or Microsoft Entra ID (managed identity) authentication.
 *
 * Scripts run with EVALSHA and fall back to EVAL on NOSCRIPT. On a cluster the call is routed by its first
 * key, and the fallback goes to the same node, so each node loads a script the first time it runs it
 * there (and again after a restart or failover flushed its script cache).
 */
import { createClient, createCluster } from "redis";

export type RedisMode = "standalone" | "cluster";

export interface RedisConnectionOptions {
  /** redis:// or rediss:// URL (standalone), also accepted as the single root node of a cluster. */
  url?: string;
  mode: RedisMode;
  rootNodes?: { url: string }[];
  auth?: "password" | "entraId";
  /** Client id of a user-assigned managed identity; empty or absent = system-assigned identity. */
  entraClientId?: string;
}

export interface RedisConnection {
  readonly mode: RedisMode;
  /** EVALSHA (EVAL when the node does not know the script yet), routed by `firstKey`. */
  runScript(firstKey: string, sha: string, body: string, keys: string[], args: string[]): Promise<unknown>;
  /** Any other command, routed by `firstKey` on a cluster. */
  command<T = unknown>(firstKey: string, args: string[], readonly?: boolean): Promise<T>;
  close(): Promise<void>;
}

function isNoScript(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith("NOSCRIPT");
}

/**
 * Runs a Lua script by its SHA1 and sends the body (EVAL) only when the node answers NOSCRIPT: the script
 * travels once per node and server restart, not with every call. `send` issues one command on one node.
 */
export async function evalWithFallback<T>(send: (args: string[]) => Promise<T>, sha: string, body: string, keys: string[], args: string[]): Promise<T> {
  const tail = [String(keys.length), ...keys, ...args];
  try {
    return await send(["EVALSHA", sha, ...tail]);
  } catch (err) {
    if (!isNoScript(err)) throw err;
    return send(["EVAL", body, ...tail]);
  }
}

/** Entra ID credentials via managed identity; token refresh and re-AUTH of every connection are automatic. */
export async function entraCredentialsProvider(clientId: string | undefined): Promise<unknown> {
  const { EntraIdCredentialsProviderFactory } = await import("@redis/entraid");
  const tokenManagerConfig = { expirationRefreshRatio: 0.8 };
  return clientId
    ? EntraIdCredentialsProviderFactory.createForUserAssignedManagedIdentity({ clientId, userAssignedClientId: clientId, tokenManagerConfig })
    : // The factory's type asks for a clientId even for a system-assigned identity; it is not used there.
      EntraIdCredentialsProviderFactory.createForSystemAssignedManagedIdentity({ clientId: "system-assigned", tokenManagerConfig });
}

let lastLoggedError = 0;
function logConnectionError(err: unknown): void {
  // node-redis reconnects by itself; without an 'error' listener the process would crash. Log at most every 10 s.
  const now = Date.now();
  if (now - lastLoggedError < 10_000) return;
  lastLoggedError = now;
  console.warn(`[redis] ${err instanceof Error ? err.message : String(err)}`);
}

/**
 * Fail fast instead of queueing: node-redis otherwise buffers commands while disconnected, so a Redis outage
 * would make every handler hang until the function timeout. Failing at once lets the Event Hub retry policy
 * (and HTTP 503) do their job, and reconnects keep trying in the background with a capped backoff.
 */
const FAIL_FAST = {
  disableOfflineQueue: true,
  socket: { connectTimeout: 5_000, reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 2_000) },
} as const;

/**
 * The connection over one `send` (cluster or standalone client). Scripts run with EVALSHA, falling back to
 * EVAL on the node that answered NOSCRIPT (each cluster node has its own cache).
 */
function connection(mode: RedisMode, send: RedisConnection["command"], close: () => Promise<void>): RedisConnection {
  return {
    mode,
    runScript: (firstKey, sha, body, keys, args) => evalWithFallback((cmd) => send(firstKey, cmd), sha, body, keys, args),
    command: send,
    close,
  };
}

export async function createRedisConnection(o: RedisConnectionOptions): Promise<RedisConnection> {
  const credentialsProvider = o.auth === "entraId" ? await entraCredentialsProvider(o.entraClientId || undefined) : undefined;
  const authOption = credentialsProvider ? { credentialsProvider: credentialsProvider as never } : {};

  if (o.mode === "cluster") {
    const rootNodes = o.rootNodes?.length ? o.rootNodes : o.url ? [{ url: o.url }] : [];
    if (!rootNodes.length) throw new Error("createRedisConnection: cluster mode needs rootNodes or url");
    const first = new URL(rootNodes[0]!.url);
    const tls = first.protocol === "rediss:";
    const cluster = createCluster({
      rootNodes,
      defaults: {
        ...authOption,
        disableOfflineQueue: FAIL_FAST.disableOfflineQueue,
        // Nodes discovered through CLUSTER SLOTS get the root's TLS setting and password.
        ...(first.password ? { password: decodeURIComponent(first.password), username: decodeURIComponent(first.username) || undefined } : {}),
        socket: { ...FAIL_FAST.socket, ...(tls ? { tls: true as const, servername: first.hostname } : {}) },
      },
    });
    cluster.on("error", logConnectionError);
    await cluster.connect();
    return connection(
      "cluster",
      <T>(firstKey: string, args: string[], readonly = false) => cluster.sendCommand<T>(firstKey, readonly, args),
      () => cluster.close(),
    );
  }

  if (!o.url) throw new Error("createRedisConnection: standalone mode needs a url");
  const client = createClient({ url: o.url, ...authOption, ...FAIL_FAST });
  client.on("error", logConnectionError);
  await client.connect();
  return connection(
    "standalone",
    <T>(_firstKey: string, args: string[]) => client.sendCommand<T>(args),
    () => client.close(),
  );
}
