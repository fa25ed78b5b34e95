#!/usr/bin/env bash
# Validate the infrastructure definitions offline: the SAM template (sam
# validate, sam validate --lint, cfn-lint) and every state machine (statelint).
# Runs every check, then exits non-zero if any of them failed.
set -uo pipefail
cd "$(dirname "$0")/.."

find_tool() {  # find_tool NAME VENV_PATH
  if [[ -x "$2" ]]; then
    echo "$2"
  elif command -v "$1" >/dev/null 2>&1; then
    command -v "$1"
  else
    echo "lint-infra: $1 not found (looked for $2 and on PATH)" >&2
    return 1
  fi
}

sam=$(find_tool sam .venv-sam/bin/sam) || exit 2
cfn_lint=$(find_tool cfn-lint .venv/bin/cfn-lint) || exit 2
statelint=$(find_tool statelint .venv/bin/statelint) || exit 2

# No telemetry, nothing written to ~/.aws-sam; sam validate needs a region
# (never credentials).
sam_app_dir=$(mktemp -d)
trap 'rm -rf "$sam_app_dir"' EXIT
export SAM_CLI_TELEMETRY=0 __SAM_CLI_APP_DIR="$sam_app_dir"
region=${AWS_REGION:-${AWS_DEFAULT_REGION:-us-east-1}}

failed=()
run() {
  echo "==> $*"
  if ! "$@"; then
    failed+=("$*")
  fi
}

run "$sam" validate --template-file template.yaml --region "$region"
run "$sam" validate --lint --template-file template.yaml --region "$region"
run "$cfn_lint" template.yaml
shopt -s nullglob
machines=(statemachines/*.asl.json)
if ((${#machines[@]} == 0)); then
  failed+=("no statemachines/*.asl.json found")
fi
for machine in "${machines[@]}"; do
  # URI: ${Substitutions} in Resource are not URIs until deployment.
  run "$statelint" --ignore=URI "$machine"
done

if ((${#failed[@]})); then
  printf 'lint-infra: FAILED: %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "lint-infra: all checks passed"
