"""Upstream SPANet (Alexanders101/SPANet) imported from an extracted snapshot of the pinned commit, for the
parity fixture (gen_spanet_fixture.py) and the CPU benchmark (bench/spanet_cpu). Nothing of it is copied
here; the snapshot is checked against the digest of its spanet/**/*.py files."""
import hashlib
import os
import sys

PINNED_COMMIT = "46c68051fbc6178b932b8eec562c792886769511"     # Alexanders101/SPANet master, 2025-02-21
# sha256 over (relative path, NUL, content, NUL) of every spanet/**/*.py of that commit, sorted by path
PINNED_DIGEST = "82d2b701bdc128483015e39d0bcfcdcac9b0aedef47bd2430296dfcbae26dc1a"


def snapshot_digest(src):
    h = hashlib.sha256()
    files = []
    for d, _, names in os.walk(os.path.join(src, "spanet")):
        files += [os.path.join(d, n) for n in names if n.endswith(".py")]
    for path in sorted(files, key=lambda p: os.path.relpath(p, src)):
        h.update(os.path.relpath(path, src).encode() + b"\0")
        with open(path, "rb") as f:
            h.update(f.read() + b"\0")
    return h.hexdigest()


def import_spanet(src):
    digest = snapshot_digest(src)
    if digest != PINNED_DIGEST:
        sys.exit(f"{src}: spanet/*.py digest {digest} is not that of the pinned commit {PINNED_COMMIT} "
                 f"({PINNED_DIGEST}); extract that commit with git archive")
    sys.path.insert(0, os.path.abspath(src))
    # Debian's torch 1.13 on Python 3.11: torch.distributed._shard fails to import (a dataclass with a
    # mutable default, rejected since 3.11); pytorch_lightning imports it (FSDP) only when
    # torch.distributed.is_available(). Nothing here is distributed.
    import torch.distributed
    torch.distributed.is_available = lambda: False
    import warnings
    warnings.filterwarnings("ignore", category=SyntaxWarning)
    from spanet import JetReconstructionModel, Options
    from spanet.dataset.types import Source
    from spanet.network.jet_reconstruction.jet_reconstruction_network import default_assignment_fn
    from spanet.network.prediction_selection import extract_predictions
    from spanet.test import evaluate_predictions
    from spanet.network.layers.embedding.position_embedding import PositionEmbedding
    from spanet.network.layers.linear_block.gru_block import GRUGate
    from spanet.network.layers.stacked_encoder import StackedEncoder
    return dict(JetReconstructionModel=JetReconstructionModel, Options=Options, Source=Source,
                default_assignment_fn=default_assignment_fn, extract_predictions=extract_predictions,
                evaluate_predictions=evaluate_predictions,
                PositionEmbedding=PositionEmbedding, GRUGate=GRUGate,
                StackedEncoder=StackedEncoder)


def loss_and_gradients(model, outputs, scales):
    """Upstream's training loss — JetReconstructionTraining.training_step after its forward — on `outputs`
    (upstream's Outputs of the whole testing set) against the testing set's targets, with the loss scales
    `scales` set on the options, and its gradients with respect to the network's outputs. The forward is
    replaced by the given outputs (as leaves requiring grad) and Lightning's self.log by a no-op, so what
    runs is upstream's own loss code: the symmetric min over the event group, the per-particle
    normalisation, the mean over the terms."""
    import torch
    ds = model.testing_dataset
    batch = ds[torch.arange(len(ds))]
    for key, value in scales.items():
        setattr(model.options, key, value)
    leaf = lambda t: t.detach().clone().requires_grad_(True)
    assignments = [leaf(a) for a in outputs.assignments]
    detections = [leaf(d) for d in outputs.detections]
    regressions = {k: leaf(v) for k, v in outputs.regressions.items()}
    classifications = {k: leaf(v) for k, v in outputs.classifications.items()}
    given = type(outputs)(assignments, detections, outputs.vectors, regressions, classifications)
    model.forward = lambda sources: given
    model.log = lambda *args, **kwargs: None
    try:
        with torch.enable_grad():
            loss = model.training_step(batch, 0)
            loss.backward()
    finally:
        del model.forward, model.log
    grads = {"assignments": [a.grad.numpy() for a in assignments], "detections": [d.grad.numpy() for d in detections],
             "regressions": {k: v.grad.numpy() for k, v in regressions.items()},
             "classifications": {k: v.grad.numpy() for k, v in classifications.items()},
             "regression_std": {k: float(model.regression_decoder.networks[k].std) for k in regressions}}
    return float(loss), grads


def write_loss(path, loss, grads, outputs, particles, scales, h5_file, dataset):
    """loss.h5: upstream's training loss on the fixture (loss_and_gradients) and its gradients with respect
    to the network's outputs, with the detection logits the loss reads (expected.h5 has probabilities)."""
    import numpy as np
    with h5_file(path) as f:
        dataset(f, "total", np.array([loss], dtype=np.float64))
        for i, p in enumerate(particles):
            a = grads["assignments"][i]
            dataset(f, f"{p}/d_assignment", np.ascontiguousarray(a.reshape(a.shape[0], -1), np.float32))
            dataset(f, f"{p}/d_detection", np.ascontiguousarray(grads["detections"][i], np.float32))
            dataset(f, f"{p}/detection_logit", np.ascontiguousarray(outputs.detections[i].detach().numpy(), np.float32))
        for key, g in grads["regressions"].items():
            dataset(f, f"regression/{key.split('/')[-1]}/d", np.ascontiguousarray(g, np.float32))
            dataset(f, f"regression/{key.split('/')[-1]}/std", np.array([grads["regression_std"][key]], np.float32))
        for key, g in grads["classifications"].items():
            dataset(f, f"classification/{key.split('/')[-1]}/d", np.ascontiguousarray(g, np.float32))
        for key, value in sorted(scales.items()):
            f.attrs[key] = float(value)


def parse_args(description, extra=()):
    """The generators' command line (--spanet-src, --numba-jit, --print-digest and `extra` flags as
    (name, help)); exits after --print-digest. Returns the arguments."""
    import argparse
    ap = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spanet-src", default=os.environ.get("SPANET_SRC"),
                    help="extracted snapshot of SPANet at the pinned commit (default: $SPANET_SRC)")
    ap.add_argument("--numba-jit", action="store_true",
                    help="run upstream's decoder numba-compiled (about 40 s more) instead of interpreted")
    ap.add_argument("--print-digest", action="store_true", help="print the snapshot's digest and exit")
    for name, help_text in extra:
        ap.add_argument(name, action="store_true", help=help_text)
    args = ap.parse_args()
    if not args.spanet_src:
        sys.exit("--spanet-src PATH (or SPANET_SRC) is required")
    if args.print_digest:
        print(snapshot_digest(args.spanet_src))
        sys.exit(0)
    return args


def write_report(model, up, predictions, path, topology):
    """Upstream's evaluation (spanet/test.py evaluate_predictions, SymmetricEvaluator) of the decoded
    assignments against the testing set's targets, two equality lines as test.py's default: what `hepnc eval`
    must print (upstream's num_vectors counts GLOBAL inputs too, so its slices do). The predictions are those
    of the decoder with -inf kept (hepnc's semantics; -2 unassigned), so the two agree on every event."""
    import json
    import numpy as np
    ds = model.testing_dataset
    targets = [a[0].numpy() for a in ds.assignments.values()]
    masks = [a[1].numpy() for a in ds.assignments.values()]
    with open(os.devnull, "w") as null:
        saved, sys.stdout = sys.stdout, null
        try:
            results, limits, _ = up["evaluate_predictions"](list(predictions), ds.num_vectors.numpy(), targets, masks,
                                                            topology, 2)
        finally:
            sys.stdout = saved
    clean = lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else float(v)
    report = {("all" if k is None else k): {key: clean(v) for key, v in sorted(results[k].items())} for k in limits}
    with open(path, "w") as f:
        json.dump(report, f, indent=1, sort_keys=True)
        f.write("\n")


def calibrate_attention(model, logits_of, sequence_mask, spread):
    """Random linear_layers leave the trilinear logits at ~0.1 (an almost flat distribution); scale each
    branch's Linear(D, D) layers (weight and bias) together so that the raw logits have std `spread` on the
    valid cells, as a trained network's are a few units apart. logits_of: particle -> captured logits."""
    import torch
    for dec in model.branch_decoders:
        logits = logits_of[dec.particle_name]
        valid = dec.create_output_mask(logits, sequence_mask.transpose(0, 1).unsqueeze(-1))
        s = (spread / logits[valid].double().std().item()) ** (1.0 / dec.degree)
        with torch.no_grad():
            for lin in dec.attention.linear_layers:
                lin.weight.mul_(s)
                lin.bias.mul_(s)
