#!/usr/bin/env python3
"""Merges the harness and PyTorch JSON lines of one bench/part_cpu run into results.json and a Markdown table.

    report.py WORK/raw.jsonl META.json OUT_DIR      (run.sh calls it)

Ratios are against PyTorch's standard (trimmed) path at the same thread count:
  batch-1 speed-up   = PyTorch median latency / hepnc median latency   (target ≥ 5)
  batch-256 ratio    = hepnc jets/s / PyTorch jets/s                    (target ≥ 3)
"""
import json
import sys

TARGET_SPEEDUP, TARGET_THROUGHPUT, TARGET_WS = 5.0, 3.0, 4 << 20


def threads(r):
    return r.get("torch_threads", r.get("openblas_threads"))


def fmt(v, spec):
    return "—" if v is None else format(v, spec)


def main():
    raw, meta_path, out = sys.argv[1:4]
    rows = [json.loads(line) for line in open(raw) if line.strip().startswith("{")]
    meta = json.load(open(meta_path))
    torch_ref = {threads(r): r for r in rows if r["impl"] == "pytorch-trimmed"}
    for r in rows:
        t = torch_ref.get(threads(r))
        if r["impl"].startswith("hepnc") and t:
            r["speedup_batch1_vs_pytorch"] = t["latency_ms_median"] / r["latency_ms_median"]
            r["throughput_ratio_vs_pytorch"] = r["throughput_jets_per_s"] / t["throughput_jets_per_s"]
    order = sorted(rows, key=lambda r: (threads(r), not r["impl"].startswith("pytorch"), r["impl"]))
    md = [f"ParT JetClass (models/part_jetclass_kin.yaml, 128 max particles, 8+2 blocks), {meta['jets']} jets with "
          f"n = {meta['nmin']}..{meta['nmax']} (mean {meta['nmean']:.1f}); {meta['date']}, hepnc {meta['commit']}, "
          f"{meta['cpu']} (load average {meta.get('loadavg', '?')}); PyTorch {meta['torch']} + weaver-core {meta['weaver']}.", "",
          "| threads | implementation | batch 1 median (ms/jet) | batch 1 p90 (ms/jet) | batch 256 (jets/s) "
          "| batch 1 speed-up | batch 256 ratio | max abs Δ logits vs PyTorch |",
          "|---:|---|---:|---:|---:|---:|---:|---:|"]
    for r in order:
        d = r.get("max_abs_dlogits_vs_reference")
        if d is None:
            d = max(r["max_abs_dlogits_batch1"], r["max_abs_dlogits_batch"])
        md.append(f"| {threads(r)} | {r['impl']} | {fmt(r.get('latency_ms_median'), '.2f')} | "
                  f"{fmt(r.get('latency_ms_p90'), '.2f')} | {fmt(r.get('throughput_jets_per_s'), '.1f')} | "
                  f"{fmt(r.get('speedup_batch1_vs_pytorch'), '.2f')}{'×' if 'speedup_batch1_vs_pytorch' in r else ''} | "
                  f"{fmt(r.get('throughput_ratio_vs_pytorch'), '.2f')}{'×' if 'throughput_ratio_vs_pytorch' in r else ''} | "
                  f"{d:.2g} |")
    ws = next((r["workspace_bytes_batch1"] for r in rows if "workspace_bytes_batch1" in r), None)
    md += ["", "Targets (hepnc --blas openblas against PyTorch trimmed, same thread count):", ""]
    targets = []
    for r in order:
        if r["impl"] != "hepnc-openblas" or "speedup_batch1_vs_pytorch" not in r:
            continue
        t = threads(r)
        targets.append(dict(name=f"batch 1 speed-up ≥ {TARGET_SPEEDUP:g}× ({t} thread{'s' if t > 1 else ''})",
                            value=r["speedup_batch1_vs_pytorch"], met=r["speedup_batch1_vs_pytorch"] >= TARGET_SPEEDUP,
                            text=f"{r['speedup_batch1_vs_pytorch']:.2f}×"))
        targets.append(dict(name=f"batch 256 throughput ≥ {TARGET_THROUGHPUT:g}× ({t} thread{'s' if t > 1 else ''})",
                            value=r["throughput_ratio_vs_pytorch"],
                            met=r["throughput_ratio_vs_pytorch"] >= TARGET_THROUGHPUT,
                            text=f"{r['throughput_ratio_vs_pytorch']:.2f}×"))
    if ws is not None:
        targets.append(dict(name="workspace at batch 1 < 4 MiB", value=ws, met=ws < TARGET_WS,
                            text=f"{ws / 2**20:.2f} MiB ({ws} bytes)"))
    md += ["| target | measured | met |", "|---|---:|---|"]
    md += [f"| {t['name']} | {t['text']} | {'yes' if t['met'] else 'no'} |" for t in targets]
    json.dump(dict(meta=meta, results=rows, targets=targets), open(f"{out}/results.json", "w"), indent=1)
    open(f"{out}/results.md", "w").write("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
