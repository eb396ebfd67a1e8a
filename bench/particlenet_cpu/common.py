"""Shared by the ParticleNet CPU benchmark scripts: the published JetClass ParticleNet configuration
(weaver-core 0.4.17, jet-universe/particle_transformer's example_ParticleNet.py with the 7 'kin' features),
the trained checkpoint's path, and the jets' tensors in weaver's layout (as
tests/parity/gen_particlenet_fixture.py builds them). The jets, the percentile and the sys.path set-up
come from bench/part_cpu/common.py, loaded here as `part_common` (both files are called common.py)."""
import importlib.util
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("part_common", os.path.join(HERE, "..", "part_cpu", "common.py"))
part_common = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(part_common)          # also puts tests/parity and tools on sys.path

ROOT, MAXP, NMIN, NMAX = part_common.ROOT, part_common.MAXP, part_common.NMIN, part_common.NMAX
bench_jets, write_jets, pct = part_common.bench_jets, part_common.write_jets, part_common.pct

CONFIG = dict(input_dims=7, num_classes=10,
              conv_params=[(16, (64, 64, 64)), (16, (128, 128, 128)), (16, (256, 256, 256))],
              fc_params=[(256, 0.1)], use_fusion=False, use_fts_bn=True, use_counts=True)
# ../shared/data relative to the repository's parent (as in tests/parity/gen_particlenet_fixture.py)
CHECKPOINT = os.environ.get("PARTICLENET_PT", os.path.join(ROOT, "..", "shared", "data", "particlenet",
                                                           "ParticleNet_kin.pt"))


def load_model(path=CHECKPOINT):
    """weaver's ParticleNet in eval mode with the trained state_dict ('mod.' stripped)."""
    import torch
    from weaver.nn.model.ParticleNet import ParticleNet
    state = torch.load(path, map_location="cpu")
    state = {k[4:] if k.startswith("mod.") else k: v for k, v in state.items()}
    model = ParticleNet(**CONFIG, for_inference=False).eval()
    model.load_state_dict(state)
    return model


def torch_inputs(h5path):
    """(points (N, 2, P) raw (deta, dphi) masked, features (N, 7, P) standardised and masked, mask (N, 1, P)
    float, counts) from jets.h5. The forward multiplies points and features by the mask in place: pass clones."""
    import h5py
    import torch
    from gen_part_fixture import standardise
    with h5py.File(h5path, "r") as f:
        x_raw = f["particles/features"][...]
        mask = f["particles/mask"][...]
    xs = standardise(x_raw) * mask[..., None]
    points = x_raw[..., 5:7] * mask[..., None]
    pt = torch.from_numpy(np.ascontiguousarray(points.transpose(0, 2, 1), dtype=np.float32))
    ft = torch.from_numpy(np.ascontiguousarray(xs.transpose(0, 2, 1), dtype=np.float32))
    mt = torch.from_numpy(mask[:, None, :].astype(np.float32))
    return pt, ft, mt, mask.sum(1)
