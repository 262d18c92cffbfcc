/** durableClientOf (src/functions/wiring.ts): one durable client per distinct binding data, not one per invocation. */
import { describe, expect, it } from "vitest";
import { InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { durableClientOf } from "../../src/functions/wiring";

const binding = (taskHubName: string, key: string) => {
  const base = "http://127.0.0.1:7071/runtime/webhooks/durabletask";
  return {
    taskHubName,
    creationUrls: { createNewInstancePostUri: `${base}/orchestrators/{functionName}[/{instanceId}]?code=${key}` },
    managementUrls: { id: "INSTANCEID", statusQueryGetUri: `${base}/instances/INSTANCEID?code=${key}` },
    baseUrl: base,
    requiredQueryStringParameters: `code=${key}`,
    rpcBaseUrl: `${base}/`,
  };
};

function invocation(data: unknown): InvocationContext {
  const input = df.input.durableClient();
  const ctx = new InvocationContext({ functionName: "f", options: { trigger: { type: "httpTrigger", name: "req" }, extraInputs: [input], extraOutputs: [] } });
  ctx.extraInputs.set(input, data);
  return ctx;
}

describe("durableClientOf", () => {
  it("gives invocations with the same binding data the same client, and new data (another key, another hub) a new one", () => {
    const a = durableClientOf(invocation(binding("Hub", "k1")));
    expect(durableClientOf(invocation(binding("Hub", "k1")))).toBe(a);
    const rotated = durableClientOf(invocation(binding("Hub", "k2")));
    expect(rotated).not.toBe(a);
    expect(rotated.taskHubName).toBe("Hub");
    expect(durableClientOf(invocation(binding("Other", "k1"))).taskHubName).toBe("Other");
  });

  it("without durable client data says so as df.getClient does", () => {
    expect(() => durableClientOf(invocation(undefined))).toThrow(/not a valid durable client input/);
  });
});
