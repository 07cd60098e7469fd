"""The typed result record: one JSON per (task, recipe, seed), predictions in an .npz beside it.

Writes are atomic (temp file + rename). The JSON is the commit point: a rewrite first removes the old
JSON, then writes the predictions (which carry the run id), then the JSON naming their hash; so at
every kill point the JSON on disk either is absent or agrees with the predictions beside it.
Names become folders only through record_path(), which refuses unsafe names and paths that resolve
outside the results folder; a record's predictions file is always the fixed name beside it.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import time
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from benchmark.errors import BenchmarkError

SCHEMA_VERSION = 2   # 2: the predictions file carries its record's run id (scripts: csbench validate --migrate)
TRACKS = ("classification", "generative")
PROFILES = ("quick", "full")
RUN_ID_ARRAY = "run_id"            # the predictions' copy of the run id: a record cannot borrow another's file
MAX_RECORD_BYTES = 64 << 20
STALE_TEMP_SECONDS = 600           # a temp file this old is a killed writer's (a live one lasts milliseconds)


def stable_hash(payload: Any, length: int = 16) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:length]


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class Record:
    run_id: str                              # hash of everything that defines the run
    track: str                               # classification | generative
    task: dict[str, Any]                     # name, version, spec_hash
    model: dict[str, Any]                    # dense model name, family
    recipe: dict[str, Any]                   # name, family, params, config_hash
    seed: int
    profile: str
    metrics: dict[str, Any]                  # {"overall": {...}, "by_group": {group: {...}}}
    efficiency: dict[str, Any]               # parameters, nonzero, bytes, examples_per_second, ...
    group_names: list[str]
    predictions: dict[str, Any] = field(default_factory=dict)  # {"file": name, "sha256": hex}
    provenance: dict[str, Any] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_FIELD_TYPES = {"run_id": str, "track": str, "task": dict, "model": dict, "recipe": dict, "seed": int,
                "profile": str, "metrics": dict, "efficiency": dict, "group_names": list,
                "predictions": dict, "provenance": dict, "schema_version": int}


def _need_str(where: str, mapping: dict, section: str, key: str) -> str:
    value = mapping.get(key)
    if not isinstance(value, str) or not value:
        raise BenchmarkError(f"{where}: field {section}.{key} must be a non-empty string")
    return value


def record_from_dict(raw: Any, where: str, *, schema_version: int = SCHEMA_VERSION) -> Record:
    """Strict parse: every field present with its type; one-line BenchmarkError otherwise."""
    from benchmark.names import is_safe_name, SAFE_NAME_RULE
    if not isinstance(raw, dict):
        raise BenchmarkError(f"{where}: a record must be a JSON object")
    for name, kind in _FIELD_TYPES.items():
        if name not in raw:
            raise BenchmarkError(f"{where}: missing field {name!r}")
        if not isinstance(raw[name], kind) or (kind is int and isinstance(raw[name], bool)):
            raise BenchmarkError(f"{where}: field {name!r} must be {kind.__name__}")
    unknown = set(raw) - set(_FIELD_TYPES)
    if unknown:
        raise BenchmarkError(f"{where}: unknown field(s) {', '.join(sorted(map(str, unknown)))}")
    if raw["schema_version"] != schema_version:
        hint = " (csbench validate --migrate upgrades it)" if raw["schema_version"] < schema_version else ""
        raise BenchmarkError(f"{where}: schema_version {raw['schema_version']} is not {schema_version}{hint}")
    if raw["track"] not in TRACKS:
        raise BenchmarkError(f"{where}: track must be one of {', '.join(TRACKS)}")
    if raw["profile"] not in PROFILES:
        raise BenchmarkError(f"{where}: profile must be one of {', '.join(PROFILES)}")
    if raw["seed"] < 0:
        raise BenchmarkError(f"{where}: field 'seed' must be >= 0")
    if not is_safe_name(raw["run_id"]):
        raise BenchmarkError(f"{where}: field 'run_id' must be a name of {SAFE_NAME_RULE}")
    for key in ("overall", "by_group"):
        if not isinstance(raw["metrics"].get(key), dict):
            raise BenchmarkError(f"{where}: metrics.{key} must be an object")
    for section, key in (("task", "name"), ("recipe", "name")):
        if not is_safe_name(raw[section].get(key)):
            raise BenchmarkError(f"{where}: field {section}.{key} must be a name of {SAFE_NAME_RULE}")
    if not isinstance(raw["task"].get("version"), int) or isinstance(raw["task"].get("version"), bool):
        raise BenchmarkError(f"{where}: field task.version must be int")
    _need_str(where, raw["recipe"], "recipe", "config_hash")
    if not all(isinstance(g, str) for g in raw["group_names"]):
        raise BenchmarkError(f"{where}: field 'group_names' must be a list of strings")
    if raw["predictions"]:
        _need_str(where, raw["predictions"], "predictions", "file")
        _need_str(where, raw["predictions"], "predictions", "sha256")
    return Record(**raw)


def _create_mode() -> int:
    """What open() would give a new file: 0o666 minus the umask (mkstemp alone makes 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def sweep_stale_temps(folder: Path, pattern: str = ".*.tmp", max_age_s: float = STALE_TEMP_SECONDS) -> int:
    """Remove temp files a killed writer left in ``folder``; a live writer's are seconds old."""
    now, removed = time.time(), 0
    for leftover in Path(folder).glob(pattern):
        try:
            if leftover.is_file() and now - leftover.stat().st_mtime > max_age_s:
                leftover.unlink()
                removed += 1
        except OSError:
            continue  # gone already, or not ours to remove
    return removed


def sweep_results(results_dir: str | Path) -> int:
    """Stale record temp files under results/<task>/<recipe>/ (the next run cleans up after a kill)."""
    return sum(sweep_stale_temps(folder) for folder in Path(results_dir).glob("*/*") if folder.is_dir())


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale_temps(path.parent, f".{glob_escape(path.name)}.*.tmp")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, _create_mode())
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def glob_escape(name: str) -> str:
    import glob
    return glob.escape(name)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def predictions_path(record_path: Path) -> Path:
    return record_path.with_suffix(".predictions.npz")


def write_record(path: Path, record: Record, arrays: dict[str, np.ndarray] | None = None) -> None:
    """Old JSON out, predictions (stamped with the run id) in, then the JSON naming their hash.

    Without ``arrays`` only the JSON is rewritten (re-scoring); its predictions must already be there."""
    if arrays is not None:
        if RUN_ID_ARRAY in arrays:
            raise ValueError(f"the array name {RUN_ID_ARRAY!r} is reserved for the record's run id")
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays, **{RUN_ID_ARRAY: np.array(record.run_id)})
        pred_path = predictions_path(path)
        path.unlink(missing_ok=True)   # a JSON beside predictions it does not name would look finished
        atomic_write_bytes(pred_path, buffer.getvalue())
        record.predictions = {"file": pred_path.name, "sha256": file_sha256(pred_path)}
    atomic_write_text(path, json.dumps(record.to_dict(), indent=1, sort_keys=False, default=_json_default) + "\n")


def _json_default(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def read_record_dict(path: str | Path) -> Any:
    """The JSON of a record file; missing, a folder, unreadable, huge or not JSON -> one-line BenchmarkError."""
    path = Path(path)
    try:
        if path.is_dir():
            raise BenchmarkError(f"{path}: is a folder, not a record file")
        if path.stat().st_size > MAX_RECORD_BYTES:
            raise BenchmarkError(f"{path}: over {MAX_RECORD_BYTES} bytes, not a record")
        return json.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise BenchmarkError(f"{path}: no such file") from None
    except OSError as exc:
        raise BenchmarkError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise BenchmarkError(f"{path}: not valid JSON: not UTF-8 (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise BenchmarkError(f"{path}: not valid JSON (line {exc.lineno}): {exc.msg}") from None
    except RecursionError:
        raise BenchmarkError(f"{path}: not valid JSON: nested too deeply") from None


def read_record(path: str | Path) -> Record:
    return record_from_dict(read_record_dict(path), str(path))


def predictions_file(record_path: str | Path, record: Record) -> Path:
    """The one file a record's predictions may live in: its fixed name, beside the record, a plain file."""
    record_path = Path(record_path)
    expected = predictions_path(record_path)
    named = record.predictions.get("file") if record.predictions else None
    if not named:
        raise BenchmarkError(f"{record_path}: the record names no predictions file")
    if named != expected.name:
        raise BenchmarkError(f"{record_path}: predictions.file must be {expected.name!r} (beside the record), "
                             f"not {str(named)[:80]!r}")
    if expected.is_symlink() or (expected.exists() and not expected.is_file()):
        raise BenchmarkError(f"{expected}: predictions must be a plain file beside the record")
    if not expected.exists():
        raise BenchmarkError(f"{expected}: predictions file is missing")
    return expected


def read_predictions(record_path: str | Path, record: Record, *, check_run_id: bool = True) -> dict[str, np.ndarray]:
    """The per-example arrays, after checking they are the ones the record names (hash and run id)."""
    path = predictions_file(record_path, record)
    try:
        if file_sha256(path) != record.predictions.get("sha256"):
            raise BenchmarkError(f"{path}: predictions hash does not match the record (edited or corrupt)")
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except BenchmarkError:
        raise
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as exc:
        raise BenchmarkError(f"{path}: not a readable predictions file: {type(exc).__name__}: "
                             f"{str(exc).splitlines()[0] if str(exc) else ''}") from None
    if check_run_id:
        stamped = arrays.pop(RUN_ID_ARRAY, None)
        if stamped is None or stamped.shape != () or stamped.dtype.kind != "U":
            raise BenchmarkError(f"{path}: predictions carry no run id (written before schema 2?)")
        if str(stamped) != record.run_id:
            raise BenchmarkError(f"{path}: predictions belong to run {str(stamped)[:32]!r}, "
                                 f"the record is run {record.run_id!r}")
    return arrays


def record_path(results_dir: Path, task: str, recipe: str, seed: int) -> Path:
    """results/<task>/<recipe>/seed<k>.json, refused for unsafe names or a path outside results_dir."""
    from benchmark.names import check_name, inside
    check_name(task, "task name")
    check_name(recipe, "recipe name")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise BenchmarkError(f"seed must be an integer >= 0, got {seed!r}")
    return inside(results_dir, task, recipe, f"seed{seed}.json")


def record_files(results_dir: str | Path) -> list[Path]:
    return sorted(Path(results_dir).glob("*/*/seed*.json"))


def scan_records(results_dir: str | Path) -> tuple[list[tuple[Path, Record]], list[tuple[Path, str]]]:
    """Every readable record under results_dir, and the unreadable ones with their reason (never raises)."""
    readable, unreadable = [], []
    for path in record_files(results_dir):
        try:
            readable.append((path, read_record(path)))
        except BenchmarkError as exc:
            unreadable.append((path, str(exc)))
    return readable, unreadable


def iter_records(results_dir: str | Path):
    """(path, record) for every readable record under results_dir (unreadable ones are skipped;
    validation.load_verified reports them)."""
    yield from scan_records(results_dir)[0]
