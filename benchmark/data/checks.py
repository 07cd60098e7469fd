"""What a loaded split must satisfy before anything trains on it, each failure one line naming the
task file, the split (and the data file, where the source names it) and the column."""
from __future__ import annotations

import difflib

import numpy as np
import pandas as pd

from benchmark.data.spec import TaskSpec
from benchmark.errors import BenchmarkError

SOURCE_FILE = "source_file"   # frame.attrs key a source sets to the file a split came from


def where(spec: TaskSpec, role: str, frame: pd.DataFrame) -> str:
    source_file = frame.attrs.get(SOURCE_FILE)
    return f"{spec.path}: split {role!r}" + (f" ({source_file})" if source_file else "")


def _blank(values: pd.Series) -> np.ndarray:
    missing = values.isna().to_numpy(dtype=bool, copy=True)
    if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
        text = values.astype(str).str.strip().eq("").to_numpy(dtype=bool)
        missing = missing | text
    return missing


def _first_rows(mask: np.ndarray, index: pd.Index) -> str:
    """Where: the frame's index, which the table source keeps as the data row number (header excluded)."""
    rows = index[np.flatnonzero(mask)]
    shown = ", ".join(str(r) for r in rows[:3]) + (", ..." if len(rows) > 3 else "")
    return f"{len(rows)} row(s): data row {shown} (0-based, header not counted)"


def check_not_empty(spec: TaskSpec, role: str, frame: pd.DataFrame) -> None:
    if len(frame) == 0:
        raise BenchmarkError(f"{where(spec, role, frame)}: the split has no rows")


def check_group_values(spec: TaskSpec, role: str, frame: pd.DataFrame) -> None:
    for column in spec.groups.by:
        if column == spec.label:
            continue
        blank = _blank(frame[column])
        if blank.any():
            raise BenchmarkError(f"{where(spec, role, frame)}: group column {column!r} is blank or missing in "
                                 f"{_first_rows(blank, frame.index)}; fill it in or drop those rows")


def label_ids(spec: TaskSpec, role: str, frame: pd.DataFrame) -> np.ndarray:
    """The label column as class ids 0..num_labels-1: integers as they are, class names through
    columns.classes; anything else is a one-line error."""
    values = frame[spec.label]
    at = f"{where(spec, role, frame)}: label column {spec.label!r}"
    blank = _blank(values)
    if blank.any():
        raise BenchmarkError(f"{at} is blank or missing in {_first_rows(blank, frame.index)}")
    if pd.api.types.is_bool_dtype(values.dtype):
        ids = values.to_numpy().astype(np.int64)
    elif pd.api.types.is_integer_dtype(values.dtype):
        ids = values.to_numpy().astype(np.int64)
    elif pd.api.types.is_float_dtype(values.dtype):
        floats = values.to_numpy()
        fractional = floats != np.round(floats)
        if fractional.any():
            raise BenchmarkError(f"{at} holds non-integer values (e.g. {floats[fractional][0]!r}): class ids are "
                                 f"whole numbers 0..{spec.num_labels - 1}")
        ids = floats.astype(np.int64)
    elif spec.classes:
        index = {name: i for i, name in enumerate(spec.classes)}
        text = values.astype(str).str.strip()
        ids_or_nan = text.map(index)
        unknown = ids_or_nan.isna().to_numpy()
        if unknown.any():
            value = text[unknown].iloc[0]
            close = difflib.get_close_matches(value, list(spec.classes), n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise BenchmarkError(f"{at} has {value!r}{hint}, which columns.classes does not list "
                                 f"({', '.join(spec.classes)}); in {_first_rows(unknown, frame.index)}")
        ids = ids_or_nan.to_numpy().astype(np.int64)
    else:
        example = values.iloc[0]
        raise BenchmarkError(f"{at} holds text labels (e.g. {example!r}) but the task gives no class names: list "
                             f"them in columns.classes (ids follow their order)")
    if len(ids) and (ids.min() < 0 or ids.max() >= spec.num_labels):
        raise BenchmarkError(f"{spec.path}: columns.num_labels is {spec.num_labels} but split {role!r} "
                             f"has label values in [{ids.min()}, {ids.max()}]")
    return ids
