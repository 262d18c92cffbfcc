/**
 * Invokes registered functions as the host does, adding the input bindings the host supplies besides the
 * trigger (today: the Durable client binding), and applying injected faults.
 */
import type { FunctionsCore, InvokeRequest, InvokeResponse, Registration, RpcTypedData } from "../functionsCore";
import { type Faults, InjectedFault } from "./faults";

/** What the local host needs from the Durable engine (local-runtime/durable). */
export interface DurableEngineLike {
  start(): Promise<void>;
  stop(): Promise<void>;
  clientInputData(bindingName: string): { name: string; data: RpcTypedData };
  /** Whether a webhook request carries what the webhooks require (checked before the body is read). */
  isAuthorized(req: { url: string; headers: Record<string, string> }): boolean;
  handleHttp(req: {
    method: string;
    url: string;
    headers: Record<string, string>;
    body?: Buffer;
  }): Promise<{ status: number; headers: Record<string, string>; body: Buffer } | undefined>;
  metrics(): { orchestratorEpisodes: number; activityInvocations: number; instances: number };
}

export class Invoker {
  durable: DurableEngineLike | undefined;
  /** Invocation counts per function, for the banner/summary and tests. */
  readonly invocations = new Map<string, number>();
  readonly failures = new Map<string, number>();

  constructor(
    readonly core: FunctionsCore,
    readonly faults: Faults,
  ) {}

  /** The non-trigger input bindings the host fills in for this function. */
  extraInputData(reg: Registration): { name: string; data: RpcTypedData }[] {
    const out: { name: string; data: RpcTypedData }[] = [];
    for (const [name, b] of Object.entries(reg.metadata.bindings)) {
      if (b.direction === "in" && /^(durableClient|orchestrationClient)$/i.test(b.type)) {
        if (!this.durable) throw new Error(`Function "${reg.metadata.name}" needs a Durable client but the Durable engine is not running`);
        out.push({ name, data: this.durable.clientInputData(name).data });
      }
    }
    return out;
  }

  count(name: string, failed: boolean): void {
    this.invocations.set(name, (this.invocations.get(name) ?? 0) + 1);
    if (failed) this.failures.set(name, (this.failures.get(name) ?? 0) + 1);
  }

  /**
   * Invokes with the trigger input plus the host-supplied inputs. `truncate` is how a "midBatch" fault runs
   * the handler on part of a batch: it gets the request with only the first half of the batch.
   */
  async invoke(name: string, request: InvokeRequest, truncate?: (req: InvokeRequest) => InvokeRequest): Promise<InvokeResponse> {
    const reg = this.core.get(name);
    const full: InvokeRequest = { ...request, inputData: [...(request.inputData ?? []), ...this.extraInputData(reg)] };
    const fault = this.faults.takeThrow(name);
    try {
      if (fault?.mode === "before") throw new InjectedFault(fault.message);
      if (fault?.mode === "midBatch" || fault?.mode === "midBatchStall") {
        await this.core.invoke(name, truncate ? truncate(full) : full);
        if (fault.mode === "midBatchStall") await this.faults.stall();
        throw new InjectedFault(fault.message);
      }
      const res = await this.core.invoke(name, full);
      if (fault?.mode === "after") throw new InjectedFault(fault.message);
      this.count(name, false);
      return res;
    } catch (err) {
      this.count(name, true);
      throw err;
    }
  }
}
