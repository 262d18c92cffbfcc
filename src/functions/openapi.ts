/** `GET /api/openapi.json`: the OpenAPI 3.1 document the handlers validate their bodies with. */
import type { HttpRequest, HttpResponseInit } from "@azure/functions";
import { openapiDocument } from "../usecases/schemas";
import { json } from "./http/respond";
import { httpRoute } from "./http/route";

export async function openapi(_req: HttpRequest): Promise<HttpResponseInit> {
  return json(200, openapiDocument, { "Cache-Control": "public, max-age=300" });
}

httpRoute("openapi", { route: "openapi.json", authLevel: "anonymous" }, { GET: openapi });
