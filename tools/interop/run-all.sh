#!/usr/bin/env bash
# Every interop suite (run-sipp.sh, run-baresip.sh, run-park-sipp.sh, run-park-baresip.sh, run-park-prompt-baresip.sh, run-park-linphone.sh, run-resiliency-sipp.sh, run-failover-phones.sh) against one pool-a (and pool-b for the cross-pool call) started here, within a total bound
# (INTEROP_TOTAL_SECONDS, default 540; the failover suite starts a pair of its own). Writes tools/interop/results.tsv, prints one line per scenario and exits
# non-zero when any failed. This is the script .ci/run's interop hook does the work in (see README.md).
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
interop_init all
export INTEROP_RUN_ALL=1
# Each suite checks its own peers (and records a failure when one is missing).
require_tools sipsak python3 curl || exit 1

TOTAL=${INTEROP_TOTAL_SECONDS:-540}
deadline=$((SECONDS + TOTAL))

failures_recorded() { awk -F'\t' '$2 == "fail"' "$INTEROP_RESULTS" | wc -l; }

if use_or_start_pool_a; then
    export INTEROP_POOL_A_SIP="127.0.0.1:$POOL_A_SIP_PORT" INTEROP_POOL_A_ADMIN="$POOL_A_ADMIN"

    # pool-b, pool-a's partner, for the cross-pool call (INTEROP_WITH_POOL_B=0 leaves it out).
    if [[ "${INTEROP_WITH_POOL_B:-1}" == 1 && -z "${INTEROP_POOL_B_SIP:-}" ]]; then
        # shellcheck disable=SC2086
        if pool_start pool-b config/pool-b.json ${INTEROP_POOL_ARGS:-} && pool_wait_ready pool-b; then
            export INTEROP_POOL_B_SIP="127.0.0.1:${POOL_SIP_PORT[pool-b]}"
        else
            record pool-b-start fail "pool-b not ready: ${POOL_NOT_READY_REASON:-could not start}"
        fi
    fi

    for suite in run-sipp.sh run-baresip.sh run-park-sipp.sh run-park-baresip.sh run-park-prompt-baresip.sh run-park-linphone.sh run-resiliency-sipp.sh run-failover-phones.sh; do
        left=$((deadline - SECONDS))
        if ((left < 20)); then
            record "${suite%.sh}" fail "not run: the ${TOTAL} s bound is used up"
            continue
        fi
        echo "== $suite (at most $left s)"
        before=$(failures_recorded)
        rc=0
        timeout -k 5 "$left" bash "$INTEROP_DIR/$suite" || rc=$?
        if ((rc != 0)) && (($(failures_recorded) == before)); then
            record "${suite%.sh}" fail "exited $rc without recording a failure$( ((rc == 124)) && echo " (stopped at the time bound)")"
        fi
    done

    # The pool took everything above without dying and still answers.
    if [[ -n "${POOL_PID[pool-a]:-}" ]] && ! pool_alive pool-a; then
        record pool-a-alive fail "the pool process exited during the run; see $INTEROP_TMP/pool-a/pool.log"
    elif ! sip_answers "$POOL_A_SIP_PORT"; then
        record pool-a-alive fail "the pool no longer answers OPTIONS after the run"
    else
        record pool-a-alive pass "still answers OPTIONS after all suites"
    fi
fi

INTEROP_FAILURES=$(failures_recorded)
passed=$(awk -F'\t' '$2 == "pass"' "$INTEROP_RESULTS" | wc -l)
echo
echo "== interop summary ($INTEROP_RESULTS)"
awk -F'\t' '{ printf "%-4s  %-28s %s\n", toupper($2), $1, $3 }' "$INTEROP_RESULTS"
echo "interop: $passed passed, $INTEROP_FAILURES failed"
((INTEROP_FAILURES == 0))
