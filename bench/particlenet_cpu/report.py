#!/usr/bin/env python3
"""Merges the harness and PyTorch JSON lines of one bench/particlenet_cpu run into results.json and a Markdown
table (the helpers `threads` and `fmt` are bench/part_cpu/report.py's).

    report.py WORK/raw.jsonl META.json OUT_DIR      (run.sh calls it)

Ratios are against weaver's PyTorch ParticleNet at the same thread count:
  batch-1 speed-up   = PyTorch median latency / hepnc median latency   (target ≥ 4)
  batch-256 ratio    = hepnc jets/s / PyTorch jets/s                    (target ≥ 3)
"""
import importlib.util
import json
import os
import sys

_spec = importlib.util.spec_from_file_location(
    "part_report", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "part_cpu", "report.py"))
part_report = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(part_report)
threads, fmt = part_report.threads, part_report.fmt

TARGET_SPEEDUP, TARGET_THROUGHPUT = 4.0, 3.0


def main():
    raw, meta_path, out = sys.argv[1:4]
    rows = [json.loads(line) for line in open(raw) if line.strip().startswith("{")]
    meta = json.load(open(meta_path))
    torch_ref = {threads(r): r for r in rows if r["impl"] == "pytorch"}
    for r in rows:
        t = torch_ref.get(threads(r))
        if r["impl"].startswith("hepnc") and t:
            r["speedup_batch1_vs_pytorch"] = t["latency_ms_median"] / r["latency_ms_median"]
            r["throughput_ratio_vs_pytorch"] = r["throughput_jets_per_s"] / t["throughput_jets_per_s"]
    order = sorted(rows, key=lambda r: (threads(r), not r["impl"].startswith("pytorch"), r["impl"]))
    md = [f"ParticleNet JetClass kin (models/particlenet_jetclass_kin.yaml, trained weights ParticleNet_kin.pt, "
          f"k = 16, 128 max particles), {meta['jets']} jets with n = {meta['nmin']}..{meta['nmax']} (mean "
          f"{meta['nmean']:.1f}); {meta['date']}, hepnc {meta['commit']}, {meta['cpu']} (load average "
          f"{meta.get('loadavg', '?')}); PyTorch {meta['torch']} + weaver-core {meta['weaver']}.", "",
          "| threads | implementation | batch 1 median (ms/jet) | batch 1 p90 (ms/jet) | batch 256 (jets/s) "
          "| batch 1 speed-up | batch 256 ratio | max \\|Δp\\| | max \\|Δ logit\\|/max(1,\\|logit\\|) |",
          "|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in order:
        if r["impl"] == "pytorch":
            dp, dl = "—", f"{r['max_abs_dlogits_vs_reference']:.2g} (abs, vs its reference run)"
        else:
            dp, dl = f"{r['max_abs_dprob']:.2g}", f"{r['max_rel_dlogits']:.2g}"
        md.append(f"| {threads(r)} | {r['impl']} | {fmt(r.get('latency_ms_median'), '.2f')} | "
                  f"{fmt(r.get('latency_ms_p90'), '.2f')} | {fmt(r.get('throughput_jets_per_s'), '.1f')} | "
                  f"{fmt(r.get('speedup_batch1_vs_pytorch'), '.2f')}{'×' if 'speedup_batch1_vs_pytorch' in r else ''} | "
                  f"{fmt(r.get('throughput_ratio_vs_pytorch'), '.2f')}{'×' if 'throughput_ratio_vs_pytorch' in r else ''} | "
                  f"{dp} | {dl} |")
    f64 = max((r.get("jets_f64_only", 0) for r in rows), default=0)
    if f64:
        md += ["", f"{f64} of the checked jet evaluations matched PyTorch only in float64 (a kNN near-tie "
                   "below float32 resolution; see prepare.py)."]
    md += ["", "Targets (hepnc --blas openblas against PyTorch, same thread count):", ""]
    targets = []
    for r in order:
        if r["impl"] != "hepnc-openblas" or "speedup_batch1_vs_pytorch" not in r:
            continue
        t = threads(r)
        s = "s" if t > 1 else ""
        targets.append(dict(name=f"batch 1 speed-up ≥ {TARGET_SPEEDUP:g}× ({t} thread{s})",
                            value=r["speedup_batch1_vs_pytorch"], met=r["speedup_batch1_vs_pytorch"] >= TARGET_SPEEDUP,
                            text=f"{r['speedup_batch1_vs_pytorch']:.2f}×"))
        targets.append(dict(name=f"batch 256 throughput ≥ {TARGET_THROUGHPUT:g}× ({t} thread{s})",
                            value=r["throughput_ratio_vs_pytorch"],
                            met=r["throughput_ratio_vs_pytorch"] >= TARGET_THROUGHPUT,
                            text=f"{r['throughput_ratio_vs_pytorch']:.2f}×"))
    md += ["| target | measured | met |", "|---|---:|---|"]
    md += [f"| {t['name']} | {t['text']} | {'yes' if t['met'] else 'no'} |" for t in targets]
    json.dump(dict(meta=meta, results=rows, targets=targets), open(f"{out}/results.json", "w"), indent=1)
    open(f"{out}/results.md", "w").write("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
