#!/bin/sh
# nat_table.sh — issue 12 item 3: uniform T, GBO, noise-aware training (NAT)
# and NAT + GBO at mild / moderate / severe crossbar noise, in the GBO
# setting of configs/xbar-gbo-severe.json (network (b) 784-256-256-10,
# binary weights, 17-level activations as unary pulses) on Fashion-MNIST.  Writes OUT/nat_table.md (and every run's own
# report under OUT/).  Usage: analog/nat_table.sh [OUT] (default
# results/nat-table); NDPSIM (default build/ndpsim) and EXTRA (more --set
# options for every run) from the environment.
#
# Every row: the same network shape, training budget and seed; the noisy
# chip of that level (device-to-device variation + per-pulse read noise,
# 3-bit SAR converters, calibrated references: the preset);
# uniform = every layer T = 4 unary pulses; GBO = gbo.budget 4 pulses
# (column-read-weighted budget, the one under which GBO gains: README);
# NAT = bnn.noise_aware.* set to the level's sigmas with T = 4.
#
# CNN rows (OUT/nat_table_cnn.md): the bcnn.* network (conv 16-16-32-32,
# fc 128; xbar cnn's defaults) trained on CNN_TRAIN_N images (default
# 20,000, 3 epochs), plain and noise-aware (bcnn.noise_aware.* at the
# level's sigmas, T = 4), each run on the default 128 x 128 tiles with
# 3-bit SAR converters and calibrated references at uniform T = 4
# (xbar.encoding.pulses=4: every layer 4 unary pulses), CNN_CHIPS chips (default 2)
# x CNN_TEST_N test images (default 1,000).  GBO on the CNN (`xbar cnn
# --gbo`, gbo_conv_run over the 4 conv + 2 fc crossbar layers; gbo.* as
# the MLP's preset: candidates 1..16, 300 steps x 100 images, lambda
# 0.002) under gbo.budget = 4 with both budget kinds (weighted: column
# reads; mean: mean pulses per layer), next to the cheapest-layer-first
# baseline; OUT/nat_table_cnn.md also lists every encoding's pulses,
# energy, latency and pipelined throughput.  MLP=0 skips the MLP rows,
# CNN=0 the CNN rows.
set -eu
OUT=${1:-results/nat-table}
B=${NDPSIM:-build/ndpsim}
EXTRA=${EXTRA:-}
CFG="--config configs/xbar-gbo-severe.json"
TRAIN="$CFG --set bnn.train_n=30000"
EVAL="$CFG --set xbar.mc.chips=5"
mkdir -p "$OUT"
MLP=${MLP:-1}
CNN=${CNN:-1}
CNN_TRAIN_N=${CNN_TRAIN_N:-20000}
CNN_CHIPS=${CNN_CHIPS:-2}
CNN_TEST_N=${CNN_TEST_N:-1000}

noise() {   # d2d read
	echo "--set xbar.noise.d2d.enable=true --set xbar.noise.d2d.sigma=$1" \
	     "--set xbar.noise.read.enable=true --set xbar.noise.read.sigma=$2"
}

# accuracy (%, mean ± sd over chips) and pulses of uniform T = 4 or of
# GBO under the weighted budget, from a gbo.csv
pick() {
	awk -F, -v kind="$2" '
		NR > 1 && $1 == kind && ((kind == "uniform" && $3 == "4 4 4") ||
					 (kind == "gbo" && $10 == "weighted")) {
			p = $3; gsub(/ /, ",", p)
			printf "%.2f ± %.2f (T = %s)", 100 * $6, 100 * $7, p; exit
		}' "$1"
}

# noise-free test accuracy (%) of a trained model, from its report.json
digital() {
	sed -n 's/.*"test_accuracy":[[:space:]]*\([0-9.]*\).*/\1/p' "$1/report.json" | head -n 1 |
		awk '{ printf "%.2f", 100 * $1 }'
}

levels="mild:0.05:0.5 moderate:0.1:1.0 severe:0.2:2.0"
name() { echo "${1%%:*}"; }
d2d() { r=${1#*:}; echo "${r%%:*}"; }
rd() { r=${1#*:}; echo "${r#*:}"; }

if [ "$MLP" = 1 ]; then
# The runs are independent: trainings first, then the evaluations, each
# phase as parallel processes of one thread (the results do not depend on
# threads or order; a run whose output exists is skipped).
[ -f "$OUT/plain/model.bnn" ] ||
	$B xbar train $TRAIN $EXTRA --set threads=1 --quiet --out "$OUT/plain" &
for lv in $levels; do
	n=$(name "$lv"); d=$(d2d "$lv"); r=$(rd "$lv")
	[ -f "$OUT/nat-$n/model.bnn" ] ||
		$B xbar train $TRAIN $(noise "$d" "$r") $EXTRA --set threads=1 \
			--set bnn.noise_aware.enable=true --set bnn.noise_aware.d2d_sigma="$d" \
			--set bnn.noise_aware.read_sigma="$r" --set bnn.noise_aware.pulses=4 \
			--quiet --out "$OUT/nat-$n" &
done
wait
for lv in $levels; do
	n=$(name "$lv"); d=$(d2d "$lv"); r=$(rd "$lv")
	for m in plain nat; do
		src=$OUT/plain
		[ $m = nat ] && src=$OUT/nat-$n
		[ -f "$OUT/gbo-$n-$m/gbo.csv" ] ||
			$B xbar gbo --model "$src/model.bnn" $EVAL $(noise "$d" "$r") $EXTRA \
				--set threads=1 --quiet --out "$OUT/gbo-$n-$m" &
	done
done
wait

{
	echo "| noise | d2d sigma | read sigma | digital, plain / NAT | uniform T=4 | GBO (budget 4) | NAT, T=4 | NAT + GBO (budget 4) |"
	echo "|---|---|---|---|---|---|---|---|"
	for lv in $levels; do
		n=$(name "$lv")
		echo "| $n | $(d2d "$lv") | $(rd "$lv") | $(digital "$OUT/plain") / $(digital "$OUT/nat-$n") |" \
		     "$(pick "$OUT/gbo-$n-plain/gbo.csv" uniform) |" \
		     "$(pick "$OUT/gbo-$n-plain/gbo.csv" gbo) |" \
		     "$(pick "$OUT/gbo-$n-nat/gbo.csv" uniform) |" \
		     "$(pick "$OUT/gbo-$n-nat/gbo.csv" gbo) |"
	done
} > "$OUT/nat_table.md.tmp"
mv "$OUT/nat_table.md.tmp" "$OUT/nat_table.md"
cat "$OUT/nat_table.md"
fi

# CNN rows: trainings (one thread each) in parallel, then the evaluations
cnn_acc() {   # report.json key -> "mean ± sd" (%)
	python3 - "$1" "$2" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["metrics"]["accuracy"]
k = sys.argv[2]
if k == "bnn":
    print("%.2f" % (100 * r["bnn"]["test_accuracy"]))
else:
    m = r[k]["mc"]
    print("%.2f ± %.2f" % (100 * m["accuracy_mean"], 100 * m["accuracy_sd"]))
PY
}
# accuracy (%, mean ± sd over chips) and pulses of one row of an
# `xbar cnn --gbo` gbo.csv: kind (gbo / cheapest / uniform), budget kind
cnn_pick() {
	awk -F, -v kind="$2" -v bk="$3" '
		NR > 1 && $1 == kind && (kind == "uniform" || $10 == bk) {
			p = $3; gsub(/ /, ",", p)
			printf "%.2f ± %.2f (T = %s)", 100 * $6, 100 * $7, p; exit
		}' "$1"
}
if [ "$CNN" = 1 ]; then
	CT="--modes bnn --set bcnn.train_n=$CNN_TRAIN_N --set threads=1 --set xbar.mc.chips=1 --set xbar.mc.test_n=10"
	[ -f "$OUT/cnn-plain/model.bcnn" ] ||
		$B xbar cnn $CT $EXTRA --quiet --out "$OUT/cnn-plain" &
	for lv in $levels; do
		n=$(name "$lv"); d=$(d2d "$lv"); r=$(rd "$lv")
		[ -f "$OUT/cnn-nat-$n/model.bcnn" ] ||
			$B xbar cnn $CT $EXTRA --set bcnn.noise_aware.enable=true \
				--set bcnn.noise_aware.d2d_sigma="$d" --set bcnn.noise_aware.read_sigma="$r" \
				--set bcnn.noise_aware.pulses=4 --quiet --out "$OUT/cnn-nat-$n" &
	done
	wait
	for lv in $levels; do
		n=$(name "$lv"); d=$(d2d "$lv"); r=$(rd "$lv")
		for m in plain nat; do
			src=$OUT/cnn-plain
			[ $m = nat ] && src=$OUT/cnn-nat-$n
			[ -f "$OUT/cnn-eval-$n-$m/gbo.csv" ] ||
				$B xbar cnn --model "$src/model.bcnn" --set xbar.encoding.pulses=4 $(noise "$d" "$r") \
					--set xbar.mc.chips="$CNN_CHIPS" --set xbar.mc.test_n="$CNN_TEST_N" \
					--gbo --uniform 4 --set gbo.budget=4 \
					--set threads=1 $EXTRA --quiet --out "$OUT/cnn-eval-$n-$m" &
		done
	done
	wait
	{
		echo "| noise | d2d sigma | read sigma | digital, plain / NAT | uniform T=4 | GBO, weighted <= 4 | GBO, mean <= 4 | NAT, T=4 | NAT + GBO, weighted <= 4 | NAT + GBO, mean <= 4 |"
		echo "|---|---|---|---|---|---|---|---|---|---|"
		for lv in $levels; do
			n=$(name "$lv")
			pl=$OUT/cnn-eval-$n-plain/gbo.csv
			na=$OUT/cnn-eval-$n-nat/gbo.csv
			echo "| $n | $(d2d "$lv") | $(rd "$lv") |" \
			     "$(cnn_acc "$OUT/cnn-eval-$n-plain/report.json" bnn) / $(cnn_acc "$OUT/cnn-eval-$n-nat/report.json" bnn) |" \
			     "$(cnn_acc "$OUT/cnn-eval-$n-plain/report.json" bnn_crossbar_config) |" \
			     "$(cnn_pick "$pl" gbo weighted) | $(cnn_pick "$pl" gbo mean) |" \
			     "$(cnn_acc "$OUT/cnn-eval-$n-nat/report.json" bnn_crossbar_config) |" \
			     "$(cnn_pick "$na" gbo weighted) | $(cnn_pick "$na" gbo mean) |"
		done
		echo
		echo "Every encoding (accuracy % mean ± sd over chips; energy per inference; latency of one image; pipelined images/s; GBO CPU s):"
		echo
		echo "| noise | model | encoding | budget | pulses per layer | mean T | weighted T | accuracy | nJ / image | latency us | images/s | GBO CPU s |"
		echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
		for lv in $levels; do
			n=$(name "$lv")
			for m in plain nat; do
				awk -F, -v n="$n" -v m="$m" 'NR > 1 {
					printf "| %s | %s | %s | %s | %s | %.2f | %.2f | %.2f ± %.2f | %.1f | %.1f | %.3g | %s |\n",
					       n, m, $1, $10, $3, $4, $5, 100 * $6, 100 * $7, 1e9 * $8, $11 / 1000, $12,
					       $1 == "gbo" ? $13 : "-"
				}' "$OUT/cnn-eval-$n-$m/gbo.csv"
			done
		done
	} > "$OUT/nat_table_cnn.md.tmp"
	mv "$OUT/nat_table_cnn.md.tmp" "$OUT/nat_table_cnn.md"
	cat "$OUT/nat_table_cnn.md"
fi

