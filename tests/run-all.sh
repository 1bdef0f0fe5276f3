#!/bin/sh
# Runs every test program given on the command line from the project root,
# prints each one's Check summary, and closes with one "N passed, N failed"
# line over all of them (checks counted by Check, one per test case).
# A program that prints "skip:" for a case counts it as skipped, not failed.
passed=0; failed=0; skipped=0; progs_failed=""
for t in "$@"; do
	out=$("$t" 2>&1); rc=$?
	printf '%s\n' "$out" | grep -E '^[0-9]+%: Checks|^skip:|: [EF]:' || true
	line=$(printf '%s\n' "$out" | grep -E '^[0-9]+%: Checks' | tail -n 1)
	n=$(printf '%s' "$line" | sed -n 's/.*Checks: \([0-9]*\).*/\1/p')
	f=$(printf '%s' "$line" | sed -n 's/.*Failures: \([0-9]*\).*/\1/p')
	e=$(printf '%s' "$line" | sed -n 's/.*Errors: \([0-9]*\).*/\1/p')
	s=$(printf '%s\n' "$out" | grep -c '^skip:')
	if [ -z "$n" ]; then
		echo "$t: no Check summary (exit $rc)"; printf '%s\n' "$out" | tail -n 20
		failed=$((failed + 1)); progs_failed="$progs_failed $t"; continue
	fi
	bad=$((f + e))
	passed=$((passed + n - bad)); failed=$((failed + bad)); skipped=$((skipped + s))
	if [ "$rc" -ne 0 ] || [ "$bad" -ne 0 ]; then progs_failed="$progs_failed $t"; fi
done
[ -n "$progs_failed" ] && echo "failing:$progs_failed"
echo "$passed passed, $failed failed, $skipped skipped"
[ -z "$progs_failed" ]
