#!/bin/sh
# Regenerates configs/README.md from the descriptor tables (run from the
# project root after adding or changing a config key).
set -e
{
cat <<'HDR'
# Configuration reference

Every key of every module, generated from the descriptor tables by
`sh configs/gen-readme.sh` (the same text as `ndpsim config --dump`). Each
entry: JSON path, default, unit, allowed range (or values), and the meaning
with the source of the default. Keys marked "assumption" have no published
figure behind them: override them with a measured value when you have one.

Presets in this folder set only the keys that differ from these defaults;
each preset's `description` cites its source. `default.json` is the built-in
defaults written out (a test checks that they agree).

Override any key on the command line with `--set path=value`; the resolved
configuration is echoed into every `report.json`.

```
HDR
./build/ndpsim config --dump
echo '```'
} > configs/README.md
