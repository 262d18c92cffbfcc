#!/usr/bin/env node
// `npm run package` (after `npm run build`): writes the zip that the Function App runs.
//
// Contents: dist/ (compiled app, without the benchmark and the developer tools), host.json, package.json,
// package-lock.json and the production node_modules. The production modules are taken from the installed
// node_modules, selected by package-lock.json (every installed package that is not dev-only), so packaging
// needs no network and ships exactly the versions the tests ran against. The zip is written by the small
// writer below (node:zlib, no zip tool needed) with sorted entries and fixed timestamps, so the same inputs
// give the same bytes.
//
// Usage: node scripts/package.js [--out <file.zip>] [--root <project dir>]   (default: ./matchmaker.zip)
"use strict";
const { readFileSync, readdirSync, statSync, lstatSync, existsSync, openSync, writeSync, closeSync, mkdirSync } = require("node:fs");
const { join, dirname, relative, sep, posix, resolve } = require("node:path");
const { deflateRawSync } = require("node:zlib");

// ---------------------------------------------------------------------------------------------------------
// Zip writer (PKWARE APPNOTE 6.3: local headers, central directory, end record; no zip64).

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf) {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// 1980-01-01 00:00 in DOS format: fixed so that the archive only changes when the content does.
const DOS_TIME = 0;
const DOS_DATE = (0 << 9) | (1 << 5) | 1;

/**
 * Writes a zip file. `entries`: [{ name: "dir/file.js" (forward slashes), data: Buffer, mode?: number }].
 * Small files are stored, others deflated when that makes them smaller.
 */
function writeZip(outFile, entries) {
  if (entries.length > 0xffff) throw new Error(`zip: ${entries.length} entries is more than a zip without zip64 can hold`);
  const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const seen = new Set();
  mkdirSync(dirname(resolve(outFile)), { recursive: true });
  const fd = openSync(outFile, "w");
  const central = [];
  let offset = 0;
  const write = (buf) => {
    writeSync(fd, buf);
    offset += buf.length;
  };
  try {
    for (const e of sorted) {
      if (!e.name || e.name.startsWith("/") || e.name.includes("\\") || e.name.split("/").includes(".."))
        throw new Error(`zip: bad entry name ${JSON.stringify(e.name)}`);
      if (seen.has(e.name)) throw new Error(`zip: duplicate entry ${e.name}`);
      seen.add(e.name);
      const name = Buffer.from(e.name, "utf8");
      const crc = crc32(e.data);
      const deflated = e.data.length > 64 ? deflateRawSync(e.data, { level: 9 }) : null;
      const useDeflate = deflated !== null && deflated.length < e.data.length;
      const body = useDeflate ? deflated : e.data;
      const method = useDeflate ? 8 : 0;
      if (offset > 0xffffffff || body.length > 0xffffffff) throw new Error("zip: archive larger than 4 GiB needs zip64");

      // Version needed .. file name length: the same 26 bytes in the local header and the central directory.
      const fields = Buffer.alloc(26);
      fields.writeUInt16LE(20, 0); // version needed: 2.0 (deflate)
      fields.writeUInt16LE(0x0800, 2); // flags: names are UTF-8
      fields.writeUInt16LE(method, 4);
      fields.writeUInt16LE(DOS_TIME, 6);
      fields.writeUInt16LE(DOS_DATE, 8);
      fields.writeUInt32LE(crc, 10);
      fields.writeUInt32LE(body.length, 14);
      fields.writeUInt32LE(e.data.length, 18);
      fields.writeUInt16LE(name.length, 22);

      const local = Buffer.alloc(30); // extra field length (28) stays 0
      local.writeUInt32LE(0x04034b50, 0);
      fields.copy(local, 4);
      const localOffset = offset;
      write(local);
      write(name);
      write(body);

      const cd = Buffer.alloc(46); // extra, comment, disk, internal attributes (30..37) stay 0
      cd.writeUInt32LE(0x02014b50, 0);
      cd.writeUInt16LE((3 << 8) | 20, 4); // made by: Unix, spec 2.0 (so the mode below is honoured)
      fields.copy(cd, 6);
      cd.writeUInt32LE((((e.mode ?? 0o644) & 0o777) | 0o100000) * 0x10000, 38); // regular file + permissions
      cd.writeUInt32LE(localOffset, 42);
      central.push(cd, name);
    }
    const cdStart = offset;
    for (const b of central) write(b);
    const cdSize = offset - cdStart;
    const end = Buffer.alloc(22); // disk numbers (4, 6) and comment length (20) stay 0
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(sorted.length, 8);
    end.writeUInt16LE(sorted.length, 10);
    end.writeUInt32LE(cdSize, 12);
    end.writeUInt32LE(cdStart, 16);
    write(end);
  } finally {
    closeSync(fd);
  }
  return { entries: sorted.length, bytes: offset };
}

// ---------------------------------------------------------------------------------------------------------
// What goes into the package

/** Directories of dist/ that are development tools, not the app: the benchmark, the simulator, and the local
 *  runtime that plays the Functions host for `npm start` (Azure runs the real host). */
const DIST_EXCLUDE = ["dist/bench", "dist/local-runtime", "dist/tools", "dist/test"];
/** Inside node_modules: not needed at run time (.bin holds symlinks to CLIs; caches are machine-local). */
const MODULE_SKIP_DIRS = new Set([".bin", ".cache"]);

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
    files.push(...walkFiles(join(root, m), root, (_rel, name) => MODULE_SKIP_DIRS.has(name) || name === "node_modules"));
  }
  return files;
}

function packageApp(root, outFile) {
  const inside = relative(join(root, "dist"), resolve(outFile));
  if (!inside.startsWith("..") && !inside.startsWith(sep)) throw new Error("the zip must not be written inside dist/, which it packages");
  const files = collectPackageFiles(root);
  const result = writeZip(
    outFile,
    files.map((f) => ({ name: f.rel.split(sep).join(posix.sep), data: readFileSync(f.abs), mode: f.mode })),
  );
  return { ...result, files: files.map((f) => f.rel) };
}

module.exports = { crc32, writeZip, collectPackageFiles, productionModules, packageApp, matchesMain };

if (require.main === module) {
  const args = process.argv.slice(2);
  const rootAt = args.indexOf("--root");
  const root = resolve(rootAt >= 0 && args[rootAt + 1] ? args[rootAt + 1] : join(__dirname, ".."));
  const outAt = args.indexOf("--out");
  const out = resolve(outAt >= 0 && args[outAt + 1] ? args[outAt + 1] : join(root, "matchmaker.zip"));
  try {
    const { entries, bytes } = packageApp(root, out);
    console.log(`package: ${out} (${entries} files, ${(bytes / 1024 / 1024).toFixed(1)} MiB)`);
    console.log("publish: infra/deploy.sh, or az functionapp deployment source config-zip -g <group> -n <app> --src " + relative(process.cwd(), out));
  } catch (err) {
    console.error(`package: ${err.message}`);
    process.exit(1);
  }
}
