/** Event Hubs in process (see localEventHubs.ts). */
export { LocalEventHubs, type EventHubOptions } from "./localEventHubs";
export type { ConsumerSpec } from "./consumer";
export { partitionForKey } from "./partitioning";
export { retryDelayMs, retryPolicyOf, type RetryPolicy } from "./retryPolicy";
export type { EventPublisherLike, OutgoingEvent } from "./publisher";
