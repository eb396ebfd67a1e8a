#!/usr/bin/env python3
"""Tables of one bench/part_gpu run (the JSON lines of run.sh's OUT/raw.jsonl), as Markdown on stdout.

    report.py RAW.jsonl [--model part_jetclass_kin]

Per batch: hepnc's GPU object (float32; the TF32 run; other chunk sizes) and each PyTorch mode, median ms
per call, jets/s, device memory, and the ratios that the CUDA issue's targets name: hepnc jets/s over
PyTorch's (float32 against float32, TF32 against TF32) and PyTorch's peak memory over hepnc's.
hepnc's memory is what its object and buffers hold (weights, inputs, outputs, workspace of one chunk);
PyTorch's is torch.cuda.max_memory_allocated during the timed calls (weights, inputs and every
intermediate its allocator held). Then the training step the same way: hepnc's train_harness
("gpu_train_timing": forward, loss, backward; over every slot and trimmed to the batch's largest count)
beside bench_torch_gpu.py --train (the same step), the issue's ≥ 1.5× target: the trimmed step against
PyTorch's eager-trim (weaver's SequenceTrimmer), the full one against the others.
"""
import argparse
import json


def gb(x):
    return f"{x / 1e9:.2f} GB"


def hepnc_name(model):
    """hepnc's row name for a harness: MODEL, MODEL__chunkN (another chunk size), MODEL__aot (nvcc's image)."""
    if "__chunk" in model:
        return f"hepnc (chunk {model.split('__chunk')[1]})"
    if model.endswith("__aot"):
        return "hepnc (nvcc image)"
    return "hepnc"


def memory_ratio(peer_bytes, ours):
    """PyTorch's peak over hepnc's; n/a where PyTorch reports none (--device cpu rehearsals)."""
    return f"{peer_bytes / ours:.1f}x" if peer_bytes and ours else "n/a"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("raw")
    ap.add_argument("--model", default="part_jetclass_kin")
    a = ap.parse_args()
    rows = [json.loads(line) for line in open(a.raw) if line.strip()]
    hep = [r for r in rows if r.get("gpu_timing") and r["model"].split("__")[0] == a.model]
    torch_all = [r for r in rows if "impl" in r and "error" not in r and r.get("model", "part_jetclass_kin") == a.model]
    torch = [r for r in torch_all if not r.get("train_step")]
    train_report(rows, [r for r in torch_all if r.get("train_step")], a.model)
    if not hep and not torch:
        return
    device = (hep or torch)[0]["device"]
    print(f"Model {a.model} on {device}" + (f"; torch {torch[0]['torch_version']}" if torch else "") + "\n")
    print("| batch | implementation | math | ms/call (median) | jets/s | GPU memory |")
    print("|---:|---|---|---:|---:|---:|")
    for b in sorted({r["batch"] for r in hep + torch}):
        for r in [r for r in hep if r["batch"] == b]:
            name = hepnc_name(r["model"])
            print(f"| {b} | {name} | {r['math']} | {r['ms_median']:.2f} | {r['jets_per_s']:.0f} | {gb(r['device_bytes'])} |")
        for r in [r for r in torch if r["batch"] == b]:
            print(f"| {b} | PyTorch {r['impl'].removeprefix('pytorch-')} | {r['math']} | {r['ms_median']:.2f} | "
                  f"{r['jets_per_s']:.0f} | {gb(r['peak_bytes'])} |")
    if not torch:
        return
    print("\nRatios (hepnc over PyTorch: jets/s, and PyTorch's peak memory over hepnc's):\n")
    print("| batch | hepnc | against | speed | memory |")
    print("|---:|---|---|---:|---:|")
    for r in hep:
        name = f"{hepnc_name(r['model'])} {r['math']}"
        for t in torch:
            if t["batch"] != r["batch"] or t["math"] != r["math"]:
                continue
            print(f"| {r['batch']} | {name} | PyTorch {t['impl'].removeprefix('pytorch-')} | "
                  f"{r['jets_per_s'] / t['jets_per_s']:.2f}x | {memory_ratio(t['peak_bytes'], r['device_bytes'])} |")


def train_report(rows, torch, model):
    """The training step: hepnc's GPU step against PyTorch's (printed first, when there is one)."""
    hep = [r for r in rows if r.get("gpu_train_timing") and r["model"] == model]
    if not hep:
        return
    print(f"Training step (forward, loss, backward) of {model} on {hep[0]['device']}\n")
    print("| batch | implementation | ms/step (median) | jets/s | GPU memory | hepnc speed-up |")
    print("|---:|---|---:|---:|---:|---:|")
    for b in sorted({r["batch"] for r in hep + torch}):
        h = {bool(r.get("slots")): r for r in hep if r["batch"] == b}     # True: trimmed to the batch's largest count
        for trimmed, r in sorted(h.items()):
            what = f"hepnc (trimmed to {r['slots']} slots)" if trimmed else "hepnc (every slot)"
            print(f"| {b} | {what} | {r['ms_median']:.2f} | {r['jets_per_s']:.0f} | {gb(r['device_bytes'])} | |")
        for t in [t for t in torch if t["batch"] == b]:
            mode = t["impl"].removeprefix("pytorch-")
            peer = h.get(mode.startswith("eager-trim")) or h.get(False)   # like for like: trimmed against eager-trim
            ratio = f"{peer['jets_per_s'] / t['jets_per_s']:.2f}x" if peer else ""
            print(f"| {b} | PyTorch {mode} | {t['ms_median']:.2f} | {t['jets_per_s']:.0f} | {gb(t['peak_bytes'])} | {ratio} |")
    print()


if __name__ == "__main__":
    main()
