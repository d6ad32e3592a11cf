#!/bin/sh
# Installs what healthtop needs to build and test on Debian/Ubuntu; does nothing that is already there.
set -eu
PKGS="build-essential autoconf automake pkg-config \
 libncurses-dev libcurl4-openssl-dev libcjson-dev libev-dev libsqlite3-dev \
 libmicrohttpd-dev libcmocka-dev \
 openssl python3 sqlite3 tmux valgrind \
 nodejs npm"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "installing:$missing" >&2
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
