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

[ -f "$OUT/plain/model.bnn" ] ||
	$B xbar train $TRAIN $EXTRA --quiet --out "$OUT/plain"

{
	echo "| noise | d2d sigma | read sigma | uniform T=4 | GBO (budget 4) | NAT, T=4 | NAT + GBO (budget 4) |"
	echo "|---|---|---|---|---|---|---|"
} > "$OUT/nat_table.md.tmp"

for lv in mild:0.05:0.5 moderate:0.1:1.0 severe:0.2:2.0; do
	name=${lv%%:*}
	rest=${lv#*:}
	d=${rest%%:*}
	r=${rest#*:}
	N=$(noise "$d" "$r")
	[ -f "$OUT/nat-$name/model.bnn" ] ||
		$B xbar train $TRAIN $N $EXTRA --set bnn.noise_aware.enable=true \
			--set bnn.noise_aware.d2d_sigma="$d" --set bnn.noise_aware.read_sigma="$r" \
			--set bnn.noise_aware.pulses=4 --quiet --out "$OUT/nat-$name"
	for m in plain nat-$name; do
		[ -f "$OUT/gbo-$name-${m%%-*}/gbo.csv" ] ||
			$B xbar gbo --model "$OUT/$m/model.bnn" $EVAL $N $EXTRA --quiet \
				--out "$OUT/gbo-$name-${m%%-*}"
	done
	echo "| $name | $d | $r | $(pick "$OUT/gbo-$name-plain/gbo.csv" uniform) |" \
	     "$(pick "$OUT/gbo-$name-plain/gbo.csv" gbo) |" \
	     "$(pick "$OUT/gbo-$name-nat/gbo.csv" uniform) |" \
	     "$(pick "$OUT/gbo-$name-nat/gbo.csv" gbo) |" >> "$OUT/nat_table.md.tmp"
done
mv "$OUT/nat_table.md.tmp" "$OUT/nat_table.md"
cat "$OUT/nat_table.md"
