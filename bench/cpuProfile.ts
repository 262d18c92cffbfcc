/**
 * Where a process's CPU goes, from a V8 CPU profile (node:inspector's Profiler, the sampler behind
 * `node --cpu-prof`): each sample is charged to the first frame, from the sampled one up the stack, that
 * belongs to a library or to our own code, and that to one of a few named parts (the real Azure libraries
 * the local runtime drives, its own emulations, the app). Node's own frames (socket writes, HTTP parsing,
 * timers) are charged to the code that called them; what no code called (socket reads, the event loop)
 * is "Node I/O and event loop", the garbage collector its own part. Idle time and the profiler's own work
 * are left out.
 */
import { Session } from "node:inspector";

export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

export interface CpuPart {
  part: string;
  /** Share of the busy (non-idle) samples, %. */
  percent: number;
}

/** The profiler's own work (Profiler.stop serialises the profile inside the sampled thread): left out. */
const PROFILER = "profiler";
/** Parts by the path of a frame's script, first match wins. */
const PARTS: [string, RegExp][] = [
  [PROFILER, /bench\/cpuProfile\.[jt]s$/],
  ["@azure/functions invocation (incl. undici Request/Response)", /node_modules\/@azure\/functions\/|node:internal\/deps\/undici|node:internal\/webstreams/],
  ["durable-functions client and replay, axios", /node_modules\/(durable-functions|axios|follow-redirects|moment|validator|lodash)\//],
  ["Redis client (node-redis)", /node_modules\/(@redis\/[^/]+|redis|cluster-key-slot)\//],
  [
    "Web PubSub SDK, Azure core pipeline, jsonwebtoken",
    /node_modules\/(@azure\/(?!functions\/)[^/]+|@typespec\/[^/]+|jsonwebtoken|jws|jwa|ms|lodash\.[^/]+|tslib)\//,
  ],
  ["OpenTelemetry metrics", /node_modules\/@opentelemetry\//],
  ["JSON schema validation (ajv)", /node_modules\/(ajv|ajv-formats|fast-deep-equal|fast-uri)\//],
  ["local runtime: Durable engine", /dist\/local-runtime\/durable\//],
  ["local runtime: Web PubSub service", /dist\/local-runtime\/webpubsub\//],
  ["local runtime: HTTP host, Event Hubs, functions core", /dist\/local-runtime\//],
  ["the app (src)", /dist\/src\//],
  ["bench observation", /dist\/bench\//],
  ["other libraries", /node_modules\//],
];
const NODE_IO = "Node I/O and event loop";
const GC = "garbage collector";

function partOf(url: string): string | undefined {
  if (!url || (url.startsWith("node:") && !/undici|webstreams/.test(url))) return undefined;
  for (const [part, re] of PARTS) if (re.test(url)) return part;
  return undefined;
}

/** The profile's busy samples split by part, largest first. */
export function cpuSplit(profile: CpuProfile): CpuPart[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const parts = new Map<string, number>();
  let busy = 0;
  for (const [id, us] of selfUs) {
    const leaf = byId.get(id)!.callFrame;
    if (leaf.functionName === "(idle)" || leaf.functionName === "(program)" || leaf.functionName === "(root)") continue;
    let part: string | undefined;
    for (let x: number | undefined = id; x !== undefined && !part; x = parent.get(x)) part = partOf(byId.get(x)!.callFrame.url);
    if (part === PROFILER) continue;
    busy += us;
    part ??= leaf.functionName === "(garbage collector)" ? GC : NODE_IO;
    parts.set(part, (parts.get(part) ?? 0) + us);
  }
  return [...parts].map(([part, us]) => ({ part, percent: busy ? (us / busy) * 100 : 0 })).sort((a, b) => b.percent - a.percent);
}

/** Samples this process (the main thread) from when it resolves until the returned stop(), which yields the profile. */
export async function startCpuProfile(samplingIntervalUs = 1000): Promise<() => Promise<CpuProfile>> {
  const session = new Session();
  session.connect();
  const post = <T>(method: string, params?: object) =>
    new Promise<T>((resolve, reject) => session.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res as T))));
  await post("Profiler.enable");
  await post("Profiler.setSamplingInterval", { interval: samplingIntervalUs });
  await post("Profiler.start");
  return async () => {
    try {
      return (await post<{ profile: CpuProfile }>("Profiler.stop")).profile;
    } finally {
      session.disconnect();
    }
  };
}
