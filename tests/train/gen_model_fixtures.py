#!/usr/bin/env python3
"""PyTorch references for whole-model training: one training step's loss, logits, gradients and
BatchNorm statistics, and 8-step AdamW / Ranger trajectories, for models/pfn.yaml and
models/part_small.yaml (issue #5 item 5).

    tools/parity-env.sh                                 # once: Debian's torch 1.13 + weaver-core 0.4.17
    .venv-parity/bin/python tests/train/gen_model_fixtures.py

Writes tests/train/models/<M>/ for M in {pfn, part_small, part_small_pairs, part_small_sm} (or those named on the command line;
file contents: tests/train/models/README.md):
  weights.safetensors  byte-for-byte copy of tests/parity/<M>/weights.safetensors (full state, hepnc names)
  batch.h5             the first B = 32 events of tests/parity/<M>/inputs.h5 (features with their names,
                       mask, vectors) and /labels int64 [B] using every class
  expected.safetensors loss, logits, grad.*, grad64.*, bn1.*, adamw8.*, loss_adamw.*, ranger8.*,
                       loss_ranger.* (float32, hepnc names)

Training-mode semantics (these define hepnc's; every BatchNorm uses the batch's statistics, biased
variance to normalise, and updates running_mean/var with PyTorch's momentum 0.1 and the UNBIASED batch
variance, n/(n-1)):
  pfn        tests/parity/gen_fixtures.py's PFN in model.train(): input_bn is nn.BatchNorm1d over the
             feature axis of the whole padded tensor, i.e. statistics over all B x 64 slots, padding
             slots (zero features) included -- weaver's convention; the rest as the eval reference
             (ReLU MLPs, sum pool over the real particles only, logits linear).
  part_small weaver-core 0.4.17's ParticleTransformer with the parity CONFIG, for_inference=False,
             trim=False (no SequenceTrimmer: no random permutation, seq_len = 24 always), every dropout
             0 (block_params = cls_block_params = {dropout, attn_dropout, activation_dropout: 0}; the
             head is a single Linear, no dropout), model.train(). Its BatchNorms take batch statistics
             over all slots: embed.input_bn over B x 24 particle slots; the pair-embedding BNs
             (pair_embed.embed.{0,2,5,8}) over B x 300 lower-triangle pairs (24*25/2, diagonal included)
             with padded pairs included, their features being weaver's pairwise_lv_fts of zero 4-vectors
             (padded-padded pairs: ln kT = ln z = ln delta = ln m^2 = ln 1e-8; real-padded pairs:
             ln kT = ln z = ln 1e-8, ln delta and ln m^2 from the real particle against (y, phi) = (0, 0)).
             The pair features are computed without gradient (inputs, not part of the graph); the
             symmetric P x P bias is scattered to (i, j) and (j, i), the diagonal once.
Loss: torch.nn.CrossEntropyLoss(label_smoothing=0.1), mean over the batch.
Optimisers: weaver train.py optim()'s parameter groups with weight_decay in the options and no lr_mult:
  [no-decay (wd 0), decay (wd 0.01), {} (lr mult, empty), {} (empty)], no-decay = ndim 1 or name ending
  '.bias' or in model.no_weight_decay() (cls_token); AdamW(lr 1e-3, betas (0.9, 0.999), eps 1e-8) and
  weaver's Ranger(lr 1e-3, weight_decay 0.01, defaults otherwise: betas (0.95, 0.999), eps 1e-5, alpha
  0.5, k 6); 8 steps on the same batch (step 6 is Ranger's first Lookahead interpolation and the
  first rectified RAdam step: 5 steps would exercise only its momentum-SGD warm-up), each zero_grad / train-mode forward / backward / step.

grad64 and every float64 measurement come from copy.deepcopy(model).double() on the float32 inputs cast
to float64 -- for part_small with the pair features computed as in the float32 run (weaver's float32
expressions on the float32 4-vectors, then cast): they are inputs without gradient, and ln m^2 of
nearly collinear pairs cancels in float32, so float64 pair features move the loss by 5.6e-3 and some
gradients by 23 %, which would measure the features' rounding rather than the network's (the fully
float64 numbers are printed for the record).

Also measured and printed (not written): float32 against float64 for the gradients, the statistics
and both trajectories (the floors; tests/train/models/README.md records them), the elements whose exact
gradient is zero (float32 leaves rounding noise there, which AdamW turns into lr-sized steps), and a
float64 central finite-difference check of grad64 (step 1e-6, asserted to 1e-6 relative).

Deterministic: no random numbers except the labels' numpy seed; one thread; deterministic algorithms;
HDF5 without timestamps. Running it twice gives identical bytes.
"""
import contextlib
import copy
import math
import os
import shutil
import sys

import h5py
import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "parity"))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from gen_fixtures import PFN, dataset, h5_file  # noqa: E402
from gen_part_fixture import CONFIG as PART_CONFIG  # noqa: E402
from weaver_import import map_part_state, read_safetensors, write_safetensors  # noqa: E402
from weaver.nn.model.ParticleTransformer import ParticleTransformer  # noqa: E402
from weaver.utils.nn.optimizer.ranger import Ranger  # noqa: E402

torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)

B = 32
STEPS = 8
LR, WD = 1e-3, 0.01
LABEL_SMOOTHING = 0.1
FD_STEP = 1e-6
FD_TOL = 1e-6
LABEL_SEEDS = {"pfn": 20261201, "part_small": 20261202, "part_small_pairs": 20261203, "part_small_slots": 20261204,
               "part_small_sm": 20261205}
NO_DROPOUT = {"dropout": 0, "attn_dropout": 0, "activation_dropout": 0}


# ---- files ----------------------------------------------------------------------------------------

def write_batch(src, dst, labels):
    """The first B events of every dataset of src (features keep their `names`), plus /labels int64."""
    with h5py.File(src, "r") as fi, h5_file(dst) as fo:
        for group in sorted(k for k in fi.keys() if isinstance(fi[k], h5py.Group)):
            for key in sorted(fi[group].keys()):
                path = f"{group}/{key}"
                dataset(fo, path, fi[path][:B])
                for attr in sorted(fi[path].attrs.keys()):
                    fo[path].attrs[attr] = fi[path].attrs[attr]
        dataset(fo, "labels", labels)


def make_labels(name, ncls):
    """Balanced, shuffled: every class present (B = 32 -> 16/16 or 11/11/10)."""
    rng = np.random.default_rng(LABEL_SEEDS[name])
    return rng.permutation(np.arange(B) % ncls).astype(np.int64)


# ---- the two models -------------------------------------------------------------------------------

class Model:
    """A reference model with its inputs, its spec-name mapping and its forward."""

    def names_f64(self, tensors):
        """names() for float64 tensors, keeping float64 (for the measurements)."""
        out = {}
        for k, v in tensors.items():
            ((name, shaped),) = self.names({k: v}).items()
            out[name] = v.detach().reshape(shaped.shape)
        return out

    def state(self, module):
        """hepnc names -> float32 arrays, every parameter and buffer but num_batches_tracked."""
        return self.names({k: v for k, v in module.state_dict().items() if not k.endswith("num_batches_tracked")})

    def load(self, module, path):
        """Fills module from a hepnc-named safetensors file; every tensor of the file must be used."""
        weights = read_safetensors(path)
        used, sd = set(), module.state_dict()
        for key, value in sd.items():
            if key.endswith("num_batches_tracked"):
                continue
            (name,) = self.names({key: value}).keys()
            sd[key] = torch.from_numpy(weights[name].reshape(tuple(value.shape)))
            used.add(name)
        assert used == set(weights), sorted(set(weights) ^ used)
        module.load_state_dict(sd)


class PfnModel(Model):
    name, ncls = "pfn", 2

    def __init__(self):
        with h5py.File(os.path.join(ROOT, "tests/parity/pfn/inputs.h5"), "r") as f:
            self.x = f["particles/features"][:B]
            self.mask = f["particles/mask"][:B]

    def build(self):
        return PFN()

    def names(self, tensors):
        return {k: (v.detach().cpu().float().numpy() if torch.is_tensor(v) else np.asarray(v, np.float32))
                for k, v in tensors.items()}

    def forward(self, module, dtype):
        x = torch.from_numpy(self.x).to(dtype)
        return module(x, torch.from_numpy(self.mask).to(dtype))[0]


class PartModel(Model):
    name, ncls = "part_small", 3

    def __init__(self):
        with h5py.File(os.path.join(ROOT, "tests/parity/part_small/inputs.h5"), "r") as f:
            x, v, m = f["particles/features"][:B], f["particles/vectors"][:B], f["particles/mask"][:B]
        self.x = np.ascontiguousarray(x.transpose(0, 2, 1))           # (N, C, P)
        self.v = np.ascontiguousarray(v.transpose(0, 2, 1))           # (N, 4, P)
        self.m = m[:, None, :].astype(bool)                           # (N, 1, P)

    def build(self):
        return ParticleTransformer(**PART_CONFIG, for_inference=False, trim=False, block_params=dict(NO_DROPOUT),
                                   cls_block_params=dict(NO_DROPOUT), fc_params=[])

    def names(self, tensors):
        return map_part_state(tensors)

    def forward(self, module, dtype):
        return module(torch.from_numpy(self.x).to(dtype), v=torch.from_numpy(self.v).to(dtype),
                      mask=torch.from_numpy(self.m))


class PartSlotsModel(PartModel):
    """part_small on the batch as weaver's SequenceTrimmer leaves it at length SLOTS = 16 with each jet's first
    16 particles kept (its pT-ordered leading ones): weaver's model (trim=False) on x, v, mask cut to 16
    slots, so its BatchNorms count 16 slots per jet. hepnc runs the full 24-slot batch with
    `gradcheck --slots 16` (the rows past 16 zeroed, counts cut, statistics over 16 slots). The eval
    logits differ from the parity fixture's (jets lose particles), so that check is skipped."""
    name, ncls, parity_check = "part_small_slots", 3, False
    SLOTS = 16

    def __init__(self):
        super().__init__()
        self.x = np.ascontiguousarray(self.x[:, :, :self.SLOTS])
        self.v = np.ascontiguousarray(self.v[:, :, :self.SLOTS])
        self.m = np.ascontiguousarray(self.m[:, :, :self.SLOTS])

    def source(self):
        return "part_small"


class PartPairsModel(PartModel):
    """part_small with supplied pair features (models/part_small_pairs.yaml): weaver's ParticleTransformer
    with pair_extra_dim = 2, for_inference=False, trim=False, the features passed dense (N, C', P, P)
    (weaver's sparse (uu, uu_idx) route fails in 0.4.17: tests/parity/gen_part_pairs_fixture.py). Its
    PairEmbed is then not symmetric: both MLPs embed every ordered slot pair, padded pairs included in
    the batchnorm statistics."""
    name, ncls = "part_small_pairs", 3

    def __init__(self):
        with h5py.File(os.path.join(ROOT, "tests/parity/part_small_pairs/inputs.h5"), "r") as f:
            x, v, m = f["particles/features"][:B], f["particles/vectors"][:B], f["particles/mask"][:B]
            uu = f["sm/features"][:B]                                     # (N, P, P, C')
        self.x = np.ascontiguousarray(x.transpose(0, 2, 1))
        self.v = np.ascontiguousarray(v.transpose(0, 2, 1))
        self.m = m[:, None, :].astype(bool)
        self.uu = np.ascontiguousarray(uu.transpose(0, 3, 1, 2))         # (N, C', P, P)

    def build(self):
        return ParticleTransformer(**PART_CONFIG, pair_extra_dim=2, for_inference=False, trim=False,
                                   block_params=dict(NO_DROPOUT), cls_block_params=dict(NO_DROPOUT), fc_params=[])

    def forward(self, module, dtype):
        return module(torch.from_numpy(self.x).to(dtype), v=torch.from_numpy(self.v).to(dtype),
                      mask=torch.from_numpy(self.m), uu=torch.from_numpy(self.uu).to(dtype))


class PartSmModel(PartPairsModel):
    """part_small_sm (models/part_small_sm.yaml): weaver's ParticleTransformer with pair_extra_dim = 1 fed the
    SM interaction matrix as dense pair features — the independent NumPy reference's matrix that
    tests/parity/gen_part_sm_fixture.py stored as /layers/sm — while hepnc computes it in the step from the
    objects' flags and 4-vectors (sm_interaction). Padded pairs hold 0 on both sides."""
    name, ncls = "part_small_sm", 2

    def __init__(self):
        par = os.path.join(ROOT, "tests/parity/part_small_sm")
        with h5py.File(os.path.join(par, "inputs.h5"), "r") as f:
            x, v, m = f["objects/features"][:B], f["objects/vectors"][:B], f["objects/mask"][:B]
        with h5py.File(os.path.join(par, "expected.h5"), "r") as f:
            uu = f["layers/sm"][:B]                                       # (N, P, P, 1)
        self.x = np.ascontiguousarray(x.transpose(0, 2, 1))
        self.v = np.ascontiguousarray(v.transpose(0, 2, 1))
        self.m = m[:, None, :].astype(bool)
        self.uu = np.ascontiguousarray(uu.transpose(0, 3, 1, 2))         # (N, 1, P, P)

    def build(self):
        config = dict(PART_CONFIG, input_dim=self.x.shape[1], num_classes=self.ncls)
        return ParticleTransformer(**config, pair_extra_dim=1, for_inference=False, trim=False,
                                   block_params=dict(NO_DROPOUT), cls_block_params=dict(NO_DROPOUT), fc_params=[])


def f32_pair_features(module):
    """A float64 ParT whose pair features are computed in float32 from the float32 4-vectors (weaver's
    float32 expressions: ln m^2 of nearly collinear pairs cancels, so float64 features differ by far
    more than the network's own rounding); everything after them in float64."""
    orig = module.pair_embed.pairwise_lv_fts
    module.pair_embed.pairwise_lv_fts = lambda xi, xj: orig(xi.to(torch.float32), xj.to(torch.float32)).to(torch.float64)
    return module


# ---- training ---------------------------------------------------------------------------------------

def ce_loss(logits, labels):
    return nn.CrossEntropyLoss(label_smoothing=LABEL_SMOOTHING)(logits, labels)


def one_step(model, module, dtype, labels):
    """One training-mode forward and backward: loss, logits, {torch name: grad}, module (stats updated)."""
    module.train()
    module.zero_grad(set_to_none=True)
    logits = model.forward(module, dtype)
    loss = ce_loss(logits, labels)
    loss.backward()
    grads = {}
    for k, p in module.named_parameters():
        assert p.grad is not None, f"{model.name}: {k} gets no gradient"
        grads[k] = p.grad.detach().clone()
    return loss.detach(), logits.detach(), grads


def weaver_groups(module):
    """weaver train.py optim() with 'weight_decay' in the optimiser options and no lr_mult."""
    decay, no_decay = [], []
    nwd = module.no_weight_decay() if hasattr(module, "no_weight_decay") else set()
    for name, p in module.named_parameters():
        if not p.requires_grad:
            continue
        if len(p.shape) == 1 or name.endswith(".bias") or name in nwd:
            no_decay.append(p)
        else:
            decay.append(p)
    return [{"params": no_decay, "weight_decay": 0.}, {"params": decay, "weight_decay": WD},
            {"params": [], "weight_decay": 0., "lr": LR}, {"params": [], "weight_decay": WD, "lr": LR}]


def no_decay_names(module):
    nwd = module.no_weight_decay() if hasattr(module, "no_weight_decay") else set()
    return [n for n, p in module.named_parameters() if len(p.shape) == 1 or n.endswith(".bias") or n in nwd]


@contextlib.contextmanager
def float_is_identity():
    """weaver's RAdam works on p.data.float() and grad.float(): for float32 tensors that is the tensor
    itself; for the float64 reference run it must be too, or the run would round to float32."""
    saved = torch.Tensor.float
    torch.Tensor.float = lambda self, *a, **k: self
    try:
        yield
    finally:
        torch.Tensor.float = saved


def trajectory(model, module, dtype, labels, kind):
    module.train()
    groups = weaver_groups(module)
    if kind == "adamw":
        opt = torch.optim.AdamW(groups, lr=LR, betas=(0.9, 0.999), eps=1e-8, weight_decay=WD)
        ctx = contextlib.nullcontext()
    else:
        opt = Ranger(groups, lr=LR, weight_decay=WD)
        ctx = float_is_identity() if dtype == torch.float64 else contextlib.nullcontext()
    losses = []
    with ctx:
        for _ in range(STEPS):
            opt.zero_grad()
            loss = ce_loss(model.forward(module, dtype), labels)
            loss.backward()
            opt.step()
            losses.append(loss.item())
    return losses


# ---- checks -----------------------------------------------------------------------------------------

def rel_norm(a, b):
    """||a - b|| / ||b|| in float64."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    nb = np.linalg.norm(b)
    return np.linalg.norm(a - b) / nb if nb > 0 else np.linalg.norm(a - b)


def rel_max(a, b, tiny=1e-30):
    """max|a - b| / max(max|b|, tiny): the trajectory measure."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return np.abs(a - b).max() / max(np.abs(b).max(), tiny)


def finite_differences(model, module64, labels, grads64, picks):
    """Central differences of the float64 training-mode loss at the largest-|g| entry of each picked
    parameter; buffers are restored after every forward (training mode updates them)."""
    params = dict(module64.named_parameters())
    buffers = {k: b.detach().clone() for k, b in module64.named_buffers()}

    def loss_at():
        with torch.no_grad():
            value = ce_loss(model.forward(module64, torch.float64), labels).item()
            for k, b in module64.named_buffers():
                b.copy_(buffers[k])
        return value

    module64.train()
    worst = 0.0
    for name in picks:
        p, g = params[name], grads64[name]
        idx = np.unravel_index(int(g.abs().argmax()), tuple(g.shape))
        with torch.no_grad():
            x0 = p[idx].item()
            p[idx] = x0 + FD_STEP
            up = loss_at()
            p[idx] = x0 - FD_STEP
            down = loss_at()
            p[idx] = x0
        fd = (up - down) / (2 * FD_STEP)
        ga = g[idx].item()
        rel = abs(fd - ga) / abs(ga)
        worst = max(worst, rel)
        print(f"  fd {name}{list(idx)}: autograd {ga:+.12e}  central diff {fd:+.12e}  rel {rel:.1e}")
        assert rel <= FD_TOL, f"{model.name}: finite differences disagree with grad64 for {name}"
    return worst


FD_PICKS = {
    "pfn": ["input_bn.weight", "input_bn.bias", "phi.0.weight", "phi.2.bias", "f.0.weight", "logits.weight"],
    "part_small_slots": ["embed.input_bn.weight", "pair_embed.embed.0.weight", "pair_embed.embed.1.weight",
                         "pair_embed.embed.8.weight", "blocks.0.attn.in_proj_weight", "fc.0.weight"],
    "part_small_pairs": ["pair_embed.embed.1.weight", "pair_embed.fts_embed.0.weight", "pair_embed.fts_embed.2.bias",
                         "pair_embed.fts_embed.1.weight", "pair_embed.fts_embed.4.weight", "pair_embed.fts_embed.8.weight",
                         "blocks.0.attn.in_proj_weight", "fc.0.weight"],
    "part_small_sm": ["pair_embed.fts_embed.2.weight", "pair_embed.fts_embed.4.weight",
                      "pair_embed.fts_embed.8.weight", "pair_embed.embed.1.weight", "blocks.0.attn.in_proj_weight",
                      "fc.0.weight"],
    "part_small": ["cls_token", "embed.input_bn.weight", "embed.embed.1.weight", "pair_embed.embed.0.weight",
                   "pair_embed.embed.1.weight", "pair_embed.embed.8.weight", "blocks.0.attn.in_proj_weight",
                   "blocks.1.c_attn", "cls_blocks.0.w_resid", "cls_blocks.1.fc2.weight", "fc.0.weight"],
}


# ---- one model ----------------------------------------------------------------------------------------

def to64(model, module, full=False):
    """The float64 reference copy. part_small: pair features from the float32 4-vectors in float32, unless
    full (every step in float64, printed for the record only)."""
    m = copy.deepcopy(module).double()
    return f32_pair_features(m) if model.name.startswith("part_small") and not full else m


def zero_gradient_mask(g64, scale):
    """Elements whose gradient vanishes in exact arithmetic (float64 autograd leaves ~1e-15 there):
    biases followed by a training-mode BatchNorm, attention key biases (softmax is shift-invariant)."""
    return {k: np.abs(v.astype(np.float64)) <= ZERO_GRAD * scale for k, v in g64.items()}


ZERO_GRAD = 1e-12      # relative to the largest |grad64| of the model; true small gradients are >= 1e-8 here


def fixture(model):
    out = os.path.join(HERE, "models", model.name)
    os.makedirs(out, exist_ok=True)
    src = model.source() if hasattr(model, "source") else model.name       # the parity fixture it starts from
    src_weights = os.path.join(ROOT, "tests/parity", src, "weights.safetensors")
    labels_np = make_labels(model.name, model.ncls)
    labels = torch.from_numpy(labels_np)

    torch.manual_seed(0)                    # the construction's default init, overwritten by the weights
    base = model.build()
    model.load(base, src_weights)
    base.eval()
    saved = model.state(base)
    ref = read_safetensors(src_weights)
    assert all(np.array_equal(saved[k], ref[k]) for k in ref), "weights do not round-trip"
    eval_diff = float("nan")
    if getattr(model, "parity_check", True):
        with torch.no_grad():               # the loaded model reproduces the parity fixture (eval mode)
            with h5py.File(os.path.join(ROOT, "tests/parity", src, "expected.h5"), "r") as f:
                want = f["logits"][:B]
            got = model.forward(base, torch.float32).numpy()
        eval_diff = np.abs(got - want).max()
        assert eval_diff < 1e-4, f"{model.name}: eval logits differ from the parity fixture by {eval_diff}"

    # one step, float32 and float64
    m32 = copy.deepcopy(base)
    loss, logits, grads = one_step(model, m32, torch.float32, labels)
    m64 = to64(model, base)
    loss64, logits64, grads64 = one_step(model, m64, torch.float64, labels)
    bn1 = {k: v for k, v in model.state(m32).items() if k.endswith(("running_mean", "running_var"))}

    # trajectories, float32 (written) and float64 (the floor)
    traj, traj64, losses, losses64 = {}, {}, {}, {}
    for kind in ("adamw", "ranger"):
        t32, t64 = copy.deepcopy(base), to64(model, base)
        losses[kind] = trajectory(model, t32, torch.float32, labels, kind)
        losses64[kind] = trajectory(model, t64, torch.float64, labels, kind)
        traj[kind], traj64[kind] = model.state(t32), model.state(t64)

    # written tensors
    expected = {"loss": np.array([loss.item()], np.float32), "logits": logits.numpy()}
    for prefix, g in (("grad.", grads), ("grad64.", grads64)):
        for k, v in model.names(g).items():
            expected[prefix + k] = v
    for k, v in bn1.items():
        expected["bn1." + k] = v
    for kind, tag in (("adamw", f"adamw{STEPS}."), ("ranger", f"ranger{STEPS}.")):
        for k, v in traj[kind].items():
            expected[tag + k] = v
        for step, value in enumerate(losses[kind]):
            expected[f"loss_{kind}.{step}"] = np.array([value], np.float32)
    for k, v in expected.items():
        assert np.isfinite(v).all(), f"{model.name}: non-finite {k}"
    shutil.copyfile(src_weights, os.path.join(out, "weights.safetensors"))
    write_batch(os.path.join(ROOT, "tests/parity", src, "inputs.h5"), os.path.join(out, "batch.h5"), labels_np)
    write_safetensors(os.path.join(out, "expected.safetensors"), expected)

    # ---- report
    g32 = model.names(grads)
    g64 = {k: v.detach().numpy() for k, v in model.names_f64(grads64).items()}
    total = math.sqrt(sum((v ** 2).sum() for v in g64.values()))
    nonfinite = [k for k, v in g32.items() if not np.isfinite(v).all()]
    print(f"{model.name}: B {B}, labels per class {np.bincount(labels_np).tolist()}, loss {loss.item():.9f} "
          f"(float64 {loss64.item():.12f}); eval-mode logits vs the parity fixture {eval_diff:.1e}")
    print(f"{model.name}: non-finite gradients: {nonfinite if nonfinite else 'none'}; total gradient norm "
          f"(float64) {total:.6g}")
    zmask = zero_gradient_mask(g64, max(np.abs(v).max() for v in g64.values()))
    zcount = {k: int(m.sum()) for k, m in zmask.items() if m.any()}
    print(f"{model.name}: per tensor: shape, ||grad||, ||grad - grad64|| / ||grad64||")
    worst_g, worst_z = (0.0, ""), (0.0, "")
    for k in sorted(g32):
        r = rel_norm(g32[k], g64[k])
        if zmask[k].all():
            worst_z = max(worst_z, (np.linalg.norm(g32[k]) / total, k))
            tag = "   (zero in exact arithmetic: ||grad|| is float32 noise)"
        else:
            worst_g = max(worst_g, (r, k))
            tag = ""
        print(f"    {k:40s} {str(list(g32[k].shape)):12s} {np.linalg.norm(g32[k]):.4e}  {r:.1e}{tag}")
    noisy = sum(int((zmask[k] & (g32[k] != 0)).sum()) for k in g32)
    print(f"{model.name}: elements with a zero exact gradient (|grad64| <= {ZERO_GRAD:g} max|grad64|): "
          f"{sum(zcount.values())}, of which {noisy} nonzero (rounding noise) in float32: {zcount if zcount else ''}")
    print(f"{model.name}: logits float32 vs float64 max |d| {np.abs(logits.numpy() - logits64.numpy()).max():.2e}; "
          f"loss |d| {abs(loss.item() - loss64.item()):.2e}")
    print(f"{model.name}: FLOOR grad vs grad64: max per-tensor ||d||/||grad64|| {worst_g[0]:.2e} ({worst_g[1]})"
          + (f"; zero-gradient tensors: max ||grad||/||total|| {worst_z[0]:.1e} ({worst_z[1]})" if worst_z[1] else ""))
    bn64 = {k: v for k, v in model.state(m64).items() if k in bn1}
    print(f"{model.name}: FLOOR bn1 float32 vs float64: max per-tensor max|d|/max|v64| "
          f"{max(rel_max(bn1[k], bn64[k]) for k in bn1):.2e}")
    for kind in ("adamw", "ranger"):
        t, t64 = traj[kind], traj64[kind]
        worst = max((rel_max(t[k], t64[k]), k) for k in t)
        # parameters without their zero-exact-gradient elements, then the BN buffers, then those elements
        w_par = max((rel_max(t[k][~zmask[k]], t64[k][~zmask[k]]), k) for k in zmask if (~zmask[k]).any())
        w_buf = max((rel_max(t[k], t64[k]), k) for k in t if k not in zmask)
        zdp = max((np.abs(t[k] - t64[k])[zmask[k]].max() for k in zmask if zmask[k].any()), default=0.0)
        moved = max(np.abs(t[k] - saved[k]).max() for k in zmask)
        dl = max(abs(a - b) for a, b in zip(losses[kind], losses64[kind]))
        print(f"{model.name}: FLOOR {kind}{STEPS} float32 vs float64, max per-tensor max|dp|/max|p64|: all {worst[0]:.2e} "
              f"({worst[1]}); parameters without the zero-gradient elements {w_par[0]:.2e} ({w_par[1]}); "
              f"BN buffers {w_buf[0]:.2e} ({w_buf[1]}); on the zero-gradient elements max|dp| {zdp:.2e} = "
              f"{zdp / (LR * STEPS):.2g} lr*steps")
        print(f"{model.name}:   {kind} losses {', '.join(f'{v:.7f}' for v in losses[kind])}; float32 vs float64 "
              f"max |d loss| {dl:.1e}; largest parameter move max|p5 - p0| {moved:.3g}")
    if model.name == "part_small":          # for the record: every step in float64, pair features included
        full = to64(model, base, full=True)
        lossf, logitsf, gradsf = one_step(model, full, torch.float64, labels)
        gf = {k: v.detach().numpy() for k, v in model.names_f64(gradsf).items()}
        r = max((rel_norm(g32[k], gf[k]), k) for k in g32 if not zmask[k].all())
        print(f"{model.name}: (record) fully float64, pair features from float64 4-vectors: loss |d| "
              f"{abs(loss.item() - lossf.item()):.2e}, logits max |d| {np.abs(logits.numpy() - logitsf.numpy()).max():.2e}, "
              f"grad max per-tensor rel {r[0]:.2e} ({r[1]})")
    print(f"{model.name}: float64 finite differences (step {FD_STEP:g}) against grad64:")
    fd_worst = finite_differences(model, to64(model, base), labels, grads64, FD_PICKS[model.name])
    print(f"{model.name}: finite differences max rel {fd_worst:.1e} (bound {FD_TOL:g})")
    nd = no_decay_names(base)
    print(f"{model.name}: no-decay tensors ({len(nd)} of {len(grads)}): {', '.join(nd)}")
    nbuf = sum(1 for k in saved if k.endswith(("running_mean", "running_var")))
    print(f"{model.name}: {len(grads)} trainable tensors, {sum(v.size for v in g32.values())} parameters, "
          f"{nbuf} BN buffers; expected.safetensors {len(expected)} tensors")
    for fn in sorted(os.listdir(out)):
        print(f"  {model.name}/{fn}: {os.path.getsize(os.path.join(out, fn))} bytes")


def main():
    models = {m.name: m for m in (PfnModel, PartModel, PartPairsModel, PartSlotsModel, PartSmModel)}
    for name in sys.argv[1:] or list(models):       # names: only those (the others' files stay as they are)
        fixture(models[name]())


if __name__ == "__main__":
    main()
