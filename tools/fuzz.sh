#!/bin/sh
# tools/fuzz.sh DIR SECONDS MODE TARGET...: runs the libFuzzer targets built in DIR/fuzz/.
#
# For each target: first every input of the kept corpus tests/fuzz/corpus/TARGET/ once (the
# regression part), then SECONDS of fuzzing from it into the work corpus DIR/work/TARGET/.
# MODE merge: afterwards the inputs of the work corpus that add coverage are merged into the
# kept corpus (commit them: they are small). MODE keep: the kept corpus is left as it is.
# A crash, leak, sanitizer report or timeout (20 s per input) fails the run; the input that
# did it is saved as DIR/work/crash-* etc. Prints a table: target, seconds, executions,
# executions/s, kept corpus size, result (seconds: the fuzzing run's, replay and merge apart).
set -u
D=$1
S=$2
MODE=$3
shift 3
status=0
printf '%-14s %8s %12s %10s %8s  %s\n' target seconds executions exec/s kept result
for t in "$@"; do
    keep=tests/fuzz/corpus/$t
    work=$D/work/$t
    mkdir -p "$keep" "$work"
    log=$D/work/$t.log
    bin=$D/fuzz/$t
    result=ok
    if [ -n "$(ls -A "$keep")" ]; then
        "$bin" -runs=0 -timeout=20 -rss_limit_mb=4096 -artifact_prefix="$D/work/$t-" "$keep" > "$log.replay" 2>&1 || result="FAILED on the kept corpus ($log.replay)"
    fi
    t0=$(date +%s)
    if [ "$result" = ok ]; then
        "$bin" -max_total_time="$S" -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 \
            -artifact_prefix="$D/work/$t-" "$work" "$keep" > "$log" 2>&1 || result="FAILED ($log)"
    fi
    if [ "$result" = ok ] && [ "$MODE" = merge ]; then
        "$bin" -merge=1 -timeout=20 -rss_limit_mb=4096 "$keep" "$work" > "$log.merge" 2>&1 || result="merge failed ($log.merge)"
    fi
    el=$(($(date +%s) - t0))
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" 2>/dev/null | tail -1)
    secs=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" 2>/dev/null | tail -1)
    printf '%-14s %8s %12s %10s %8s  %s\n' "$t" "$el" "${runs:-0}" "${secs:-0}" "$(ls "$keep" | wc -l)" "$result"
    [ "$result" = ok ] || status=1
done
exit $status
