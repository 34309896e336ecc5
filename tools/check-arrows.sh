#!/bin/sh
# tools/check-arrows.sh: the include arrows of the project point down only.
#
#   base  <-  layers, physics  <-  io  <-  vae  <-  vae/eval, vae/export  <-  vae/cli  <-  bench, tests
#
# A file may include project headers from its own module and from the modules below it,
# never from one above or beside it (layers and physics do not see each other). External
# headers are checked too: base and physics use neither oneDNN nor HDF5, layers no HDF5,
# only vae/eval uses PLplot, only vae/export protobuf-c and the ONNX schema, and only vae/cli
# MPI (<mpi.h>: the library never depends on it). Prints every violation as file:line and exits 1 if any.
set -u
cd "$(dirname "$0")/.."

# module of a path: the longest folder prefix that names a module
module_of() {
    case "$1" in
    vae/eval/*) echo vae/eval ;; vae/export/*) echo vae/export ;; vae/cli/*) echo vae/cli ;; vae/*) echo vae ;;
    base/*) echo base ;; layers/*) echo layers ;; physics/*) echo physics ;; io/*) echo io ;;
    bench/*) echo bench ;; tests/*) echo tests ;; *) echo other ;;
    esac
}
# modules a module may include (besides itself)
allowed() {
    case "$1" in
    base) echo "" ;;
    layers) echo "base" ;;
    physics) echo "base" ;;
    io) echo "base layers physics" ;;
    vae) echo "base layers physics io" ;;
    vae/eval | vae/export) echo "base layers physics io vae" ;;
    vae/cli) echo "base layers physics io vae vae/eval vae/export" ;;
    bench | tests) echo "base layers physics io vae vae/eval vae/export vae/cli bench tests" ;;
    esac
}
# external headers a module must not include (extended regex on the header name)
forbidden_ext() {
    case "$1" in
    base | physics) echo 'oneapi/dnnl|hdf5|H5|plplot|protobuf|onnx/|^mpi' ;;
    layers) echo 'hdf5|H5|plplot|protobuf|onnx/|^mpi' ;;
    io | vae) echo 'plplot|protobuf|onnx/|^mpi' ;;
    vae/eval) echo 'protobuf|onnx/|^mpi' ;;
    vae/export) echo 'plplot|^mpi' ;;
    *) echo '^$' ;;
    esac
}

bad=0
for f in $(find base layers physics io vae bench tests -name '*.[ch]' | sort); do
    m=$(module_of "$f")
    ok="$m $(allowed "$m")"
    ext=$(forbidden_ext "$m")
    grep -n '^[[:space:]]*#[[:space:]]*include' "$f" | while IFS= read -r line; do
        n=${line%%:*}
        h=$(printf '%s\n' "$line" | sed -n 's/.*#[[:space:]]*include[[:space:]]*["<]\([^">]*\)[">].*/\1/p')
        case "$line" in
        *'"'*)
            hm=$(module_of "$h")
            if [ "$hm" = other ]; then
                if printf '%s\n' "$h" | grep -Eq "$ext"; then
                    echo "$f:$n: $m includes the generated or external header \"$h\""; echo x >&3
                fi
                continue
            fi
            case " $ok " in *" $hm "*) ;; *)
                echo "$f:$n: $m includes $h from $hm (above or beside it)"; echo x >&3 ;;
            esac ;;
        *)
            if printf '%s\n' "$h" | grep -Eq "$ext"; then
                echo "$f:$n: $m includes the external header <$h>"; echo x >&3
            fi ;;
        esac
    done 3>>"${TMPDIR:-/tmp}/arrows.$$"
done
if [ -s "${TMPDIR:-/tmp}/arrows.$$" ]; then bad=1; fi
rm -f "${TMPDIR:-/tmp}/arrows.$$"
if [ $bad -ne 0 ]; then echo "check-arrows: include arrows point up (see above)"; exit 1; fi
echo "check-arrows: all include arrows point down"
