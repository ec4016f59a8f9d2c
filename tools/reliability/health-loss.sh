#!/usr/bin/env bash
# A lossy link between the pools must not fake an outage (issue 22), the long version of the CI test:
#   tools/reliability/health-loss.sh [--seconds 600] [--out DIR]
# Runs tests/SipCallPark.Tests' PartnerHealthProcessTests with SIPCALLPARK_HEALTH_SOAK_SECONDS: two pool processes
# with the shipped health settings, 10 % of the UDP datagrams between their SIP ports dropped each way by an nftables
# rule the test installs and removes (root and nft needed, else the test is skipped), zero Outage transitions allowed
# during the soak; then kill -9 of pool-a, and pool-b's Outage and the orphan BYE must come within 2 s.
# Needs a Release build (dotnet build SipCallPark.sln -c Release). Writes DIR/test.log and DIR/report.md
# (default tools/reliability/results/health-loss-TIMESTAMP); exit 0 when the test passed.
set -uo pipefail

SECONDS_SOAK=600 OUT=""
while (($#)); do
    case $1 in
        --seconds) SECONDS_SOAK=$2; shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
        *) echo "unknown argument $1 (try --help)" >&2; exit 2 ;;
    esac
done
[[ "$SECONDS_SOAK" =~ ^[1-9][0-9]*$ ]] && ((SECONDS_SOAK <= 7200)) || { echo "--seconds takes a whole number up to 7200" >&2; exit 2; }

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
OUT=${OUT:-$HERE/results/health-loss-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"

status=0
SIPCALLPARK_HEALTH_SOAK_SECONDS=$SECONDS_SOAK timeout $((SECONDS_SOAK + 300)) \
    dotnet test "$REPO/tests/SipCallPark.Tests/SipCallPark.Tests.csproj" -c "${SIPCALLPARK_CONFIG:-Release}" --no-build \
    --filter "FullyQualifiedName~PartnerHealthProcessTests" --logger "console;verbosity=detailed" >"$OUT/test.log" 2>&1 </dev/null || status=$?

{
    echo "# Partner health under loss ($(date -u +%Y-%m-%dT%H:%M:%SZ))"
    echo
    echo "Command: \`tools/reliability/health-loss.sh --seconds $SECONDS_SOAK\` (exit $status)"
    echo
    grep -E '^ *(soak [0-9]+ s at|kill -9 of pool-a)' "$OUT/test.log" | sed 's/^ */- /' | sort -u
    grep -E '^ *(Passed|Failed|Skipped|Total tests)' "$OUT/test.log" | sed 's/^ */- /' | head -5
} >"$OUT/report.md"
cat "$OUT/report.md"
exit "$status"
