#!/bin/sh
# Installs what healthtop needs to build and test on Debian/Ubuntu; does nothing that is already there.
set -eu
# libpq-dev builds the PostgreSQL store; postgresql (the server) is for the tests, which initdb a
# throwaway server of their own (tests/integration/pgserver.py) and never touch the package's.
# clang and its sanitizer/libFuzzer runtime are for 'make fuzz' (the runtime is only recommended
# by libclang-common, so it is named here); Debian 12's clang is 14: CLANG_RT=libclang-rt-NN-dev for others.
PKGS="build-essential autoconf automake pkg-config \
 libncurses-dev libcurl4-openssl-dev libcjson-dev libev-dev libsqlite3-dev libpq-dev \
 libmicrohttpd-dev libcmocka-dev \
 openssl python3 sqlite3 tmux valgrind \
 postgresql postgresql-client \
 clang ${CLANG_RT:-libclang-rt-14-dev}"
# node and npm run the gRPC test server; a machine may already have them from elsewhere (a
# nodesource build bundles npm and conflicts with Debian's npm package), so ask for the commands.
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || PKGS="$PKGS nodejs npm"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
# promtool checks /metrics in the tests. Only the tool, taken out of Debian's prometheus package:
# installing the package would start a Prometheus server (a service on :9090) on every CI host.
if ! command -v promtool >/dev/null 2>&1; then
    tmp=$(mktemp -d)
    if (cd "$tmp" && apt-get download -q prometheus && dpkg-deb -x prometheus_*.deb x); then
        $SUDO install -m 0755 "$tmp/x/usr/bin/promtool" /usr/local/bin/promtool
    else
        echo "promtool not installed: the /metrics test will skip its promtool check" >&2
    fi
    rm -rf "$tmp"
fi
[ -z "$missing" ] && exit 0
echo "installing:$missing" >&2
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
