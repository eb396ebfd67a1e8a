#!/usr/bin/env python3
"""Fixtures for `hepnc import weaver` (tests/import/): PyTorch zip checkpoints of the reduced ParT of
tests/parity/part_small, saved the way weaver does (torch.save of the wrapper's state_dict: an
OrderedDict with a leading 'mod.', pickle protocol 2).

    tools/parity-env.sh                      # once: a venv with Debian's PyTorch + weaver-core 0.4.17
    .venv-parity/bin/python tests/import/gen_pt_samples.py      (or /tmp/wvenv/bin/python)

The model is built exactly as tests/parity/gen_part_fixture.py builds it (its CONFIG, its randomise(),
the same seeds, in the same order), so the imported weights must equal
tests/parity/part_small/weights.safetensors. Writes:
  part_small.pt           the state_dict, weaver 0.4 key names (attn.in_proj_weight)
  part_missing.pt         the same names and shapes under weaver 0.5's spelling (attn.in_proj.weight, no
                          'mod.') but with 'blocks.1.fc2.weight' misspelt 'blocks.1.fc2.wieght': every tensor
                          a view (storage offsets, one transposed) into one shared storage, so the file stays
                          small; the import must fail naming that key (did you mean 'blocks.1.fc2.wieght'?),
                          after accepting the 0.5 names that come before it
  part_missing.sums       per checkpoint key, sum_j v[j] * (1 + j % 13) over the tensor in C order (float64):
                          what the C reader must find through offsets and strides
  part_small_v05.h5       /logits and /scores of the same weights on tests/parity/part_small/inputs.h5 with
                          weaver-core 0.5's head scaling (c_attn per head, no channel permutation),
                          emulated by patching 0.4's einsum: the reference for --weaver-version 0.5
"""
import collections
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "parity"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
import h5py  # noqa: E402
from gen_fixtures import dataset, h5_file, make_jets  # noqa: E402
from gen_part_fixture import CONFIG, MAXP, randomise  # noqa: E402
from weaver.nn.model.ParticleTransformer import ParticleTransformer  # noqa: E402


def main():
    # the same sequence of random draws as gen_part_fixture.main() up to randomise()
    torch.manual_seed(7)
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(7)
    rng = np.random.default_rng(20261124)
    make_jets(rng, 96, MAXP)
    model = ParticleTransformer(**CONFIG, for_inference=False).eval()
    randomise(model, gen)
    state = model.state_dict()

    wrapped = collections.OrderedDict(("mod." + k, v) for k, v in state.items())
    torch.save(wrapped, os.path.join(HERE, "part_small.pt"))

    # weaver 0.5 names, views into one storage, one key left out
    names = [k.replace("attn.in_proj_weight", "attn.in_proj.weight").replace("attn.in_proj_bias", "attn.in_proj.bias")
             for k in state]
    biggest = max(v.numel() for v in state.values())
    gen2 = torch.Generator().manual_seed(11)
    shared = torch.randn(biggest + 1000, generator=gen2)
    views = collections.OrderedDict()
    for i, (name, v) in enumerate(zip(names, state.values())):
        if name == "blocks.1.fc2.weight":
            name = "blocks.1.fc2.wieght"
        off = (37 * i) % 1000
        if v.dtype != torch.float32:                       # num_batches_tracked
            views[name] = v.clone()
        elif name == "blocks.0.attn.out_proj.weight":      # non-contiguous: a transposed view
            views[name] = shared[off:off + v.numel()].view(v.shape[1], v.shape[0]).t()
        else:
            views[name] = shared[off:off + v.numel()].view(v.shape)
    torch.save(views, os.path.join(HERE, "part_missing.pt"))
    with open(os.path.join(HERE, "part_missing.sums"), "w") as f:
        for name, v in views.items():
            flat = v.double().contiguous().view(-1)
            weight = 1.0 + (torch.arange(flat.numel(), dtype=torch.float64) % 13)
            f.write(f"{name} {list(v.shape)} {(flat * weight).sum().item()!r}\n".replace(" [", " [").replace(", ", ","))

    # weaver 0.5's head scaling on the parity inputs
    with h5py.File(os.path.join(HERE, "..", "parity", "part_small", "inputs.h5"), "r") as f:
        x = f["particles/features"][()]
        p4 = f["particles/vectors"][()]
        mask = f["particles/mask"][()]
    xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 2, 1)))
    vt = torch.from_numpy(np.ascontiguousarray(p4.transpose(0, 2, 1)))
    mt = torch.from_numpy(mask[:, None, :].astype(np.float32)).bool()
    export = ParticleTransformer(**CONFIG, for_inference=True).eval()
    export.load_state_dict(state)
    einsum = torch.einsum

    def einsum_v05(eq, *ops):
        if eq == "tbhd,h->tbdh":                           # 0.4: permute and scale; 0.5: scale only
            x, c = ops
            return x * c.view(1, 1, -1, 1)
        return einsum(eq, *ops)

    torch.einsum = einsum_v05
    try:
        with torch.no_grad():
            for _ in range(6):                             # past the trimmer's untouched calls, as the fixture
                logits = model(xt, v=vt, mask=mt)
            scores = export(xt, v=vt, mask=mt)
            logits04 = None
    finally:
        torch.einsum = einsum
    with torch.no_grad():
        logits04 = model(xt, v=vt, mask=mt)
    with h5_file(os.path.join(HERE, "part_small_v05.h5")) as f:
        dataset(f, "logits", logits.numpy())
        dataset(f, "scores", scores.numpy())
    print(f"weaver 0.5 head scaling: |logits(0.5) - logits(0.4)| max {(logits - logits04).abs().max():.3g}")
    for name in ("part_small.pt", "part_missing.pt", "part_missing.sums", "part_small_v05.h5"):
        print(f"{name}: {os.path.getsize(os.path.join(HERE, name))} bytes")


if __name__ == "__main__":
    main()
