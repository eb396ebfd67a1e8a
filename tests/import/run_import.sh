#!/usr/bin/env bash
# Tests of `hepnc import weaver` (fixtures: tests/import/gen_pt_samples.py, weaver-core 0.4.17).
#   part_small      the ParT checkpoint imports to exactly tests/parity/part_small/weights.safetensors (byte
#                   for byte, and tensor for tensor), which `hepnc infer` runs to the parity fixture's
#                   outputs; --weaver-version 0.5 gives weaver 0.5's head scaling (part_small_v05.h5)
#   errors          truncated, non-zip, foreign and misnamed checkpoints, shape mismatch: exit 1 with a
#                   message naming the file or the key, and no output file
#   reader          offsets, strides, shared storages, int64 buffers read as saved (part_missing.sums)
#   particlenet_pt  the published ParticleNet_kin.pt (../shared/data, skipped with 77 when absent): 81
#                   entries, 'mod.edge_convs.0.convs.0.weight' [64, 14, 1, 1], and it imports for its spec
set -euo pipefail
what=$1 hepnc=$2 check=$3 compare=$4 work=$5/$1
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mkdir -p "$work"
export HEPNC_CACHE=$work/cache

# expect_fail PATTERN CMD...: exit status 1 and PATTERN (fixed string) in stderr
expect_fail() {
  local pattern=$1; shift
  local rc=0
  "$@" >"$work/out.txt" 2>"$work/err.txt" || rc=$?
  if [ "$rc" -ne 1 ]; then echo "FAIL: exit $rc (expected 1): $*"; cat "$work/err.txt"; exit 1; fi
  if ! grep -qF -- "$pattern" "$work/err.txt"; then
    echo "FAIL: the message lacks \"$pattern\": $*"; cat "$work/err.txt"; exit 1
  fi
  echo "ok (exit 1): $(head -1 "$work/err.txt")"
}

case $what in
part_small)
  out=$work/part_small.safetensors
  rm -f "$out"
  "$hepnc" import weaver "$here/part_small.pt" --spec "$root/models/part_small.yaml" -o "$out"
  "$check" equal "$out" "$root/tests/parity/part_small/weights.safetensors"
  cmp "$out" "$root/tests/parity/part_small/weights.safetensors" && echo "ok: byte-identical to tools/weaver_import.py's file"
  "$hepnc" infer "$root/models/part_small.yaml" --weights "$out" --data "$root/tests/parity/part_small/inputs.h5" \
      --out "$work/part_small.h5" --batch 37
  "$compare" "$work/part_small.h5" "$root/tests/parity/part_small/expected.h5" logits 1e-4 scores 1e-5
  # weaver >= 0.5 semantics of c_attn, folded into out_proj
  "$hepnc" import weaver "$here/part_small.pt" --spec "$root/models/part_small.yaml" -o "$work/v05.safetensors" \
      --weaver-version 0.5
  "$hepnc" infer "$root/models/part_small.yaml" --weights "$work/v05.safetensors" \
      --data "$root/tests/parity/part_small/inputs.h5" --out "$work/v05.h5" --batch 37
  echo "--weaver-version 0.5 against weaver 0.5's head scaling:"
  "$compare" "$work/v05.h5" "$here/part_small_v05.h5" logits 1e-4 scores 1e-5
  ;;
errors)
  spec=$root/models/part_small.yaml
  out=$work/never.safetensors
  rm -f "$out"
  head -c 100000 "$here/part_small.pt" >"$work/truncated.pt"
  expect_fail "truncated.pt: not a PyTorch zip checkpoint" "$hepnc" import weaver "$work/truncated.pt" --spec "$spec" -o "$out"
  # the central directory intact, a storage cut short inside: caught by the sizes / CRC
  python3 - "$here/part_small.pt" "$work/corrupt.pt" <<'PY'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
i = data.index(b"part_small/data/102")          # a 12 KB storage: flip bytes of its data
data[i + 200:i + 240] = bytes(40)
open(sys.argv[2], "wb").write(data)
PY
  expect_fail "corrupt.pt" "$hepnc" import weaver "$work/corrupt.pt" --spec "$spec" -o "$out"
  expect_fail "part_small.yaml: not a PyTorch zip checkpoint" "$hepnc" import weaver "$spec" --spec "$spec" -o "$out"
  expect_fail "absent.pt: cannot open" "$hepnc" import weaver "$work/absent.pt" --spec "$spec" -o "$out"
  # a zip that is not a checkpoint
  (cd "$work" && rm -f plain.zip && python3 -c "import zipfile; zipfile.ZipFile('plain.zip', 'w').writestr('x/y.txt', 'hello')")
  expect_fail "plain.zip: a zip archive without '<name>/data.pkl'" "$hepnc" import weaver "$work/plain.zip" --spec "$spec" -o "$out"
  # a zip with a bad pickle: truncated, an opcode outside the VM
  (cd "$work" && python3 -c "
import zipfile
zipfile.ZipFile('badpickle.pt', 'w').writestr('archive/data.pkl', b'\\x80\\x02}q\\x00(X\\x05\\x00\\x00\\x00ab')
zipfile.ZipFile('opcode.pt', 'w').writestr('archive/data.pkl', b'\\x80\\x02}q\\x00\\xff.')")
  expect_fail "badpickle.pt: archive/data.pkl: truncated pickle" "$hepnc" import weaver "$work/badpickle.pt" --spec "$spec" -o "$out"
  expect_fail "opcode.pt: archive/data.pkl: unsupported pickle opcode 0xff at offset 5" "$hepnc" import weaver "$work/opcode.pt" --spec "$spec" -o "$out"
  # one key misspelt (and weaver 0.5 names before it, accepted)
  expect_fail "tensor 'blocks.1.fc2.weight' is missing (the spec $spec needs shape [32, 128]); did you mean 'blocks.1.fc2.wieght'?" \
      "$hepnc" import weaver "$here/part_missing.pt" --spec "$spec" -o "$out"
  # another model
  if [ -f "$root/../shared/data/particlenet/ParticleNet_kin.pt" ]; then
    expect_fail "ParticleNet_kin.pt: tensor 'embed.input_bn.weight' is missing" \
        "$hepnc" import weaver "$root/../shared/data/particlenet/ParticleNet_kin.pt" --spec "$spec" -o "$out"
  fi
  # a spec with another head width: shape mismatch named with the checkpoint's key
  sed 's/out: 3}/out: 4}/' "$spec" >"$work/part_small_4.yaml"
  expect_fail "tensor 'fc.weight' (from 'mod.fc.0.weight') has shape [3, 32], the spec $work/part_small_4.yaml needs [4, 32]" \
      "$hepnc" import weaver "$here/part_small.pt" --spec "$work/part_small_4.yaml" -o "$out"
  if [ -e "$out" ] || ls "$work"/never.safetensors.tmp* >/dev/null 2>&1; then echo "FAIL: an output was left behind"; exit 1; fi
  # usage errors: exit 2
  rc=0; "$hepnc" import weaver "$here/part_small.pt" -o "$out" 2>/dev/null || rc=$?
  [ "$rc" -eq 2 ] || { echo "FAIL: no --spec gave exit $rc, not 2"; exit 1; }
  rc=0; "$hepnc" import weaver "$here/part_small.pt" --spec "$spec" -o "$out" --weaver-version 0.6 2>/dev/null || rc=$?
  [ "$rc" -eq 2 ] || { echo "FAIL: --weaver-version 0.6 gave exit $rc, not 2"; exit 1; }
  "$hepnc" import --help | grep -q "hepnc import weaver|spanet|iaformer STATE.pt --spec SPEC"
  rc=0; "$hepnc" import keras "$here/part_small.pt" --spec "$spec" -o "$out" 2>/dev/null || rc=$?
  [ "$rc" -eq 2 ] || { echo "FAIL: an unknown format gave exit $rc, not 2"; exit 1; }
  # a weaver checkpoint read as SPANet's: the names are kept, so the spec's first SPANet tensor is missing
  expect_fail "tensor 'embedding.vector_embedding_layers.0.normalizer.mean' is missing" \
      "$hepnc" import spanet "$here/part_small.pt" --spec "$root/models/spanet_small.yaml" -o "$out"
  # and as IAFormer's: only a leading 'model.' is dropped, so the spec's first IAFormer tensor is missing
  expect_fail "tensor 'particle_embed.mlp.0.weight' is missing" \
      "$hepnc" import iaformer "$here/part_small.pt" --spec "$root/models/iaformer.yaml" -o "$out"
  echo "ok: usage errors exit 2, --help documents the command"
  ;;
reader)
  "$check" sums "$here/part_missing.pt" "$here/part_missing.sums"
  "$hepnc" import weaver "$here/part_small.pt" --list >"$work/list.txt"
  grep -q "part_small.pt: 120 entries" "$work/list.txt"
  grep -qE "mod.pair_embed.embed.1.weight +F32 +\[16, 4, 1\]" "$work/list.txt"
  grep -qE "mod.embed.input_bn.num_batches_tracked +I64 +\[\]" "$work/list.txt"
  echo "ok: --list"
  ;;
particlenet_pt)
  pt=$root/../shared/data/particlenet/ParticleNet_kin.pt
  if [ ! -f "$pt" ]; then echo "skipped: $pt is absent"; exit 77; fi
  "$check" entries "$pt" 81 mod.edge_convs.0.convs.0.weight "[64,14,1,1]"
  "$hepnc" import weaver "$pt" --list | grep -E "^$pt: 81 entries$"
  "$hepnc" import weaver "$pt" --spec "$root/models/particlenet_jetclass_kin.yaml" -o "$work/pn_kin.safetensors"
  ;;
*)
  echo "unknown test '$what'"; exit 2 ;;
esac
