"""The generic table source: any CSV, TSV, JSON Lines or Parquet file(s), or a hub dataset, read
with ``datasets`` and turned into a task with one YAML file and no Python.

    source:
      loader: table
      params:
        data_files: {train: train.csv, test: test.csv}   # or one file (then split: or split_column:)
        columns: {text: tweet, target_group: group}      # optional renames: task column <- file column
        split_column: fold                               # rows' split names come from this column, or
        split: {test_fraction: 0.3, seed: 0, stratify_by: [label, target_group]}   # a seeded stratified cut
        image_column: path                               # optional: a column of image file paths
        image_root: images/                              #   resolved against this folder
        image_size: 64

Relative paths (data_files, image_root) resolve against the task file's folder. Labels may be
ids or class names (listed in the task's columns.classes). ``hub_id`` (and ``hub_config``)
instead of data_files reads a hub dataset (needs a network, or the hub's local cache).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from benchmark.data.checks import SOURCE_FILE
from benchmark.data.sources.tables import data_file_groups
from benchmark.errors import BenchmarkError

# extension -> (datasets builder, builder options)
BUILDERS = {".csv": ("csv", {}), ".tsv": ("csv", {"delimiter": "\t"}), ".jsonl": ("json", {}),
            ".json": ("json", {}), ".parquet": ("parquet", {})}
FORMATS = {"csv": ".csv", "tsv": ".tsv", "json": ".jsonl", "jsonl": ".jsonl", "parquet": ".parquet"}
WHERE = "source.params"


def check_table_params(params: dict, where: str = WHERE) -> None:
    """What can be checked without reading any data (called when the task file is read)."""
    if bool(params.get("data_files")) == bool(params.get("hub_id")):
        raise BenchmarkError(f"{where}: the table source needs exactly one of data_files (local files) or hub_id")
    if params.get("data_files"):
        data_file_groups(params["data_files"], where)
        if params.get("format") is None:
            for paths in data_file_groups(params["data_files"], where).values():
                for path in paths:
                    if Path(path).suffix.lower() not in BUILDERS:
                        raise BenchmarkError(f"{where}: data file {path!r} has an unsupported extension "
                                             f"(use {', '.join(BUILDERS)}, or set format)")
    if params.get("format") is not None and params["format"] not in FORMATS:
        raise BenchmarkError(f"{where}: format must be one of {', '.join(FORMATS)}, got {params['format']!r}")
    columns = params.get("columns", {})
    if not isinstance(columns, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in columns.items()):
        raise BenchmarkError(f"{where}: columns must map task column names to file column names, e.g. "
                             f"{{text: tweet}}")
    if params.get("split_column") is not None and params.get("split") is not None:
        raise BenchmarkError(f"{where}: give split_column (the data names each row's split) or split "
                             f"(a seeded cut), not both")
    split = params.get("split")
    if split is not None:
        if not isinstance(split, dict) or set(split) - {"test_fraction", "seed", "stratify_by", "names"}:
            raise BenchmarkError(f"{where}: split takes test_fraction, seed, stratify_by and names, got {split!r}")
        fraction = split.get("test_fraction", 0.2)
        if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 < fraction < 1:
            raise BenchmarkError(f"{where}: split.test_fraction must be a number in (0, 1), got {fraction!r}")
        if isinstance(split.get("seed", 0), bool) or not isinstance(split.get("seed", 0), int):
            raise BenchmarkError(f"{where}: split.seed must be a whole number, got {split.get('seed')!r}")
    size = params.get("image_size", 64)
    if isinstance(size, bool) or not isinstance(size, int) or not 8 <= size <= 1024:
        raise BenchmarkError(f"{where}: image_size must be a whole number in 8..1024, got {size!r}")


def _read_local(data_files, fmt: str | None) -> dict[str, pd.DataFrame]:
    import datasets
    from datasets import load_dataset

    from benchmark.cache import cache_root
    out = {}
    for split, paths in data_file_groups(data_files, WHERE).items():
        for path in paths:
            if not Path(path).is_file():
                raise BenchmarkError(f"{path}: no such data file (source.params.data_files[{split!r}])")
        suffix = FORMATS[fmt] if fmt else Path(paths[0]).suffix.lower()
        builder, options = BUILDERS[suffix]
        bars = datasets.is_progress_bar_enabled()
        datasets.disable_progress_bars()   # "Generating train split" bars are noise in a benchmark log
        try:
            loaded = load_dataset(builder, data_files={split: paths}, cache_dir=str(cache_root() / "datasets"),
                                  **options)
        except Exception as exc:  # datasets wraps parser errors of pandas/pyarrow in its own
            if "corresponds to no data" in str(exc):
                raise BenchmarkError(f"{', '.join(paths)}: the file has no data rows "
                                     f"(source.params.data_files[{split!r}])") from None
            cause = exc.__cause__ or exc
            first = (str(cause).splitlines() or [""])[0]
            raise BenchmarkError(f"{', '.join(paths)}: cannot read as {builder} ({type(cause).__name__}: {first})") \
                from None
        finally:
            if bars:
                datasets.enable_progress_bars()
        frame = loaded[split].to_pandas()
        frame.attrs[SOURCE_FILE] = ", ".join(paths)
        out[split] = frame
    return out


def _rename(frames: dict[str, pd.DataFrame], columns: dict[str, str]) -> dict[str, pd.DataFrame]:
    for split, frame in frames.items():
        missing = [source for source in columns.values() if source not in frame.columns]
        if missing:
            raise BenchmarkError(f"{frame.attrs.get(SOURCE_FILE, split)}: source.params.columns names column(s) "
                                 f"{', '.join(missing)} that the data lacks (it has: {', '.join(map(str, frame.columns))})")
        renamed = frame.rename(columns={source: task for task, source in columns.items()})
        renamed.attrs = dict(frame.attrs)
        frames[split] = renamed
    return frames


def _pooled(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    pooled = pd.concat(list(frames.values()), ignore_index=True)
    pooled.attrs[SOURCE_FILE] = ", ".join(f.attrs.get(SOURCE_FILE, "") for f in frames.values() if f.attrs)
    return pooled


def _by_split_column(frame: pd.DataFrame, column: str) -> dict[str, pd.DataFrame]:
    where = frame.attrs.get(SOURCE_FILE, "the data")
    if column not in frame.columns:
        raise BenchmarkError(f"{where}: source.params.split_column {column!r} is not a column "
                             f"(it has: {', '.join(map(str, frame.columns))})")
    values = frame[column]
    blank = values.isna() | values.astype(str).str.strip().eq("")
    if blank.any():
        raise BenchmarkError(f"{where}: split column {column!r} is blank in {int(blank.sum())} row(s), "
                             f"first at row {int(np.flatnonzero(blank.to_numpy())[0])} (0-based)")
    out = {}
    for name, part in frame.groupby(values.astype(str).str.strip(), sort=True):
        part = part.drop(columns=column)      # the index stays the row number in the data
        part.attrs = dict(frame.attrs)
        out[str(name)] = part
    return out


def stratified_cut(frame: pd.DataFrame, test_fraction: float, seed: int, stratify_by: list[str]) -> np.ndarray:
    """A boolean test mask: within every stratum, round(test_fraction * n) rows, chosen by a seeded shuffle."""
    where = frame.attrs.get(SOURCE_FILE, "the data")
    missing = [c for c in stratify_by if c not in frame.columns]
    if missing:
        raise BenchmarkError(f"{where}: source.params.split.stratify_by names column(s) {', '.join(missing)} "
                             f"that the data lacks (it has: {', '.join(map(str, frame.columns))})")
    strata = (frame[stratify_by].astype(str).agg("|".join, axis=1) if stratify_by
              else pd.Series("", index=frame.index))
    rng = np.random.default_rng(seed)
    test = np.zeros(len(frame), dtype=bool)
    for _, members in sorted(strata.groupby(strata).indices.items()):
        chosen = rng.permutation(members)[:int(round(test_fraction * len(members)))]
        test[chosen] = True
    return test


def _cut(frame: pd.DataFrame, split: dict) -> dict[str, pd.DataFrame]:
    names = split.get("names", ["train", "test"])
    test = stratified_cut(frame, float(split.get("test_fraction", 0.2)), int(split.get("seed", 0)),
                          list(split.get("stratify_by", [])))
    out = {}
    for name, mask in ((names[0], ~test), (names[1], test)):
        part = frame[mask]      # the index stays the row number in the data, for error messages
        part.attrs = dict(frame.attrs)
        out[name] = part
    return out


def _images(frames: dict[str, pd.DataFrame], column: str, root: str | None, size: int) -> None:
    from benchmark.data.sources.image_files import ImageFile
    for frame in frames.values():
        if column not in frame.columns:
            raise BenchmarkError(f"{frame.attrs.get(SOURCE_FILE, 'the data')}: source.params.image_column "
                                 f"{column!r} is not a column")
        base = Path(root) if root else Path(frame.attrs.get(SOURCE_FILE, ".").split(", ")[0]).parent
        paths = [Path(str(p)) if Path(str(p)).is_absolute() else base / str(p) for p in frame[column]]
        absent = [p for p in paths if not p.is_file()]
        if absent:
            raise BenchmarkError(f"{absent[0]}: no such image file (column {column!r}; {len(absent)} missing)")
        frame[column] = [ImageFile(p, size) for p in paths]


def load_table(params: dict, seed: int = 0) -> dict[str, pd.DataFrame]:
    """Splits as the files (or split_column, or split) name them; columns as in the files, renamed by columns."""
    check_table_params(params)
    if params.get("data_files"):
        frames = _read_local(params["data_files"], params.get("format"))
    else:
        from benchmark.data.sources.tables import load_hub
        kwargs = {"name": params["hub_config"]} if params.get("hub_config") else {}
        frames = load_hub(params["hub_id"], **kwargs)
        for frame in frames.values():
            frame.attrs[SOURCE_FILE] = f"hub:{params['hub_id']}"
    frames = _rename(frames, dict(params.get("columns") or {}))
    if params.get("split_column"):
        frames = _by_split_column(_pooled(frames), params["split_column"])
    elif params.get("split") is not None:
        frames = _cut(_pooled(frames), params["split"])
    if params.get("image_column"):
        _images(frames, params["image_column"], params.get("image_root"), int(params.get("image_size", 64)))
    return frames
