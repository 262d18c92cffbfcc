/** `npm run bench` command line and outputs: flags by util.parseArgs; --out moves the report, charts and results.json together. */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import * as prettier from "prettier";
import { outputPaths, parseBenchArgs, writeOutputs, type BenchResults } from "../../bench/run";

const tmp = mkdtempSync(join(tmpdir(), "mm-bench-out-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("bench command line", () => {
  it("parses --quick, --only, --out and --from, and refuses unknown flags and parts", () => {
    const a = parseBenchArgs(["--quick", "--only=core,e2e", "--out=x/report.md"]);
    expect(a.quick).toBe(true);
    expect([...a.only!]).toEqual(["core", "e2e"]);
    expect(a.out).toBe("x/report.md");
    expect(parseBenchArgs([])).toMatchObject({ quick: false, only: undefined, out: "BENCHMARKS.md", help: false });
    expect(parseBenchArgs(["--help"]).help).toBe(true);
    expect(() => parseBenchArgs(["--quik"])).toThrow(/Unknown option '--quik'/);
    expect(() => parseBenchArgs(["--only=core,cpu"])).toThrow(/--only: unknown part "cpu"/);
  });

  it("keeps the default report's charts in bench/results, and puts another report's beside it", () => {
    expect(outputPaths("/repo", "BENCHMARKS.md")).toEqual({ report: "/repo/BENCHMARKS.md", resultsDir: "/repo/bench/results", link: "bench/results" });
    expect(outputPaths("/repo", "/tmp/q/quick.md")).toEqual({ report: "/tmp/q/quick.md", resultsDir: "/tmp/q/quick-results", link: "quick-results" });
  });

  it("--out writes the Markdown, the SVGs and results.json to the new place, and the links in the Markdown resolve there", async () => {
    const results: BenchResults = {
      startedAt: "2026-11-21T08:00:00.000Z",
      mode: "quick",
      durationSeconds: 1,
      machine: { cpu: "cpu", cores: 2, memoryGb: 8, node: "v20", redis: "7.0", platform: "linux x64" },
      config: { consumers: 4, batchSize: 100, ourPlayers: 100, referencePlayers: 100, floorSeconds: 1 },
      throughput: [],
      memory: [],
      notes: [],
      e2e: {
        available: true,
        players: 8,
        sessionSize: 4,
        matched: 8,
        failed: 0,
        seconds: 1,
        requestToAddressMs: [10, 20],
        requestToToldMs: [5, 6, 7, 8, 9, 10, 11, 12],
        sessionFullToToldMs: [3, 4],
        requestToEnqueuedMs: [1, 2],
        sessionFullToPublishedMs: [1, 1],
        publishedToToldMs: [2, 3],
        functionTimes: {},
        orchestratorEpisodesPerMatched: 2,
        invocationsPerMatched: {},
        totalInvocationsPerMatched: 4,
        pollsPerPlayer: 1,
        ratePerSec: 10,
        processCpuPercent: 10,
        notes: [],
      },
    };
    const out = join(tmp, "elsewhere", "quick.md");
    const log = console.log;
    console.log = () => undefined;
    try {
      await writeOutputs("/nonexistent-root", results, out);
    } finally {
      console.log = log;
    }
    const md = readFileSync(out, "utf8");
    expect(existsSync(join(tmp, "elsewhere", "quick-results", "results.json"))).toBe(true);
    const links = [...md.matchAll(/!\[[^\]]*\]\(([^)]+\.svg)\)/g)].map((m) => m[1]!);
    expect(links.length).toBeGreaterThan(0);
    for (const l of links) expect(existsSync(join(tmp, "elsewhere", l))).toBe(true);
    expect(JSON.parse(readFileSync(join(tmp, "elsewhere", "quick-results", "results.json"), "utf8"))).toEqual(results);
    // Already in the repository's Markdown format: npm test's format check passes on a fresh report.
    expect(await prettier.check(md, { parser: "markdown", printWidth: 160 })).toBe(true);
  });
});
