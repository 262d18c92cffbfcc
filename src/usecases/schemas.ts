/**
 * Validators compiled from the published documents in src/schemas: the Event Hub message schemas and the
 * request bodies of the OpenAPI document. Handlers validate with these, so the documents cannot drift
 * from what the code accepts. Domain rules that depend on settings (known modes and regions) come after,
 * from src/domain/validation.ts.
 */
import Ajv2020, { type ErrorObject, type ValidateFunction } from "ajv/dist/2020";
import addFormats from "ajv-formats";
import playerRequestSchema from "../schemas/player-request.schema.json";
import matchMadeSchema from "../schemas/match-made.schema.json";
import openapiDocument from "../schemas/openapi.json";
import type { ErrorBody } from "../domain/types";

export const OPENAPI_ID = "openapi.json";

// strictSchema off only because the OpenAPI document has keywords (openapi, paths, ...) that are not
// JSON Schema; every schema inside it is plain JSON Schema 2020-12 (OpenAPI 3.1).
const ajv = new Ajv2020({ allErrors: false, strictSchema: false });
addFormats(ajv);
ajv.addSchema({ ...openapiDocument, $id: OPENAPI_ID });

function component(name: string): ValidateFunction {
  const v = ajv.getSchema(`${OPENAPI_ID}#/components/schemas/${name}`);
  if (!v) throw new Error(`OpenAPI document has no schema ${name}`);
  return v;
}

export const validators = {
  playerRequest: ajv.compile(playerRequestSchema),
  matchMade: ajv.compile(matchMadeSchema),
  createTicket: component("CreateTicketRequest"),
  registerServer: component("RegisterServerRequest"),
  releaseServer: component("ReleaseServerRequest"),
  ackServer: component("AckServerRequest"),
  requestBackfill: component("BackfillRequest"),
};

export type ValidatorName = keyof typeof validators;

export { openapiDocument };

/** Turns the first schema error into {error, detail} with a code that names the field. */
export function schemaError(errors: ErrorObject[] | null | undefined, what: string): ErrorBody {
  const e = errors?.[0];
  if (!e) return { error: "invalid_body", detail: `${what} is not valid` };
  const path = e.instancePath.replace(/^\//, "").replace(/\//g, ".");
  const field = path.split(".")[0] ?? "";
  switch (e.keyword) {
    case "required": {
      const missing = (e.params as { missingProperty: string }).missingProperty;
      return { error: "missing_field", detail: `${path ? `${path}.` : ""}${missing} is required in ${what}` };
    }
    case "additionalProperties": {
      const extra = (e.params as { additionalProperty: string }).additionalProperty;
      return { error: "unknown_field", detail: `unexpected field ${JSON.stringify(`${path ? `${path}.` : ""}${extra}`)} in ${what}` };
    }
    default:
      if (!path) return { error: "invalid_body", detail: `${what} ${e.message ?? "is not valid"}` };
      return { error: `invalid_${field}`, detail: `${path} ${e.message ?? "is not valid"}` };
  }
}

/** Validates `value` against a published schema. */
export function checkSchema(name: ValidatorName, value: unknown, what: string): ErrorBody | undefined {
  const v = validators[name];
  return v(value) ? undefined : schemaError(v.errors, what);
}

/** Validates a value against any schema of the OpenAPI document (used by tests to keep answers honest). */
export function checkComponent(name: string, value: unknown): ErrorBody | undefined {
  const v = component(name);
  return v(value) ? undefined : schemaError(v.errors, name);
}
