#!/bin/bash
# --verify matrix after steady preconditioning on small drives
# usage: tests/manual/steady_verify_matrix.sh (from the project root, after make)
B=${B:-build/ndpsim}
D=${TMPDIR:-/tmp}/steady-matrix; mkdir -p "$D"
base="--set ssd.channels=2 --set ssd.ways=1 --set ssd.dies=1 --set ssd.blocks=256 --set ssd.pages=64 --set ssd.precondition.fill=1 --set ssd.precondition.method=steady --set workload.read_ratio=0.3 --set workload.qd=16 --set workload.count=150000"
cfgs=(
""
"--set ssd.nand.multiplane=false"
"--set ssd.page_bytes=4096"
"--set ssd.page_bytes=12288"
"--set ssd.page_bytes=16384"
"--set ssd.slc.enable=true"
"--set ssd.ftl.wl.dynamic=true"
"--set ssd.ftl.wl.static=true"
"--set ssd.dram.write_through=true"
"--set ssd.ftl.mapping=cached"
"--set ssd.precondition.fill=0.5"
"--set ssd.ftl.gc_policy=cost_benefit"
"--set ssd.ftl.gc_preempt=true"
"--set ssd.pages=24"
"--set ssd.pages=100"
"--set ssd.planes=3"
)
fail=0; n=0
for c in "${cfgs[@]}"; do for x in 0.05 0.1 0.5 3; do
  n=$((n+1))
  out=$($B ssd --quiet --no-plot --verify --out "$D/$n" $base $c --set ssd.precondition.overwrite=$x 2>&1)
  rc=$?
  if [ $rc -ne 0 ]; then fail=$((fail+1)); echo "FAIL rc=$rc [$c] x=$x: $(echo "$out"|tail -2)"; fi
done; done
echo "matrix: $n runs, $fail failed"
exit $((fail > 0))
