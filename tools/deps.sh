#!/bin/sh
# tools/deps.sh: make sure the Debian packages showervae builds against are installed.
#
# Contract: checks each package with dpkg-query; only when something is missing does it
# run `apt-get update` and `apt-get install -y` for exactly the missing packages.
# Needs root (or sudo) only in that case. Exits non-zero with a one-line message if
# a package cannot be installed. Called by the Makefile before the first build
# (it leaves a stamp in build/ so it runs once per package list).
set -eu

PKGS="${SHOWERVAE_PKGS:-build-essential pkg-config libdnnl-dev libhdf5-dev hdf5-tools zlib1g-dev libcriterion-dev libcjson-dev libdeflate-dev nettle-dev libxml2-dev libplplot-dev plplot-driver-cairo libprotobuf-c-dev protobuf-c-compiler libonnx-dev libopenmpi-dev openmpi-bin liblapacke-dev libopenblas-dev clang libclang-rt-14-dev libomp-dev}"

missing=""
for p in $PKGS; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$st" in
        *"install ok installed"*) ;;
        *) missing="$missing $p" ;;
    esac
done

[ -z "$missing" ] && exit 0

echo "deps: installing missing Debian packages:$missing" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
        echo "deps: missing packages:$missing (run as root or install them: apt-get install$missing)" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >&2 || { echo "deps: apt-get update failed" >&2; exit 1; }
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing >&2 || {
    echo "deps: apt-get install failed for:$missing" >&2; exit 1; }
