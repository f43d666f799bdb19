#!/usr/bin/env bash
# Fill .wheels/ (git-ignored) with what benchmarks/bench_gpu.py needs on a GPU machine that has
# JAX and/or PyTorch with CUDA, numpy, scipy, pandas and pyarrow, but no Keras (BENCHMARKS.md
# "GPU"): Keras 3.15.1 and its pure-Python dependencies, plus PyYAML, h5py and optree built for
# CPython 3.10-3.13 on manylinux x86_64 (about 30 MB; the device's Python picks its own).
# On the GPU machine:
#   python -m pip install --no-index --find-links .wheels keras==3.15.1 pyyaml
#   python benchmarks/bench_gpu.py
set -euo pipefail
dest="${1:-.wheels}"
pip=(python3 -m pip)
[ -x .venv/bin/pip ] && pip=(.venv/bin/pip)
mkdir -p "$dest"
"${pip[@]}" download --quiet --no-deps --only-binary=:all: -d "$dest" \
    keras==3.15.1 absl-py rich namex packaging markdown-it-py mdurl pygments typing-extensions
for version in 3.10 3.11 3.12 3.13; do
    "${pip[@]}" download --quiet --no-deps --only-binary=:all: -d "$dest" \
        --platform manylinux2014_x86_64 --python-version "$version" --implementation cp \
        pyyaml h5py optree
done
du -sh "$dest"
