// Copies non-TypeScript assets the compiled app reads at run time (Lua scripts, JSON documents) into dist/.
const { cpSync, existsSync } = require("node:fs");
const { join } = require("node:path");
const root = join(__dirname, "..");
for (const dir of ["src/store/lua", "src/schemas", "src/functions/dashboard", "local-runtime/lua"]) {
  const from = join(root, dir);
  if (existsSync(from)) cpSync(from, join(root, "dist", dir), { recursive: true });
}
