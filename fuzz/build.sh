#!/bin/sh
# Builds the libFuzzer harnesses with clang, apart from the normal (gcc) build: every src/ file a
# harness needs is compiled again with coverage and sanitizers into FUZZ_BUILD/.
#   fuzz/build.sh                       build every harness
# Environment: CC (default clang), FUZZ_BUILD (default fuzz/build under the current directory),
# AUTOCONFIG_DIR (a configured build tree holding autoconfig.h; without one a minimal header is
# written), HT_THEMEDIR, FUZZ_CFLAGS (more flags, e.g. -DFUZZ_STRICT).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
CC=${CC:-clang}
out=${FUZZ_BUILD:-$PWD/fuzz/build}
mkdir -p "$out"

if [ -n "${AUTOCONFIG_DIR:-}" ] && [ -f "$AUTOCONFIG_DIR/autoconfig.h" ]; then
	cp "$AUTOCONFIG_DIR/autoconfig.h" "$out/autoconfig.h"
elif [ ! -f "$out/autoconfig.h" ]; then
	# What configure would say on a glibc system and the sources rely on.
	printf '#define _GNU_SOURCE 1\n#define PACKAGE_VERSION "fuzz"\n' > "$out/autoconfig.h"
fi

pc_cflags=$(pkg-config --cflags libcurl libcjson)
pc_libs=$(pkg-config --libs libcurl libcjson)
# -O1 and frame pointers: readable stacks at a fuzzing speed; UB stops the run like a crash.
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
themedir=${HT_THEMEDIR:-/usr/local/share/healthtop/themes}
common="-g -O1 -fno-omit-frame-pointer -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter
	-I$out -I$top/include -I$top/src -DHT_THEMEDIR=\"$themedir\"
	$pc_cflags ${FUZZ_CFLAGS:-}"

# The rooms the harnesses reach: all of the pure core (every src/core/*.c, so a file split off a
# parser there is picked up without editing this list), plus the export writer and the theme
# parser. Linked through an archive, so each harness pulls only the objects it uses.
srcs=$(cd "$top" && ls src/core/*.c)
srcs="$srcs src/export/export_format.c src/ui/theme.c"
rm -rf "$out/obj"
mkdir -p "$out/obj"
objs=""
for s in $srcs; do
	o="$out/obj/$(echo "$s" | tr / _ | sed 's/\.c$/.o/')"
	# shellcheck disable=SC2086
	$CC $common $san -fsanitize=fuzzer-no-link -c "$top/$s" -o "$o"
	objs="$objs $o"
done
rm -f "$out/libfuzzcore.a"
# shellcheck disable=SC2086
ar rcs "$out/libfuzzcore.a" $objs

for h in "$here"/fuzz_*.c; do
	name=$(basename "$h" .c)
	# shellcheck disable=SC2086
	$CC $common $san -fsanitize=fuzzer "$h" "$out/libfuzzcore.a" $pc_libs -lm -o "$out/$name"
	echo "built $out/$name"
done
