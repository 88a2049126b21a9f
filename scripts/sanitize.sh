#!/usr/bin/env bash
# The test suite under sanitizers, against binaries built with them (the tests run the real
# binaries as subprocesses: they are found next to the test bundle, so in the sanitized build).
#
#   scripts/sanitize.sh [asan|tsan|all] [--short]
#
#   asan   every suite under AddressSanitizer, with UndefinedBehaviorSanitizer on the C code
#          (.build-asan). Swift has no -sanitize=undefined on Linux; its own arithmetic and bounds
#          are checked by the language, so UBSan is for the C front ends and shims.
#   tsan   the concurrency suites (agent, concurrent writers and stores, locking) under
#          ThreadSanitizer (.build-tsan).
#   --short  a few suites of each (what .ci/run runs; see SHORT_ASAN and SHORT_TSAN below).
#
# A report anywhere fails the run: the sanitizers write it under $reports (log_path), stop at the
# first (halt_on_error) with exit code 66, and every program a test spawns gets these settings
# (Tests/VaultCLITests/Subprocess.swift passes them on), so a report in a spawned binary whose exit
# status a test ignores, or in an agent no test waits for, still fails this script.
#
# Nothing in the product changes under a sanitizer: sodium_malloc's mlock is a no-op under ASan
# and TSan (they intercept it) and its guard pages are plain mprotect'd pages; RLIMIT_CORE=0 and
# PR_SET_DUMPABLE=0 stop no report (LeakSanitizer, which attaches to the process, runs as root).
# LeakSanitizer is on; XCTest's runner leaks a few objects at exit (its suite runs), which the
# suppression below leaves out: a leak in the library, the binaries or the tests still fails.
set -euo pipefail
cd "$(dirname "$0")/.."

which=all
short=0
for arg in "$@"; do
    case "$arg" in
        asan|tsan|all) which=$arg ;;
        --short) short=1 ;;
        *) echo "usage: scripts/sanitize.sh [asan|tsan|all] [--short]" >&2; exit 64 ;;
    esac
done

# The short forms: parsers of hostile input, the C front ends and the crash/concurrency claims
# under ASan; the agent, concurrent processes and threads under TSan. About 8 minutes together
# on 2 cores, builds included (README, Development).
SHORT_ASAN='VaultFrontEndHostileAgentTests|GitHelperProtocolTests|MisbehavingAgentTests|TamperTests|HostileFileTests|ProcessTests'
SHORT_TSAN='\.VaultTests/|ProcessTests|AgentConnectionTests|GitStoreTests'
FULL_TSAN='\.VaultTests/|ProcessTests|AgentTests|AgentConnectionTests|AgentBatchTests|WholeVaultCacheTests|WholeVaultPassTests|MisbehavingAgentTests|GitStoreTests|GitHelperTests|IdentityTests|GitLabVerifyRaceTests|FoldTests'

failed=0

# run_suite NAME SCRATCH FILTER SWIFT-BUILD-FLAGS...
run_suite() {
    local name=$1 scratch=$2 filter=$3
    shift 3
    local reports
    reports="$(pwd)/$scratch/sanitizer-reports"
    echo "== $name: building ($scratch)"
    if [ ! -d "$scratch" ] && [ -d .build/checkouts ]; then
        # The dependencies the normal build has fetched already, not fetched again.
        mkdir -p "$scratch"
        cp -R .build/repositories .build/checkouts .build/workspace-state.json "$scratch"/ 2>/dev/null || true
    fi
    swift build --build-tests --scratch-path "$scratch" "$@" 2>&1 | grep -E 'error|warning: ' | grep -v 'Cannot export local symbol' || true
    swift build --build-tests --scratch-path "$scratch" "$@" 2>&1 | tail -1
    if [ "$short" = 0 ] && [ "$name" = asan ]; then
        # ManPageTests run the man page generator, built by name (as scripts/test.sh does).
        swift build --product generate-manual --scratch-path "$scratch" "$@" 2>&1 | tail -1
    fi
    rm -rf "$reports"
    mkdir -p "$reports"
    local common="halt_on_error=1:exitcode=66:log_path=$reports/report:print_stacktrace=1"
    printf 'leak:libXCTest.so\n' >"$scratch/lsan-suppressions.txt"
    local filter_args=()
    [ -n "$filter" ] && filter_args=(--filter "$filter")
    echo "== $name: testing ${filter:-every suite}"
    local status=0
    # pipefail: the pipeline fails with swift test.
    if ASAN_OPTIONS="$common:detect_leaks=1:abort_on_error=0" \
       LSAN_OPTIONS="suppressions=$(pwd)/$scratch/lsan-suppressions.txt:print_suppressions=0" \
       UBSAN_OPTIONS="$common" \
       TSAN_OPTIONS="$common:second_deadlock_stack=1" \
       swift test --skip-build --scratch-path "$scratch" "${filter_args[@]}" 2>&1 | tee "$scratch/sanitizer-test.log" | tail -4; then
        status=0
    else
        status=$?
    fi
    if [ -n "$(ls -A "$reports")" ]; then
        echo "== $name: sanitizer reports:" >&2
        for report in "$reports"/*; do echo "--- $report" >&2; head -60 "$report" >&2; done
        failed=1
    fi
    if [ "$status" != 0 ]; then
        echo "== $name: the tests failed ($status)" >&2
        failed=1
    elif [ -z "$(ls -A "$reports")" ]; then
        echo "== $name: no report"
    fi
}

if [ "$which" = asan ] || [ "$which" = all ]; then
    filter=""
    [ "$short" = 1 ] && filter=$SHORT_ASAN
    run_suite asan .build-asan "$filter" --sanitize=address -Xcc -fsanitize=undefined -Xcc -fno-sanitize-recover=undefined
fi
if [ "$which" = tsan ] || [ "$which" = all ]; then
    filter=$FULL_TSAN
    [ "$short" = 1 ] && filter=$SHORT_TSAN
    run_suite tsan .build-tsan "$filter" --sanitize=thread
fi
exit $failed
