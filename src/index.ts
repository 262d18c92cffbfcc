/**
 * Entry point of the function app (package.json "main"): loads every function file, which registers
 * itself with @azure/functions, and checks the configuration once at start-up so a bad setting shows as
 * one clear error in the log instead of failing each invocation differently.
 */
import "./telemetry/start"; // first: telemetry is set up before the libraries it instruments load
import { app } from "@azure/functions";
import { appSettings, closeDependencies } from "./functions/wiring";

import "./functions/addPlayers";
import "./functions/matchRequest";
import "./functions/partyConsent";
import "./functions/leaveQueue";
import "./functions/assignSessions";
import "./functions/purgeInstances";
import "./functions/matchMade";
import "./functions/tickets";
import "./functions/ticket";
import "./functions/ticketAccept";
import "./functions/negotiate";
import "./functions/ticketStatus";
import "./functions/server";
import "./functions/serverRelease";
import "./functions/serverAck";
import "./functions/servers";
import "./functions/serverAllocation";
import "./functions/serverBackfill";
import "./functions/stats";
import "./functions/ping";
import "./functions/openapi";
import "./functions/dashboard";

// Invalid settings fail the start, with every problem listed (ConfigError's message), instead of every
// invocation answering 500 configuration_error forever. The host logs the error and the worker does not
// start; the local runtime exits non-zero.
app.hook.appStart(() => {
  appSettings();
});

// Close Redis and Event Hubs connections when the worker shuts down, so in-flight work ends cleanly.
app.hook.appTerminate(() => closeDependencies());
