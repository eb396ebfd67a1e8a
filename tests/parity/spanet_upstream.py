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
