/** `GET /api/openapi.json`: the OpenAPI 3.1 document the handlers validate their bodies with. */
import { app, type HttpRequest, type HttpResponseInit } from "@azure/functions";
import { json, route, ROUTE_METHODS } from "../app/http";
import { openapiDocument } from "../app/schemas";

export async function openapi(_req: HttpRequest): Promise<HttpResponseInit> {
  return json(200, openapiDocument, { "Cache-Control": "public, max-age=300" });
}

app.http("openapi", {
  route: "openapi.json",
  methods: [...ROUTE_METHODS],
  authLevel: "anonymous",
  handler: route({ GET: openapi }),
});
