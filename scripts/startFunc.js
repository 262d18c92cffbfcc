#!/usr/bin/env node
// `npm run start:func`: builds, then runs the app on the real Functions host (`func start`, Azure Functions
// Core Tools). Core Tools is not an npm dependency of this project (its npm package downloads the host at
// install time), so this first checks that `func` is there and says how to get it when it is not.
//
// Usage: node scripts/startFunc.js [--skip-build] [--help] [-- <arguments for func start>]
"use strict";
const { spawn, spawnSync } = require("node:child_process");
const { parseArgs } = require("node:util");

const USAGE = `usage: npm run start:func [-- --skip-build] [-- -- <arguments for func start>]
  Builds (npm run build), then runs \`func start\` (Azure Functions Core Tools v4) in this folder.
  --skip-build  run func start on the existing dist/
  --help        this text`;

const FUNC_MISSING = `npm run start:func needs Azure Functions Core Tools (the \`func\` command), and \`func\` is not on PATH.
Install Core Tools v4: https://learn.microsoft.com/azure/azure-functions/functions-run-local#install-the-azure-functions-core-tools
  (npm: \`npm install -g azure-functions-core-tools@4\`, which downloads the Functions host; or your OS package manager).
Without Core Tools, \`npm start\` runs the same functions on this project's local runtime.`;

/** True when a `func` command answers `func --version`. */
function funcAvailable(env = process.env) {
  const probe = spawnSync("func", ["--version"], { stdio: "ignore", env, shell: process.platform === "win32" });
  return !probe.error && probe.status === 0;
}

function main(argv) {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { "skip-build": { type: "boolean" }, help: { type: "boolean", short: "h" } },
    strict: true,
    allowPositionals: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!funcAvailable()) {
    console.error(FUNC_MISSING);
    return 1;
  }
  if (!values["skip-build"]) {
    const build = spawnSync("npm", ["run", "build"], { stdio: "inherit", shell: process.platform === "win32" });
    if (build.status !== 0) return build.status ?? 1;
  }
  const child = spawn("func", ["start", ...positionals], { stdio: "inherit", shell: process.platform === "win32" });
  for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
  return undefined;
}

if (require.main === module) {
  try {
    const code = main(process.argv.slice(2));
    if (code !== undefined) process.exitCode = code;
  } catch (err) {
    console.error(`start:func: ${err.message}`);
    process.exitCode = 1;
  }
}

module.exports = { FUNC_MISSING, funcAvailable };
