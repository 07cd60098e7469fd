"""Reading tabular dataset files (local copies in a hub dataset's schema) and hub datasets."""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from benchmark.errors import BenchmarkError

_TABLE_READERS = {
    ".jsonl": lambda path: pd.read_json(path, lines=True),
    ".json": lambda path: pd.read_json(path, lines=True),
    ".csv": pd.read_csv,
    ".tsv": lambda path: pd.read_csv(path, sep="\t"),
    ".parquet": pd.read_parquet,
}


def read_table(path: str | Path) -> pd.DataFrame:
    """One local jsonl / csv / tsv / parquet file as a frame; a file that does not parse is one line."""
    path = Path(path)
    reader = _TABLE_READERS.get(path.suffix.lower())
    if reader is None:
        raise BenchmarkError(f"source params: data file {str(path)!r} has an unsupported extension "
                             f"(use {', '.join(_TABLE_READERS)})")
    if not path.exists():
        raise BenchmarkError(f"source params: data file {str(path)!r} does not exist")
    try:
        return reader(path)
    except Exception as exc:  # pandas/pyarrow parser errors of many kinds
        raise BenchmarkError(f"{path}: cannot read as a {path.suffix.lstrip('.')} table: {type(exc).__name__}: "
                             f"{(str(exc).splitlines() or [''])[0]}") from None


def data_file_groups(data_files, where: str = "source params") -> dict[str, list[str]]:
    """``data_files`` as every source takes it (the ``datasets`` convention): ``{split: file or [files]}``,
    or a file or list of files, which is one table (split "train" unless the source splits it)."""
    if isinstance(data_files, (str, Path)):
        data_files = {"train": [data_files]}
    elif isinstance(data_files, (list, tuple)):
        data_files = {"train": list(data_files)}
    if not isinstance(data_files, dict) or not data_files:
        raise BenchmarkError(f"{where}: data_files must be a file, a list of files, or {{split: file(s)}}, "
                             f"e.g. {{train: a.csv, test: b.csv}}")
    groups = {}
    for split, paths in data_files.items():
        paths = [paths] if isinstance(paths, (str, Path)) else paths
        if not isinstance(paths, (list, tuple)) or not paths or not all(isinstance(p, (str, Path)) for p in paths):
            raise BenchmarkError(f"{where}: data_files[{split!r}] must be a file or a list of files")
        groups[str(split)] = [str(p) for p in paths]
    return groups


def read_data_files(data_files) -> dict[str, pd.DataFrame]:
    """``data_files`` (see data_file_groups) -> ``{split: frame}`` (several files of a split are concatenated)."""
    return {split: pd.concat([read_table(p) for p in paths], ignore_index=True)
            for split, paths in data_file_groups(data_files).items()}


def load_hub(path: str, columns: list[str] | None = None, **kwargs) -> dict[str, pd.DataFrame]:
    """A hub dataset (or an ``hf://`` file through a builder such as "csv") as ``{split: frame}``.

    Fails with one line when the hub cannot be reached, which is the normal case offline.
    """
    try:
        from datasets import load_dataset
        loaded = load_dataset(path, **kwargs)
    except Exception as exc:  # OfflineModeIsEnabled, DatasetNotFoundError, httpx/requests network errors
        offline = any(os.environ.get(v) == "1" for v in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"))
        why = "HF_HUB_OFFLINE=1 is set" if offline else "offline, or the hub is unreachable"
        target = kwargs.get("data_files") or path
        first = f"{type(exc).__name__}: " + (str(exc).splitlines() or [""])[0].rstrip(".")
        raise BenchmarkError(f"cannot load {target!r} from the Hugging Face Hub ({why}): {first}. "
                             f"Offline, set source params data_files to local files in the same schema") from None
    return {split: (ds.select_columns([c for c in columns if c in ds.column_names]) if columns else ds).to_pandas()
            for split, ds in loaded.items()}
