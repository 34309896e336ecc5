#!/bin/sh
# tests/crash/run.sh PROG WORKDIR [TRIALS]: crash consistency, end to end.
#
# kill -9 at pseudo-random moments (a seeded sequence, so the same moments on every run)
# during simulate, generate, train (with --checkpoint-every) and evaluate, and a full disk
# (a file-size limit, ulimit -f) for each of them. After every kill:
#   - no file ever appears under a final name unless it is complete (inspect accepts it);
#   - the leftovers of the killed run (temporary names) are removed by the next run;
#   - simulate/generate/evaluate rerun give the same result as an uninterrupted run, and a
#     training run resumed from its checkpoint (as often as it is killed) ends with the same
#     final checkpoint and the same best model, bit for bit, as an uninterrupted one.
# A full disk must give exit status 1, one line on stderr, no output and no leftover.
# Prints one line per trial and a summary; exits 1 on any failure.
set -u
P=$1
W=$2
TRIALS=${3:-4}
rm -rf "$W"
mkdir -p "$W"
export OMP_NUM_THREADS=2 # a resumed run is bit-identical at the same thread count
fails=0
trials=0
fail() {
    fails=$((fails + 1))
    echo "FAIL: $*"
}
# delay K: the K-th pseudo-random kill moment in [0.05, MAX) seconds
delay() { awk -v k="$1" -v m="$2" 'BEGIN { srand(20261127 + k); print 0.05 + rand() * (m - 0.05) }'; }
leftovers() { ls -a "$W" | grep -E '\.tmp\.|\.old\.' || true; }
same() { h5diff -q "$1" "$2" > /dev/null 2>&1; }

D=$W/data.h5
"$P" simulate -n 3000 --energy 1:100 --seed 4 -o "$D" -q || { echo "crash: cannot simulate the data"; exit 1; }

# --- simulate / generate / evaluate: killed, then rerun to the same name ---
"$P" simulate -n 20000 --energy 1:100 --seed 9 -o "$W/sim_ref.h5" -q
"$P" train -d "$D" -p tiny -e 2 --seed 3 -o "$W/gen_model.h5" -q
"$P" generate -m "$W/gen_model.h5" --n 30000 --seed 2 -o "$W/gen_ref.h5" -q
"$P" evaluate -g "$W/gen_ref.h5" -r "$D" -o "$W/rep_ref" -q --no-classifier > /dev/null
for k in $(seq 1 "$TRIALS"); do
    for what in simulate generate evaluate; do
        trials=$((trials + 1))
        case $what in
        simulate) set -- simulate -n 20000 --energy 1:100 --seed 9 -o "$W/sim.h5" -q; out=$W/sim.h5; ref=$W/sim_ref.h5; max=2 ;;
        generate) set -- generate -m "$W/gen_model.h5" --n 30000 --seed 2 -o "$W/gen.h5" -q; out=$W/gen.h5; ref=$W/gen_ref.h5; max=1.5 ;;
        evaluate) set -- evaluate -g "$W/gen_ref.h5" -r "$D" -o "$W/rep" -q --no-classifier; out=$W/rep; ref=""; max=3 ;;
        esac
        rm -rf "$out"
        "$P" "$@" > /dev/null 2>&1 &
        pid=$!
        sleep "$(delay "$k$trials" $max)"
        if kill -9 $pid 2> /dev/null; then how="killed"; else how="finished before the kill"; fi
        wait $pid 2> /dev/null
        if [ -e "$out" ]; then # finished before the kill, or killed after the rename: must be whole
            if [ "$what" = evaluate ]; then [ -s "$out/metrics.json" ] || fail "$what trial $k: partial report under the final name"
            else "$P" inspect "$out" -q > /dev/null 2>&1 || fail "$what trial $k: a damaged file under the final name"; fi
        fi
        "$P" "$@" --force > /dev/null 2>&1 || fail "$what trial $k: the rerun failed"
        if [ -n "$(leftovers)" ]; then fail "$what trial $k: leftovers after the rerun: $(leftovers)"; fi
        if [ -n "$ref" ] && ! same "$ref" "$out"; then fail "$what trial $k: the rerun differs from an uninterrupted run"; fi
        if [ "$what" = evaluate ] && ! cmp -s "$W/rep_ref/metrics.json" "$out/metrics.json"; then
            sed 's/"generated".*//' "$W/rep_ref/metrics.json" > "$W/m1"
            sed 's/"generated".*//' "$out/metrics.json" > "$W/m2"
            cmp -s "$W/m1" "$W/m2" || fail "$what trial $k: the report's metrics differ"
        fi
        echo "$what trial $k: $how; rerun equal to an uninterrupted run, no leftovers"
    done
done

# --- train: killed any number of times, resumed from its checkpoint ---
T="train -d $D -p tiny -e 4 --checkpoint-every 7 --seed 5 -q"
t0=$(date +%s.%N)
# shellcheck disable=SC2086
"$P" $T -o "$W/ref.h5" || { echo "crash: the uninterrupted training failed"; exit 1; }
t1=$(date +%s.%N)
tr=$(echo "$t1 $t0" | awk '{ print $1 - $2 }')
for k in $(seq 1 "$TRIALS"); do
    trials=$((trials + 1))
    rm -f "$W/run.h5" "$W/run.h5.ckpt"
    kills=0
    tries=0
    # shellcheck disable=SC2086
    "$P" $T -o "$W/run.h5" > /dev/null 2>&1 &
    pid=$!
    while :; do
        sleep "$(delay "$k$kills" 3)"
        kill -9 $pid 2> /dev/null && kills=$((kills + 1))
        wait $pid 2> /dev/null
        if [ -e "$W/run.h5" ] && ! "$P" inspect "$W/run.h5" -q > /dev/null 2>&1; then fail "train trial $k: damaged best model"; fi
        if [ -e "$W/run.h5.ckpt" ]; then
            # shellcheck disable=SC2086
            "$P" $T -o "$W/run.h5" --resume "$W/run.h5.ckpt" > "$W/resume.log" 2>&1 &
        else
            # shellcheck disable=SC2086
            "$P" $T -o "$W/run.h5" --force > "$W/resume.log" 2>&1 &
        fi
        pid=$!
        tries=$((tries + 1))
        [ $kills -lt 3 ] && [ $tries -lt 12 ] || break
    done
    wait $pid || { fail "train trial $k: the last resume failed: $(tail -1 "$W/resume.log")"; continue; }
    same "$W/ref.h5" "$W/run.h5" || fail "train trial $k ($kills kills): the best model differs from an uninterrupted run"
    same "$W/ref.h5.ckpt" "$W/run.h5.ckpt" || fail "train trial $k ($kills kills): the final checkpoint differs"
    if [ -n "$(leftovers)" ]; then fail "train trial $k: leftovers: $(leftovers)"; fi
    echo "train trial $k: killed $kills times, resumed: same best model and final checkpoint"
done

# --- a full disk: a file-size limit (KiB) below each writer's output ---
while read -r kib cmd; do
    trials=$((trials + 1))
    # shellcheck disable=SC2086
    (ulimit -f "$kib"; exec "$P" $cmd -q) > /dev/null 2> "$W/err"
    rc=$?
    if [ $rc -ne 1 ] || [ "$(wc -l < "$W/err")" -ne 1 ] || [ -e "$W/full.h5" ] || [ -e "$W/full.h5.ckpt" ] || [ -n "$(leftovers)" ]; then
        fail "full disk (ulimit -f $kib): $cmd: exit $rc, $(wc -l < "$W/err") lines: $(head -c 300 "$W/err")"
    fi
    rm -rf "$W/full.h5" "$W/full.h5.ckpt"
done << EOF
1024 simulate -n 3000 -o $W/full.h5
1024 generate -m $W/gen_model.h5 --n 3000 -o $W/full.h5
1024 train -d $D -p tiny -e 1 -o $W/full.h5
64 encode -m $W/gen_model.h5 -d $D -o $W/full.h5
16 evaluate -g $W/gen_ref.h5 -r $D -o $W/full.h5 --no-classifier
EOF
echo "crash: $trials trials, $fails failures (uninterrupted training took ${tr}s)"
[ "$fails" -eq 0 ]
