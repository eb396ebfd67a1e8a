#!/usr/bin/python3
"""Fixtures for tests/train: losses, optimisers, gradient clipping and LR schedules, produced by PyTorch
(Debian's torch 1.13: run with /usr/bin/python3) and weaver-core 0.4.17's Ranger/RAdam/Lookahead.

    /usr/bin/python3 tests/train/gen_optim_fixtures.py [out_dir]   # default tests/train/fixtures

weaver is imported from the environment, else from $WEAVER_SRC (default /tmp/wv/src, the unzipped
weaver_core-0.4.17 wheel).

Output: <out_dir>/train_fixtures.bin, a flat list of named arrays, little-endian:
    magic "HNFX1\\n"
    repeated: u32 name_len, name bytes, u8 kind ('f' float32 | 'd' float64 | 'i' int64), u32 count, data
Deterministic (torch.manual_seed(1234)); the same torch gives the same bytes.
"""
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

try:
    from weaver.utils.nn.optimizer.ranger import Ranger
    from weaver.utils.nn.optimizer.radam import RAdam as WeaverRAdam
    from weaver.utils.nn.optimizer.lookahead import Lookahead
except ImportError:
    sys.path.insert(0, os.environ.get("WEAVER_SRC", "/tmp/wv/src"))
    from weaver.utils.nn.optimizer.ranger import Ranger
    from weaver.utils.nn.optimizer.radam import RAdam as WeaverRAdam
    from weaver.utils.nn.optimizer.lookahead import Lookahead

REC = []


def put(name, arr, kind):
    a = np.ascontiguousarray(np.asarray(arr).reshape(-1))
    dt = {"f": "<f4", "d": "<f8", "i": "<i8"}[kind]
    REC.append((name, kind, a.astype(dt)))


def putf(name, t):
    put(name, t.detach().numpy() if torch.is_tensor(t) else t, "f")


def putd(name, t):
    put(name, t.detach().numpy() if torch.is_tensor(t) else t, "d")


def puti(name, t):
    put(name, t.detach().numpy() if torch.is_tensor(t) else t, "i")


torch.manual_seed(1234)
torch.set_num_threads(1)

# ---------------------------------------------------------------- losses (references in float64)


def loss_and_grad(fn, x):
    x = x.detach().clone().double().requires_grad_(True)
    v = fn(x)
    (g,) = torch.autograd.grad(v, x)
    return v.item(), g


def wmean(l, w):
    return l.mean() if w is None else (l * w).sum() / w.sum()


def ce_ref(x, y, eps, w):
    return wmean(F.cross_entropy(x, y, reduction="none", label_smoothing=eps), w)


def focal_ref(x, y, alpha, gamma, w, alpha_c=None):
    logp = F.log_softmax(x, dim=1).gather(1, y[:, None]).squeeze(1)
    p = logp.exp()
    a = alpha if alpha_c is None else alpha_c[y]
    return wmean(-a * (1 - p) ** gamma * logp, w)


def bce_ref(x, t, w):
    l = F.binary_cross_entropy_with_logits(x, t, reduction="none").mean(dim=1)
    return wmean(l, w)


def mse_ref(x, t, w):
    l = ((x - t) ** 2).mean(dim=1)
    return wmean(l, w)


def loss_case(name, x, aux, fn, w=None, extra=()):
    """x float32 (N, C); aux labels (int64) or targets (float32); fn(x64) -> scalar."""
    putf(name + ".x", x)
    if aux.dtype == torch.int64:
        puti(name + ".y", aux)
    else:
        putf(name + ".t", aux)
    if w is not None:
        putf(name + ".w", w)
    putd(name + ".shape", [x.shape[0], x.shape[1]] + list(extra))
    v, g = loss_and_grad(fn, x)
    putd(name + ".value", [v])
    putd(name + ".grad", g)
    return v, g


N, C = 13, 5
x = torch.randn(N, C) * 3
y = torch.randint(0, C, (N,))
w = torch.rand(N) + 0.1
xbig = torch.randn(N, C) * 40  # saturated logits
cls_alpha = torch.rand(C) + 0.2

loss_case("ce", x, y, lambda z: ce_ref(z, y, 0.0, None), extra=[0.0])
loss_case("ce_ls", x, y, lambda z: ce_ref(z, y, 0.1, None), extra=[0.1])
loss_case("ce_ls_w", x, y, lambda z: ce_ref(z, y, 0.2, w.double()), w=w, extra=[0.2])
loss_case("ce_big", xbig, y, lambda z: ce_ref(z, y, 0.1, None), extra=[0.1])
loss_case("focal", x, y, lambda z: focal_ref(z, y, 0.25, 2.0, None), extra=[0.25, 2.0])
loss_case("focal_g0", x, y, lambda z: focal_ref(z, y, 1.0, 0.0, None), extra=[1.0, 0.0])
loss_case("focal_g05_w", x, y, lambda z: focal_ref(z, y, 0.5, 0.5, w.double()), w=w, extra=[0.5, 0.5])
loss_case("focal_big", xbig, y, lambda z: focal_ref(z, y, 0.25, 2.0, None), extra=[0.25, 2.0])
loss_case("focal_cls", x, y, lambda z: focal_ref(z, y, 1.0, 1.5, None, cls_alpha.double()), extra=[1.0, 1.5])
putf("focal_cls.alpha_c", cls_alpha)

NB, K = 11, 3
xb = torch.randn(NB, K) * 4
xb[0, 0], xb[1, 1], xb[2, 2] = 35.0, -35.0, 90.0
tb = (torch.rand(NB, K) > 0.5).float()
ts = torch.rand(NB, K)
wb = torch.rand(NB) + 0.1
loss_case("bce", xb, tb, lambda z: bce_ref(z, tb.double(), None))
loss_case("bce_soft_w", xb, ts, lambda z: bce_ref(z, ts.double(), wb.double()), w=wb)
xm, tm = torch.randn(9, 2), torch.randn(9, 2)
wm = torch.rand(9) + 0.1
loss_case("mse", xm, tm, lambda z: mse_ref(z, tm.double(), None))
loss_case("mse_w", xm, tm, lambda z: mse_ref(z, tm.double(), wm.double()), w=wm)

# Sanity: torch's own modules give the same values as the references above.
assert abs(torch.nn.CrossEntropyLoss(label_smoothing=0.1)(x.double(), y).item() - ce_ref(x.double(), y, 0.1, None).item()) < 1e-12
assert abs(torch.nn.BCEWithLogitsLoss()(xb.double(), tb.double()).item() - bce_ref(xb.double(), tb.double(), None).item()) < 1e-12
assert abs(torch.nn.MSELoss()(xm.double(), tm.double()).item() - mse_ref(xm.double(), tm.double(), None).item()) < 1e-12

# ---------------------------------------------------------------- optimisers
# Tensors: (name, shape, no_decay by weaver's rule: 1-D, *.bias, or named in no_weight_decay()).
TENSORS = [("fc1.weight", (7, 5), 0), ("fc1.bias", (7,), 1), ("conv.weight", (3, 4, 3), 0),
           ("conv.bias", (3,), 1), ("cls_token", (1, 1, 6), 1), ("norm.weight", (1,), 1)]
STEPS = 13
init = [torch.randn(*s) for _, s, _ in TENSORS]
grads = [[torch.randn(*s) * (0.2 + 0.3 * j) for j, (_, s, _) in enumerate(TENSORS)] for _ in range(STEPS)]
for j, (nm, s, nd) in enumerate(TENSORS):
    putf("opt.init.%d" % j, init[j])
    puti("opt.no_decay.%d" % j, [nd])
    for t in range(STEPS):
        putf("opt.grad.%d.%d" % (t, j), grads[t][j])
puti("opt.meta", [len(TENSORS), STEPS])


def groups(params, wd, lr, mult=None):
    """weaver's grouping: no-decay and decay groups (and an lr_mult group for params[0] when mult)."""
    nd = [p for p, (_, _, f) in zip(params, TENSORS) if f]
    de = [p for p, (_, _, f) in zip(params, TENSORS) if not f]
    if mult is None:
        return [{"params": nd, "weight_decay": 0.0}, {"params": de, "weight_decay": wd}]
    return [{"params": nd, "weight_decay": 0.0}, {"params": de[1:], "weight_decay": wd},
            {"params": de[:1], "weight_decay": wd, "lr": lr * mult}]


OPT_CASES = []


def opt_case(name, make, lr_per_step=None, mult=None, desc=""):
    params = [p.clone().requires_grad_(True) for p in init]
    opt = make(params)
    lrs = []
    for t in range(STEPS):
        lr_t = None
        if lr_per_step is not None:
            lr_t = lr_per_step[t]
            for g in opt.param_groups:
                g["lr"] = lr_t * (mult if (mult is not None and g is opt.param_groups[-1]) else 1.0)
        lrs.append(opt.param_groups[0]["lr"])
        for p, g in zip(params, grads[t]):
            p.grad = g.clone()
        opt.step()
        for j, p in enumerate(params):
            putf("opt.%s.%d.%d" % (name, t, j), p)
    putd("opt.%s.lr" % name, lrs)
    OPT_CASES.append(name)


WD = 1e-2
opt_case("sgd", lambda ps: torch.optim.SGD(ps, lr=0.1))
opt_case("sgd_mom", lambda ps: torch.optim.SGD(groups(ps, WD, 0.05), lr=0.05, momentum=0.9, dampening=0.1))
opt_case("sgd_nesterov", lambda ps: torch.optim.SGD(groups(ps, 1e-3, 0.05), lr=0.05, momentum=0.8, nesterov=True))
opt_case("adam", lambda ps: torch.optim.Adam(ps, lr=1e-2))
opt_case("adam_l2", lambda ps: torch.optim.Adam(groups(ps, WD, 1e-2), lr=1e-2, betas=(0.8, 0.99), eps=1e-6))
opt_case("adamw", lambda ps: torch.optim.AdamW(groups(ps, 0.05, 1e-2), lr=1e-2))
opt_case("radam", lambda ps: torch.optim.RAdam(ps, lr=1e-2))
opt_case("radam_l2", lambda ps: torch.optim.RAdam(groups(ps, WD, 1e-2), lr=1e-2, betas=(0.9, 0.95), eps=1e-7))
opt_case("la_adam", lambda ps: Lookahead(torch.optim.Adam(ps, lr=1e-2), alpha=0.5, k=3))
opt_case("la_sgd", lambda ps: Lookahead(torch.optim.SGD(groups(ps, WD, 0.05), lr=0.05, momentum=0.9), alpha=0.8, k=4))
opt_case("ranger", lambda ps: Ranger(ps, lr=1e-2))
opt_case("ranger_wd", lambda ps: Ranger(groups(ps, WD, 1e-2), lr=1e-2, weight_decay=WD))
sched = [1e-2 * (0.5 ** (t // 4)) for t in range(STEPS)]
opt_case("ranger_lrmult", lambda ps: Ranger(groups(ps, WD, 1e-3, mult=50.0), lr=1e-3, weight_decay=WD),
         lr_per_step=[s / 10 for s in sched], mult=50.0)
opt_case("la_wradam_nodegen",
         lambda ps: Lookahead(WeaverRAdam(ps, lr=1e-2, betas=(0.9, 0.999), eps=1e-8, degenerated_to_sgd=False),
                              alpha=0.5, k=5))

# ---------------------------------------------------------------- clip_grad_norm_
for nm, max_norm, nt in (("clip_l2", 0.5, 2.0), ("clip_none", 1e3, 2.0), ("clip_inf", 0.3, float("inf"))):
    ps = [torch.zeros(*s, requires_grad=True) for _, s, _ in TENSORS]
    for p, g in zip(ps, grads[0]):
        p.grad = g.clone()
    tn = torch.nn.utils.clip_grad_norm_(ps, max_norm, norm_type=nt)
    putd(nm + ".args", [max_norm, nt])
    putd(nm + ".norm", [tn.item()])
    for j, p in enumerate(ps):
        putf("%s.%d" % (nm, j), p.grad)

# ---------------------------------------------------------------- schedules (lr during epoch e / step s)


def dummy_opt(lr):
    return torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)


def run_sched(opt, sch, n):
    out = []
    for _ in range(n):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sch.step()
    return out


for E in (20, 3, 50, 7):  # weaver flat+decay, as in weaver/train.py::optim (no lr_mult)
    o = dummy_opt(1e-3)
    nde = max(1, int(E * 0.3))
    ms = list(range(E - nde, E))
    s = torch.optim.lr_scheduler.MultiStepLR(o, milestones=ms, gamma=0.01 ** (1.0 / nde))
    putd("sched.flat_decay.%d" % E, run_sched(o, s, E + 2))

o = dummy_opt(0.1)
putd("sched.cosine", run_sched(o, torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=7, eta_min=1e-4), 20))
o = dummy_opt(0.1)
putd("sched.step", run_sched(o, torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5), 12))
for E in (9, 10, 20):  # weaver "steps"
    o = dummy_opt(0.1)
    lr_step = round(E / 3)
    putd("sched.steps_weaver.%d" % E,
         run_sched(o, torch.optim.lr_scheduler.MultiStepLR(o, milestones=[lr_step, 2 * lr_step], gamma=0.1), E))
o = dummy_opt(0.1)
putd("sched.warmup", run_sched(o, torch.optim.lr_scheduler.LinearLR(o, start_factor=0.1, total_iters=5), 10))


def weaver_flat_lambda(kind, num_epochs, steps_per_epoch, warmup_steps):  # copied from weaver/train.py
    total_steps = num_epochs * steps_per_epoch
    flat_steps = total_steps * 0.7 - 1
    min_factor = 0.001

    def lr_fn(step_num):
        if step_num < warmup_steps:
            return 1. * step_num / warmup_steps
        if step_num <= flat_steps:
            return 1.0
        pct = (step_num - flat_steps) / (total_steps - flat_steps)
        if kind == 'flat+linear':
            return max(min_factor, 1 - pct)
        else:
            return max(min_factor, 0.5 * (math.cos(math.pi * pct) + 1))
    return lr_fn


for kind, tag in (("flat+linear", "flat_linear"), ("flat+cos", "flat_cos")):
    o = dummy_opt(2e-3)
    s = torch.optim.lr_scheduler.LambdaLR(o, weaver_flat_lambda(kind, 5, 4, 3))
    putd("sched." + tag, run_sched(o, s, 20))

# ---------------------------------------------------------------- write
out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
os.makedirs(out_dir, exist_ok=True)
path = os.path.join(out_dir, "train_fixtures.bin")
with open(path + ".tmp", "wb") as f:
    f.write(b"HNFX1\n")
    for name, kind, a in REC:
        nb = name.encode()
        f.write(struct.pack("<I", len(nb)) + nb + kind.encode() + struct.pack("<I", a.size) + a.tobytes())
os.replace(path + ".tmp", path)
print("%s: %d arrays, %d bytes; optimiser cases: %s" % (path, len(REC), os.path.getsize(path), " ".join(OPT_CASES)))
