/**
 * Reads what the Functions host reads from the app folder: host.json and local.settings.json, and resolves
 * `%SETTING%` binding expressions the way the host does (from app settings, i.e. the environment).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse, printParseErrorCode, type ParseError } from "jsonc-parser";

export interface HostJson {
  version?: string;
  extensions?: {
    http?: { routePrefix?: string };
    eventHubs?: {
      maxEventBatchSize?: number;
      minEventBatchSize?: number;
      maxWaitTime?: string;
      batchCheckpointFrequency?: number;
      prefetchCount?: number;
    };
    durableTask?: { hubName?: string; [k: string]: unknown };
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

export interface LocalSettingsJson {
  IsEncrypted?: boolean;
  Values?: Record<string, string>;
  Host?: { LocalHttpPort?: number; CORS?: string; [k: string]: unknown };
}

/** host.json and local.settings.json may hold comments and trailing commas (the host accepts them): jsonc-parser reads them. */
function parseJsonWithComments(text: string, file: string): unknown {
  const errors: ParseError[] = [];
  const value: unknown = parse(text, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length) {
    const e = errors[0]!;
    throw new Error(`${file} is not valid JSON: ${printParseErrorCode(e.error)} at offset ${e.offset}`);
  }
  return value;
}

export function readHostJson(appDir: string): HostJson {
  const file = join(appDir, "host.json");
  if (!existsSync(file)) return {};
  return parseJsonWithComments(readFileSync(file, "utf8"), file) as HostJson;
}

export function readLocalSettings(appDir: string): LocalSettingsJson {
  const file = join(appDir, "local.settings.json");
  if (!existsSync(file)) return {};
  return parseJsonWithComments(readFileSync(file, "utf8"), file) as LocalSettingsJson;
}

/**
 * Copies local.settings.json Values into the environment, as Core Tools does: a variable that is already set
 * wins, so `MATCH_TIMEOUT_SECONDS=5 npm start` overrides the file. Returns the names it set.
 */
export function applyLocalSettings(values: Record<string, string> | undefined, env: NodeJS.ProcessEnv = process.env): string[] {
  const applied: string[] = [];
  for (const [k, v] of Object.entries(values ?? {})) {
    if (env[k] === undefined) {
      env[k] = String(v);
      applied.push(k);
    }
  }
  return applied;
}

/** Resolves `%NAME%` binding expressions from app settings; an unknown setting is an error, as on the host. */
export function resolveBindingExpression(value: string, env: NodeJS.ProcessEnv = process.env): string {
  return value.replace(/%([^%]+)%/g, (_m, name: string) => {
    const v = env[name];
    if (v === undefined) throw new Error(`Binding expression %${name}% refers to an app setting that is not set`);
    return v;
  });
}
