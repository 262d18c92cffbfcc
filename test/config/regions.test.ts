/** MATCH_REGIONS with zones (issue 14): the parser, the settings, and the key names a zone gives its regions. */
import { describe, expect, it } from "vitest";
import { parseMatchRegions } from "../../src/config/regions";
import { ConfigError, loadSettings } from "../../src/config/settings";
import { homeRegion, zoneOf, zoneRegions } from "../../src/domain/latency";
import { latencyPoolPrefix, regionKey, regionPrefix, routingKey } from "../../src/store/keys";

const KEYS = { TICKET_SIGNING_KEYS: JSON.stringify([{ kid: "k1", key: "k".repeat(40) }]) };
const EU = { zone: "eu", regions: ["westeurope", "northeurope"] };

describe("MATCH_REGIONS", () => {
  it("takes region names and zones side by side; a zone's regions keep their place in the list", () => {
    const p = parseMatchRegions(["eastus", EU, "japaneast"]);
    expect(p.problems).toEqual([]);
    expect(p.regions).toEqual(["eastus", "westeurope", "northeurope", "japaneast"]);
    expect(p.zones).toEqual({ westeurope: "eu", northeurope: "eu" });
    const layout = { regions: p.regions, zones: p.zones };
    expect(zoneRegions(layout, "northeurope")).toEqual(["westeurope", "northeurope"]);
    expect(zoneRegions(layout, "eastus")).toEqual(["eastus"]);
    expect(zoneOf(p.zones, "constructor")).toBeUndefined();
  });

  it.each([
    ["not an array", { zone: "eu" }, /non-empty array/],
    ["empty", [], /non-empty array/],
    ["a bad region name", ["West Europe"], /\[0\]: "West Europe" is not a region name/],
    ["a region twice", ["eastus", { zone: "us", regions: ["eastus"] }], /region eastus is listed twice/],
    ["a zone twice", [EU, { zone: "eu", regions: ["uksouth"] }], /zone eu is listed twice/],
    ["a zone without regions", [{ zone: "eu", regions: [] }], /\[0\]\.regions must be an array of 1-16/],
    ["a bad zone name", [{ zone: "EU", regions: ["westeurope"] }], /\[0\]\.zone must be a name/],
    ["a typo in a zone", [{ zone: "eu", region: ["westeurope"] }], /unknown field\(s\) region/],
  ])("refuses %s", (_name, value, problem) => {
    expect(parseMatchRegions(value).problems.join("\n")).toMatch(problem);
  });

  it("settings carry the flat regions and the zones; a bad value stops the app with the problem", () => {
    const s = loadSettings({ MATCH_REGIONS: JSON.stringify(["eastus", EU]), DEFAULT_REGION: "westeurope", ...KEYS });
    expect(s.regions).toEqual(["eastus", "westeurope", "northeurope"]);
    expect(s.zones).toEqual({ westeurope: "eu", northeurope: "eu" });
    expect(s.defaultRegion).toBe("westeurope");
    expect(loadSettings({ ...KEYS }).zones).toEqual({});
    expect(() => loadSettings({ MATCH_REGIONS: JSON.stringify([{ zone: "eu", regions: ["westeurope", "westeurope"] }]), ...KEYS })).toThrow(ConfigError);
    expect(() => loadSettings({ MATCH_REGIONS: JSON.stringify([EU]), DEFAULT_REGION: "eastus", ...KEYS })).toThrow(
      /DEFAULT_REGION "eastus" is not in MATCH_REGIONS/,
    );
  });

  it("the home of a ticket with latencies and no region is its served region of lowest latency (ties: configured order)", () => {
    const layout = { regions: ["eastus", "westeurope", "northeurope"], zones: { westeurope: "eu", northeurope: "eu" } };
    expect(homeRegion(layout, { northeurope: 30, westeurope: 40, eastus: 90 })).toBe("northeurope");
    expect(homeRegion(layout, { northeurope: 40, westeurope: 40 })).toBe("westeurope");
    expect(homeRegion(layout, { uksouth: 5 })).toBeUndefined();
  });
});

describe("keys of zones", () => {
  const zones = { westeurope: "eu", northeurope: "eu" };
  it("a region in no zone keeps its keys; a zone's regions share the zone's hash tag, each under its own name", () => {
    expect(regionPrefix("mm", "eastus", zones)).toBe("mm:{eastus}:");
    expect(regionPrefix("mm", "eastus")).toBe("mm:{eastus}:");
    expect(regionKey("mm", "westeurope", "Session", "westeurope.7", zones)).toBe("mm:{zone.eu}:westeurope:Session:westeurope.7");
    expect(routingKey("mm", "northeurope", zones)).toBe("mm:{zone.eu}:northeurope:SessionSeq");
    expect(latencyPoolPrefix("mm", "northeurope", zones)).toBe("mm:{zone.eu}:Latency:");
    expect(latencyPoolPrefix("mm", "eastus", zones)).toBe("mm:{eastus}:Latency:");
  });
});
