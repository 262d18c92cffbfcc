/**
 * Entry point of the function app (package.json "main"): loads every function file, which registers
 * itself with @azure/functions, and checks the configuration once at start-up so a bad setting shows as
 * one clear error in the log instead of failing each invocation differently.
 */
import { app } from "@azure/functions";
import { appSettings, closeDependencies } from "./functions/wiring";

import "./functions/addPlayers";
import "./functions/matchRequest";
import "./functions/leaveQueue";
import "./functions/assignSessions";
import "./functions/matchMade";
import "./functions/tickets";
import "./functions/ticket";
import "./functions/server";
import "./functions/serverRelease";
import "./functions/servers";
import "./functions/serverAllocation";
import "./functions/stats";
import "./functions/openapi";

app.hook.appStart(() => {
  try {
    appSettings(); // validated once and kept for every invocation
  } catch {
    // Logged by appSettings(), not thrown: a throwing start hook would hide the message behind a generic
    // worker error. Each invocation then fails with the same ConfigError.
  }
});

// Close Redis and Event Hubs connections when the worker shuts down, so in-flight work ends cleanly.
app.hook.appTerminate(() => closeDependencies());
