/**
 * Push: tells a player about its ticket over Azure Web PubSub (hub `matchmaking`, user = playerId), and
 * hands players the client URL bound to them (`GET /api/tickets/{playerId}/negotiate`).
 *
 * Setting `WEB_PUBSUB_CONNECTION`: a connection string (`Endpoint=...;AccessKey=...;Version=1.0;`), or
 * `WEB_PUBSUB_CONNECTION__endpoint` (+ optional `__clientId` of a user-assigned identity) for identity-based
 * access with the role "Web PubSub Service Owner". Without either, push is off and polling is unchanged.
 *
 * Push is an optimisation, never the source of truth: the ticket status endpoint answers the same thing.
 * So a failed send is logged and counted, never thrown: it must not fail or retry a match. A send is
 * bounded (few retries, a timeout) so that an outage of the service cannot stall the match pipeline.
 */
import { DefaultAzureCredential } from "@azure/identity";
import { createSecretKey, type KeyObject } from "node:crypto";
import { AzureKeyCredential, WebPubSubServiceClient, type WebPubSubServiceClientOptions } from "@azure/web-pubsub";
import type { LeaveReason, MatchMade, SessionPlayer } from "../domain/types";
import { ticketFromOutcome } from "../domain/ticket";
import { matchOutcomeFor } from "../domain/matchRequest";
import { forEachLimit } from "../lib/limiter";

export const PUSH_HUB = "matchmaking";
/** The setting prefix: the connection string itself, or `<prefix>__endpoint` / `<prefix>__clientId`. */
export const WEB_PUBSUB_CONNECTION = "WEB_PUBSUB_CONNECTION";
export const PUSH_TYPES = ["matched", "timedOut", "cancelled", "serverLost", "serverChanged"] as const;
export type PushType = (typeof PUSH_TYPES)[number];

/** What a player receives: `{type, ticket}`, the ticket as its status endpoint shows it; `matched` adds the match's `assignedAt`. */
export interface PushNotice {
  playerId: string;
  type: PushType;
  ticket: object;
  /** When the session got its server (ISO), so a client can tell how fresh the news is. */
  assignedAt?: string;
}

export interface PushResult {
  sent: number;
  failed: number;
}

export interface PlayerPush {
  /** Sends each notice to its player; never rejects. */
  notify(notices: readonly PushNotice[], log: (msg: string) => void): Promise<PushResult>;
  /** A client access URL for hub `matchmaking` whose user is `playerId`, valid for `minutes`. */
  clientUrl(playerId: string, minutes: number): Promise<string>;
  /** Whether clientUrl signs locally (an access key: no call to the service), so it is cheap enough to hand out with every new ticket. */
  signsLocally?: boolean;
}

const SEND_CONCURRENCY = 32;
const SEND_TIMEOUT_MS = 5_000;

type Env = Record<string, string | undefined>;

/** The SDK's transport (its `httpClient` option). */
export type PushHttpClient = NonNullable<WebPubSubServiceClientOptions["httpClient"]>;
let httpClient: PushHttpClient | undefined;

/**
 * The transport the SDK sends through instead of its own HTTP client: the local runtime hands over its
 * in-process Web PubSub service here (as it hands over its Event Hubs, setEventPublisher); the SDK's
 * pipeline, signing and REST contract stay the same. `undefined`: the SDK's own HTTP client again.
 */
export function setPushHttpClient(client: PushHttpClient | undefined): void {
  httpClient = client;
  current = undefined;
}

/**
 * The access key as a secret KeyObject, made once. The SDK signs every client token and every REST call's
 * bearer token with jsonwebtoken, which takes a KeyObject as it is but given the key as a string first tries it
 * as a PEM private key (createPrivateKey, which throws) and only then makes a secret key: that failed parse
 * was ~10% of the local runtime's CPU at its ceiling. jsonwebtoken, jws and crypto.createHmac all accept a
 * KeyObject; AzureKeyCredential's type says string, hence the cast.
 */
class SecretKeyCredential extends AzureKeyCredential {
  private secret: KeyObject;
  constructor(key: string) {
    super(key);
    this.secret = createSecretKey(Buffer.from(key, "utf8"));
  }
  override get key(): string {
    return this.secret as unknown as string;
  }
  override update(newKey: string): void {
    super.update(newKey);
    this.secret = createSecretKey(Buffer.from(newKey, "utf8"));
  }
}

/** `Endpoint=...;AccessKey=...;Version=1.0;[Port=...;]` read as the SDK reads it (parseConnectionString of @azure/web-pubsub 1.2). */
function parseConnectionString(connectionString: string): { endpoint: string; key: string } {
  const parts = new Map<string, string>();
  for (const part of connectionString.split(";")) {
    const eq = part.indexOf("=");
    if (eq !== -1) parts.set(part.slice(0, eq).toLowerCase(), part.slice(eq + 1));
  }
  const endpoint = parts.get("endpoint");
  if (!endpoint) throw new TypeError(`${WEB_PUBSUB_CONNECTION}: the connection string has no Endpoint`);
  const key = parts.get("accesskey");
  if (!key) throw new TypeError(`${WEB_PUBSUB_CONNECTION}: the connection string has no AccessKey`);
  const url = new URL(endpoint.startsWith("http") ? endpoint : `https://${endpoint}`);
  const port = parts.get("port");
  if (port) url.port = port;
  return { endpoint: url.toString(), key };
}

/** The service client from the settings, or undefined when push is off. */
export function webPubSubClientFromSettings(env: Env = process.env): WebPubSubServiceClient | undefined {
  const connectionString = env[WEB_PUBSUB_CONNECTION]?.trim();
  const endpoint = env[`${WEB_PUBSUB_CONNECTION}__endpoint`]?.trim();
  // Locally the service is plain http (the local runtime's); Azure's endpoint is always https.
  const options = (url: string) => ({
    allowInsecureConnection: url.startsWith("http://"),
    retryOptions: { maxRetries: 2, retryDelayInMs: 100, maxRetryDelayInMs: 1_000 },
    ...(httpClient ? { httpClient } : {}),
  });
  if (connectionString) {
    const { endpoint: url, key } = parseConnectionString(connectionString);
    return new WebPubSubServiceClient(url, new SecretKeyCredential(key), PUSH_HUB, options(url));
  }
  if (endpoint) {
    const clientId = env[`${WEB_PUBSUB_CONNECTION}__clientId`]?.trim();
    const credential = new DefaultAzureCredential(clientId ? { managedIdentityClientId: clientId } : {});
    return new WebPubSubServiceClient(endpoint, credential, PUSH_HUB, options(endpoint));
  }
  return undefined;
}

export function webPubSubPush(client: WebPubSubServiceClient, o: { signsLocally?: boolean } = {}): PlayerPush {
  return {
    signsLocally: o.signsLocally ?? false,
    async notify(notices, log) {
      let sent = 0;
      const failures: string[] = [];
      await forEachLimit(notices, SEND_CONCURRENCY, async ({ playerId, type, ticket, assignedAt }) => {
        try {
          const message = { type, ticket, ...(assignedAt ? { assignedAt } : {}) };
          await client.sendToUser(playerId, message, { abortSignal: AbortSignal.timeout(SEND_TIMEOUT_MS) });
          sent++;
        } catch (err) {
          failures.push(`${playerId}: ${err instanceof Error ? err.message : String(err)}`);
        }
      });
      if (failures.length) log(`push: ${failures.length} of ${notices.length} notice(s) not sent (players fall back to polling); first: ${failures[0]}`);
      return { sent, failed: failures.length };
    },
    async clientUrl(playerId, minutes) {
      const { url } = await client.getClientAccessToken({ userId: playerId, expirationTimeInMinutes: minutes });
      return url;
    },
  };
}

let current: { push: PlayerPush | undefined } | undefined;

/** The push of this process, from the settings on first use; undefined when push is off. */
export function playerPush(): PlayerPush | undefined {
  if (!current) {
    const client = webPubSubClientFromSettings();
    // With a connection string the SDK signs client tokens with the access key; with an identity it asks the service.
    const signsLocally = Boolean(process.env[WEB_PUBSUB_CONNECTION]?.trim());
    current = { push: client ? webPubSubPush(client, { signsLocally }) : undefined };
  }
  return current.push;
}

/** Replaces the push of this process (tests); `null` re-reads the settings on next use. */
export function setPlayerPush(push: PlayerPush | undefined | null): void {
  current = push === null ? undefined : { push };
}

/**
 * A player of a match-made message: `matched`, the ticket as its status endpoint then shows it; `serverChanged`
 * when the message replaces a server that died before confirming the session (`previousServerId`).
 */
export function matchedNotice(msg: MatchMade, player: SessionPlayer): PushNotice {
  const ticket = ticketFromOutcome(player.playerId, matchOutcomeFor(player.playerId, player.ticketId, msg));
  const type = msg.previousServerId ? "serverChanged" : "matched";
  return { playerId: player.playerId, type, ticket: { ...ticket, mode: msg.mode, region: msg.region }, assignedAt: msg.assignedAt };
}

/** A ticket that left the queue (timeout, cancel, or expiry of a lost orchestration): `timedOut` or `cancelled`. */
export function endedNotice(playerId: string, ticketId: string, region: string, reason: LeaveReason): PushNotice {
  const status = reason === "cancelled" ? "cancelled" : "timedOut";
  return { playerId, type: status, ticket: { playerId, ticketId, status, region } };
}

/** Whether push is on (a malformed setting counts as off here; sending logs it). */
export function playerPushOn(): boolean {
  try {
    return playerPush() !== undefined;
  } catch {
    return false;
  }
}

/** Sends if push is on; the answer says how many were sent (0 when off). Never rejects. */
export async function pushToPlayers(notices: readonly PushNotice[], log: (msg: string) => void): Promise<PushResult> {
  if (notices.length === 0) return { sent: 0, failed: 0 };
  try {
    const push = playerPush(); // a malformed setting throws here: logged like any failed send
    return push ? await push.notify(notices, log) : { sent: 0, failed: 0 };
  } catch (err) {
    log(`push: not sent (players fall back to polling): ${err instanceof Error ? err.message : String(err)}`);
    return { sent: 0, failed: notices.length };
  }
}
