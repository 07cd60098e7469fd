"""Model families: how task rows become model inputs, and model outputs become logits.

A family is the one place that knows a model's input format, so recipes, the trainer and the
evaluator stay generic: they only call ``batches`` and ``logits``.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Iterator

import numpy as np
import torch

from benchmark.data.dataset import Split
from benchmark.models.bundle import Bundle
from benchmark.registry import Registry


class ModelFamily(ABC):
    name: str = ""
    description: str = ""

    @abstractmethod
    def encode(self, bundle: Bundle, split: Split, inputs: tuple[str, ...], max_length: int) -> list[dict]:
        """Per-example model inputs (unpadded), in split order."""

    @abstractmethod
    def collate(self, bundle: Bundle, examples: list[dict]) -> dict[str, torch.Tensor]:
        """Pad a list of encoded examples into one batch of tensors."""

    def logits(self, model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        model_inputs = {k: v for k, v in batch.items() if k not in ("labels", "groups", "index")}
        return model(**model_inputs).logits

    def length(self, example: dict) -> int:
        """Sort key for length-bucketed evaluation (dynamic padding wastes least when sorted)."""
        return 0

    def encoded(self, bundle: Bundle, split: Split, inputs: tuple[str, ...], max_length: int) -> list[dict]:
        """``encode``, once per split, processor, inputs and max_length: the trainer, the evaluator and
        every recipe reuse it (the processor is kept with the entry, so its id cannot be reused)."""
        key = (self.name, id(bundle.processor), tuple(inputs), int(max_length))
        if key not in split.encodings:
            split.encodings[key] = (bundle.processor, self.encode(bundle, split, inputs, max_length))
        return split.encodings[key][1]

    def batches(self, bundle: Bundle, split: Split, inputs: tuple[str, ...], batch_size: int, *,
                max_length: int = 128, shuffle: bool = False, seed: int = 0,
                encoded: list[dict] | None = None, length_buckets: int = 0) -> Iterator[dict[str, torch.Tensor]]:
        """Batches with "labels", "groups" and "index" beside the model inputs.

        Evaluation (shuffle=False) sorts by length so each batch pads to its own longest row;
        training shuffles with a seeded generator so the same seed gives the same batches. With
        ``length_buckets`` = k > 0, training groups by length as Hugging Face's ``group_by_length``:
        the shuffled rows are cut into chunks of k batches, each chunk sorted by length and cut into
        batches, and the batches are shuffled (a batch then pads to similar lengths, not to the longest
        of a random draw).
        """
        examples = encoded if encoded is not None else self.encoded(bundle, split, inputs, max_length)
        if shuffle:
            rng = np.random.default_rng(seed)
            order = rng.permutation(len(examples))
            if length_buckets:
                order = self._length_grouped(order, examples, batch_size * length_buckets, batch_size, rng)
        else:
            order = np.argsort([self.length(e) for e in examples], kind="stable")
        for start in range(0, len(order), batch_size):
            index = order[start:start + batch_size]
            batch = self.collate(bundle, [examples[i] for i in index])
            batch["labels"] = torch.as_tensor(split.labels[index], dtype=torch.long)
            batch["groups"] = torch.as_tensor(split.groups[index], dtype=torch.long)
            batch["index"] = torch.as_tensor(index, dtype=torch.long)
            yield batch


    def _length_grouped(self, order: np.ndarray, examples: list[dict], chunk: int, batch_size: int,
                        rng: np.random.Generator) -> np.ndarray:
        lengths = np.array([self.length(e) for e in examples])
        if len(np.unique(lengths)) < 2:      # fixed-size inputs (images): nothing to group
            return order
        batches = []
        for start in range(0, len(order), chunk):
            part = order[start:start + chunk]
            part = part[np.argsort(-lengths[part], kind="stable")]
            batches += [part[i:i + batch_size] for i in range(0, len(part), batch_size)]
        return np.concatenate([batches[i] for i in rng.permutation(len(batches))])


MODEL_FAMILIES: Registry[ModelFamily] = Registry("model family", entry_point_group="csbench.families",
                                                 base=ModelFamily)


def _register(cls: type[ModelFamily]) -> type[ModelFamily]:
    """Class decorator: register one instance of a family under its ``name``."""
    MODEL_FAMILIES.register(cls.name, cls())
    return cls


def _pad(sequences: list[list[int]], value: int) -> torch.Tensor:
    width = max(len(s) for s in sequences)
    out = torch.full((len(sequences), width), value, dtype=torch.long)
    for i, s in enumerate(sequences):
        out[i, :len(s)] = torch.as_tensor(s, dtype=torch.long)
    return out


class _TextFamily(ModelFamily):
    def collate(self, bundle, examples):
        pad_id = bundle.processor.pad_token_id or 0
        keys = examples[0].keys()
        batch = {}
        for key in keys:
            value = 0 if key != "input_ids" else pad_id
            if isinstance(examples[0][key][0], list):  # multiple choice: [choices][tokens]
                n_choices = len(examples[0][key])
                flat = [seq for e in examples for seq in e[key]]
                batch[key] = _pad(flat, value).view(len(examples), n_choices, -1)
            else:
                batch[key] = _pad([e[key] for e in examples], value)
        return batch

    def length(self, example):
        ids = example["input_ids"]
        return max(len(s) for s in ids) if isinstance(ids[0], list) else len(ids)


@_register
class EncoderClassifier(_TextFamily):
    """A BERT-style encoder with a classification head; inputs are one text or a text pair."""
    name = "encoder_cls"
    description = "BERT-style sequence classifier (text or text pair -> label)"

    def encode(self, bundle, split, inputs, max_length):
        first = split.frame[inputs[0]].astype(str).tolist()
        second = split.frame[inputs[1]].astype(str).tolist() if len(inputs) > 1 else None
        enc = bundle.processor(first, second, truncation=True, max_length=max_length)
        return [{k: enc[k][i] for k in enc.keys()} for i in range(len(first))]


@_register
class EncoderMultipleChoice(_TextFamily):
    """A BERT-style encoder scoring (context, question + choice) pairs; inputs are
    ``[context, question, choice_0, choice_1, ...]``."""
    name = "encoder_mc"
    description = "BERT-style multiple-choice cross-encoder (context, question, choices -> choice index)"

    def encode(self, bundle, split, inputs, max_length):
        frame = split.frame
        context, question, choices = inputs[0], inputs[1], inputs[2:]
        firsts, seconds = [], []
        for c in choices:
            firsts.extend(frame[context].astype(str).tolist())
            seconds.extend((frame[question].astype(str) + " " + frame[c].astype(str)).tolist())
        enc = bundle.processor(firsts, seconds, truncation=True, max_length=max_length)
        n, k = len(frame), len(choices)
        return [{key: [enc[key][j * n + i] for j in range(k)] for key in enc.keys()} for i in range(n)]


@_register
class ImageClassifier(ModelFamily):
    """A convolutional image classifier; the input column holds HxWxC uint8 arrays."""
    name = "resnet"
    description = "ResNet image classifier (transformers ResNetForImageClassification)"

    def encode(self, bundle, split, inputs, max_length):
        images = np.stack(split.frame[inputs[0]].to_numpy())
        if images.ndim == 3:
            images = images[..., None]
        pixels = torch.from_numpy(images).permute(0, 3, 1, 2).float().div_(255.0).sub_(0.5).div_(0.5)
        return [{"pixel_values": p} for p in pixels]

    def collate(self, bundle, examples):
        return {"pixel_values": torch.stack([e["pixel_values"] for e in examples])}
