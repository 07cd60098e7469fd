"""bitsandbytes recipes on the tiny GPT-2: the stored weights really are int8 / packed 4-bit, the
model still computes close to dense, and the LM head stays as it was."""
import pytest
import torch

from benchmark.generative.bnb_recipes import bnb_unavailable_reason
from benchmark.generative.context import tiny_decoder_context
from benchmark.recipes import RECIPES

pytestmark = [pytest.mark.usefixtures("one_thread"),
              pytest.mark.skipif(bool(bnb_unavailable_reason()), reason=str(bnb_unavailable_reason()))]


def logits(bundle, ids):
    with torch.inference_mode():
        return bundle.model(input_ids=ids).logits.float()


@pytest.mark.parametrize("name,dtype,ratio", [("quant-bnb-int8", torch.int8, 1.0), ("quant-bnb-nf4", torch.uint8, 0.5)])
def test_bnb_stores_low_bit_weights_and_stays_close(name, dtype, ratio):
    import bitsandbytes as bnb
    ctx = tiny_decoder_context()
    bundle = RECIPES.get(name).apply(ctx)
    layers = [m for m in bundle.model.modules() if isinstance(m, (bnb.nn.Linear8bitLt, bnb.nn.Linear4bit))]
    assert len(layers) == 8                                      # 2 blocks x (qkv, attn out, fc, mlp out)
    for layer in layers:
        assert layer.weight.dtype == dtype
        assert layer.weight.numel() == int(layer.in_features * layer.out_features * ratio)   # nf4: two per byte
    assert isinstance(bundle.model.lm_head, torch.nn.Linear) and not isinstance(bundle.model.lm_head, bnb.nn.Linear4bit)
    ids = torch.tensor([ctx.dense.processor("The weather this morning", add_special_tokens=False)["input_ids"]])
    dense, quant = logits(ctx.dense, ids), logits(bundle, ids)
    assert torch.isfinite(quant).all() and not torch.equal(dense, quant)
    assert (quant - dense).abs().max() < 0.1 * dense.abs().max()
