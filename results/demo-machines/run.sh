#!/usr/bin/env bash
# The demo's settings on seeds 0-4, once with the CPU's own kernels and once with AVX-512
# switched off in NumPy and OpenBLAS (AVX2 kernels), on one machine that has AVX-512; then
# the summary. About 10 minutes on 2 cores. Run from the repository root:
#   bash results/demo-machines/run.sh
set -euo pipefail
here=results/demo-machines
runs=${RUNS:-runs/demo-machines}
git rev-parse --short HEAD > "$here/commit.txt"
for s in 0 1 2 3 4; do
  for family in avx512 avx2; do
    if [ "$family" = avx2 ]; then
      export NPY_DISABLE_CPU_FEATURES="X86_V4 AVX512_ICL AVX512_SPR" OPENBLAS_CORETYPE=Haswell
    else
      unset NPY_DISABLE_CPU_FEATURES OPENBLAS_CORETYPE
    fi
    lpn-mini train --config small --set seed=$s --run-dir "$runs/$family-$s"
    lpn-mini evaluate "$runs/$family-$s"
    mkdir -p "$here/$family" && cp "$runs/$family-$s/results.json" "$here/$family/seed$s.json"
  done
done
python "$here/summarize.py"
