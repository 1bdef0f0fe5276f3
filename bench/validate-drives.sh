#!/bin/sh
# Simulated vs data-sheet figures of the named-drive presets (issue 11 item 7):
#   bench/validate-drives.sh [ndpsim binary]      (default build/ndpsim)
# prints the Markdown table of bench/README.md "Validation against real
# drives".  Every run is a closed loop on the preset as shipped except
# ssd.pages (pages per block), shrunk (PAGES below) so preconditioning a
# full drive takes seconds: it changes capacity and GC granularity, not the
# timing of a page, and keeps the preset's blocks per plane, so the share of
# blocks held back for GC (threshold + open blocks) stays as small as on the
# real drive (shrinking ssd.blocks instead would eat the over-provisioning).
# The 980 PRO's static SLC cache (an absolute size) is shrunk by the same
# factor, so it stays 0.6 % of the capacity; its dynamic part is a fraction
# of the free space already.  Runs are at the data sheet's conditions where
# the sheet states them (random 4 KiB at QD32 x 16 threads = QD 512 for the
# 980 PRO; QD1 and QD32 otherwise); where the sheet's queue depth differs
# from the one the old table used, both are shown.  Steady state: filled,
# 2x capacity of random overwrites (functional), then 200k random 4 KiB
# writes at QD32, with GC in queue order and with ftl.gc_preempt; the SLC
# cache is set to 0 there (sustained writes never leave the host idle, so
# the cache stays full once its first 375 MB are written).
# Needs python3 for reading report.json.  TABLE_ONLY=1 reprints the table
# from the reports of an earlier run in $OUT.
set -e
BIN=${1:-build/ndpsim}
OUT=${OUT:-build/validate}
PAGES=${PAGES:-64}
mkdir -p "$OUT"
SLC980=$((6000000000 / 1024 * PAGES))   # 6 GB static TurboWrite region, scaled

run() { # name preset args... -> writes $OUT/name/report.json
	n=$1; c=$2; shift 2
	extra=""
	[ "$c" = samsung-980pro-1tb ] && extra="--set ssd.slc.static_bytes=$SLC980"
	"$BIN" ssd --quiet --no-plot --config "configs/$c.json" --out "$OUT/$n" \
		--set ssd.pages="$PAGES" $extra --seed 1 "$@" >/dev/null
}
get() { # name dir(read|write) field -> value
	python3 -c "import json,sys; m=json.load(open('$OUT/$1/report.json'))['metrics']; d=m['$2']; print(d['$3'] if '$3' != 'lat_mean' else d['lat_ns']['mean'])"
}
row() { # label sim sheet unit note
	L=$1 S=$2 D=$3 U=$4 N=$5 python3 -c '
import os
e = os.environ
sim = float(e["S"]); sheet = e["D"]; u = e["U"]
if sheet == "-":
    print("| %s | %.4g %s | - | - | %s |" % (e["L"], sim, u, e["N"]))
else:
    d = (sim - float(sheet)) / float(sheet) * 100
    print("| %s | %.4g %s | %s %s | %+.0f %% | %s |" % (e["L"], sim, u, sheet, u, d, e["N"]))'
}
NOSLC="--set ssd.slc.static_bytes=0 --set ssd.slc.dynamic_frac=0"
FULL="--set ssd.precondition.fill=1"
SS="--set ssd.precondition.fill=1 --set ssd.precondition.overwrite=2 --set workload.read_ratio=0 --set workload.qd=32 --set workload.count=200000"
if [ -z "${TABLE_ONLY-}" ]; then   # TABLE_ONLY=1: reprint from $OUT
for c in samsung-980pro-1tb samsung-850pro-256g; do
	run "$c-qd1" "$c" $FULL --set workload.qd=1 --set workload.count=5000
	run "$c-qd32" "$c" $FULL --set workload.qd=32 --set workload.count=50000
	run "$c-seqr" "$c" $FULL --set workload.pattern=seq \
		--set workload.bs_bytes=131072 --set workload.qd=32 --set workload.count=20000
	run "$c-seqw" "$c" --set workload.pattern=seq --set workload.read_ratio=0 \
		--set workload.bs_bytes=131072 --set workload.qd=32 --set workload.count=20000
	run "$c-w1" "$c" --set workload.read_ratio=0 --set workload.qd=1 --set workload.count=5000
	run "$c-ssw" "$c" $SS $NOSLC
	run "$c-sswp" "$c" $SS $NOSLC --set ssd.ftl.gc_preempt=true
done
c=samsung-980pro-1tb
run "$c-qd512" "$c" $FULL --set workload.qd=512 --set workload.count=200000
run "$c-seqw-tlc" "$c" $NOSLC --set workload.pattern=seq --set workload.read_ratio=0 \
	--set workload.bs_bytes=131072 --set workload.qd=32 --set workload.count=20000
run "$c-w512" "$c" --set workload.read_ratio=0 --set workload.qd=512 --set workload.count=200000
c=samsung-850pro-256g
run "$c-w32" "$c" --set workload.read_ratio=0 --set workload.qd=32 --set workload.count=50000

fi

# Why a row is not within 15 % (written after reading the results; the
# presets were not changed to meet them).
TR_BOUND="one 4 KiB read holds a die for tR = 45 us (Samsung: under 45 us); 16 dies serve at most 16 / 45 us = 356 K reads/s, and ssdsim merges reads into multi-plane operations only within one request, so the 4 planes of a die do not serve different requests at once as real controllers do (independent multi-plane reads are not modelled)"
N980_QD512="$TR_BOUND"
N980_QD32="the sheet's figure is at QD 512 (row above); at QD32 two reads per die, the same per-die bound"
N980_SEQW="ssdsim is bound by the PCIe Gen4 x4 link (80 % of 7.88 GB/s = 6.3 GB/s; the SLC-mode rate of 16 dies x 4 planes x 16 KiB / 100 us = 10.5 GB/s is above it); the drive stops at 5000 MB/s in its controller / write path, for which no figure is published"
N980_W1="a write completes once in the controller's DRAM buffer: link 1 us + firmware 2 us (both assumptions) + transfer, 4.3 us a write in all; the sheet's 16.7 us per write includes the benchmark host's I/O stack and a firmware write path with no published time"
N980_W512="bound by the controller: 3 cores x 2 us per command (ssdsim defaults; Samsung publishes neither the Elpis core count nor its per-command time) = 1.5 M commands/s"
N980_SS="no steady-state figure on the client data sheet; with gc_preempt identical: at the preset's GC thresholds (GC from 2 erased blocks a plane, blocking at 1) the die was urgent in every decision between a queued host program and a GC move (262 144 of 262 144, counted in a 100k-write run), so GC is never preempted"
N850_QD1="data sheet: 10K IOPS at QD1 = 100 us, measured through a host stack; the SATA/AHCI command path (6 us) and MEX firmware time (2 us) are assumptions, and real MLC tR of this die is unpublished"
N850_QD32="ssdsim is bound by the SATA link (550 MB/s / 4 KiB = 134K); the real drive stops at 100K in its controller (3 Cortex-R4 cores), whose per-command time is an assumption here (2 us)"
N850_W1="a write completes once in the DRAM buffer: SATA command path 6 us + firmware 2 us (assumptions) + 4 KiB at 550 MB/s, 16 us a write in all; the sheet's 27.8 us per write includes the host's I/O stack and a firmware write path with no published time"
N850_W32="bound by the SATA link (134 K 4 KiB transfers/s); the drive stops at 90 K in its controller, whose per-command time is an assumption (2 us)"
N850_SS="no steady-state figure on the data sheet; gc_preempt identical for the same reason as the 980 PRO (GC thresholds 2 / 1 blocks a plane)"
k() { get "$1" "$2" "$3" | awk '{print $1/1000}'; }
p999() { python3 -c "import json; print(json.load(open('$OUT/$1/report.json'))['metrics']['write']['lat_ns']['p999']/1e6)"; }
us() { get "$1" "$2" lat_mean | awk '{print $1/1000}'; }
# Data-sheet figures (see each preset's description for the source).
echo "| drive / metric | simulated | data sheet | diff | why not within 15 % |"
echo "|---|---|---|---|---|"
c=samsung-980pro-1tb
echo "| **Samsung 980 PRO 1 TB** | | | | |"
row "QD1 4 KiB random read" "$(us $c-qd1 read)" 45.5 us "${N980_QD1-}"
row "4 KiB random read, QD32 x 16 threads (QD 512, sheet)" "$(k $c-qd512 read iops)" 1000 kIOPS "${N980_QD512-}"
row "4 KiB random read, QD32" "$(k $c-qd32 read iops)" 1000 kIOPS "${N980_QD32-}"
row "sequential read (128 KiB, QD32)" "$(get $c-seqr read mb_s)" 7000 MB/s "${N980_SEQR-}"
row "sequential write (128 KiB, QD32), into the SLC cache" "$(get $c-seqw write mb_s)" 5000 MB/s "${N980_SEQW-}"
row "sequential write past the SLC cache (TLC)" "$(get $c-seqw-tlc write mb_s)" 2000 MB/s "${N980_SEQWT-}"
row "QD1 4 KiB random write, into the cache" "$(k $c-w1 write iops)" 60 kIOPS "${N980_W1-}"
row "4 KiB random write, QD 512, into the cache" "$(k $c-w512 write iops)" 1000 kIOPS "${N980_W512-}"
row "steady-state 4 KiB random write, QD32, GC in order" "$(k $c-ssw write iops)" - kIOPS "${N980_SS-}"
row "steady-state 4 KiB random write, QD32, ftl.gc_preempt" "$(k $c-sswp write iops)" - kIOPS "identical to the row above, see there"
row "steady-state write p99.9 latency, GC in order" "$(p999 $c-ssw)" - ms ""
row "steady-state write p99.9 latency, ftl.gc_preempt" "$(p999 $c-sswp)" - ms ""
c=samsung-850pro-256g
echo "| **Samsung 850 PRO 256 GB** | | | | |"
row "QD1 4 KiB random read" "$(us $c-qd1 read)" 100 us "${N850_QD1-}"
row "4 KiB random read, QD32" "$(k $c-qd32 read iops)" 100 kIOPS "${N850_QD32-}"
row "sequential read (128 KiB, QD32)" "$(get $c-seqr read mb_s)" 550 MB/s "${N850_SEQR-}"
row "sequential write (128 KiB, QD32)" "$(get $c-seqw write mb_s)" 520 MB/s "${N850_SEQW-}"
row "QD1 4 KiB random write" "$(k $c-w1 write iops)" 36 kIOPS "${N850_W1-}"
row "4 KiB random write, QD32 (empty drive)" "$(k $c-w32 write iops)" 90 kIOPS "${N850_W32-}"
row "steady-state 4 KiB random write, QD32, GC in order" "$(k $c-ssw write iops)" - kIOPS "${N850_SS-}"
row "steady-state 4 KiB random write, QD32, ftl.gc_preempt" "$(k $c-sswp write iops)" - kIOPS "identical to the row above, see there"
row "steady-state write p99.9 latency, GC in order" "$(p999 $c-ssw)" - ms ""
row "steady-state write p99.9 latency, ftl.gc_preempt" "$(p999 $c-sswp)" - ms ""
