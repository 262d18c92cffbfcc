/**
 * The local runtime's Lua scripts (local-runtime/lua, one file per atomic operation, header naming KEYS,
 * ARGV and the reply), loaded by the product's script loader (src/store/scriptLoader: includes, SHA1) and
 * run with EVALSHA, falling back to EVAL. Every reply goes through a checked decoder; the names are the
 * file names, checked against the decoders when the scripts are loaded.
 */
import { join } from "node:path";
import { evalWithFallback } from "../src/store/connection";
import { list, ScriptReplyError, str, type Decoder } from "../src/store/replyDecoder";
import { loadScript, scriptFileNames, type LuaScript } from "../src/store/scriptLoader";

/** local-runtime/lua, from the sources and from dist (scripts/copyAssets.js copies it). */
export const LOCAL_LUA_DIR = join(__dirname, "lua");

/** An integer reply that must be one of `values`. */
function oneOfInts<const T extends readonly number[]>(...values: T): Decoder<T[number]> {
  return (v, path) => {
    if (typeof v !== "number" || !values.includes(v)) throw new Error(`${path || "reply"}: expected one of ${values.join(", ")}, got ${JSON.stringify(v)}`);
    return v as T[number];
  };
}

/** durableCreateInstance: 1 (created) or the runtimeStatus of the execution still active. */
const createdOrActiveStatus: Decoder<1 | "Pending" | "Running"> = (v, path) => {
  if (v === 1 || v === "Pending" || v === "Running") return v;
  throw new Error(`${path || "reply"}: expected 1, "Pending" or "Running", got ${JSON.stringify(v)}`);
};

export const LOCAL_SCRIPT_REPLIES = {
  durableEnqueueIfActive: oneOfInts(0, 1, 2),
  durableFireTimer: oneOfInts(0, 1),
  durableCompleteActivity: oneOfInts(0, 1),
  durableCreateInstance: createdOrActiveStatus,
  eventHubsAppend: list(str),
  runtimeLeaseRenew: oneOfInts(0, 1),
  runtimeLeaseRelease: oneOfInts(0, 1),
} as const;

export type LocalScriptName = keyof typeof LOCAL_SCRIPT_REPLIES;
type Reply<N extends LocalScriptName> = ReturnType<(typeof LOCAL_SCRIPT_REPLIES)[N]>;

let cache: Record<LocalScriptName, LuaScript> | undefined;

export function localScripts(): Record<LocalScriptName, LuaScript> {
  if (!cache) {
    const files = scriptFileNames(LOCAL_LUA_DIR);
    const decoded = Object.keys(LOCAL_SCRIPT_REPLIES).sort();
    if (files.join() !== decoded.join()) {
      throw new Error(`local-runtime Lua scripts and reply decoders differ: files [${files.join(", ")}], decoders [${decoded.join(", ")}]`);
    }
    cache = Object.fromEntries(decoded.map((name) => [name, loadScript(name, LOCAL_LUA_DIR)])) as Record<LocalScriptName, LuaScript>;
  }
  return cache;
}

/** Runs a local script over `send` (a node-redis client's sendCommand) and decodes its reply. */
export async function runLocalScript<N extends LocalScriptName>(
  send: (args: string[]) => Promise<unknown>,
  name: N,
  keys: string[],
  args: string[],
): Promise<Reply<N>> {
  const script = localScripts()[name];
  const raw = await evalWithFallback(send, script.sha, script.body, keys, args);
  // These replies are Redis integers and arrays, not JSON text: checked as they come.
  try {
    return (LOCAL_SCRIPT_REPLIES[name] as Decoder<Reply<N>>)(raw, "");
  } catch (err) {
    throw new ScriptReplyError(name, "(reply)", (err as Error).message);
  }
}
