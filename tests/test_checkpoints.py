"""`csbench eval` on checkpoints compressed elsewhere: tiny checkpoints made here with each
compressor that runs on this CPU (torchao, compressed-tensors, bitsandbytes), scored into records
that say what the files store; unreadable checkpoints are one line naming the file."""
from __future__ import annotations

import importlib.util
import json
import shutil

import pytest

from benchmark.cli.main import main
from benchmark.records import read_record
from conftest import tiny_context


def needs(module: str):
    return pytest.mark.skipif(importlib.util.find_spec(module) is None, reason=f"{module} is not installed")


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    """The synthetic task's trained tiny dense model, saved as a plain save_pretrained folder."""
    folder = tmp_path_factory.mktemp("ckpt") / "plain"
    dense = tiny_context("encoder_cls").dense
    dense.model.save_pretrained(folder)
    dense.processor.save_pretrained(folder)
    return folder


def derived(plain, name: str, **load_options):
    """``plain`` re-saved through transformers with a quantization config (how those libraries save)."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    folder = plain.parent / name
    if not folder.exists():
        model = AutoModelForSequenceClassification.from_pretrained(plain, **load_options)
        model.save_pretrained(folder)
        AutoTokenizer.from_pretrained(plain).save_pretrained(folder)
    return folder


def make_torchao(plain):
    from torchao.quantization import Int8WeightOnlyConfig
    from transformers import TorchAoConfig
    return derived(plain, "torchao-int8", quantization_config=TorchAoConfig(Int8WeightOnlyConfig()))


def make_bnb8(plain):
    from transformers import BitsAndBytesConfig
    return derived(plain, "bnb-int8", quantization_config=BitsAndBytesConfig(load_in_8bit=True), device_map="cpu")


def make_bnb4(plain):
    import torch
    from transformers import BitsAndBytesConfig
    config = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.float32)
    return derived(plain, "bnb-nf4", quantization_config=config, device_map="cpu")


def make_compressed_tensors(plain):
    """llm-compressor's data-free int8 per-channel weight quantization, saved compressed."""
    from llmcompressor import oneshot
    from llmcompressor.modifiers.quantization import QuantizationModifier
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    folder = plain.parent / "ct-w8"
    if not folder.exists():
        model = AutoModelForSequenceClassification.from_pretrained(plain)
        scheme = {"targets": ["Linear"], "weights": {"num_bits": 8, "type": "int", "symmetric": True,
                                                    "strategy": "channel"}}
        oneshot(model=model, recipe=QuantizationModifier(config_groups={"w8": scheme}, ignore=["classifier"]))
        model.save_pretrained(folder, save_compressed=True)
        AutoTokenizer.from_pretrained(plain).save_pretrained(folder)
    return folder


def evaluate(capsys, folder, results) -> tuple[int, str]:
    code = main(["eval", "--task", "synthetic", "--model", str(folder), "--results", str(results)])
    out = capsys.readouterr()
    return code, out.out + out.err


# format name, maker, the stored dtype that shows the compression
FORMATS = [
    pytest.param("torchao", make_torchao, "I8", marks=needs("torchao"), id="torchao-int8"),
    pytest.param("compressed-tensors", make_compressed_tensors, "I32", marks=needs("llmcompressor"), id="ct-w8"),
    pytest.param("bitsandbytes", make_bnb8, "I8", marks=needs("bitsandbytes"), id="bnb-int8"),
    pytest.param("bitsandbytes", make_bnb4, "U8", marks=needs("bitsandbytes"), id="bnb-nf4"),
]


@pytest.mark.parametrize("fmt, make, stored", FORMATS)
def test_eval_scores_a_compressed_checkpoint(plain, tmp_path, capsys, one_thread, fmt, make, stored):
    code, out = evaluate(capsys, plain, tmp_path)
    assert code == 0, out
    baseline = read_record(tmp_path / "synthetic" / "plain" / "seed0.json")
    folder = make(plain)
    assert json.loads((folder / "config.json").read_text())["quantization_config"]["quant_method"] == fmt
    code, out = evaluate(capsys, folder, tmp_path)
    assert code == 0, out
    record = read_record(tmp_path / "synthetic" / folder.name / "seed0.json")
    efficiency = record.efficiency
    assert record.recipe["params"]["format"] == fmt and efficiency["checkpoint"]["format"] == fmt
    # every weight is counted once, whatever the packing (dequantised views): as many as the plain model
    assert efficiency["parameters"] == baseline.efficiency["parameters"]
    assert 0 < efficiency["nonzero_parameters"] <= efficiency["parameters"]
    # bytes are what the files store: an independent sum over the safetensors headers
    from safetensors import safe_open
    total = 0
    for path in folder.glob("*.safetensors"):
        with safe_open(path, "pt") as handle:
            for key in handle.keys():
                tensor = handle.get_tensor(key)
                total += tensor.numel() * tensor.element_size()
    assert efficiency["bytes"] == total < baseline.efficiency["bytes"]
    assert stored in efficiency["checkpoint"]["stored_values_by_dtype"]
    # a quantised copy of the same weights mostly agrees with them
    assert record.metrics["overall"]["flip_rate"] <= 0.2
    assert baseline.metrics["overall"]["flip_rate"] == 0.0
    assert main(["validate", str(tmp_path / "synthetic" / folder.name / "seed0.json")]) == 0, capsys.readouterr().out


def test_gptq_and_awq_are_refused_with_the_reason(plain, tmp_path, capsys):
    for method in ("gptq", "awq"):
        folder = tmp_path / method
        shutil.copytree(plain, folder)
        config = json.loads((folder / "config.json").read_text())
        config["quantization_config"] = {"quant_method": method, "bits": 4, "group_size": 128}
        (folder / "config.json").write_text(json.dumps(config))
        code, out = evaluate(capsys, folder, tmp_path / "r")
        assert code == 2 and f"a {method} checkpoint" in out and "torch 2.14.1" in out and "Traceback" not in out


def broken(plain, tmp_path, how: str):
    folder = tmp_path / how
    shutil.copytree(plain, folder)
    weights = folder / "model.safetensors"
    if how == "no-config":
        (folder / "config.json").unlink()
    elif how == "truncated":
        weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    elif how == "garbage":
        weights.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00not json at all!")
    elif how == "pickled":
        import torch
        from safetensors.torch import load_file
        torch.save(load_file(weights), folder / "pytorch_model.bin")
        weights.unlink()
    elif how == "no-tokenizer":
        for name in ("tokenizer.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json"):
            (folder / name).unlink(missing_ok=True)
    elif how == "remote-code":
        config = json.loads((folder / "config.json").read_text())
        config["auto_map"] = {"AutoModelForSequenceClassification": "modeling_evil.Model"}
        (folder / "config.json").write_text(json.dumps(config))
    elif how == "unknown-method":
        config = json.loads((folder / "config.json").read_text())
        config["quantization_config"] = {"quant_method": "hqq"}
        (folder / "config.json").write_text(json.dumps(config))
    elif how == "wrong-labels":
        config = json.loads((folder / "config.json").read_text())
        config["id2label"] = {str(i): f"c{i}" for i in range(5)}
        config["label2id"] = {f"c{i}": i for i in range(5)}
        config.pop("num_labels", None)
        (folder / "config.json").write_text(json.dumps(config))
    return folder


@pytest.mark.parametrize("how, names, words", [
    ("no-config", "config.json", "missing"),
    ("truncated", "model.safetensors", "truncated"),
    ("garbage", "model.safetensors", "corrupt"),
    ("pickled", "pytorch_model.bin", "pickled weights"),
    ("no-tokenizer", "no-tokenizer", "no tokenizer files"),
    ("remote-code", "config.json", "auto_map"),
    ("unknown-method", "config.json", "'hqq' is not a format"),
    ("wrong-labels", "config.json", "5 output labels, the task 2"),
])
def test_unreadable_checkpoint_is_one_line_naming_the_file(plain, tmp_path, capsys, how, names, words):
    folder = broken(plain, tmp_path, how)
    code, out = evaluate(capsys, folder, tmp_path / "r")
    assert code == 2, out
    assert out.startswith("csbench: error: ") and out.count("\n") == 1 and "Traceback" not in out, out
    assert names in out and words in out, out
    assert not (tmp_path / "r").exists()        # nothing half-written


def test_a_gguf_file_is_refused_for_a_classification_task(tmp_path, capsys):
    path = tmp_path / "model.gguf"
    path.write_bytes(b"GGUF")
    code, out = evaluate(capsys, path, tmp_path / "r")
    assert code == 2 and "model.gguf: GGUF files hold decoder language models" in out
