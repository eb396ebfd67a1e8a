#!/usr/bin/env python3
"""Parity fixture for the Particle Transformer, from weaver-core's own ParticleTransformer class
(v0.4.17, imported as a dependency, never copied), on a reduced configuration small enough to commit
(models/part_small.yaml: embed [32, 64, 32], pair embed [16, 16], 4 heads, 2 + 2 blocks).

    tools/parity-env.sh                      # once: a venv with Debian's PyTorch + weaver-core 0.4.17
    .venv-parity/bin/python tests/parity/gen_part_fixture.py

Random weights with every scale made non-trivial (batchnorm statistics, LayerNorm affines, c_attn,
w_resid, cls_token), realistic jets with 2 to 24 particles (tests/parity/gen_fixtures.make_jets), and
both of weaver's paths: the training-time one (trimmer, lower-triangle pair path) gives /logits, the
export one (for_inference=True: full P×P pairs, sign-based atan2, softmax) gives /scores.
Writes tests/parity/part_small/{weights.safetensors, inputs.h5, expected.h5}; expected.h5 also holds
/layers/<name> (embed, blocks.i, cls_blocks.i, norm, fc; batch-major, first 32 jets) from forward hooks
on the export path, for `hepnc compare`.
"""
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
from gen_fixtures import PFN_FEATURES, dataset, h5_file, make_jets  # noqa: E402
from weaver_import import map_part_state, write_safetensors  # noqa: E402
from weaver.nn.model.ParticleTransformer import ParticleTransformer  # noqa: E402

CONFIG = dict(input_dim=7, num_classes=3, embed_dims=[32, 64, 32], pair_embed_dims=[16, 16], num_heads=4,
              num_layers=2, num_cls_layers=2, use_pre_activation_pair=False)
MAXP = 24


def randomise(model, gen):
    """Every parameter and buffer away from its neutral initial value."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("c_attn") or name.endswith("w_resid") or (name.endswith("weight") and p.ndim == 1):
                p.copy_(0.6 + 0.8 * torch.rand(p.shape, generator=gen))       # scales, LN/BN gammas
            elif name.endswith("bias") or name == "cls_token":
                p.copy_(0.2 * torch.randn(p.shape, generator=gen))
        for name, b in model.named_buffers():
            if name.endswith("running_mean"):
                b.copy_(0.3 * torch.randn(b.shape, generator=gen))
            elif name.endswith("running_var"):
                b.copy_(0.5 + torch.rand(b.shape, generator=gen))
        model.fc[-1].weight.mul_(4.0)                                         # logits of a few units


def standardise(x):
    """weaver's JetClass 'kin' preprocessing (center, scale, clip ±5) for the first five features."""
    params = [(1.7, 0.7), (2.0, 0.7), (-4.7, 0.7), (-4.7, 0.7), (0.2, 4.0)]
    y = x.copy()
    for k, (c, s) in enumerate(params):
        y[..., k] = np.clip((x[..., k] - c) * s, -5, 5)
    return y


def main():
    torch.manual_seed(7)
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(7)
    rng = np.random.default_rng(20261124)
    x_raw, p4, mask, counts = make_jets(rng, 96, MAXP)
    x = standardise(x_raw) * mask[..., None]
    model = ParticleTransformer(**CONFIG, for_inference=False).eval()
    randomise(model, gen)
    export = ParticleTransformer(**CONFIG, for_inference=True).eval()
    export.load_state_dict(model.state_dict())

    xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 2, 1)))           # (N, C, P)
    vt = torch.from_numpy(np.ascontiguousarray(p4.transpose(0, 2, 1)))          # (N, 4, P)
    mt = torch.from_numpy(mask[:, None, :].astype(np.float32)).bool()           # (N, 1, P)
    layers = {}

    def keep(name, to_batch_major):
        def hook(module, args, output):
            layers[name] = to_batch_major(output.detach()).numpy().astype(np.float32)
        return hook

    seq = lambda t: t.permute(1, 0, 2)                                       # (P, N, C) -> (N, P, C)
    export.embed.register_forward_hook(keep("embed", seq))
    for i, block in enumerate(export.blocks):
        block.register_forward_hook(keep("blocks" if i == len(export.blocks) - 1 else f"blocks.{i}", seq))
    for i, block in enumerate(export.cls_blocks):
        last = i == len(export.cls_blocks) - 1
        block.register_forward_hook(keep("cls_blocks" if last else f"cls_blocks.{i}", lambda t: t[0]))
    export.norm.register_forward_hook(keep("norm", lambda t: t[0]))
    export.fc.register_forward_hook(keep("fc", lambda t: t))
    with torch.no_grad():
        for _ in range(6):                 # past the trimmer's five untouched calls: the trimmed path
            logits = model(xt, v=vt, mask=mt)
        scores = export(xt, v=vt, mask=mt)   # the export path, untrimmed, with the layer hooks
        logits64 = ParticleTransformer(**CONFIG, for_inference=False).double().eval()
        logits64.load_state_dict(model.state_dict())
        ref64 = logits64(xt.double(), v=vt.double(), mask=mt)

    out = os.path.join(HERE, "part_small")
    os.makedirs(out, exist_ok=True)
    write_safetensors(os.path.join(out, "weights.safetensors"), map_part_state(model.state_dict()))
    with h5_file(os.path.join(out, "inputs.h5")) as f:
        dataset(f, "particles/features", x.astype(np.float32))
        f["particles/features"].attrs["names"] = np.array(PFN_FEATURES, dtype="S")
        dataset(f, "particles/mask", mask)
        dataset(f, "particles/vectors", p4)
        dataset(f, "labels", rng.integers(0, 3, size=len(x)).astype(np.int32))
    with h5_file(os.path.join(out, "expected.h5")) as f:
        dataset(f, "logits", logits.numpy())
        dataset(f, "scores", scores.numpy())
        dataset(f, "logits_f64", ref64.numpy())
        for name, value in layers.items():   # per-layer outputs for `hepnc compare` (first 32 jets)
            dataset(f, "layers/" + name, value[:32])
    spread = (logits.double() - ref64).abs().max().item()
    print(f"part_small: {len(x)} jets, n {counts.min()}..{counts.max()}, |logits| max {logits.abs().max():.3g}, "
          f"float32 vs float64 {spread:.2e}, export-path scores vs softmax(logits) "
          f"{(scores - torch.softmax(logits, 1)).abs().max():.2e}")


if __name__ == "__main__":
    main()
