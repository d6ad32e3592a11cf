#!/bin/sh
# What 'make bench' measures against and with, installed only when missing: nginx-light (the
# fleet's real web server), curl (the sweep reference), heaptrack (the memory profiles), sqlite3
# (the insert-rate reference).
set -eu
missing=""
for p in nginx-light curl heaptrack sqlite3; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "installing for the benchmarks:$missing" >&2
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
