#!/usr/bin/env bash
# What a CI pipeline runs for the agents of examples/pipeline/main.ts, against a real control plane:
#
#   1. build the app (precompiled with tsc, no ts-node) and install the provider into a filesystem mirror
#   2. cdktf synth
#   3. cdktf deploy --auto-approve, writing the outputs (sensitive ones included) to a file
#   4. take the new agent's secret from the outputs (hand it to a secret store), then delete the file
#   5. an operator suspends an agent over REST (POST /v1/agents/{id}/suspend)
#   6. a second pipeline run deploys again: the suspension is kept, and `terraform plan` shows no drift
#   7. cdktf destroy --auto-approve (destroy revokes the agents)
#
# Environment:
#   CERTUSORDO_ENDPOINT           control plane URL (required)
#   CERTUSORDO_API_KEY            admin API key, aa_… (required; read by the provider, never written to disk)
#   CERTUSORDO_OPERATOR_API_KEY   key used for the suspension (default: CERTUSORDO_API_KEY)
#   PIPELINE_WORKDIR              working directory (default: a fresh temporary directory, removed at exit)
#   PIPELINE_SKIP_BUILD=1         use the existing dist/ build
#   PIPELINE_KEEP=1               on failure, neither destroy nor remove the working directory
#
# Needs node, terraform, curl and jq on PATH. Exits non-zero at the first failed step.
set -euo pipefail

: "${CERTUSORDO_ENDPOINT:?set CERTUSORDO_ENDPOINT to the control plane URL}"
: "${CERTUSORDO_API_KEY:?set CERTUSORDO_API_KEY to an admin API key (aa_…)}"
OPERATOR_KEY=${CERTUSORDO_OPERATOR_API_KEY:-$CERTUSORDO_API_KEY}
ENDPOINT=${CERTUSORDO_ENDPOINT%/}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
STACK=certusordo-agents
CDKTF="$ROOT/node_modules/.bin/cdktf"
if [[ -n "${PIPELINE_WORKDIR:-}" ]]; then
  WORK=$PIPELINE_WORKDIR
  mkdir -p "$WORK"
  OWN_WORKDIR=0
else
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/certusordo-pipeline.XXXXXX")
  OWN_WORKDIR=1
fi
OUT="$WORK/cdktf.out"
STACK_DIR="$OUT/stacks/$STACK"
OUTPUTS="$WORK/out.json"
umask 077 # the outputs file holds a secret

# No telemetry, no version checks, no plugin cache, no registry: the provider comes from a local mirror.
export CHECKPOINT_DISABLE=1 CDKTF_DISABLE_PLUGIN_CACHE_ENV=1 TF_IN_AUTOMATION=1 CI=${CI:-1}
export CERTUSORDO_ENDPOINT=$ENDPOINT CERTUSORDO_API_KEY

step() { printf '\n==> [%3ss] %s\n' "$SECONDS" "$*"; }
fail() { printf 'pipeline: %s\n' "$*" >&2; exit 1; }

deployed=0
cleanup() {
  local rc=$?
  if [[ $rc -ne 0 && $deployed -eq 1 && "${PIPELINE_KEEP:-}" != 1 ]]; then
    printf '\npipeline: failed (exit %s); destroying what was deployed\n' "$rc" >&2
    "$CDKTF" destroy "$STACK" --auto-approve --skip-synth --skip-provider-lock --output "$OUT" >&2 || true
  fi
  rm -f "$OUTPUTS"
  if [[ $OWN_WORKDIR -eq 1 && ( $rc -eq 0 || "${PIPELINE_KEEP:-}" != 1 ) ]]; then rm -rf "$WORK"; fi
  exit $rc
}
trap cleanup EXIT

# api METHOD PATH [BODY] [KEY]: one REST call, JSON on stdout; fails on HTTP errors.
api() {
  local method=$1 path=$2 body=${3:-} key=${4:-$CERTUSORDO_API_KEY}
  local args=(-fsS -X "$method" "$ENDPOINT$path" -H "Authorization: Bearer $key" -H 'Accept: application/json')
  if [[ -n "$body" ]]; then args+=(-H 'Content-Type: application/json' -d "$body"); fi
  curl "${args[@]}"
}

cd "$ROOT"

step "build (app and provider, with tsc)"
if [[ "${PIPELINE_SKIP_BUILD:-}" != 1 ]]; then
  "$ROOT/node_modules/.bin/tsc" -p examples/pipeline/tsconfig.json
  node "$ROOT/dist/provider-bridge/src/bundle.js"   # the provider's single-file bundle (fast start-up)
fi

step "install the provider into a filesystem mirror"
node -e '
  const { installProvider } = require(process.argv[1]);
  const version = require(process.argv[2]).version;
  process.stdout.write(installProvider({ mirrorDir: process.argv[3], version }).cliConfig);
' "$ROOT/dist/provider-bridge/src/install.js" "$ROOT/package.json" "$WORK/mirror" > "$WORK/terraformrc"
export TF_CLI_CONFIG_FILE="$WORK/terraformrc"

step "cdktf synth"
"$CDKTF" synth --output "$OUT"

step "cdktf deploy (first run: creates the agents)"
deployed=1
"$CDKTF" deploy "$STACK" --skip-synth --auto-approve --skip-provider-lock --output "$OUT" \
  --outputs-file "$OUTPUTS" --outputs-file-include-sensitive-outputs

step "read the new agent's secret from the sensitive outputs"
invoice_id=$(jq -er --arg s "$STACK" '.[$s].invoice_processor_prod_id' "$OUTPUTS")
payment_id=$(jq -er --arg s "$STACK" '.[$s].payment_service_prod_id' "$OUTPUTS")
reconciler_id=$(jq -er --arg s "$STACK" '.[$s].ledger_reconciler_prod_id' "$OUTPUTS")
# Only invoice-processor-prod has a secret: the secretless reconciler has none in the outputs.
secrets=$(jq -r '[.. | strings | select(startswith("cos_"))] | length' "$OUTPUTS")
[[ "$secrets" == 1 ]] || fail "the outputs hold $secrets secrets, expected 1"
secret=$(jq -er --arg s "$STACK" '.[$s].Agents["invoice-processor-prod"].invoice_processor_prod_secret' "$OUTPUTS")
rm -f "$OUTPUTS"
[[ "$secret" =~ ^cos_${invoice_id}_[A-Za-z0-9_-]{43}$ ]] || fail "the secret output is not a secret of agent $invoice_id"
# A real pipeline hands it to its secret store here; this example only keeps it in memory.
echo "invoice-processor-prod ($invoice_id): secret received (${#secret} characters, not shown)"
unset secret

step "the secretless agent has no key and no secret, in the API and in state"
[[ "$(api GET "/v1/agents/$reconciler_id" | jq -r .public_key)" == null ]] || fail "ledger-reconciler-prod has a key"
[[ "$(api GET "/v1/agents/$reconciler_id/keys" | jq -r '.data | length')" == 0 ]] || fail "ledger-reconciler-prod has keys"
[[ "$(api GET "/v1/agents/$reconciler_id/federated-credentials" | jq -r '[.data[] | select(.status == "active")] | length')" == 1 ]] || fail "ledger-reconciler-prod has no federated credential"
(cd "$STACK_DIR" && terraform show -json) | jq -e '[.values.root_module.resources[] | select(.values.id == "'"$reconciler_id"'")][0].values.secret == null' >/dev/null \
  || fail "ledger-reconciler-prod has a secret in state"
echo "ledger-reconciler-prod ($reconciler_id): secretless (no key, no secret, one federated credential)"

step "operator suspends payment-service-prod over REST"
status=$(api POST "/v1/agents/$payment_id/suspend" '{"reason":"pipeline example: operator suspension"}' "$OPERATOR_KEY" | jq -er .status)
[[ "$status" == suspended ]] || fail "suspend returned status $status"
echo "payment-service-prod ($payment_id): $status"

step "cdktf deploy (second run: the suspension is kept)"
"$CDKTF" deploy "$STACK" --auto-approve --skip-provider-lock --output "$OUT"
status=$(api GET "/v1/agents/$payment_id" | jq -er .status)
[[ "$status" == suspended ]] || fail "after the second deploy payment-service-prod is $status, expected suspended"
status=$(api GET "/v1/agents/$invoice_id" | jq -er .status)
[[ "$status" == active ]] || fail "after the second deploy invoice-processor-prod is $status, expected active"
echo "payment-service-prod is still suspended; invoice-processor-prod is active"

step "drift check (terraform plan -detailed-exitcode; cdktf diff exits 0 even with changes)"
plan_rc=0
(cd "$STACK_DIR" && terraform plan -detailed-exitcode -input=false -lock=false -no-color >"$WORK/plan.txt") || plan_rc=$?
case $plan_rc in
  0) echo "no changes: the runtime suspension is not drift" ;;
  2) cat "$WORK/plan.txt" >&2; fail "terraform plan shows changes after the second deploy" ;;
  *) cat "$WORK/plan.txt" >&2; fail "terraform plan failed (exit $plan_rc)" ;;
esac

step "cdktf destroy (revokes the agents)"
"$CDKTF" destroy "$STACK" --auto-approve --skip-synth --skip-provider-lock --output "$OUT"
deployed=0
for id in "$invoice_id" "$payment_id" "$reconciler_id"; do
  status=$(api GET "/v1/agents/$id" | jq -er .status)
  [[ "$status" == revoked ]] || fail "after destroy agent $id is $status, expected revoked"
done
echo "agents revoked"

printf '\npipeline: OK in %ss\n' "$SECONDS"
