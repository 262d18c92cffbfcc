/** A JSON request over fetch that never throws on a non-JSON answer: the simulator's and tests' HTTP client. */
export interface JsonResponse {
  status: number;
  /** Parsed JSON body; the raw text when it is not JSON; undefined when empty. */
  json: unknown;
  headers: Headers;
}

export async function requestJson(url: string, method: string, body?: unknown, headers: Record<string, string> = {}): Promise<JsonResponse> {
  const res = await fetch(url, {
    method,
    headers: { "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: res.status, json, headers: res.headers };
}
