/**
 * The local runtime's push: unless the app is configured with a real Azure Web PubSub
 * (`WEB_PUBSUB_CONNECTION` or `WEB_PUBSUB_CONNECTION__endpoint`) or push is switched off
 * (`LOCAL_WEBPUBSUB=off`), starts the local service (port `LOCAL_WEBPUBSUB_PORT`, default a free one) and
 * points the app at it by setting `WEB_PUBSUB_CONNECTION` — before the app loads, as the host provides
 * app settings. The service outlives host restarts (it plays an Azure service, not a part of the host).
 */
import { startLocalWebPubSub, type LocalWebPubSub } from "./service";

export const WEB_PUBSUB_SETTING = "WEB_PUBSUB_CONNECTION";

export interface LocalPush {
  /** The local service, when this runtime started one. */
  service: LocalWebPubSub | undefined;
  /** One line for the log and the banner. */
  describe: string;
  stop(): Promise<void>;
}

export async function startLocalPush(o: { env?: NodeJS.ProcessEnv; log?: (m: string) => void } = {}): Promise<LocalPush> {
  const env = o.env ?? process.env;
  if (env[WEB_PUBSUB_SETTING] || env[`${WEB_PUBSUB_SETTING}__endpoint`]) {
    return { service: undefined, describe: "push: the configured Azure Web PubSub", stop: async () => undefined };
  }
  if ((env.LOCAL_WEBPUBSUB ?? "").toLowerCase() === "off") {
    return { service: undefined, describe: "push: off (LOCAL_WEBPUBSUB=off); clients poll", stop: async () => undefined };
  }
  const port = env.LOCAL_WEBPUBSUB_PORT ? Number(env.LOCAL_WEBPUBSUB_PORT) : 0;
  const service = await startLocalWebPubSub({ port, log: o.log });
  env[WEB_PUBSUB_SETTING] = service.connectionString;
  return {
    service,
    describe: `push: local Web PubSub at ${service.endpoint} (hub matchmaking)`,
    stop: async () => {
      if (env[WEB_PUBSUB_SETTING] === service.connectionString) delete env[WEB_PUBSUB_SETTING];
      await service.stop();
    },
  };
}
