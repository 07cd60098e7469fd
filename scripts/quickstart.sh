#!/usr/bin/env bash
# The main job: install, run the quick offline benchmark on THIS machine into local/ (git-ignored; the
# committed results/ stay the reference leaderboard), print its table, then check it against the reference:
# per record identical / within the reference's interval / outside it, with both machines' CPUs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1
.venv/bin/csbench run --suite quick --results local/results --leaderboard local/leaderboard "$@"
.venv/bin/csbench compare local/results results
