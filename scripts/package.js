#!/usr/bin/env node
// `npm run package` (after `npm run build`): writes the zip that the Function App runs.
//
// Contents: dist/ (compiled app, without the benchmark, the developer tools and the local runtime), host.json,
// package.json, package-lock.json and the production node_modules (without their maps, declarations and docs). The production modules are taken from the
// installed node_modules, selected by package-lock.json (every installed package that is not dev-only), so
// packaging needs no network and ships exactly the versions the tests ran against. The zip is written by
// yazl (a maintained zip library; a dev dependency, as packaging runs on the developer's machine or in CI)
// with sorted entries and fixed timestamps, so the same inputs give the same bytes.
//
// Usage: node scripts/package.js [--out <file.zip>] [--root <project dir>] [--help]   (default: ./matchmaker.zip)
"use strict";
const { readFileSync, readdirSync, statSync, lstatSync, existsSync, createWriteStream, mkdirSync } = require("node:fs");
const { join, dirname, relative, sep, posix, resolve } = require("node:path");
const { parseArgs } = require("node:util");
const { ZipFile } = require("yazl");

// ---------------------------------------------------------------------------------------------------------
// Zip file

// 1980-01-01 00:00 local time, the earliest DOS timestamp: fixed so that the archive only changes when the content does.
const FIXED_MTIME = new Date(1980, 0, 1, 0, 0, 0);
/** Below this size deflating cannot pay for itself: such entries are stored. */
const STORE_BELOW_BYTES = 64;

/**
 * Writes a zip file. `entries`: [{ name: "dir/file.js" (forward slashes), data: Buffer, mode?: number }].
 * Resolves to { entries, bytes } once the file is on disk.
 */
function writeZip(outFile, entries) {
  const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const seen = new Set();
  for (const e of sorted) {
    // yazl refuses some of these too; checking first gives one clear message and no half-written file.
    if (!e.name || e.name.startsWith("/") || e.name.includes("\\") || e.name.split("/").includes("..") || e.name.endsWith("/"))
      throw new Error(`zip: bad entry name ${JSON.stringify(e.name)}`);
    if (seen.has(e.name)) throw new Error(`zip: duplicate entry ${e.name}`);
    seen.add(e.name);
  }
  mkdirSync(dirname(resolve(outFile)), { recursive: true });
  const zip = new ZipFile();
  for (const e of sorted) {
    zip.addBuffer(e.data, e.name, {
      mtime: FIXED_MTIME,
      mode: ((e.mode ?? 0o644) & 0o777) | 0o100000, // a regular file with its permissions
      compress: e.data.length >= STORE_BELOW_BYTES,
      forceDosTimestamp: true, // no extended-timestamp field: the bytes depend on the content only
    });
  }
  return new Promise((resolvePromise, reject) => {
    const out = createWriteStream(outFile);
    let bytes = 0;
    zip.outputStream.on("data", (chunk) => (bytes += chunk.length));
    zip.outputStream.on("error", reject);
    out.on("error", reject);
    out.on("close", () => resolvePromise({ entries: sorted.length, bytes }));
    zip.outputStream.pipe(out);
    zip.end();
  });
}

// ---------------------------------------------------------------------------------------------------------
// What goes into the package

/** Directories of dist/ that are development tools, not the app: the benchmark, the simulator, and the local
 *  runtime that plays the Functions host for `npm start` (Azure runs the real host). */
const DIST_EXCLUDE = ["dist/bench", "dist/local-runtime", "dist/tools", "dist/test"];
/** Inside node_modules: not needed at run time (.bin holds symlinks to CLIs; caches are machine-local). */
const MODULE_SKIP_DIRS = new Set([".bin", ".cache"]);
/**
 * Files of installed packages that Node never loads: source maps, type declarations, TypeScript sources
 * (shipped for the maps) and the read-me/change log. They were 60% of the zip (40.7 MiB -> 15.8 MiB without
 * them, mostly the OpenTelemetry and Azure SDK packages); licences, package.json and every .js/.json stay.
 */
function isModuleDevFile(name) {
  return /\.(map|ts|mts|cts)$/.test(name) || /^(README|CHANGELOG|HISTORY)(\.(md|markdown|txt))?$/i.test(name);
}

function walkFiles(dir, root, skip = () => false) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const abs = join(dir, name);
    const rel = relative(root, abs).split(sep).join("/");
    if (skip(rel, name)) continue;
    const st = lstatSync(abs);
    if (st.isSymbolicLink()) {
      // Follow links to files (rare in a package); links to directories would duplicate trees: skip them.
      const target = statSync(abs);
      if (target.isFile()) out.push({ rel, abs, mode: target.mode });
    } else if (st.isDirectory()) out.push(...walkFiles(abs, root, skip));
    else if (st.isFile()) out.push({ rel, abs, mode: st.mode });
  }
  return out;
}

function isFile(abs) {
  return statSync(abs).isFile();
}

/** Simple glob for package.json "main" (e.g. dist/src/functions/*.js): `*` within one path segment. */
function matchesMain(main, rel) {
  const re = new RegExp(
    `^${main
      .split("*")
      .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join("[^/]*")}$`,
  );
  return re.test(rel);
}

/** node_modules paths of the production dependency tree, from package-lock.json (lockfile v2/v3). */
function productionModules(root) {
  const lockPath = join(root, "package-lock.json");
  const lock = JSON.parse(readFileSync(lockPath, "utf8"));
  if (!lock.packages || (lock.lockfileVersion ?? 1) < 2) throw new Error("package-lock.json must be lockfileVersion 2 or 3 (npm 7+)");
  const paths = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (!path.startsWith("node_modules/") || entry.dev) continue;
    if (entry.link) continue; // workspace links: not used by this project
    if (!existsSync(join(root, path))) {
      if (entry.optional) continue; // an optional package for another platform
      throw new Error(`${path} is a production dependency in package-lock.json but is not installed: run \`npm ci\` first`);
    }
    paths.push(path);
  }
  return paths;
}

/** Every file of the package: [{ rel (path in the zip), abs, mode }]. */
function collectPackageFiles(root) {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  const files = [];
  for (const f of ["host.json", "package.json", "package-lock.json"]) {
    if (!existsSync(join(root, f))) throw new Error(`${f} is missing: the Function App needs it`);
    files.push({ rel: f, abs: join(root, f), mode: 0o644 });
  }
  if (!existsSync(join(root, "dist"))) throw new Error("dist/ is missing: run `npm run build` first (npm run package does)");
  files.push(...walkFiles(join(root, "dist"), root, (rel) => DIST_EXCLUDE.includes(rel)));

  // Leaving a folder out must not break the app: no shipped module may require one that is left out.
  for (const f of files) {
    if (!f.rel.endsWith(".js")) continue;
    for (const m of readFileSync(f.abs, "utf8").matchAll(/require\(["'](\.{1,2}\/[^"']+)["']\)/g)) {
      const target = relative(root, resolve(dirname(f.abs), m[1]))
        .split(sep)
        .join("/");
      const excluded = DIST_EXCLUDE.find((d) => target === d || target.startsWith(`${d}/`));
      if (excluded) throw new Error(`${f.rel} requires ${m[1]}, which is in ${excluded}/ and is not packaged`);
    }
  }
  if (!pkg.main) throw new Error('package.json has no "main": the Functions host finds the app through it');
  const mains = files.filter((f) => matchesMain(pkg.main, f.rel));
  if (mains.length === 0) throw new Error(`package.json "main" (${pkg.main}) matches no file in dist/: did the build run?`);

  // A package's own nested node_modules holds packages that the lock file lists separately (and flags as
  // dev or not): skip the nested folder here, each production package in it is walked on its own.
  for (const m of productionModules(root)) {
    files.push(
      ...walkFiles(
        join(root, m),
        root,
        (rel, name) => MODULE_SKIP_DIRS.has(name) || name === "node_modules" || (isModuleDevFile(name) && isFile(join(root, rel))),
      ),
    );
  }
  return files;
}

async function packageApp(root, outFile) {
  const inside = relative(join(root, "dist"), resolve(outFile));
  if (!inside.startsWith("..") && !inside.startsWith(sep)) throw new Error("the zip must not be written inside dist/, which it packages");
  const files = collectPackageFiles(root);
  const result = await writeZip(
    outFile,
    files.map((f) => ({ name: f.rel.split(sep).join(posix.sep), data: readFileSync(f.abs), mode: f.mode })),
  );
  return { ...result, files: files.map((f) => f.rel) };
}

module.exports = { writeZip, collectPackageFiles, productionModules, packageApp, matchesMain };

const USAGE = `usage: node scripts/package.js [--out <file.zip>] [--root <project dir>]   (npm run package builds first)
  --out   where to write the zip (default: <root>/matchmaker.zip)
  --root  the project to package (default: this repository)
  --help  this text`;

async function cli(argv) {
  const { values } = parseArgs({
    args: argv,
    options: { out: { type: "string" }, root: { type: "string" }, help: { type: "boolean", short: "h" } },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const root = resolve(values.root ?? join(__dirname, ".."));
  const out = resolve(values.out ?? join(root, "matchmaker.zip"));
  const { entries, bytes } = await packageApp(root, out);
  console.log(`package: ${out} (${entries} files, ${(bytes / 1024 / 1024).toFixed(1)} MiB)`);
  console.log("publish: infra/deploy.sh, or az functionapp deployment source config-zip -g <group> -n <app> --src " + relative(process.cwd(), out));
}

if (require.main === module) {
  cli(process.argv.slice(2)).catch((err) => {
    console.error(`package: ${err.message}`);
    process.exit(1);
  });
}
