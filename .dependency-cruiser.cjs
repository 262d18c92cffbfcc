/**
 * The architecture's arrows, checked by `npm test` (npm run lint:deps). Each rule names the layer it keeps
 * honest; the layout and the reason for each arrow are in the README ("Layout").
 */
module.exports = {
  forbidden: [
    {
      name: "no-cycles",
      severity: "error",
      comment: "A cycle makes two modules one: neither can be understood, tested or moved alone.",
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ["type-only"] } },
    },
    {
      name: "domain-is-pure",
      severity: "error",
      comment: "src/domain holds the rules of matchmaking: it imports nothing outside itself (no Node, no Redis, no Azure).",
      from: { path: "^src/domain/" },
      to: { pathNot: "^src/domain/" },
    },
    {
      name: "store-knows-no-settings",
      severity: "error",
      comment: "The store is configured by its caller (modes, regions, prefix as arguments), never by reading app settings.",
      from: { path: "^src/store/" },
      to: { path: "^src/(config|functions|usecases|app|messaging)/" },
    },
    {
      name: "usecases-have-no-azure-types",
      severity: "error",
      comment: "Use cases are plain modules: the function files adapt triggers to them.",
      from: { path: "^src/usecases/" },
      to: { path: "^(src/functions/|node_modules/(@azure/functions|durable-functions)/)" },
    },
    {
      name: "product-is-not-the-tools",
      severity: "error",
      comment: "The deployed app (src/) never imports the local runtime, the simulator, the bench, the client library or the tests.",
      from: { path: "^src/" },
      to: { path: "^(local-runtime|tools|bench|test|client)/" },
    },
    {
      name: "product-uses-only-production-dependencies",
      severity: "error",
      comment: "Code under src/ ships in the package zip, which holds only production dependencies.",
      from: { path: "^src/" },
      to: { dependencyTypes: ["npm-dev"] },
    },
    {
      name: "not-to-unresolvable",
      severity: "error",
      comment: "An import that does not resolve is a typo or a missing dependency.",
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(dist|node_modules|coverage)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.check.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      extensions: [".ts", ".js", ".json", ".d.ts"],
    },
  },
};
