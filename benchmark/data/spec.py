"""A task definition: the YAML files under tasks/ checked against one typed schema (pydantic) and
turned into a TaskSpec.

Everything that can be checked without loading data is checked here: unknown keys (with a
did-you-mean), types, ranges, the names of the source, model family and dense model, the source's
parameters and every budget value. A malformed file raises one BenchmarkError line naming the file
and the field, never a traceback.

Relative paths in ``source.params`` (data files, folders) resolve against the folder of the YAML
file, so a task folder can be moved or shared as a whole (see ``TaskSpec.source_params_resolved``).
"""
from __future__ import annotations

import difflib
import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt, StrictStr,
                      ValidationError)

from benchmark.errors import BenchmarkError

PROFILES = ("quick", "full")
SPLIT_ROLES = ("train", "validation", "test")
DEFAULT_MIN_GROUP_SIZE = 30


# ---------------------------------------------------------------- value types

def _number(value):
    # YAML 1.1 reads 1e-5 (no dot) as a string, so numeric strings are numbers; words and booleans are not.
    if isinstance(value, bool):
        raise ValueError("must be a number, got a boolean")
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise ValueError(f"must be a number, got {value!r}") from None
    return value


Number = Annotated[float, BeforeValidator(_number)]
Positive = Annotated[Number, Field(gt=0)]
NonNegative = Annotated[Number, Field(ge=0)]
Fraction = Annotated[Number, Field(gt=0, lt=1)]
Count = Annotated[StrictInt, Field(ge=1)]
Name = Annotated[StrictStr, Field(min_length=1)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Budget(Strict):
    """Every budget key a task's ``training:``, its profiles or ``--set`` may hold (all optional)."""
    train_size: Count | None = None          # stratified subsample sizes per split role
    validation_size: Count | None = None
    test_size: Count | None = None
    train_per_group: Count | None = None     # equal numbers per group instead (wins over *_size)
    validation_per_group: Count | None = None
    test_per_group: Count | None = None
    epochs: Positive | None = None           # dense fine-tuning (fractional epochs allowed)
    recipe_epochs: Positive | None = None    # recovery / distillation inside recipes
    lr: Positive | None = None
    batch_size: Count | None = None
    weight_decay: NonNegative | None = None
    warmup: Annotated[Number, Field(ge=0, lt=1)] | None = None
    max_length: Count | None = None
    eval_batch_size: Count | None = None
    mixed_precision: Literal["no", "bf16", "fp16"] | None = None
    max_grad_norm: Positive | None = None
    fair_epochs: Positive | None = None      # benchmark.recipes.fair
    fair_prune_fraction: Annotated[Number, Field(gt=0, le=1)] | None = None
    fair_prune_updates: Count | None = None
    fair_buffer_size: Count | None = None
    fair_dual_lr: Positive | None = None
    mlm_epochs: NonNegative | None = None    # benchmark.recipes.vocab
    mlm_batch_size: Count | None = None
    mlm_lr: Positive | None = None
    mlm_probability: Fraction | None = None
    dd_dm_iterations: Count | None = None    # benchmark.recipes.data_distill (dataset distillation)
    dd_dc_iterations: Count | None = None
    dd_dc_outer_loop: Count | None = None
    dd_dc_inner_loop: Count | None = None
    dd_batch_real: Count | None = None
    dd_width: Count | None = None
    dd_eval_epochs: Count | None = None
    int8_compile: StrictBool | None = None   # quantize_gee: inductor int8 kernels (default on) or simulated
    corpus_samples: Count | None = None      # the decoder corpus (benchmark.generative.corpus)
    corpus_new_tokens: Count | None = None

    def values(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


BUDGET_KEYS = tuple(Budget.model_fields)


class SourceBlock(Strict):
    loader: Name
    params: dict[str, Any] = Field(default_factory=dict)


class Columns(Strict):
    inputs: Annotated[list[Name], Field(min_length=1)]
    label: Name
    num_labels: Annotated[StrictInt, Field(ge=2)] | None = None
    # Class names in id order: string labels in the data map to their position, and group names
    # read "label=<name>" instead of "label=<id>".
    classes: Annotated[list[Name], Field(min_length=2)] | None = None


class Groups(Strict):
    by: Annotated[list[Name], Field(min_length=1)]
    include_label: StrictBool = True
    min_size: Count = DEFAULT_MIN_GROUP_SIZE    # headline worst-group figures only over test groups this large


class TaskFile(Strict):
    name: Name
    version: Count
    track: Literal["classification"] = "classification"
    description: StrictStr = ""
    source: SourceBlock
    family: Name
    dense_model: Name
    columns: Columns
    groups: Groups
    splits: dict[Literal["train", "validation", "test"], Name]
    training: Budget = Field(default_factory=Budget)
    profiles: dict[Literal["quick", "full"], Budget]


# ---------------------------------------------------------------- the spec the rest of the code uses

@dataclass(frozen=True)
class GroupSpec:
    by: tuple[str, ...]            # attribute columns whose combination defines the groups
    include_label: bool = True     # group = label x attributes (Gee et al.) or attributes only (BBQ)
    min_size: int = DEFAULT_MIN_GROUP_SIZE   # headline worst-group figures only over test groups this large


@dataclass(frozen=True)
class TaskSpec:
    name: str
    version: int
    description: str
    source: str                    # a registered data source (benchmark.data.sources)
    source_params: dict[str, Any]
    family: str                    # a registered model family (benchmark.models.families)
    dense_model: str               # a registered model name or a hub id
    inputs: tuple[str, ...]        # input columns, in the order the model family expects them
    label: str
    num_labels: int
    groups: GroupSpec
    splits: dict[str, str]         # role (train/test/...) -> source split name
    profiles: dict[str, dict[str, Any]]  # quick/full -> sizes and training budgets
    training: dict[str, Any] = field(default_factory=dict)
    path: str = ""                 # the file it came from (for error messages and relative paths)
    classes: tuple[str, ...] = ()  # class names in id order (empty: labels are ids already)

    def profile(self, name: str) -> dict[str, Any]:
        if name not in self.profiles:
            raise BenchmarkError(f"{self.path}: profiles: no profile {name!r} (has {', '.join(self.profiles)})")
        return {**self.training, **self.profiles[name]}

    def content_hash(self) -> str:
        """Hash of everything that defines the task (not where the file lives).

        ``classes`` (added later) enters only when set, so tasks without it keep their hash."""
        payload = {k: v for k, v in asdict(self).items() if k not in ("path", "classes")}
        if self.classes:
            payload["classes"] = list(self.classes)
        return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]

    @property
    def base_dir(self) -> Path:
        """The folder relative paths in the task resolve against (the YAML file's)."""
        return Path(self.path).parent if self.path and not self.path.startswith("<") else Path.cwd()

    def source_params_resolved(self) -> dict[str, Any]:
        from benchmark.data.sources import resolve_params
        return resolve_params(self.source, self.source_params, self.base_dir)

    def class_name(self, label_id: int) -> str:
        return self.classes[label_id] if self.classes else str(label_id)


# ---------------------------------------------------------------- errors as one line

def _did_you_mean(word: str, known) -> str:
    close = difflib.get_close_matches(word, [str(k) for k in known], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _model_at(model: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """The pydantic model that owns the field at ``loc`` (for listing the known keys)."""
    for part in loc:
        info = model.model_fields.get(part) if isinstance(part, str) else None
        if info is None:
            continue
        candidate = info.annotation
        for arg in (getattr(candidate, "__args__", None) or (candidate,)):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                model = arg
                break
    return model


def explain(error: dict, schema: type[BaseModel]) -> str:
    """One pydantic error -> 'field 'a.b': what is wrong' (with did-you-mean for unknown keys)."""
    loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith(("function-", "literal[", "["))))
    dotted = ".".join(str(p) for p in loc)
    kind, value = error["type"], error.get("input")
    if kind == "extra_forbidden":
        owner = _model_at(schema, loc[:-1])
        known = list(owner.model_fields) if owner is not None else []
        hint = _did_you_mean(str(loc[-1]), known)
        if owner is TaskFile and not hint and _did_you_mean(str(loc[-1]), BUDGET_KEYS):
            hint = f"{_did_you_mean(str(loc[-1]), BUDGET_KEYS)[:-1]}: budget values go under training: or profiles.quick:)"
        return f"unknown field {dotted!r}{hint}; known here: {', '.join(known)}"
    if kind == "missing":
        parent = ".".join(str(p) for p in loc[:-1])
        return f"{parent + ': ' if parent else ''}missing field {str(loc[-1])!r}"
    if kind == "literal_error":
        allowed = error.get("ctx", {}).get("expected", "")
        hint = _did_you_mean(str(value), [a.strip(" '") for a in str(allowed).replace(" or ", ",").split(",")])
        return f"field {dotted!r}: {value!r} is not one of {allowed}{hint}"
    got = f", got {type(value).__name__} {value!r}" if not isinstance(value, (dict, list)) else \
        f", got {type(value).__name__}"
    if kind == "value_error":   # raised by our own validators, which say what they got
        return f"field {dotted!r}: {error['msg'].removeprefix('Value error, ')}"
    if kind.endswith("_type") or kind == "int_from_float":
        return f"field {dotted!r} must be {_TYPE_WORDS.get(kind, kind.removesuffix('_type'))}{got}"
    message = error["msg"]
    return f"field {dotted!r}: {message[0].lower() + message[1:]}{got}"


_TYPE_WORDS = {"int_type": "int", "int_from_float": "int", "float_type": "a number", "string_type": "str",
               "bool_type": "true or false", "dict_type": "a mapping", "list_type": "a list",
               "model_type": "a mapping", "model_attributes_type": "a mapping"}


def check_against(schema: type[BaseModel], raw: Any, where: str):
    try:
        return schema.model_validate(raw)
    except ValidationError as exc:
        raise BenchmarkError(f"{where}: {explain(exc.errors()[0], schema)}") from None


# ---------------------------------------------------------------- names the schema cannot know

def _check_names(task: TaskFile, path: str) -> None:
    from benchmark.data.sources import SOURCES, check_params
    from benchmark.models.families import MODEL_FAMILIES
    from benchmark.models.zoo import dense_model_problem
    if task.source.loader not in SOURCES:
        raise BenchmarkError(f"{path}: field 'source.loader': {SOURCES.unknown_message(task.source.loader)}")
    check_params(task.source.loader, task.source.params, f"{path}: source.params")
    if task.family not in MODEL_FAMILIES:
        raise BenchmarkError(f"{path}: field 'family': {MODEL_FAMILIES.unknown_message(task.family)}")
    problem = dense_model_problem(task.dense_model, task.family)
    if problem:
        raise BenchmarkError(f"{path}: field 'dense_model': {problem}")
    for role in ("train", "test"):
        if role not in task.splits:
            raise BenchmarkError(f"{path}: splits: missing field {role!r}")
    for profile in PROFILES:
        if profile not in task.profiles:
            raise BenchmarkError(f"{path}: profiles: missing field {profile!r}")
    columns = task.columns
    if columns.num_labels is None and columns.classes is None:
        raise BenchmarkError(f"{path}: columns: missing field 'num_labels' (or 'classes', the class names)")
    if columns.classes is not None:
        if len(set(columns.classes)) != len(columns.classes):
            raise BenchmarkError(f"{path}: field 'columns.classes' names a class twice")
        if columns.num_labels is not None and columns.num_labels != len(columns.classes):
            raise BenchmarkError(f"{path}: field 'columns.num_labels' is {columns.num_labels} but "
                                 f"columns.classes names {len(columns.classes)} classes")


def parse_task(raw: Any, path: str) -> TaskSpec:
    if not isinstance(raw, dict):
        raise BenchmarkError(f"{path}: a task file must be a mapping, got {type(raw).__name__}")
    task = check_against(TaskFile, raw, path)
    _check_names(task, path)
    columns = task.columns
    return TaskSpec(
        name=task.name, version=task.version, description=task.description,
        source=task.source.loader, source_params=dict(task.source.params),
        family=task.family, dense_model=task.dense_model,
        inputs=tuple(columns.inputs), label=columns.label,
        num_labels=columns.num_labels if columns.num_labels is not None else len(columns.classes),
        groups=GroupSpec(by=tuple(task.groups.by), include_label=task.groups.include_label,
                         min_size=task.groups.min_size),
        splits=dict(task.splits), profiles={k: _as_written(raw["profiles"][k], v) for k, v in task.profiles.items()},
        training=_as_written(raw.get("training") or {}, task.training), path=path,
        classes=tuple(columns.classes or ()))


def _as_written(raw: dict, checked: Budget) -> dict[str, Any]:
    # The values as the file wrote them (1 stays 1, so task hashes do not move), except numbers YAML read as text.
    values = checked.values()
    return {key: values[key] if isinstance(value, str) and key != "mixed_precision" else value
            for key, value in raw.items()}


# ---------------------------------------------------------------- --set overrides

def check_overrides(overrides: dict[str, Any], extra_settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """``--set KEY=VALUE`` pairs checked like the budget in a task file: known keys, right types.

    ``extra_settings`` are other known keys with example values (a generative kind's settings),
    whose type the value must share."""
    extra = dict(extra_settings or {})
    checked: dict[str, Any] = {}
    for key, value in overrides.items():
        if key in BUDGET_KEYS:
            checked.update(_as_written({key: value}, check_against(Budget, {key: value}, "--set")))
        elif key in extra:
            checked[key] = setting_like(key, value, extra[key])
        else:
            known = sorted(set(BUDGET_KEYS) | set(extra))
            raise BenchmarkError(f"--set: unknown key {key!r}{_did_you_mean(key, known)}; "
                                 f"known: {', '.join(known)}")
    return checked


def setting_like(key: str, value: Any, example: Any) -> Any:
    """``value`` if it has the type of ``example`` (ints pass for floats; booleans are not numbers)."""
    if example is None:   # a count whose default is "all"
        if value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
            return value
        raise BenchmarkError(f"--set: field {key!r} must be a whole number >= 1, got {value!r}")
    kind = type(example)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        return value
    raise BenchmarkError(f"--set: field {key!r} must be {kind.__name__}, got {type(value).__name__} {value!r}")


# ---------------------------------------------------------------- files

def read_task_yaml(path: Path):
    """The parsed YAML of a task file; missing, oversized, aliased or bad YAML is a one-line BenchmarkError."""
    from benchmark.safe_yaml import read_yaml_file
    return read_yaml_file(path, "task file")


def read_task_file(path: str | Path) -> TaskSpec:
    return parse_task(read_task_yaml(Path(path)), str(path))
