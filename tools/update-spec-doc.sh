#!/usr/bin/env bash
# Regenerates the op reference inside docs/spec.md from the op table (`hepnc ops --markdown`).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
hepnc=${1:-$root/build/hepnc}
doc=$root/docs/spec.md
tmp=$(mktemp)
{
  sed -n '1,/^<!-- op reference below -->/p' "$doc"
  "$hepnc" ops --markdown
  echo "<!-- end of generated reference -->"
  sed -n '/^<!-- end of generated reference -->/,$p' "$doc" | sed '1d'
} > "$tmp"
mv "$tmp" "$doc"
echo "updated $doc"
