/** The local Durable Functions extension: see README.md in this folder. */
export { DurableEngine } from "./engine";
export type { DurableEngineOptions, DurableMetrics, StartResult, StatusQuery } from "./engine";
export { WEBHOOK_PATH } from "./httpApi";
export type { DurableHttpRequest, DurableHttpResponse } from "./httpApi";
export type { InstanceRecord, RuntimeStatus } from "./store";
