/**
 * infra/deploy.sh, run offline against a fake `az` that records every call and answers like the real CLI:
 * the order of steps, the template and parameters it deploys, the signing key it keeps, and that the code is
 * published to every Function App of the deployment.
 */
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT } from "./support";

const SCRIPT = join(ROOT, "infra", "deploy.sh");
const tmp = mkdtempSync(join(tmpdir(), "mm-deploy-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * A fake az (bash, so that it starts fast): appends each call to $AZ_LOG as one line of arguments separated by
 * the unit separator, copies the @parameter files it is given next to the log (the script deletes its
 * temporary one), and answers from AZ_* environment variables. Unknown commands fail, so a new az call in
 * the script must be taught to this fake (and checked) first.
 */
const FAKE_AZ = `#!/usr/bin/env bash
line=""
for a in "$@"; do
  if [[ "$a" == @* ]]; then
    n=$(ls "$AZ_LOG.files" 2>/dev/null | wc -l)
    mkdir -p "$AZ_LOG.files" && cp "\${a#@}" "$AZ_LOG.files/$n.json"
    a="$a=>$n"
  fi
  line+="$a"$'\\x1f'
done
printf '%s\\n' "$line" >>"$AZ_LOG"
cmd=""
for a in "$@"; do [[ "$a" == -* ]] && break; cmd+="$a "; done
case "\${cmd% }" in
  "account show") [[ "$AZ_LOGGED_IN" == 1 ]] || exit 1; echo "{}" ;;
  "group show") [[ "$AZ_GROUP_EXISTS" == 1 ]] || exit 3 ;;
  "group create") ;;
  "functionapp list") [[ -n "$AZ_APPS" ]] && echo "$AZ_APPS" ;;
  "resource list") [[ -n "$AZ_VAULT" ]] && echo "$AZ_VAULT" ;;
  "resource show") [[ -n "$AZ_VAULT" && "$AZ_SECRET_EXISTS" == 1 ]] && echo "/subscriptions/s/resourceGroups/g/providers/Microsoft.KeyVault/vaults/$AZ_VAULT/secrets/ticket-signing-keys" || exit 3 ;;
  "deployment group create" | "deployment group show") echo "$AZ_OUTPUTS" ;;
  "functionapp deployment source config-zip") ;;
  *) echo "fake az: unexpected $*" >&2; exit 9 ;;
esac
`;

const bin = join(tmp, "bin");
mkdirSync(bin);
writeFileSync(join(bin, "az"), FAKE_AZ);
chmodSync(join(bin, "az"), 0o755);
const zip = join(tmp, "matchmaker.zip");
writeFileSync(zip, "PK\u0005\u0006" + "\0".repeat(18));

interface Call {
  args: string[];
  files: Record<string, { parameters: Record<string, { value: unknown }> }>;
}

async function run(args: string[], state: Record<string, unknown>) {
  const log = join(tmp, `log-${Math.random().toString(36).slice(2)}.jsonl`);
  writeFileSync(log, "");
  const azEnv = {
    AZ_LOG: log,
    AZ_LOGGED_IN: state.loggedIn ? "1" : "0",
    AZ_GROUP_EXISTS: state.groupExists ? "1" : "0",
    AZ_APPS: ((state.apps as string[] | undefined) ?? []).join("\n"),
    AZ_VAULT: String(state.vault ?? ""),
    AZ_SECRET_EXISTS: state.secretExists ? "1" : "0",
    AZ_OUTPUTS: JSON.stringify(state.outputs ?? {}),
  };
  // Asynchronous, so that the cases (each a few processes) run side by side.
  const res = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn("bash", [SCRIPT, ...args], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, ...azEnv } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
  const calls: Call[] = readFileSync(log, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const files: Call["files"] = {};
      const args = line
        .split("\x1f")
        .slice(0, -1)
        .map((a) => {
          const m = /^(@.*)=>(\d+)$/.exec(a);
          if (!m) return a;
          files[m[1]!] = JSON.parse(readFileSync(`${log}.files/${m[2]}.json`, "utf8")) as Call["files"][string];
          return m[1]!;
        });
      return { args, files };
    });
  // The command is what comes before the first option: "deployment group create".
  const cmd = (c: Call) => {
    const i = c.args.findIndex((a) => a.startsWith("-"));
    return (i < 0 ? c.args : c.args.slice(0, i)).join(" ");
  };
  return { ...res, calls, cmds: calls.map(cmd) };
}

const singleOutputs = {
  functionAppName: { value: "mm-func-abc" },
  ticketApiUrl: { value: "https://mm-func-abc.azurewebsites.net/api/tickets" },
  serverApiUrl: { value: "https://mm-func-abc.azurewebsites.net/api/servers" },
  eventHubNamespace: { value: "mm-ehns-abc.servicebus.windows.net" },
  playerRequestsHub: { value: "player-requests" },
  matchMadeHub: { value: "match-made" },
};

describe.concurrent("infra/deploy.sh", () => {
  it("is valid bash", () => {
    expect(spawnSync("bash", ["-n", SCRIPT]).status).toBe(0);
  });

  it("creates the group, deploys azuredeploy.json with a new signing key, then publishes the zip", async () => {
    const r = await run(["-g", "rg-mm", "-l", "westeurope", "--package", zip], { loggedIn: true, groupExists: false, outputs: singleOutputs });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.cmds).toEqual([
      "account show",
      "group show",
      "group create",
      "resource list",
      "deployment group create",
      "functionapp deployment source config-zip",
    ]);
    const deploy = r.calls[4]!;
    expect(deploy.args[deploy.args.indexOf("--template-file") + 1]).toBe(join(ROOT, "azuredeploy.json"));
    const paramFiles = Object.entries(deploy.files);
    expect(paramFiles.map(([k]) => k)[0]).toBe(`@${join(ROOT, "infra", "azuredeploy.parameters.json")}`);
    const secret = paramFiles[1]![1].parameters;
    expect(String(secret.ticketSigningKey!.value).length).toBeGreaterThanOrEqual(32);
    // A new deployment: the template writes the initial key into the new vault.
    expect(secret.keepTicketSigningKeys!.value).toBe(false);
    expect(secret.namePrefix!.value).toBe("mm");
    // The key never appears on a command line.
    expect(r.calls.flatMap((c) => c.args).join(" ")).not.toContain(String(secret.ticketSigningKey!.value));
    const publish = r.calls[5]!;
    expect(publish.args).toEqual(expect.arrayContaining(["-g", "rg-mm", "-n", "mm-func-abc", "--src", zip]));
    expect(r.stdout).toContain("Ticket API:  https://mm-func-abc.azurewebsites.net/api/tickets");
  });

  it("keeps the signing keys in the Key Vault of an existing deployment, without reading them", async () => {
    const r = await run(["-g", "rg-mm", "--package", zip], {
      loggedIn: true,
      groupExists: true,
      apps: ["mm-func-abc"],
      vault: "mm-kv-abc",
      secretExists: true,
      outputs: singleOutputs,
    });
    expect(r.status).toBe(0);
    expect(r.cmds).not.toContain("group create");
    expect(r.cmds).toEqual(expect.arrayContaining(["resource list", "resource show"]));
    // Only the control plane is asked whether the secret exists: no data-plane read of its value.
    expect(r.cmds.filter((c) => c.startsWith("keyvault"))).toEqual([]);
    const deploy = r.calls.find((c) => c.args[0] === "deployment")!;
    expect(Object.values(deploy.files)[1]!.parameters.keepTicketSigningKeys!.value).toBe(true);
    expect(r.stdout).toContain("keeping the ticket signing keys in Key Vault");
  });

  it("writes a new initial key when the vault exists but holds no signing keys yet", async () => {
    const r = await run(["-g", "rg-mm", "--package", zip], {
      loggedIn: true,
      groupExists: true,
      vault: "mm-kv-abc",
      secretExists: false,
      outputs: singleOutputs,
    });
    expect(r.status).toBe(0);
    const deploy = r.calls.find((c) => c.args[0] === "deployment")!;
    expect(Object.values(deploy.files)[1]!.parameters.keepTicketSigningKeys!.value).toBe(false);
  });

  it("deploys the multi-region template with --regions and publishes to every stamp", async () => {
    const outputs = {
      trafficManagerFqdn: { value: "mm-tm-abc.trafficmanager.net" },
      stamps: {
        value: [
          { region: "westeurope", functionAppName: "mm-func-we", ticketApiUrl: "https://mm-func-we.azurewebsites.net/api/tickets" },
          { region: "eastus2", functionAppName: "mm-func-us", ticketApiUrl: "https://mm-func-us.azurewebsites.net/api/tickets" },
        ],
      },
    };
    const r = await run(["-g", "rg-mm", "--regions", "westeurope,eastus2", "--custom-domain", "play.example.com", "--package", zip], {
      loggedIn: true,
      groupExists: true,
      outputs,
    });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const deploy = r.calls.find((c) => c.args[0] === "deployment")!;
    expect(deploy.args[deploy.args.indexOf("--template-file") + 1]).toBe(join(ROOT, "infra", "azuredeploy.multiregion.json"));
    expect(Object.keys(deploy.files)[0]).toBe(`@${join(ROOT, "infra", "azuredeploy.multiregion.parameters.json")}`);
    expect(Object.values(deploy.files)[1]!.parameters.regions!.value).toEqual(["westeurope", "eastus2"]);
    expect(Object.values(deploy.files)[1]!.parameters.customDomain!.value).toBe("play.example.com");
    const published = r.calls.filter((c) => c.args.includes("config-zip")).map((c) => c.args[c.args.indexOf("-n") + 1]);
    expect(published).toEqual(["mm-func-we", "mm-func-us"]);
    expect(r.stdout).toContain("Traffic Manager: mm-tm-abc.trafficmanager.net");
  });

  it("with --skip-infra publishes to the apps of the last deployment without deploying", async () => {
    const r = await run(["-g", "rg-mm", "--skip-infra", "--package", zip], { loggedIn: true, outputs: singleOutputs });
    expect(r.status).toBe(0);
    expect(r.cmds).toEqual(["account show", "deployment group show", "functionapp deployment source config-zip"]);
  });

  it("stops before touching Azure when not logged in or when arguments are wrong", async () => {
    const notLoggedIn = await run(["-g", "rg-mm", "--package", zip], { loggedIn: false });
    expect(notLoggedIn.status).not.toBe(0);
    expect(notLoggedIn.stderr).toContain("run az login");
    expect(notLoggedIn.cmds).toEqual(["account show"]);
    const noGroup = await run(["--package", zip], { loggedIn: true });
    expect(noGroup.status).not.toBe(0);
    expect(noGroup.stderr).toContain("missing -g");
    expect(noGroup.cmds).toEqual([]);
    const badPrefix = await run(["-g", "rg", "-p", "Bad_Prefix", "--package", zip], { loggedIn: true });
    expect(badPrefix.stderr).toContain("--prefix must be");
  });
});
