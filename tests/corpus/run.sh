#!/bin/sh
# tests/corpus/run.sh PROG MKCORPUS WORKDIR: the malformed-input corpus, run end to end.
#
# Makes a good shower file and a good model and checkpoint with PROG, builds the corpus from
# them (MKCORPUS, tests/corpus/mkcorpus.c), then runs every command that reads a kind of input
# on every item of that kind, and a list of absurd command lines. Each run must be a clean
# refusal: exit status 1 or 2 (no signal, no sanitizer report, no hang: 120 s at most),
# exactly one line on stderr that starts with "showervae", and no output file left behind.
# Prints one line per failure and a summary; exits 1 if anything failed. Under the sanitizer
# build a report makes the program exit 86, which fails the check.
set -u
P=$1
MK=$2
W=$3
rm -rf "$W"
mkdir -p "$W"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-exitcode=86:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:exitcode=86:print_stacktrace=1}"
G=$W/good.h5
M=$W/model.h5
O=$W/out.h5
R=$W/report
"$P" simulate -n 64 --seed 3 --energy 1:100 -o "$G" -q || { echo "corpus: cannot make the good showers"; exit 1; }
"$P" train -d "$G" -p tiny -e 1 -o "$M" -q || { echo "corpus: cannot make the good model"; exit 1; }
"$MK" "$W/items" "$G" "$M" "$M.ckpt" > "$W/manifest" || { echo "corpus: mkcorpus failed"; exit 1; }

runs=0
fails=0
# check CMD...: runs a command that must refuse cleanly
check() {
    runs=$((runs + 1))
    rm -rf "$O" "$R"
    timeout -s KILL 120 "$@" > "$W/stdout" 2> "$W/stderr" < /dev/null
    rc=$?
    lines=$(wc -l < "$W/stderr")
    why=""
    if [ "$rc" -ne 1 ] && [ "$rc" -ne 2 ]; then why="exit status $rc"
    elif [ "$lines" -ne 1 ]; then why="$lines lines on stderr"
    elif ! grep -q '^showervae[ :]' "$W/stderr"; then why="no 'showervae' prefix"
    elif [ -e "$O" ] || [ -e "$R" ]; then why="left an output behind"
    elif ls -a "$W" | grep -q '\.tmp\.'; then why="left a temporary file behind"
    fi
    if [ -n "$why" ]; then
        fails=$((fails + 1))
        echo "FAIL ($why): $*"
        head -c 600 "$W/stderr" | sed 's/^/    /'
    fi
}

while read -r kind f; do
    case $kind in
    showers)
        check "$P" inspect "$f" -q
        check "$P" train -d "$f" -p tiny -e 1 -o "$O" -q
        case $f in # generate reads a file's energies, not its voxels
        */s_voxel_*) ;;
        *) check "$P" generate -m "$M" --energies-from "$f" -o "$O" -q ;;
        esac
        check "$P" encode -m "$M" -d "$f" -o "$O" -q
        check "$P" fit-prior -m "$M" -d "$f" -o "$O" -q
        check "$P" evaluate -g "$f" -r "$G" -o "$R" --no-classifier -q
        check "$P" evaluate -g "$G" -r "$f" -o "$R" --no-classifier -q
        ;;
    model)
        check "$P" inspect "$f" -q
        check "$P" generate -m "$f" --n 4 -o "$O" -q
        check "$P" encode -m "$f" -d "$G" -o "$O" -q
        check "$P" fit-prior -m "$f" -d "$G" -o "$O" -q
        ;;
    ckpt)
        check "$P" inspect "$f" -q
        check "$P" train -d "$G" --resume "$f" -o "$O" -q
        ;;
    resume)
        check "$P" train -d "$G" --resume "$f" -o "$O" -q
        ;;
    xml)
        check "$P" simulate -g "$f" -n 2 -o "$O" -q
        check "$P" inspect "$G" -g "$f" -q
        check "$P" train -d "$G" -g "$f" -p tiny -e 1 -o "$O" -q
        ;;
    esac
done < "$W/manifest"
items=$(wc -l < "$W/manifest")

# absurd options, one per line (word-split: no spaces inside an argument)
while read -r line; do
    [ -z "$line" ] && continue
    # shellcheck disable=SC2086
    check "$P" $line
done << EOF
simulate --n 0 -o $O
simulate --n -1 -o $O
simulate --n 99999999999999999999 -o $O
simulate --n 2 --energy 1e300:1e301 -o $O
simulate --n 2 --energy-list 1e9 -o $O
simulate --n 2 --energy-list 20000 -o $O
simulate --n 2 --energy 0:1 -o $O
simulate --n 2 --energy 5:1 -o $O
simulate --n 2 --energy nan:1 -o $O
simulate --n 2 --energy 1:2:3 -o $O
simulate --n 2 --energy-list 1,,2 -o $O
simulate --n 2 --batch 0 -o $O
simulate --n 2 -g nosuchgrid -o $O
simulate --n 2 --deflate 10 -o $O
simulate --n 2
simulate --bogus -o $O
simulate -o $O -n
simulate --n 2 -o $O extra
generate -m $M --n 0 -o $O
generate -m $M --n 4611686018427387905 -o $O
generate -m $M --n 2 --batch 0 -o $O
generate -m $M --n 2 --energy 1e300:1e301 -o $O
generate -m $M --n 2 --energy 1:10 --energy-list 5 -o $O
generate -m $M --n 2 --precision fp8 -o $O
generate -m $M --n 2 --prior flat -o $O
generate -m $M --n 2 --mc-dropout -1 -o $O
generate -m $W/missing.h5 --n 2 -o $O
generate -m $M --energies-from $W/missing.h5 -o $O
generate -m $M --n 2 -o $M --force
generate -m $M --energies-from $G -o $G --force
generate -m $M --n 2 -o $W/nodir/out.h5
generate -m $M --n 2 -o $G
train -d $G -p tiny --lr 0 -o $O
train -d $G -p tiny --lr -1 -o $O
train -d $G -p tiny --dropout -0.5 -o $O
train -d $G -p tiny --dropout 0.99 -o $O
train -d $G -p tiny --epochs 0 -o $O
train -d $G -p tiny --batch 1 -o $O
train -d $G -p tiny --batch 100000 -o $O
train -d $G -p tiny --val-fraction 0 -o $O
train -d $G -p tiny --val-fraction 1.5 -o $O
train -d $G -p tiny --seed abc -o $O
train -d $G -p tiny --max-minutes -1 -o $O
train -d $G -p tiny --checkpoint-every x -o $O
train -d $G -p tiny --init glorot -o $O
train -d $G -p tiny --lr-schedule step -o $O
train -d $G -p nosuchpreset -o $O
train -d $G -p tiny -o $G --force
train -d $G -p tiny -o $M
train -d $G -p tiny --resume $W/missing.h5 -o $O
train -d $G -p tiny --resume $M -o $O
train -d $G -p tiny -e 1 -o $W/nodir/m.h5
evaluate -g $G -r $G -o $G --force --no-classifier
evaluate -g $G -r $G -o $W --force --no-classifier
evaluate -g $G -r $G -o $R --cls-epochs 0
evaluate -g $W/missing.h5 -r $G -o $R
evaluate -g $G -o $R
encode -m $M -d $G -o $M --force
encode -m $M -d $G -o $G --force
fit-prior -m $M -d $G -k 0
fit-prior -m $M -d $G -k 1000
fit-prior -m $M -d $G --val-fraction 0
fit-prior -m $M -d $G -o $G --force
inspect
inspect $G $G
inspect $W/missing.h5
info extra
nosuchcommand
EOF

echo "corpus: $items items, $runs runs, $fails failures"
[ "$fails" -eq 0 ] || exit 1
rm -rf "$W/items" # a few hundred MB of model copies
