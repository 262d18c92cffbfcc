/**
 * `npm start`'s metrics: the local runtime registers the OpenTelemetry Prometheus exporter before the app
 * loads and serves the app's metrics as Prometheus text (the exporter's own serializer) and as JSON.
 */
import { expect, it } from "vitest";
import { PROMETHEUS_PATH } from "../../local-runtime/metrics/localMetrics";
import { api, matchSettings, until, useApp } from "../e2e/harness";

const app = useApp(matchSettings({ duel: 2 }, ["westeurope"], 60));

it("serves the app's metrics as Prometheus text and as JSON, and they move as players match", async () => {
  const rt = app();
  const http = api(rt);
  const prometheus = async () => {
    const res = await fetch(`${rt.baseUrl}${PROMETHEUS_PATH}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    return res.text();
  };
  const before = await prometheus();
  // The gauges are read from the store when scraped: one waiting-players series per mode and region.
  expect(before).toMatch(/^matchmaker_players_waiting\{mode="duel",region="westeurope",[^}]*\} 0$/m);
  expect(before).not.toMatch(/^matchmaker_tickets_matched_total/m);

  expect((await http.call("PUT", "/api/servers/lm-srv1", { address: "10.2.0.1:7777" }, { "x-functions-key": rt.keys.functionKeys[0]! })).status).toBeLessThan(
    300,
  );
  for (const playerId of ["lm-a", "lm-b"]) expect((await http.call("POST", "/api/tickets", { playerId })).status).toBe(202);
  await until(async () => /^matchmaker_tickets_matched_total\{[^}]*\} 2$/m.test(await prometheus()), "2 matched in the Prometheus text", 30_000, 200);

  const text = await prometheus();
  expect(text).toMatch(/^# TYPE matchmaker_tickets_created_total counter$/m);
  expect(text).toMatch(/^matchmaker_tickets_created_total\{mode="duel",region="westeurope",[^}]*\} 2$/m);
  expect(text).toMatch(/^# TYPE matchmaker_time_to_match histogram$/m);
  expect(text).toMatch(/^matchmaker_time_to_match_count\{mode="duel",region="westeurope",[^}]*\} 2$/m);
  expect(text).toMatch(/^matchmaker_redis_script_duration_bucket\{script="assignSessions",[^}]*le="\+Inf"\} [1-9]/m);
  expect(text).toMatch(/^matchmaker_servers\{region="westeurope",state="busy",[^}]*\} 1$/m);

  const json = (await http.call("GET", "/runtime/local/metrics")).json;
  // The host's own counters are still there, the app's metrics beside them.
  expect(json.invocations.addPlayers).toBeGreaterThan(0);
  const matched = json.telemetry.metrics["matchmaker.tickets.matched"];
  expect(matched.kind).toBe("counter");
  expect(matched.points).toEqual([{ attributes: { mode: "duel", region: "westeurope" }, value: 2 }]);
  const ttm = json.telemetry.metrics["matchmaker.time_to_match"];
  expect(ttm.kind).toBe("histogram");
  expect(ttm.unit).toBe("s");
  expect(ttm.points[0].count).toBe(2);
  expect(ttm.points[0].counts.reduce((a: number, b: number) => a + b, 0)).toBe(2);
  // Durable calls per matched player: starts, status reads and raises over the two matched players.
  expect(json.telemetry.derived.durableCallsPerMatchedPlayer).toBeGreaterThanOrEqual(2);
});
