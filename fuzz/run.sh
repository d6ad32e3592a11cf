#!/bin/sh
# Runs the harnesses built by fuzz/build.sh: first every saved regression input once, then a
# bounded campaign of SECONDS per harness from the committed seed corpus.
#   fuzz/run.sh SECONDS [ROOM...]        (rooms: body body_text config expect export grpc sanitize theme
#                                        timeparse)
# New inputs the fuzzer finds go to FUZZ_BUILD/corpus/ROOM (the committed corpus is only read);
# a crash or hang is written to FUZZ_BUILD/artifacts/ROOM/ and fails the run.
# Environment: FUZZ_BUILD (default fuzz/build), FUZZ_TIMEOUT (seconds one input may take,
# default 10: an input slower than that counts as a hang), FUZZ_ARGS (more libFuzzer flags).
set -u
here=$(cd "$(dirname "$0")" && pwd)
out=${FUZZ_BUILD:-$PWD/fuzz/build}
seconds=${1:?usage: fuzz/run.sh SECONDS [ROOM...]}
shift
rooms=${*:-"body body_text config expect export grpc sanitize theme timeparse"}
timeout=${FUZZ_TIMEOUT:-10}
failed=""

for room in $rooms; do
	bin="$out/fuzz_$room"
	[ -x "$bin" ] || { echo "fuzz: $bin not built (run fuzz/build.sh)"; exit 2; }
	# Every input that ever crashed or hung stays a test.
	regs=$(find "$here/regressions/$room" -type f 2>/dev/null | sort)
	if [ -n "$regs" ]; then
		echo "=== fuzz $room: replaying $(echo "$regs" | wc -l) regression inputs"
		# shellcheck disable=SC2086
		"$bin" -timeout="$timeout" -runs=1 $regs > "$out/$room.replay.log" 2>&1 ||
			{ tail -n 40 "$out/$room.replay.log"; failed="$failed $room(regression)"; continue; }
	fi
	echo "=== fuzz $room: ${seconds}s"
	mkdir -p "$out/corpus/$room" "$out/artifacts/$room"
	# shellcheck disable=SC2086
	"$bin" -max_total_time="$seconds" -timeout="$timeout" -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$out/artifacts/$room/" ${FUZZ_ARGS:-} \
		"$out/corpus/$room" "$here/corpus/$room" > "$out/$room.log" 2>&1
	rc=$?
	grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "$out/$room.log" | tr '\n' ' '
	echo
	if [ $rc -ne 0 ]; then
		grep -v '^#' "$out/$room.log" | tail -n 40
		echo "fuzz $room FAILED: input saved in $out/artifacts/$room/;" \
		     "keep it as fuzz/regressions/$room/<what-it-does> once understood"
		failed="$failed $room"
	fi
done
[ -z "$failed" ] || { echo "fuzz: failures in:$failed"; exit 1; }
echo "fuzz: all harnesses clean"
