/**
 * Settings of player identity, ticket tokens and abuse limits, parsed with the rest of the app settings
 * (src/config/settings.ts merges these names into SETTING_NAMES and their problems into its one ConfigError).
 */
import { developmentKeyProblem, parseTicketKeys, type TicketKey } from "./ticketKeys";

export type PlayerAuthMode = "none" | "jwt";

export interface PlayerAuthSettings {
  mode: PlayerAuthMode;
  /** `iss` the tokens must carry; also where OpenID discovery starts when no JWKS URI is set. */
  issuer: string;
  audience: string;
  /** Empty: discovered from `<issuer>/.well-known/openid-configuration`. */
  jwksUri: string;
  /** The claim that holds the playerId (default `sub`). */
  playerIdClaim: string;
  /** JWS algorithms accepted (never `none`, never HMAC: a public JWKS cannot hold a shared secret). */
  algorithms: string[];
  clockToleranceSeconds: number;
  /** Shortest time between two JWKS fetches caused by an unknown `kid` (rotation pick-up). */
  jwksCooldownSeconds: number;
}

export interface RateLimitSettings {
  windowSeconds: number;
  /** Ticket creations + cancels per player per window; 0 turns the limit off. */
  perPlayer: number;
  /** Ticket creations + cancels per client address per window; 0 turns the limit off. */
  perAddress: number;
}

export interface IdentitySettings {
  /** First signs; all verify (rotation). */
  ticketKeys: TicketKey[];
  playerAuth: PlayerAuthSettings;
  rateLimits: RateLimitSettings;
  /** AZURE_FUNCTIONS_ENVIRONMENT=Development: Core Tools and the local runtime. */
  localDevelopment: boolean;
}

export const IDENTITY_SETTING_NAMES = {
  ticketSigningKeys: "TICKET_SIGNING_KEYS",
  playerAuth: "PLAYER_AUTH",
  playerAuthIssuer: "PLAYER_AUTH_ISSUER",
  playerAuthAudience: "PLAYER_AUTH_AUDIENCE",
  playerAuthJwksUri: "PLAYER_AUTH_JWKS_URI",
  playerIdClaim: "PLAYER_ID_CLAIM",
  playerAuthAlgorithms: "PLAYER_AUTH_ALGORITHMS",
  playerAuthClockToleranceSeconds: "PLAYER_AUTH_CLOCK_TOLERANCE_SECONDS",
  playerAuthJwksCooldownSeconds: "PLAYER_AUTH_JWKS_COOLDOWN_SECONDS",
  rateLimitWindowSeconds: "RATE_LIMIT_WINDOW_SECONDS",
  rateLimitPerPlayer: "RATE_LIMIT_TICKETS_PER_PLAYER",
  rateLimitPerAddress: "RATE_LIMIT_TICKETS_PER_ADDRESS",
} as const;

/**
 * Read only as a fallback when TICKET_SIGNING_KEYS is unset (deployments made before key rotation); the
 * template sets TICKET_SIGNING_KEYS, so this is not in IDENTITY_SETTING_NAMES.
 */
export const LEGACY_TICKET_SIGNING_KEY = "TICKET_SIGNING_KEY";
/** Set by the Functions host; Core Tools and `npm start` set `Development`. Read, never set by the template. */
export const FUNCTIONS_ENVIRONMENT = "AZURE_FUNCTIONS_ENVIRONMENT";

export const IDENTITY_DEFAULTS: Record<string, string> = {
  PLAYER_AUTH: "none",
  PLAYER_ID_CLAIM: "sub",
  PLAYER_AUTH_ALGORITHMS: "RS256,PS256,ES256,EdDSA",
  PLAYER_AUTH_CLOCK_TOLERANCE_SECONDS: "60",
  PLAYER_AUTH_JWKS_COOLDOWN_SECONDS: "30",
  RATE_LIMIT_WINDOW_SECONDS: "60",
  RATE_LIMIT_TICKETS_PER_PLAYER: "10",
  RATE_LIMIT_TICKETS_PER_ADDRESS: "120",
};

/** Asymmetric JWS algorithms jose verifies with a JWKS key. */
const ASYMMETRIC_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"];
const CLAIM_PATTERN = /^[A-Za-z0-9_.:/-]{1,100}$/;

type Env = Record<string, string | undefined>;

export function loadIdentitySettings(env: Env, problems: string[]): IdentitySettings {
  const get = (name: string): string => {
    const v = Object.hasOwn(env, name) ? env[name] : undefined;
    if (v !== undefined && v.trim() !== "") return v.trim();
    return IDENTITY_DEFAULTS[name] ?? "";
  };
  const int = (name: string, min: number, max: number): number => {
    const raw = get(name);
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < min || n > max) problems.push(`${name} must be an integer ${min}-${max}, got ${JSON.stringify(raw)}`);
    return n;
  };
  const N = IDENTITY_SETTING_NAMES;
  const localDevelopment = get(FUNCTIONS_ENVIRONMENT).toLowerCase() === "development";

  const parsed = parseTicketKeys(get(N.ticketSigningKeys), get(LEGACY_TICKET_SIGNING_KEY), { keys: N.ticketSigningKeys, single: LEGACY_TICKET_SIGNING_KEY });
  problems.push(...parsed.problems);
  const devProblem = developmentKeyProblem(parsed.keys, localDevelopment, get(N.ticketSigningKeys) ? N.ticketSigningKeys : LEGACY_TICKET_SIGNING_KEY);
  if (devProblem) problems.push(devProblem);

  const mode = get(N.playerAuth) as PlayerAuthMode;
  if (mode !== "none" && mode !== "jwt") problems.push(`${N.playerAuth} must be none or jwt, got ${JSON.stringify(mode)}`);
  const issuer = get(N.playerAuthIssuer);
  const audience = get(N.playerAuthAudience);
  const jwksUri = get(N.playerAuthJwksUri);
  const algorithms = get(N.playerAuthAlgorithms)
    .split(",")
    .map((a) => a.trim())
    .filter(Boolean);
  const badAlgorithms = algorithms.filter((a) => !ASYMMETRIC_ALGORITHMS.includes(a));
  if (badAlgorithms.length || algorithms.length === 0) {
    problems.push(`${N.playerAuthAlgorithms} must list algorithms of ${ASYMMETRIC_ALGORITHMS.join(", ")} (got ${JSON.stringify(get(N.playerAuthAlgorithms))})`);
  }
  const playerIdClaim = get(N.playerIdClaim);
  if (!CLAIM_PATTERN.test(playerIdClaim)) problems.push(`${N.playerIdClaim} must be a claim name, got ${JSON.stringify(playerIdClaim)}`);
  if (mode === "jwt") {
    if (!isHttpUrl(issuer, localDevelopment)) problems.push(`${N.playerAuthIssuer} must be the issuer's https URL when ${N.playerAuth}=jwt`);
    if (!audience) problems.push(`${N.playerAuthAudience} must be set when ${N.playerAuth}=jwt (the audience your issuer puts in players' tokens)`);
    if (jwksUri && !isHttpUrl(jwksUri, localDevelopment)) problems.push(`${N.playerAuthJwksUri} must be an https URL`);
  }
  const playerAuth: PlayerAuthSettings = {
    mode,
    issuer,
    audience,
    jwksUri,
    playerIdClaim,
    algorithms,
    clockToleranceSeconds: int(N.playerAuthClockToleranceSeconds, 0, 600),
    jwksCooldownSeconds: int(N.playerAuthJwksCooldownSeconds, 0, 3600),
  };
  const rateLimits: RateLimitSettings = {
    windowSeconds: int(N.rateLimitWindowSeconds, 1, 3600),
    perPlayer: int(N.rateLimitPerPlayer, 0, 1_000_000),
    perAddress: int(N.rateLimitPerAddress, 0, 1_000_000),
  };
  return { ticketKeys: parsed.keys, playerAuth, rateLimits, localDevelopment };
}

/** https, or http only under local development (the local runtime's issuer is plain http on localhost). */
function isHttpUrl(value: string, allowHttp: boolean): boolean {
  try {
    const u = new URL(value);
    return u.protocol === "https:" || (allowHttp && u.protocol === "http:");
  } catch {
    return false;
  }
}
