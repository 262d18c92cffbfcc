/**
 * `npm run package`: the zip writer (read back with our own central-directory reader and with `unzip` when the
 * machine has it) and the selection of files (app, host.json, manifests, production node_modules only).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, linkSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { crc32, inflateRawSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT } from "./support";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const pkg = require(join(ROOT, "scripts", "package.js")) as {
  writeZip(out: string, entries: { name: string; data: Buffer; mode?: number }[]): Promise<{ entries: number; bytes: number }>;
  collectPackageFiles(root: string): { rel: string }[];
  productionModules(root: string): string[];
};

interface ZipEntry {
  name: string;
  method: number;
  crc: number;
  data: Buffer;
  mode: number;
}

/** Reads a zip through its central directory (as unzip does), inflating every entry. */
function readZip(file: string): ZipEntry[] {
  const buf = readFileSync(file);
  const eocd = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error("no end of central directory record");
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error(`bad central directory header at ${p}`);
    const method = buf.readUInt16LE(p + 10);
    const crc = buf.readUInt32LE(p + 16);
    const csize = buf.readUInt32LE(p + 20);
    const size = buf.readUInt32LE(p + 24);
    const nlen = buf.readUInt16LE(p + 28);
    const xlen = buf.readUInt16LE(p + 30);
    const clen = buf.readUInt16LE(p + 32);
    const mode = buf.readUInt32LE(p + 38) >>> 16;
    const local = buf.readUInt32LE(p + 42);
    const name = buf.subarray(p + 46, p + 46 + nlen).toString("utf8");
    if (buf.readUInt32LE(local) !== 0x04034b50) throw new Error(`bad local header for ${name}`);
    const lstart = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const raw = buf.subarray(lstart, lstart + csize);
    const data =
      method === 8
        ? inflateRawSync(raw)
        : method === 0
          ? Buffer.from(raw)
          : (() => {
              throw new Error(`method ${method}`);
            })();
    if (data.length !== size) throw new Error(`${name}: size ${data.length} != ${size}`);
    entries.push({ name, method, crc, data, mode });
    p += 46 + nlen + xlen + clen;
  }
  return entries;
}

const hasUnzip = spawnSync("unzip", ["-v"]).status === 0;
const tmp = mkdtempSync(join(tmpdir(), "mm-package-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function put(root: string, rel: string, content: string): void {
  mkdirSync(dirname(join(root, rel)), { recursive: true });
  writeFileSync(join(root, rel), content);
}

/** A tiny project: one production dependency with a nested production dependency, one scoped, one dev-only. */
function fixtureProject(name: string): string {
  const root = join(tmp, name);
  put(
    root,
    "package.json",
    JSON.stringify({
      name: "fixture",
      main: "dist/src/functions/*.js",
      dependencies: { "prod-a": "1", "@scope/prod-d": "1" },
      devDependencies: { "dev-b": "1" },
    }),
  );
  put(root, "host.json", JSON.stringify({ version: "2.0" }));
  put(
    root,
    "package-lock.json",
    JSON.stringify({
      lockfileVersion: 3,
      packages: {
        "": { name: "fixture" },
        "node_modules/prod-a": { version: "1.0.0" },
        "node_modules/prod-a/node_modules/nested-c": { version: "1.0.0" },
        "node_modules/prod-a/node_modules/nested-dev": { version: "1.0.0", dev: true },
        "node_modules/@scope/prod-d": { version: "1.0.0" },
        "node_modules/dev-b": { version: "1.0.0", dev: true },
        "node_modules/opt-other-os": { version: "1.0.0", optional: true },
      },
    }),
  );
  put(root, "dist/src/functions/tickets.js", "module.exports = 1;\n".repeat(50));
  put(root, "dist/src/store/lua/enqueue.lua", "return 1\n");
  put(root, "dist/bench/run.js", "bench");
  put(root, "dist/tools/simulate.js", "devtools");
  put(root, "dist/local-runtime/main.js", "local runtime");
  put(root, "node_modules/prod-a/index.js", "a");
  // What Node never loads (maps, declarations, TypeScript sources, docs) stays out; the licence ships.
  for (const devFile of ["index.js.map", "index.d.ts", "index.d.mts", "src/index.ts", "README.md", "CHANGELOG.md", "readme.markdown"])
    put(root, `node_modules/prod-a/${devFile}`, "not loaded at run time");
  put(root, "node_modules/prod-a/LICENSE", "MIT");
  put(root, "node_modules/prod-a/node_modules/nested-c/index.js", "c");
  put(root, "node_modules/prod-a/node_modules/nested-dev/index.js", "nested dev");
  put(root, "node_modules/@scope/prod-d/index.js", "d");
  put(root, "node_modules/dev-b/index.js", "b");
  mkdirSync(join(root, "node_modules/.bin"), { recursive: true });
  symlinkSync("../dev-b/index.js", join(root, "node_modules/.bin/dev-b"));
  return root;
}

describe("zip writer", () => {
  it("writes a zip that reads back entry for entry, stored and deflated, with CRCs and modes", async () => {
    const entries = [
      { name: "host.json", data: Buffer.from('{"version":"2.0"}') },
      { name: "dist/src/big.js", data: Buffer.from("const x = 1;\n".repeat(1000)) },
      { name: "dist/src/ünïcode.txt", data: Buffer.from("héllo") },
      { name: "empty.txt", data: Buffer.alloc(0) },
      { name: "bin/tool", data: Buffer.from("#!/bin/sh\necho hi\n"), mode: 0o755 },
    ];
    const out = join(tmp, "plain.zip");
    const res = await pkg.writeZip(out, entries);
    expect(res.entries).toBe(entries.length);
    const read = readZip(out);
    expect(read.map((e) => e.name)).toEqual([...entries.map((e) => e.name)].sort());
    for (const e of entries) {
      const r = read.find((x) => x.name === e.name)!;
      expect(r.data.equals(e.data)).toBe(true);
      expect(r.crc).toBe(crc32(e.data));
      expect(r.mode & 0o777).toBe(e.mode ?? 0o644);
    }
    expect(read.find((e) => e.name === "dist/src/big.js")!.method).toBe(8);
    expect(read.find((e) => e.name === "host.json")!.method).toBe(0);
    // Same input, same bytes: fixed timestamps and sorted entries.
    const again = join(tmp, "plain2.zip");
    await pkg.writeZip(again, [...entries].reverse());
    expect(readFileSync(again).equals(readFileSync(out))).toBe(true);
    if (hasUnzip) {
      expect(execFileSync("unzip", ["-tq", out]).toString()).toMatch(/No errors detected/);
      expect(execFileSync("unzip", ["-p", out, "dist/src/big.js"]).toString()).toBe("const x = 1;\n".repeat(1000));
    }
  });

  it("refuses names that would escape the extraction folder, and duplicates", () => {
    expect(() => pkg.writeZip(join(tmp, "bad.zip"), [{ name: "../evil", data: Buffer.from("x") }])).toThrow(/bad entry name/);
    expect(() => pkg.writeZip(join(tmp, "bad.zip"), [{ name: "/abs", data: Buffer.from("x") }])).toThrow(/bad entry name/);
    expect(() => pkg.writeZip(join(tmp, "bad.zip"), [{ name: "a\\b", data: Buffer.from("x") }])).toThrow(/bad entry name/);
    expect(() =>
      pkg.writeZip(join(tmp, "dup.zip"), [
        { name: "a", data: Buffer.alloc(1) },
        { name: "a", data: Buffer.alloc(1) },
      ]),
    ).toThrow(/duplicate/);
  });
});

describe("package contents", () => {
  it("ships the app, host.json, the manifests and production modules only (CLI, read back as a zip)", () => {
    const root = fixtureProject("cli");
    const out = join(tmp, "cli.zip");
    const run = spawnSync(process.execPath, [join(ROOT, "scripts", "package.js"), "--root", root, "--out", out], { encoding: "utf8" });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/package: .*cli\.zip \(9 files/);
    const names = readZip(out).map((e) => e.name);
    expect(names).toEqual(
      [
        "dist/src/functions/tickets.js",
        "dist/src/store/lua/enqueue.lua",
        "host.json",
        "node_modules/@scope/prod-d/index.js",
        "node_modules/prod-a/LICENSE",
        "node_modules/prod-a/index.js",
        "node_modules/prod-a/node_modules/nested-c/index.js",
        "package-lock.json",
        "package.json",
      ].sort(),
    );
    if (hasUnzip) expect(execFileSync("unzip", ["-l", out]).toString()).toMatch(/host\.json/);
  });

  it("answers --help with its usage and refuses an unknown flag (util.parseArgs)", () => {
    const help = spawnSync(process.execPath, [join(ROOT, "scripts", "package.js"), "--help"], { encoding: "utf8" });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/usage: node scripts\/package\.js \[--out <file\.zip>\] \[--root <project dir>\]/);
    const bad = spawnSync(process.execPath, [join(ROOT, "scripts", "package.js"), "--outt", "x.zip"], { encoding: "utf8" });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/package: Unknown option '--outt'/);
  });

  it("fails clearly when the build or the install is missing", () => {
    const noDist = fixtureProject("nodist");
    rmSync(join(noDist, "dist"), { recursive: true });
    expect(() => pkg.collectPackageFiles(noDist)).toThrow(/dist\/ is missing: run `npm run build`/);

    const noMain = fixtureProject("nomain");
    rmSync(join(noMain, "dist/src/functions"), { recursive: true });
    expect(() => pkg.collectPackageFiles(noMain)).toThrow(/"main" \(dist\/src\/functions\/\*\.js\) matches no file/);

    const needsLocal = fixtureProject("needslocal");
    put(needsLocal, "dist/src/functions/bad.js", 'const x = require("../../local-runtime/main");');
    expect(() => pkg.collectPackageFiles(needsLocal)).toThrow(
      /dist\/src\/functions\/bad\.js requires \.\.\/\.\.\/local-runtime\/main, which is in dist\/local-runtime\/ and is not packaged/,
    );

    const notInstalled = fixtureProject("notinstalled");
    rmSync(join(notInstalled, "node_modules/prod-a/node_modules/nested-c"), { recursive: true });
    expect(() => pkg.collectPackageFiles(notInstalled)).toThrow(/nested-c is a production dependency .* run `npm ci`/);
  });

  it("selects this project's real production dependencies from its lock file, without dev tools", () => {
    const modules = pkg.productionModules(ROOT);
    for (const m of [
      "@azure/functions",
      "durable-functions",
      "redis",
      "@redis/entraid",
      "@azure/event-hubs",
      "@azure/identity",
      "ajv",
      "@azure/monitor-opentelemetry",
    ]) {
      expect(modules).toContain(`node_modules/${m}`);
    }
    // croner runs the local runtime's timers only; yazl writes this zip; Colyseus is the bench's peer;
    // playwright-core drives the dashboard's browser test.
    // (@types/node does ship: the Azure Monitor distro's instrumentations list @types/* as dependencies.)
    for (const m of ["vitest", "typescript", "vite", "croner", "yazl", "@colyseus/core", "@colyseus/redis-presence", "ioredis", "playwright-core"]) {
      expect(modules).not.toContain(`node_modules/${m}`);
    }
  });

  it("ships enough modules to run: every production dependency loads from the packaged node_modules alone", () => {
    // A project with this repository's manifests and installed modules, and an app that loads every dependency.
    const root = join(tmp, "real");
    mkdirSync(root);
    for (const f of ["package.json", "package-lock.json", "host.json"]) copyFileSync(join(ROOT, f), join(root, f));
    symlinkSync(join(ROOT, "node_modules"), join(root, "node_modules"));
    const deps = Object.keys((JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string> }).dependencies);
    const main = String((JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { main: string }).main).replace("*", "app");
    // The Azure Monitor distro also requires its instrumentations lazily, when it starts: start it too (an
    // unreachable ingestion endpoint; the process exits before anything is sent).
    const distro =
      'require("@azure/monitor-opentelemetry").useAzureMonitor({ enableLiveMetrics: false, azureMonitorExporterOptions: { connectionString: ' +
      '"InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=http://127.0.0.1:9/" } });';
    put(root, main, deps.map((d) => `require(${JSON.stringify(d)});`).join("\n") + `\n${distro}\nconsole.log("loaded");\nprocess.exit(0);\n`);
    const files = pkg.collectPackageFiles(root);
    // Lay the selected files out as the zip would extract them (hard links: same content, no copying).
    const out = join(tmp, "real-extracted");
    const made = new Set<string>();
    for (const f of files as { rel: string; abs: string }[]) {
      const dir = dirname(join(out, f.rel));
      if (!made.has(dir)) {
        mkdirSync(dir, { recursive: true });
        made.add(dir);
      }
      try {
        linkSync(f.abs, join(out, f.rel));
      } catch {
        copyFileSync(f.abs, join(out, f.rel));
      }
    }
    const res = spawnSync(process.execPath, [join(out, main)], { cwd: out, encoding: "utf8", env: { ...process.env, NODE_PATH: "" } });
    expect(res.stderr).toBe("");
    expect(res.stdout.trim()).toBe("loaded");
  });
});
