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
set -eu
OUT=${1:-results/nat-table}
B=${NDPSIM:-build/ndpsim}
EXTRA=${EXTRA:-}
CFG="--config configs/xbar-gbo-severe.json"
TRAIN="$CFG --set bnn.train_n=30000"
EVAL="$CFG --set xbar.mc.chips=5"
mkdir -p "$OUT"

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
