#!/usr/bin/env bash
# Runs the Gateway API conformance suite's HTTPRoute tests against Switchyard (see README.md here).
#
#   test/gateway-conformance/run.sh [SOURCE] [-- VITEST ARGS...]
#
# SOURCE is where the suite comes from:
#   - a directory holding the suite's conformance/ (tests/ and base/ inside), or that conformance/ itself,
#   - a checkout or a bare clone of kubernetes-sigs/gateway-api (its conformance/ at GATEWAY_CONFORMANCE_REF,
#     default HEAD, is extracted with git archive),
#   - nothing: the suite is cloned (shallow) from GitHub into a temporary directory.
# The suite is copied to a temporary directory that is removed at the end; nothing of it is written
# into this repository.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
source=${1:-}
if [[ $# -gt 0 ]]; then shift; fi
if [[ ${1:-} == "--" ]]; then shift; fi
ref=${GATEWAY_CONFORMANCE_REF:-HEAD}

work=$(mktemp -d "${TMPDIR:-/tmp}/swy-gateway-conformance.XXXXXX")
trap 'rm -rf "$work"' EXIT

if [[ -z $source ]]; then
  git clone --quiet --depth 1 https://github.com/kubernetes-sigs/gateway-api "$work/repo"
  source=$work/repo
fi

if [[ -d $source/tests && -d $source/base ]]; then
  mkdir -p "$work/conformance" && cp -r "$source"/. "$work/conformance/"
elif [[ -d $source/conformance/tests && -d $source/conformance/base ]]; then
  cp -r "$source/conformance" "$work/conformance"
elif git -C "$source" rev-parse --git-dir >/dev/null 2>&1; then
  git -C "$source" archive "$ref" conformance | tar -x -C "$work"
else
  echo "run.sh: $source is neither the suite's conformance/ directory nor a git repository of gateway-api" >&2
  exit 2
fi
if [[ ! -f $work/conformance/base/manifests.yaml ]]; then
  echo "run.sh: no conformance/base/manifests.yaml found in $source at $ref" >&2
  exit 2
fi

cd "$root"
echo "suite: $source ($ref), $(ls "$work/conformance/tests" | grep -c '^httproute-.*\.go$') HTTPRoute test files"
GATEWAY_CONFORMANCE_DIR="$work/conformance" npx vitest run --config test/gateway-conformance/vitest.config.ts "$@"
