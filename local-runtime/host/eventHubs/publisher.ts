/** The app's publisher contract (src/messaging/eventPublisher), which the local runtime installs into the app. */
import type { EventPublisher } from "../../../src/messaging/eventPublisher";

export type EventPublisherLike = EventPublisher;
export type { OutgoingEvent } from "../../../src/messaging/eventPublisher";
