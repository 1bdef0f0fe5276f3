#!/bin/sh
# Runs every test program given on the command line from the project root,
# prints each one's Check summary and skip lines, and closes with one
# "N passed, N failed, N skipped" line over all of them, counting test cases:
# a case that skipped (tu_skip, counted by tests/common/tutil.c) is counted as
# skipped and not as passed.  A program that exits 77 skipped as a whole.
# Set NDPSIM_REQUIRE="dataset mpi gnuplot" to make skips for those fail.
passed=0; failed=0; skipped=0; progs_failed=""; progs_skipped=""
for t in "$@"; do
	out=$("$t" 2>&1); rc=$?
	printf '%s\n' "$out" | grep -E '^[0-9]+%: Checks|^skip:|:[0-9]+:[EF]:' || true
	line=$(printf '%s\n' "$out" | grep -E '^[0-9]+%: Checks' | tail -n 1)
	n=$(printf '%s' "$line" | sed -n 's/.*Checks: \([0-9]*\).*/\1/p')
	f=$(printf '%s' "$line" | sed -n 's/.*Failures: \([0-9]*\).*/\1/p')
	e=$(printf '%s' "$line" | sed -n 's/.*Errors: \([0-9]*\).*/\1/p')
	s=$(printf '%s\n' "$out" | sed -n 's/^tutil: [0-9]* cases, \([0-9]*\) skipped$/\1/p' | tail -n 1)
	if [ -z "$n" ] || [ -z "$s" ]; then
		echo "$t: no Check summary (exit $rc)"; printf '%s\n' "$out" | tail -n 20
		failed=$((failed + 1)); progs_failed="$progs_failed $t"; continue
	fi
	bad=$((f + e))
	ok=$((n - bad - s)); [ "$ok" -lt 0 ] && ok=0
	passed=$((passed + ok)); failed=$((failed + bad)); skipped=$((skipped + s))
	if [ "$rc" -eq 77 ] && [ "$bad" -eq 0 ]; then
		progs_skipped="$progs_skipped $t"
	elif [ "$rc" -ne 0 ] || [ "$bad" -ne 0 ]; then
		progs_failed="$progs_failed $t"
	fi
done
[ -n "$progs_skipped" ] && echo "skipped as a whole:$progs_skipped"
[ -n "$progs_failed" ] && echo "failing:$progs_failed"
echo "$passed passed, $failed failed, $skipped skipped"
[ -z "$progs_failed" ]
