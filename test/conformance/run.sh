#!/usr/bin/env bash
# Runs the ingress-controller-conformance scenarios against Switchyard (see README.md here).
#
#   test/conformance/run.sh [SOURCE] [-- VITEST ARGS...]
#
# SOURCE is where the suite's features come from:
#   - a directory holding *.feature files (e.g. a checkout's features/),
#   - a checkout or a bare clone of kubernetes-sigs/ingress-controller-conformance (its features/ at
#     CONFORMANCE_REF, default HEAD, are extracted with git archive),
#   - nothing: the suite is cloned (shallow) from GitHub into a temporary directory.
# The features are copied to a temporary directory that is removed at the end; nothing of the suite
# is written into this repository.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
source=${1:-}
if [[ $# -gt 0 ]]; then shift; fi
if [[ ${1:-} == "--" ]]; then shift; fi
ref=${CONFORMANCE_REF:-HEAD}

work=$(mktemp -d "${TMPDIR:-/tmp}/swy-conformance-features.XXXXXX")
trap 'rm -rf "$work"' EXIT

if [[ -z $source ]]; then
  git clone --quiet --depth 1 https://github.com/kubernetes-sigs/ingress-controller-conformance "$work/repo"
  source=$work/repo
fi

mkdir -p "$work/features"
if compgen -G "$source/*.feature" >/dev/null; then
  cp "$source"/*.feature "$work/features/"
elif git -C "$source" rev-parse --git-dir >/dev/null 2>&1; then
  git -C "$source" archive "$ref" features | tar -x -C "$work"
else
  echo "run.sh: $source is neither a directory of *.feature files nor a git repository" >&2
  exit 2
fi
if ! compgen -G "$work/features/*.feature" >/dev/null; then
  echo "run.sh: no features/*.feature found in $source at $ref" >&2
  exit 2
fi

cd "$root"
echo "features: $(cd "$work/features" && ls *.feature | tr '\n' ' ')(from $source)"
CONFORMANCE_FEATURES="$work/features" npx vitest run --config test/conformance/vitest.config.ts "$@"
