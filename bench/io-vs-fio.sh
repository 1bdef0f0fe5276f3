#!/bin/sh
# io-vs-fio.sh — our real-I/O backends (build/bench/bench_io) against fio on
# the same file, same settings: O_DIRECT, sequential read, bs 128 KiB, QD 32.
#
# The disk of a VM is noisy (runs of the same command differ by +-20 %), so
# the two are interleaved: each round runs, per engine, one bench_io read
# and one fio job, in alternating order (ours first on odd rounds, fio first
# on even ones); the medians over ROUNDS rounds (default 15) are printed as
#   bench io_uring_read_mb_s V MB/s        bench fio_io_uring_read_mb_s V MB/s
#   bench libaio_read_mb_s V MB/s          bench fio_libaio_read_mb_s V MB/s
#   bench io_uring_ours_over_fio R         bench libaio_ours_over_fio R
# MB = 10^6 bytes (fio's terse output gives KiB/s; converted).
# Run from the project root after `make build/bench/bench_io`.
# Usage: sh bench/io-vs-fio.sh [ROUNDS]
set -eu

ROUNDS=${1:-15}
BENCH=${BENCH:-build/bench/bench_io}
FILE=build/bench-tmp/io-256m.bin
FIO=${FIO:-fio}

if ! command -v "$FIO" >/dev/null 2>&1; then
	echo "skip: fio not installed (Debian package fio)"; exit 0
fi
if [ ! -x "$BENCH" ]; then
	echo "io-vs-fio.sh: $BENCH missing; run: make $BENCH" >&2; exit 2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# Creates the file if needed and checks that both backends run here.
"$BENCH" --runs 1 >"$tmp/first" 2>/dev/null || { cat "$tmp/first"; exit 1; }
if grep -q '^skip:' "$tmp/first"; then cat "$tmp/first"; fi

fio_mb_s() {
	# terse v3: field 7 is the read bandwidth in KiB/s
	"$FIO" --name=seqread --filename="$FILE" --direct=1 --bs=128k --iodepth=32 \
		--rw=read --ioengine="$1" --output-format=terse --terse-version=3 2>/dev/null |
		awk -F';' '$7 > 0 { printf "%.1f\n", $7 * 1024 / 1e6 }'
}

ours_mb_s() {
	"$BENCH" --backend "$1" --runs 1 2>/dev/null | awk '$2 ~ /_read_mb_s$/ { print $3 }'
}

i=0
while [ "$i" -lt "$ROUNDS" ]; do
	for e in io_uring libaio; do
		b=uring; [ "$e" = libaio ] && b=aio
		if [ $((i % 2)) -eq 0 ]; then
			ours_mb_s "$b" >>"$tmp/$e"; fio_mb_s "$e" >>"$tmp/fio_$e"
		else
			fio_mb_s "$e" >>"$tmp/fio_$e"; ours_mb_s "$b" >>"$tmp/$e"
		fi
	done
	i=$((i + 1))
done

median() { sort -n "$1" | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }

for e in io_uring libaio; do
	ours=$(median "$tmp/$e")
	theirs=$(median "$tmp/fio_$e")
	if [ -n "$ours" ]; then echo "bench ${e}_read_mb_s $ours MB/s"; fi
	if [ -z "$theirs" ]; then echo "skip: fio --ioengine=$e did not run here"; continue; fi
	echo "bench fio_${e}_read_mb_s $theirs MB/s"
	if [ -n "$ours" ]; then
		awk -v a="$ours" -v b="$theirs" -v e="$e" \
			'BEGIN { printf "bench %s_ours_over_fio %.3f\n", e, a / b }'
	fi
done
