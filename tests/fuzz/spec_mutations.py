#!/usr/bin/env python3
"""Front-end robustness: `hepnc check` on thousands of mutated specs (bytes flipped, deleted, duplicated,
lines shuffled, numbers changed, tokens swapped between specs) must always end with exit 0 or 1 and a
message, never a signal, a hang or another status. Deterministic (fixed seed); stdlib only.

    spec_mutations.py HEPNC MODELS_DIR [COUNT]
"""
import glob
import os
import random
import subprocess
import sys
import tempfile


def mutate(rng, text, corpus):
    data = bytearray(text.encode())
    kind = rng.randrange(7)
    if kind == 0 and data:                       # flip bytes
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
    elif kind == 1 and data:                     # delete a span
        a = rng.randrange(len(data)); del data[a:a + rng.randint(1, 40)]
    elif kind == 2 and data:                     # duplicate a span
        a = rng.randrange(len(data)); data[a:a] = data[a:a + rng.randint(1, 80)]
    elif kind == 3:                              # shuffle lines
        lines = data.split(b"\n"); rng.shuffle(lines); data = bytearray(b"\n".join(lines))
    elif kind == 4:                              # change numbers
        out, i = bytearray(), 0
        while i < len(data):
            if chr(data[i]).isdigit() and rng.random() < 0.3:
                out += str(rng.choice([0, -1, 1, 7, 65536, 10**12, 3])).encode()
                while i < len(data) and chr(data[i]).isdigit(): i += 1
            else:
                out.append(data[i]); i += 1
        data = out
    elif kind == 5:                              # a line from another spec
        other = rng.choice(corpus).split("\n")
        lines = text.split("\n"); lines.insert(rng.randrange(len(lines) + 1), rng.choice(other))
        data = bytearray("\n".join(lines).encode())
    else:                                        # truncate
        data = data[: rng.randrange(len(data) + 1)]
    return bytes(data)


def main():
    hepnc, models = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 600
    corpus = [open(p).read() for p in sorted(glob.glob(os.path.join(models, "*.yaml")))]
    rng = random.Random(20261122)
    bad = 0
    statuses = {0: 0, 1: 0}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "mutant.yaml")
        for i in range(count):
            text = rng.choice(corpus)
            with open(path, "wb") as f:
                f.write(mutate(rng, text, corpus))
            try:
                r = subprocess.run([hepnc, "check", path], capture_output=True, timeout=20)
            except subprocess.TimeoutExpired:
                bad += 1; print(f"FAIL mutant {i}: hangs (kept as {path}.{i})"); os.rename(path, f"{path}.{i}"); continue
            if r.returncode not in (0, 1) or (r.returncode == 1 and b"error" not in r.stderr):
                bad += 1
                keep = os.path.join(os.getcwd(), f"fuzz-mutant-{i}.yaml")
                os.replace(path, keep)
                print(f"FAIL mutant {i}: exit {r.returncode}; kept as {keep}\n{r.stderr.decode(errors='replace')[-400:]}")
            else:
                statuses[r.returncode] += 1
    print(f"{count} mutants: {statuses[0]} still valid, {statuses[1]} rejected with a message")
    print(f"{count - bad} passed, {bad} failed")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
