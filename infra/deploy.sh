#!/usr/bin/env bash
# Deploys the matchmaker to Azure with the az CLI: builds and packages the code (npm run package), deploys the
# infrastructure (azuredeploy.json, or infra/azuredeploy.multiregion.json with --regions), then publishes the
# zip to every Function App the deployment created. Safe to re-run: every step is idempotent, and the ticket
# signing key of an existing deployment is kept (a new key would invalidate the tokens of tickets in flight).
#
#   infra/deploy.sh -g <resource-group> [-l <location>] [-p <name-prefix>] [--regions westeurope,eastus2]
#                   [--custom-domain <host>] [--parameters <file>] [--package <zip>] [--skip-infra]
#                   [--name <deployment-name>]
#
# Prerequisites: az (logged in: az login), Node 20+ with `npm ci` done (unless --package is given).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RESOURCE_GROUP=""
LOCATION="westeurope"
PREFIX="mm"
REGIONS=""
CUSTOM_DOMAIN=""
PARAMETERS=""
PACKAGE=""
SKIP_INFRA=0
DEPLOYMENT="matchmaker"

usage() {
  sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
  exit "${1:-0}"
}
die() {
  echo "deploy: $*" >&2
  exit 1
}
step() { echo "==> $*"; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    -g | --resource-group) RESOURCE_GROUP="${2:-}"; shift 2 ;;
    -l | --location) LOCATION="${2:-}"; shift 2 ;;
    -p | --prefix) PREFIX="${2:-}"; shift 2 ;;
    --regions) REGIONS="${2:-}"; shift 2 ;;
    --custom-domain) CUSTOM_DOMAIN="${2:-}"; shift 2 ;;
    --parameters) PARAMETERS="${2:-}"; shift 2 ;;
    --package) PACKAGE="${2:-}"; shift 2 ;;
    --skip-infra) SKIP_INFRA=1; shift ;;
    --name) DEPLOYMENT="${2:-}"; shift 2 ;;
    -h | --help) usage 0 ;;
    *) echo "deploy: unknown option $1" >&2; usage 2 ;;
  esac
done

[[ -n "$RESOURCE_GROUP" ]] || die "missing -g <resource-group>"
[[ "$PREFIX" =~ ^[a-z][a-z0-9]{1,9}$ ]] || die "--prefix must be 2-10 lowercase letters/digits starting with a letter"
[[ -z "$CUSTOM_DOMAIN" || -n "$REGIONS" ]] || die "--custom-domain is for the multi-region deployment (--regions)"
command -v az >/dev/null 2>&1 || die "the Azure CLI (az) is not installed: https://aka.ms/installazurecli"
command -v node >/dev/null 2>&1 || die "node is not installed (Node 20+)"
az account show >/dev/null 2>&1 || die "not logged in to Azure: run az login"

if [[ -n "$REGIONS" ]]; then
  TEMPLATE="$ROOT/infra/azuredeploy.multiregion.json"
  DEFAULT_PARAMETERS="$ROOT/infra/azuredeploy.multiregion.parameters.json"
else
  TEMPLATE="$ROOT/azuredeploy.json"
  DEFAULT_PARAMETERS="$ROOT/infra/azuredeploy.parameters.json"
fi
PARAMETERS="${PARAMETERS:-$DEFAULT_PARAMETERS}"
[[ -f "$PARAMETERS" ]] || die "parameters file $PARAMETERS not found"

# 1. Build and package the code first: a broken build must stop the script before it changes anything in Azure.
if [[ -z "$PACKAGE" ]]; then
  command -v npm >/dev/null 2>&1 || die "npm is not installed"
  step "Building and packaging (npm run package)"
  (cd "$ROOT" && npm run --silent package -- --out "$ROOT/matchmaker.zip")
  PACKAGE="$ROOT/matchmaker.zip"
fi
[[ -f "$PACKAGE" ]] || die "package $PACKAGE not found"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
chmod 700 "$WORK"

if [[ "$SKIP_INFRA" -eq 0 ]]; then
  # 2. Resource group.
  if ! az group show -n "$RESOURCE_GROUP" >/dev/null 2>&1; then
    step "Creating resource group $RESOURCE_GROUP in $LOCATION"
    az group create -n "$RESOURCE_GROUP" -l "$LOCATION" -o none
  fi

  # 3. Keep the ticket signing keys of an existing deployment: they live in the stamp's Key Vault (secret
  #    ticket-signing-keys, possibly rotated since). Its existence is read from the control plane, so the
  #    keys themselves never leave the vault; the template then leaves the secret as it is.
  KEEP_KEYS=false
  for vault in $(az resource list -g "$RESOURCE_GROUP" --resource-type Microsoft.KeyVault/vaults --query "[].name" -o tsv 2>/dev/null || true); do
    if az resource show -g "$RESOURCE_GROUP" --resource-type Microsoft.KeyVault/vaults/secrets -n "$vault/ticket-signing-keys" --query id -o tsv >/dev/null 2>&1; then
      KEEP_KEYS=true
      break
    fi
  done
  # The initial key of a new vault (unused when the vault's keys are kept).
  KEY="$(node -e 'process.stdout.write(require("node:crypto").randomBytes(48).toString("base64url"))')"
  [[ "$KEEP_KEYS" == true ]] && echo "    keeping the ticket signing keys in Key Vault"

  # The secret goes in a private temporary parameters file, not on the command line (visible in `ps`).
  node -e '
    const [file, key, keep, prefix, regions, customDomain] = process.argv.slice(1);
    const parameters = { ticketSigningKey: { value: key }, keepTicketSigningKeys: { value: keep === "true" }, namePrefix: { value: prefix } };
    if (regions) parameters.regions = { value: regions.split(",").map((r) => r.trim()).filter(Boolean) };
    if (customDomain) parameters.customDomain = { value: customDomain };
    require("node:fs").writeFileSync(file, JSON.stringify({
      $schema: "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
      contentVersion: "1.0.0.0", parameters }), { mode: 0o600 });
  ' "$WORK/secrets.parameters.json" "$KEY" "$KEEP_KEYS" "$PREFIX" "$REGIONS" "$CUSTOM_DOMAIN"

  # 4. Infrastructure. Later --parameters win, so the secret file overrides the committed defaults.
  step "Deploying $(basename "$TEMPLATE") to $RESOURCE_GROUP (takes 10-20 minutes the first time: Azure Managed Redis)"
  az deployment group create -g "$RESOURCE_GROUP" -n "$DEPLOYMENT" \
    --template-file "$TEMPLATE" \
    --parameters "@$PARAMETERS" \
    --parameters "@$WORK/secrets.parameters.json" \
    --query properties.outputs -o json >"$WORK/outputs.json"
else
  step "Reading the outputs of deployment $DEPLOYMENT"
  az deployment group show -g "$RESOURCE_GROUP" -n "$DEPLOYMENT" --query properties.outputs -o json >"$WORK/outputs.json"
fi

# 5. Publish the code to every Function App of the deployment.
APPS="$(node -e '
  const o = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8")) || {};
  const names = o.stamps ? o.stamps.value.map((s) => s.functionAppName) : [o.functionAppName && o.functionAppName.value];
  if (!names.length || names.some((n) => !n)) { console.error("deployment outputs name no function app"); process.exit(1); }
  console.log(names.join("\n"));
' "$WORK/outputs.json")"
for app in $APPS; do
  step "Publishing $(basename "$PACKAGE") to $app"
  az functionapp deployment source config-zip -g "$RESOURCE_GROUP" -n "$app" --src "$PACKAGE" -o none
done

# 6. Where clients go.
node -e '
  const o = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8")) || {};
  const v = (k) => o[k] && o[k].value;
  console.log("");
  if (v("trafficManagerFqdn")) {
    console.log(`Traffic Manager: ${v("trafficManagerFqdn")} (performance routing)`);
    if (v("ticketApiUrl")) console.log(`Ticket API:      ${v("ticketApiUrl")} (once the custom domain is bound to every stamp)`);
    else console.log(`Clients resolve the CNAME of ${v("trafficManagerFqdn")} and call https://<that host>/api/tickets (infra/README.md).`);
    for (const s of v("stamps")) console.log(`  ${s.region}: ${s.ticketApiUrl}`);
  } else {
    console.log(`Ticket API:  ${v("ticketApiUrl")}`);
    console.log(`Server API:  ${v("serverApiUrl")}  (function key: az functionapp keys list -g <group> -n ${v("functionAppName")})`);
    console.log(`Event Hubs:  ${v("eventHubNamespace")} (${v("playerRequestsHub")}, ${v("matchMadeHub")})`);
  }
' "$WORK/outputs.json"
