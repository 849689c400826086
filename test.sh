#!/usr/bin/env bash
# Runs every test (installing what is missing first). Prints "N passed, N failed[, N skipped]" last, computed from the
# TRX results (infra/trx_summary.py). Exit status 0 only when every test passed.
# Usage: ./test.sh [extra dotnet test args, e.g. --filter FullyQualifiedName~Storage]
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"
infra/setup.sh || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
RESULTS="$ROOT/.pipeline/test-results"; rm -rf "$RESULTS"; mkdir -p "$RESULTS"
if ! dotnet build Pipeline.ci.slnf -c Release -nologo -v q; then
  echo "build failed"; echo "0 passed, 1 failed"; exit 1
fi
# one TRX per test project (tests/*.Tests) is expected; a project without one crashed
PROJECTS=$(grep -c '"tests/[^"]*\.Tests\.csproj"' Pipeline.ci.slnf)
dotnet test Pipeline.ci.slnf -c Release --no-build -nologo --logger "trx" --results-directory "$RESULTS" "$@"
rc=$?
# with a filter, projects without a matching test may write no TRX: only count them on a full run
[ $# -eq 0 ] || PROJECTS=0
/usr/bin/python3 infra/trx_summary.py "$RESULTS" "$rc" "$PROJECTS"
exit $?
