#!/usr/bin/env bash
# `make deploy`, after `make build`: what `sam deploy` must not be left to chance.
#   1. every function's bootstrap is built for the stack's architecture (ELF header), before
#      anything is uploaded;
#   2. the region has API Gateway's account-wide CloudWatch Logs role, which the REST stage's
#      access logs need (in a fresh account the stage would fail "CloudWatch Logs role ARN must
#      be set"): account.yaml deploys it once, as a stack of its own, where it is missing;
#   3. sam deploy, with samconfig.toml's environment (--config-env dev|prod), never prompting
#      except prod's change-set confirmation; then it names `make publish-web`, which uploads the
#      web client to the stack's own hosting.
# Extra arguments go to sam deploy (e.g. --parameter-overrides ...).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH" SAM_CLI_TELEMETRY=${SAM_CLI_TELEMETRY:-0}
ACCOUNT_STACK=${ACCOUNT_STACK:-apigateway-cloudwatch-role}

say() { printf '==> %s\n' "$*" >&2; }

say "checking every bootstrap is built for the stack's architecture ($(scripts/check-bootstraps.sh arch))"
scripts/check-bootstraps.sh

# The role the region's API Gateway logs with, if any, and whether it still exists (a role
# deleted by hand leaves the setting pointing at nothing).
role=$(aws apigateway get-account --query cloudwatchRoleArn --output text)
if [ -z "$role" ] || [ "$role" = None ] || ! aws iam get-role --role-name "${role##*/}" >/dev/null 2>&1; then
  say "this region's API Gateway has no CloudWatch Logs role: deploying account.yaml as stack ${ACCOUNT_STACK} (once per account and region)"
  aws cloudformation deploy --template-file account.yaml --stack-name "$ACCOUNT_STACK" \
    --capabilities CAPABILITY_IAM --no-fail-on-empty-changeset
else
  say "API Gateway logs with ${role} in this region"
fi

say "sam deploy $*"
sam deploy "$@"
# The page is uploaded by a command of its own: a deploy of the code alone need not touch it.
say "the web client (HostWebClient=true, the default): make publish-web uploads it and prints its address"
