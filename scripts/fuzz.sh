#!/usr/bin/env bash
# Fuzzes TokenVault's parsers of untrusted bytes with libFuzzer (Tests/Fuzz/README.md).
#
#   scripts/fuzz.sh [TARGET|all] [SECONDS]   build and run one target or all (60 s each)
#   scripts/fuzz.sh --list                   the targets
#   scripts/fuzz.sh --seeds [TARGET|all]     write the Swift targets' seed corpora again
#
# A target is a directory of Tests/Fuzz/Targets (Swift, built by SwiftPM in .build-fuzz with
# -sanitize=fuzzer,address) or a file Tests/Fuzz/CTargets/NAME.c (a C front end, built with
# clang's -fsanitize=fuzzer,address; the target is c-NAME). Each run starts from the seeds in
# Tests/Fuzz/corpus/TARGET and a working corpus in .build-fuzz/corpus/TARGET; a crash, trap,
# hang (over FUZZ_TIMEOUT s for one input) or memory blow-up (over FUZZ_RSS_MB) is saved under
# Tests/Fuzz/crashes/TARGET/ and makes this script exit 1, after the other targets have run.
# FUZZ_SCRATCH: another build folder than .build-fuzz (a fresh one, to time what CI does).
# FUZZ_JOBS targets run side by side (default: one per core).
set -euo pipefail
cd "$(dirname "$0")/.."

TIMEOUT=${FUZZ_TIMEOUT:-10}
RSS_MB=${FUZZ_RSS_MB:-2048}
MAX_LEN=${FUZZ_MAX_LEN:-8192}
SCRATCH=${FUZZ_SCRATCH:-.build-fuzz}
if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then export PATH="/opt/swift/usr/bin:$PATH"; fi
# The toolchain's clang: it has libFuzzer (libclang_rt.fuzzer) and lld.
CLANG=${CLANG:-$(dirname "$(readlink -f "$(command -v swift)")")/clang}

swift_targets() { find Tests/Fuzz/Targets -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort; }
c_targets() { find Tests/Fuzz/CTargets -maxdepth 1 -name '*.c' -printf 'c-%f\n' | sed 's/\.c$//' | sort; }
all_targets() { swift_targets; c_targets; }

# SwiftPM declares the fuzz targets only with this set (see the end of Package.swift).
export TOKENVAULT_FUZZ_TARGETS="$(swift_targets | tr '\n' ' ')"

build() {
    local target=$1
    case $target in
    c-*)
        mkdir -p "$SCRATCH/c"
        # shellcheck disable=SC2046  # pkg-config's flags are words.
        "$CLANG" -g -O1 -fsanitize=fuzzer,address -fuse-ld=lld -Wall -Wextra -Werror \
            -I Sources/CAgentProtocol/include $(pkg-config --cflags libsodium) \
            "Tests/Fuzz/CTargets/${target#c-}.c" -o "$SCRATCH/c/fuzz-$target" $(pkg-config --libs libsodium)
        ;;
    *)
        mkdir -p "$SCRATCH/logs"
        if ! swift build --scratch-path "$SCRATCH" --product "fuzz-$target" -Xswiftc -sanitize=fuzzer,address \
            -Xswiftc -parse-as-library -Xswiftc -use-ld=lld >"$SCRATCH/logs/build-$target.log" 2>&1; then
            cat "$SCRATCH/logs/build-$target.log" >&2
            return 1
        fi
        grep -E 'warning:|error:' "$SCRATCH/logs/build-$target.log" >&2 || true
        ;;
    esac
}

binary() {
    case $1 in
    c-*) echo "$SCRATCH/c/fuzz-$1" ;;
    *) echo "$SCRATCH/debug/fuzz-$1" ;;
    esac
}

if [ "${1:-}" = --list ]; then all_targets; exit 0; fi

if [ "${1:-}" = --seeds ]; then
    targets=$(swift_targets)
    [ -n "${2:-}" ] && [ "$2" != all ] && targets=$2
    for target in $targets; do
        build "$target"
        rm -rf "Tests/Fuzz/corpus/$target" && mkdir -p "Tests/Fuzz/corpus/$target"
        TOKENVAULT_FUZZ_SEEDS="Tests/Fuzz/corpus/$target" "$(binary "$target")"
        echo "$target: $(ls "Tests/Fuzz/corpus/$target" | wc -l) seeds"
    done
    exit 0
fi

selected=${1:-all}
seconds=${2:-60}
if [ "$selected" = all ]; then
    targets=$(all_targets)
elif all_targets | grep -x -- "$selected" >/dev/null; then
    targets=$selected
else
    echo "fuzz.sh: no target '$selected' (scripts/fuzz.sh --list)" >&2
    exit 64
fi

for target in $targets; do build "$target"; done

# One target's run; its line of the summary goes to its .result file.
run() {
    local target=$1 work="$SCRATCH/corpus/$1" crashes="Tests/Fuzz/crashes/$1" log="$SCRATCH/logs/$1.log"
    mkdir -p "$work" "$crashes"
    local before status=0 after runs line started=$SECONDS
    before=$(find "$crashes" -type f | wc -l)
    # SWIFT_BACKTRACE: Swift's own crash reporter trips AddressSanitizer; libFuzzer reports instead.
    SWIFT_BACKTRACE=enable=no "$(binary "$target")" "$work" "Tests/Fuzz/corpus/$target" -max_total_time="$seconds" -timeout="$TIMEOUT" \
        -rss_limit_mb="$RSS_MB" -max_len="$MAX_LEN" -artifact_prefix="$crashes/" -print_final_stats=1 \
        >"$log" 2>&1 || status=$?
    after=$(find "$crashes" -type f | wc -l)
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    line=$(printf '%-22s %10s runs in %ss' "$target" "${runs:-?}" "$((SECONDS - started))")
    if [ "$status" -ne 0 ] || [ "$after" -gt "$before" ]; then
        line="$line  FINDING (exit $status): $(grep -m1 -E 'ERROR|violated|Fatal error|deadly|timeout' "$log" || true)"
        grep -E '^(==|SUMMARY|Fatal error|.*violated|artifact_prefix|Test unit written)' "$log" | head -20 >&2 || true
    fi
    echo "$line" | tee "$SCRATCH/logs/$target.result"
}

# FUZZ_JOBS targets at a time (default: one per core).
jobs=${FUZZ_JOBS:-$(nproc)}
mkdir -p "$SCRATCH/logs"
for target in $targets; do
    rm -f "$SCRATCH/logs/$target.result"
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
    run "$target" &
done
wait

findings=0
summary=""
for target in $targets; do
    line=$(cat "$SCRATCH/logs/$target.result" 2>/dev/null || echo "$target: no result")
    case $line in *FINDING*|*"no result"*) findings=$((findings + 1)) ;; esac
    summary="$summary$line"$'\n'
done

echo "---"
printf '%s' "$summary"
if [ "$findings" -gt 0 ]; then
    echo "fuzz.sh: $findings target(s) found a problem; reproducers are in Tests/Fuzz/crashes/ (see Tests/Fuzz/README.md)" >&2
    exit 1
fi
echo "fuzz.sh: no findings"
