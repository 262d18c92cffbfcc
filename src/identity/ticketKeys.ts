/**
 * The signing keys of ticket tokens. Several keys are accepted at once so that a key can be rotated
 * without invalidating the tokens of live tickets: the FIRST key signs new tokens, every listed key
 * verifies the tokens that name its key id (`kid`).
 *
 * `TICKET_SIGNING_KEYS` takes either JSON `[{"kid":"2026-12","key":"..."}, ...]` or `kid:key,kid:key`.
 * `TICKET_SIGNING_KEY` (one key, kid `default`) keeps older deployments working; setting both is an error,
 * since which one would win is not obvious to an operator.
 */

export interface TicketKey {
  kid: string;
  key: string;
}

/** Key ids end up inside tokens and log lines: short and plain. */
export const KID_PATTERN = /^[A-Za-z0-9._-]{1,32}$/;
export const MIN_KEY_LENGTH = 32;
/** The kid of the single `TICKET_SIGNING_KEY`. */
export const SINGLE_KEY_KID = "default";

/**
 * Keys that are public (shipped in local.settings.json, the README, the tests' harness): tokens signed with
 * them can be forged by anyone, so they are refused outside local development.
 */
export const PUBLIC_DEVELOPMENT_KEYS: readonly string[] = ["local-development-only-ticket-signing-key-change-me"];

/** The key list of the settings, or the problems with it. */
export function parseTicketKeys(keysSetting: string, singleKey: string, names: { keys: string; single: string }): { keys: TicketKey[]; problems: string[] } {
  const problems: string[] = [];
  if (keysSetting && singleKey) {
    return { keys: [], problems: [`set ${names.keys} or ${names.single}, not both (${names.keys} lists every key; its first one signs)`] };
  }
  if (!keysSetting) {
    if (!singleKey) problems.push(`${names.keys} (or ${names.single}) must be set to a secret of at least ${MIN_KEY_LENGTH} characters`);
    else if (singleKey.length < MIN_KEY_LENGTH) problems.push(`${names.single} must be set to a secret of at least ${MIN_KEY_LENGTH} characters`);
    return { keys: [{ kid: SINGLE_KEY_KID, key: singleKey }], problems };
  }
  if (/^@Microsoft\.KeyVault\(/i.test(keysSetting)) {
    // The platform leaves the reference text in place when it cannot resolve it.
    return {
      keys: [],
      problems: [
        `${names.keys} is an unresolved Key Vault reference: the app's identity needs the role Key Vault Secrets User on the vault, and the secret must exist (see the app's Environment variables blade for the reference's status)`,
      ],
    };
  }
  const entries: unknown[] = [];
  if (keysSetting.startsWith("[")) {
    try {
      const parsed: unknown = JSON.parse(keysSetting);
      if (Array.isArray(parsed)) entries.push(...(parsed as unknown[]));
      else problems.push(`${names.keys} must be a JSON array [{"kid":"...","key":"..."}]`);
    } catch {
      problems.push(`${names.keys} starts with "[" but is not JSON`);
    }
  } else {
    for (const part of keysSetting.split(",")) {
      const colon = part.indexOf(":");
      entries.push(colon < 0 ? { kid: part.trim() } : { kid: part.slice(0, colon).trim(), key: part.slice(colon + 1).trim() });
    }
  }
  const keys: TicketKey[] = [];
  const seen = new Set<string>();
  entries.forEach((e, i) => {
    const { kid, key } = (typeof e === "object" && e !== null ? e : {}) as { kid?: unknown; key?: unknown };
    // Never echo a key in a problem: the message reaches logs.
    if (typeof kid !== "string" || !KID_PATTERN.test(kid)) problems.push(`${names.keys} entry ${i + 1}: kid must be 1-32 characters [A-Za-z0-9._-]`);
    else if (seen.has(kid)) problems.push(`${names.keys} entry ${i + 1}: kid ${kid} is listed twice`);
    else if (typeof key !== "string" || key.length < MIN_KEY_LENGTH)
      problems.push(`${names.keys} entry ${i + 1} (${kid}): key must be at least ${MIN_KEY_LENGTH} characters`);
    else {
      seen.add(kid);
      keys.push({ kid, key });
    }
  });
  if (keys.length === 0 && problems.length === 0) problems.push(`${names.keys} lists no key`);
  return { keys, problems };
}

/** The problem with using these keys here, if any: public development keys only under local development. */
export function developmentKeyProblem(keys: readonly TicketKey[], localDevelopment: boolean, setting: string): string | undefined {
  if (localDevelopment) return undefined;
  const publicKey = keys.find((k) => PUBLIC_DEVELOPMENT_KEYS.includes(k.key));
  if (!publicKey) return undefined;
  return (
    `${setting} contains the public development key of local.settings.json (kid ${publicKey.kid}); anyone can forge ticket tokens with it. ` +
    `It is accepted only when AZURE_FUNCTIONS_ENVIRONMENT=Development (Core Tools, npm start). Set a secret of your own ` +
    `(e.g. \`openssl rand -base64 48\`); the template stores it in Key Vault`
  );
}
