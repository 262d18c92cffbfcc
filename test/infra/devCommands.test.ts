/**
 * Developer commands on a machine that lacks a tool: `npm test` without redis-server and `npm run start:func`
 * without Core Tools say what is missing and how to get it, first and plainly.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT } from "./support";

/** A PATH with node and nothing else (no redis-server, no func). */
const bare = mkdtempSync(join(tmpdir(), "mm-bare-path-"));
symlinkSync(process.execPath, join(bare, "node"));
afterAll(() => rmSync(bare, { recursive: true, force: true }));

describe("npm test without redis-server", () => {
  it("starts with what is missing and how to install it, not with 'No test files found'", () => {
    const run = spawnSync(process.execPath, [join(ROOT, "node_modules", "vitest", "vitest.mjs"), "run", "test/bench/svgChart.test.ts"], {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, PATH: bare },
    });
    expect(run.status).toBe(1);
    const out = `${run.stdout}${run.stderr}`.trim();
    expect(out.startsWith("npm test needs redis-server on PATH")).toBe(true);
    expect(out).toMatch(/apt-get install -y redis-server/);
    expect(out).not.toMatch(/No test files found/);
  });
});

describe("npm run start:func", () => {
  const script = join(ROOT, "scripts", "startFunc.js");

  it("without Core Tools says that `func` is missing and how to get it (never 'func: not found')", () => {
    const run = spawnSync(process.execPath, [script], { encoding: "utf8", env: { ...process.env, PATH: bare } });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/needs Azure Functions Core Tools \(the `func` command\), and `func` is not on PATH/);
    expect(run.stderr).toMatch(/azure-functions-core-tools@4/);
    expect(run.stderr).toMatch(/npm start/);
    expect(run.stderr).not.toMatch(/not found$/m);
  });

  it("with Core Tools runs `func start` with the arguments after --", () => {
    const dir = mkdtempSync(join(tmpdir(), "mm-func-"));
    try {
      const func = join(dir, "func");
      writeFileSync(func, '#!/bin/sh\nif [ "$1" = "--version" ]; then echo 4.0.0; exit 0; fi\necho "func called with: $*"\n');
      chmodSync(func, 0o755);
      const run = spawnSync(process.execPath, [script, "--skip-build", "--", "--port", "7072"], {
        encoding: "utf8",
        env: { ...process.env, PATH: `${dir}:${bare}:/bin:/usr/bin` },
      });
      expect(run.stderr).toBe("");
      expect(run.stdout).toBe("func called with: start --port 7072\n");
      expect(run.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("answers --help", () => {
    expect(spawnSync(process.execPath, [script, "--help"], { encoding: "utf8" }).stdout).toMatch(/usage: npm run start:func/);
  });
});
