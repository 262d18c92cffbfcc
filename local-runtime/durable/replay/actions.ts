/**
 * The actions an orchestrator episode returns (durable-functions' IAction objects), as the engine reads them.
 * Action type numbers are the out-of-process schema's AsyncActionType values.
 */

/** durable-functions ActionType values. */
export const ActionType = {
  CallActivity: 0,
  CallActivityWithRetry: 1,
  CallSubOrchestrator: 2,
  CallSubOrchestratorWithRetry: 3,
  ContinueAsNew: 4,
  CreateTimer: 5,
  WaitForExternalEvent: 6,
  CallEntity: 7,
  CallHttp: 8,
  SignalEntity: 9,
  WhenAny: 11,
  WhenAll: 12,
  LockEntities: 13,
  ReleaseEntities: 14,
} as const;

const ACTION_NAMES: Record<number, string> = Object.fromEntries(Object.entries(ActionType).map(([k, v]) => [v, k]));

/** durable-functions RetryOptions as an action carries it (fields the user did not set are absent). */
export interface RetryOptionsJson {
  firstRetryIntervalInMilliseconds: number;
  maxNumberOfAttempts: number;
  backoffCoefficient?: number;
  maxRetryIntervalInMilliseconds?: number;
  retryTimeoutInMilliseconds?: number;
}

export interface RawAction {
  actionType: number;
  functionName?: string;
  input?: unknown;
  fireAt?: string | Date;
  isCanceled?: boolean;
  externalEventName?: string;
  retryOptions?: RetryOptionsJson;
  compoundActions?: RawAction[];
  [key: string]: unknown;
}

/**
 * The episode's yields in order: the library returns `[actions]` (one action per yield of a running task);
 * older schemas nest one array per yield. Only the outer arrays are opened: compound actions stay whole.
 */
export function topLevelYields(actions: unknown): RawAction[] {
  const out: RawAction[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) for (const child of node) visit(child);
    else if (node && typeof node === "object") out.push(node as RawAction);
  };
  visit(actions);
  return out;
}

/** Input as the extension stores it: the library already JSON-encodes string inputs, other values are JSON values. */
export function inputToJsonText(input: unknown): string | undefined {
  if (input === undefined) return undefined;
  if (typeof input === "string") return input;
  return JSON.stringify(input);
}

export function describeAction(a: RawAction): string {
  if (a.actionType === ActionType.CallActivity || a.actionType === ActionType.CallActivityWithRetry) {
    return `${ACTION_NAMES[a.actionType]} '${a.functionName}'`;
  }
  return ACTION_NAMES[a.actionType] ?? `action type ${a.actionType}`;
}
