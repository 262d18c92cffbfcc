/**
 * Imported first by src/index.ts: telemetry is set up before any function module loads, so the HTTP,
 * Event Hubs and Redis libraries the distro instruments are patched before they are first required.
 */
import { startTelemetry } from "./setup";

startTelemetry(process.env);
