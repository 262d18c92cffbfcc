/**
 * The Durable extension's HTTP API under /runtime/webhooks/durabletask/, with the routes, status codes,
 * headers and bodies of the extension's HttpApiHandler (Microsoft.Azure.WebJobs.Extensions.DurableTask):
 *
 *   POST   orchestrators/{functionName}[/{instanceId}]    start            202 | 400 | 500 (an execution is still active)
 *   GET    instances/{id}                                 status           200 | 202 | 404 | 500 (Failed + returnInternalServerErrorOnFailure)
 *   DELETE instances/{id}                                 purge            200 | 404 | 412 (not finished)
 *   GET    instances[/]                                   list             200
 *   DELETE instances[/]?createdTimeFrom=...               purge by filter  200 | 400 | 404
 *   POST   instances/{id}/raiseEvent/{eventName}          raise event      202 | 400 | 404 | 410
 *   POST   instances/{id}/terminate?reason=               terminate        202 | 404 | 410
 *
 * The durable client (durable-functions v3) calls the same routes relative to the binding's rpcBaseUrl.
 * suspend/resume/rewind/restart and entities answer 501: the local runtime does not implement them.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { DurableEngine } from "./engine";
import { EVENT_TYPE_NAMES, EventType, type HistoryEvent } from "./history";
import type { InstanceRecord } from "./store";
import { isTerminal } from "./store";

export interface DurableHttpRequest {
  method: string;
  /** Absolute URL or path + query. */
  url: string;
  headers: Record<string, string>;
  body?: Buffer;
}

export interface DurableHttpResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export const WEBHOOK_PATH = "/runtime/webhooks/durabletask";

const JSON_TYPE = "application/json; charset=utf-8";

function json(status: number, body: unknown, headers: Record<string, string> = {}): DurableHttpResponse {
  return { status, headers: { "content-type": JSON_TYPE, ...headers }, body: Buffer.from(JSON.stringify(body)) };
}

function empty(status: number, headers: Record<string, string> = {}): DurableHttpResponse {
  return { status, headers, body: Buffer.alloc(0) };
}

/** ASP.NET's HttpError shape, which the extension's CreateErrorResponse produces. */
function error(status: number, message: string, exceptionMessage?: string, exception?: { type: string; stackTrace: string }): DurableHttpResponse {
  if (!exceptionMessage) return json(status, { Message: message });
  return json(status, {
    Message: message,
    ExceptionMessage: exceptionMessage,
    ...(exception ? { ExceptionType: exception.type, StackTrace: exception.stackTrace } : {}),
  });
}

/** What HttpApiHandler's catch-all answers for an exception (CreateErrorResponse(500, message, e)). */
const UNHANDLED = "Something went wrong while processing your request";

/** The extension formats times with .NET's "s" format plus Z: to the second, UTC. */
function toSecondsZ(iso: string): string {
  return new Date(iso).toISOString().slice(0, 19) + "Z";
}

function parseJsonText(text: string | undefined): unknown {
  if (text === undefined || text === "") return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function statusPayload(rec: InstanceRecord, opts: { showInput?: boolean } = {}): Record<string, unknown> {
  return {
    name: rec.name,
    instanceId: rec.instanceId,
    runtimeStatus: rec.runtimeStatus,
    input: opts.showInput === false ? null : parseJsonText(rec.input),
    customStatus: parseJsonText(rec.customStatus),
    output: parseJsonText(rec.output),
    createdTime: toSecondsZ(rec.createdTime),
    lastUpdatedTime: toSecondsZ(rec.lastUpdatedTime),
  };
}

/** A readable history for ?showHistory=true (the extension's own format differs in detail). */
function historyPayload(history: HistoryEvent[], showOutput: boolean): Record<string, unknown>[] {
  const names = new Map<number, string>();
  for (const e of history) if (e.EventType === EventType.TaskScheduled) names.set(e.EventId, e.Name as string);
  return history
    .filter((e) => e.EventType !== EventType.OrchestratorStarted && e.EventType !== EventType.OrchestratorCompleted)
    .map((e) => {
      const out: Record<string, unknown> = { EventType: EVENT_TYPE_NAMES[e.EventType] ?? e.EventType, Timestamp: e.Timestamp };
      if (e.EventId >= 0) out.EventId = e.EventId;
      if (e.Name !== undefined) out[e.EventType === EventType.EventRaised ? "Name" : "FunctionName"] = e.Name;
      if (e.TaskScheduledId !== undefined) {
        out.TaskScheduledId = e.TaskScheduledId;
        out.FunctionName = names.get(e.TaskScheduledId);
      }
      if (e.TimerId !== undefined) out.TimerId = e.TimerId;
      if (e.FireAt !== undefined) out.FireAt = e.FireAt;
      if (e.OrchestrationStatus !== undefined) out.OrchestrationStatus = e.OrchestrationStatus;
      if (e.Reason !== undefined) out.Reason = e.Reason;
      if (showOutput) {
        if (e.Result !== undefined) out.Result = parseJsonText(e.Result);
        if (e.Input !== undefined) out.Input = parseJsonText(e.Input);
        if (e.Details !== undefined) out.Details = e.Details;
      }
      return out;
    });
}

function boolParam(q: URLSearchParams, name: string): boolean | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  if (/^true$/i.test(v)) return true;
  if (/^false$/i.test(v)) return false;
  return undefined;
}

/** A comma-separated list parameter (e.g. runtimeStatus=Running,Pending); empty when absent. */
function listParam(q: URLSearchParams, name: string): string[] {
  return (q.get(name) ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

function dateParam(q: URLSearchParams, name: string): Date | undefined {
  const v = q.get(name);
  if (!v) return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

function header(req: DurableHttpRequest, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(req.headers ?? {})) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/** The extension's per-instance management URLs under `instance` (an instance URL), each carrying the query `q`. */
export type ManagementUrls = Record<
  "statusQueryGetUri" | "sendEventPostUri" | "terminatePostUri" | "purgeHistoryDeleteUri" | "restartPostUri" | "suspendPostUri" | "resumePostUri",
  string
>;

export function managementUrls(instance: string, q: string): ManagementUrls {
  return {
    statusQueryGetUri: `${instance}?${q}`,
    sendEventPostUri: `${instance}/raiseEvent/{eventName}?${q}`,
    terminatePostUri: `${instance}/terminate?reason={text}&${q}`,
    purgeHistoryDeleteUri: `${instance}?${q}`,
    restartPostUri: `${instance}/restart?${q}`,
    suspendPostUri: `${instance}/suspend?reason={text}&${q}`,
    resumePostUri: `${instance}/resume?reason={text}&${q}`,
  };
}

function managementPayload(engine: DurableEngine, origin: string, instanceId: string): ManagementUrls & { id: string } {
  const instance = `${origin}${WEBHOOK_PATH}/instances/${encodeURIComponent(instanceId)}`;
  return { id: instanceId, ...managementUrls(instance, engine.managementQuery()) };
}

/** 400 when the request body is present and not JSON (the extension's message); undefined when it is fine. */
function invalidJson(bodyText: string): DurableHttpResponse | undefined {
  if (!bodyText) return undefined;
  try {
    JSON.parse(bodyText);
    return undefined;
  } catch (err) {
    return error(400, "Invalid JSON content", (err as Error).message);
  }
}

/** Returns undefined when the path is not under /runtime/webhooks/durabletask. */
export async function handleDurableHttp(engine: DurableEngine, req: DurableHttpRequest): Promise<DurableHttpResponse | undefined> {
  const url = new URL(req.url, engine.baseUrl);
  if (url.pathname !== WEBHOOK_PATH && !url.pathname.startsWith(`${WEBHOOK_PATH}/`)) return undefined;
  const host = header(req, "host");
  const origin = host ? `${url.protocol}//${host}` : new URL(engine.baseUrl).origin;
  const requestUrl = `${origin}${url.pathname}${url.search}`;
  let segments: string[];
  try {
    segments = url.pathname
      .slice(WEBHOOK_PATH.length)
      .split("/")
      .filter((s) => s !== "")
      .map((s) => decodeURIComponent(s));
  } catch {
    return error(400, "The request URL is not valid.");
  }

  // Authorization: the extension's webhooks take the system key; its loopback RPC endpoint needs none.
  if (!engine.isAuthorized(req)) return error(401, "A valid system key is required (code query parameter or x-functions-key header).");
  if (engine.systemKey && segments[0] === engine.rpcSegment) segments.shift();

  const method = req.method.toUpperCase();
  const q = url.searchParams;
  const bodyText = req.body?.length ? req.body.toString("utf8") : "";
  const [controller, a, b, c, ...rest] = segments;

  try {
    if (controller === "orchestrators" && a !== undefined && c === undefined) {
      if (method !== "POST") return empty(404);
      return await startOrchestration(engine, origin, a, b, bodyText, q);
    }

    if (controller === "instances" && rest.length === 0) {
      if (a === undefined) {
        if (method === "GET") return await listInstances(engine, q);
        if (method === "DELETE") return await purgeByFilter(engine, q);
        return empty(404);
      }
      if (b === undefined) {
        if (method === "GET") return await getStatus(engine, a, q, requestUrl);
        if (method === "DELETE") return await purgeInstance(engine, a);
        return empty(404);
      }
      if (b === "raiseEvent" && c !== undefined) {
        if (method !== "POST") return empty(404);
        return await raiseEvent(engine, a, c, req, bodyText);
      }
      if (c === undefined && method === "POST") {
        const op = b.toLowerCase();
        if (op === "terminate") return await terminate(engine, a, q.get("reason") ?? "");
        if (["suspend", "resume", "rewind", "restart"].includes(op)) {
          return error(501, `The '${b}' operation is not supported by the local Durable runtime.`);
        }
      }
      return empty(404);
    }

    if (controller === "entities") return error(501, "Durable entities are not supported by the local Durable runtime.");
    return empty(404);
  } catch (err) {
    return error(500, UNHANDLED, (err as Error)?.message ?? String(err));
  }
}

async function startOrchestration(
  engine: DurableEngine,
  origin: string,
  functionName: string,
  instanceId: string | undefined,
  bodyText: string,
  q: URLSearchParams,
): Promise<DurableHttpResponse> {
  const bad = invalidJson(bodyText);
  if (bad) return bad;
  const result = await engine.startNew(functionName, { instanceId: instanceId || undefined, input: bodyText || undefined });
  if (result.status === "unknownOrchestrator") {
    return error(
      400,
      "One or more of the arguments submitted is incorrect",
      `The function '${functionName}' doesn't exist, is disabled, or is not an orchestrator function.`,
    );
  }
  if (result.status === "invalidInstanceId") {
    return error(400, `Instance ID '${result.instanceId}' is not valid: 1-256 characters, none of / \\ # ? or control characters.`);
  }
  if (result.status === "conflict") {
    // The extension's default OverridableExistingInstanceStates (NonRunningStates) makes a start of an
    // active id throw OrchestrationAlreadyExistsException (DurableTask.AzureStorage,
    // CreateTaskOrchestrationAsync); HandleStartOrchestratorRequestAsync does not catch it, so the
    // handler's catch-all answers 500 with the exception. durable-functions rejects startNew with
    // "unexpected status code: 500. Details: {...}".
    return error(500, UNHANDLED, `An Orchestration instance with the status ${result.activeStatus ?? "Running"} already exists.`, {
      type: "DurableTask.Core.Exceptions.OrchestrationAlreadyExistsException",
      // The frame that throws it; the real trace goes on through the extension's client and handler.
      stackTrace:
        "   at DurableTask.AzureStorage.AzureStorageOrchestrationService.CreateTaskOrchestrationAsync(TaskMessage creationMessage, OrchestrationStatus[] dedupeStatuses)",
    });
  }
  const timeout = Number(q.get("timeout"));
  const pollingInterval = Number(q.get("pollingInterval"));
  if (q.get("timeout") !== null && q.get("pollingInterval") !== null && timeout > 0 && pollingInterval > 0) {
    const deadline = Date.now() + timeout * 1000;
    for (;;) {
      const rec = await engine.getStatus(result.instanceId);
      if (rec?.runtimeStatus === "Completed") return json(200, parseJsonText(rec.output));
      if (rec && isTerminal(rec.runtimeStatus)) return json(200, statusPayload(rec));
      if (Date.now() >= deadline) break;
      await sleep(Math.min(pollingInterval * 1000, Math.max(0, deadline - Date.now())));
    }
  }
  const payload = managementPayload(engine, origin, result.instanceId);
  return json(202, payload, { location: payload.statusQueryGetUri, "retry-after": "10" });
}

async function getStatus(engine: DurableEngine, instanceId: string, q: URLSearchParams, requestUrl: string): Promise<DurableHttpResponse> {
  const rec = await engine.getStatus(instanceId);
  if (!rec) return empty(404);
  const body = statusPayload(rec, { showInput: boolParam(q, "showInput") ?? true });
  if (boolParam(q, "showHistory")) {
    body.historyEvents = historyPayload(await engine.getHistory(instanceId), boolParam(q, "showHistoryOutput") ?? false);
  }
  switch (rec.runtimeStatus) {
    case "Pending":
    case "Running":
      // The async HTTP pattern: keep polling the same URL.
      return json(202, body, { location: requestUrl, "retry-after": "5" });
    case "Failed":
      return json(boolParam(q, "returnInternalServerErrorOnFailure") ? 500 : 200, body);
    default:
      return json(200, body);
  }
}

async function listInstances(engine: DurableEngine, q: URLSearchParams): Promise<DurableHttpResponse> {
  const records = await engine.listInstances({
    runtimeStatus: listParam(q, "runtimeStatus"),
    createdTimeFrom: dateParam(q, "createdTimeFrom"),
    createdTimeTo: dateParam(q, "createdTimeTo"),
    instanceIdPrefix: q.get("instanceIdPrefix") ?? undefined,
  });
  const showInput = boolParam(q, "showInput") ?? true;
  const top = Number(q.get("top"));
  const page = top > 0 ? records.slice(0, top) : records;
  return json(
    200,
    page.map((r) => statusPayload(r, { showInput })),
  );
}

async function purgeInstance(engine: DurableEngine, instanceId: string): Promise<DurableHttpResponse> {
  const r = await engine.purge(instanceId);
  if (r === "notFound") return empty(404);
  if (r === "notFinished") {
    const rec = await engine.getStatus(instanceId);
    return json(
      412,
      `Only orchestrations in a terminal state can be purged, but the orchestration with instance ID ${instanceId} has status ${rec?.runtimeStatus ?? "Running"}`,
    );
  }
  return json(200, { instancesDeleted: 1 });
}

async function purgeByFilter(engine: DurableEngine, q: URLSearchParams): Promise<DurableHttpResponse> {
  const from = dateParam(q, "createdTimeFrom");
  if (!from) return json(400, "Please provide value for 'createdTimeFrom' parameter.");
  const records = await engine.listInstances({
    createdTimeFrom: from,
    createdTimeTo: dateParam(q, "createdTimeTo") ?? new Date(),
    runtimeStatus: listParam(q, "runtimeStatus"),
  });
  let deleted = 0;
  for (const r of records) if ((await engine.purge(r.instanceId)) === "purged") deleted++;
  if (deleted === 0) return empty(404);
  return json(200, { instancesDeleted: deleted });
}

async function raiseEvent(
  engine: DurableEngine,
  instanceId: string,
  eventName: string,
  req: DurableHttpRequest,
  bodyText: string,
): Promise<DurableHttpResponse> {
  const rec = await engine.getStatus(instanceId);
  if (!rec) return empty(404);
  if (isTerminal(rec.runtimeStatus)) return empty(410);
  const contentType = header(req, "content-type");
  if (bodyText && contentType && !/^application\/json\b/i.test(contentType.trim())) {
    return error(400, "Only application/json request content is supported");
  }
  const bad = invalidJson(bodyText);
  if (bad) return bad;
  const r = await engine.raiseEvent(instanceId, eventName, bodyText || undefined);
  if (r === "notFound") return empty(404);
  if (r === "finished") return empty(410);
  return empty(202);
}

async function terminate(engine: DurableEngine, instanceId: string, reason: string): Promise<DurableHttpResponse> {
  const r = await engine.terminate(instanceId, reason);
  if (r === "notFound") return empty(404);
  if (r === "finished") return empty(410);
  return empty(202);
}
