#!/usr/bin/env bash
# Stops the engines (all four by default). Idempotent; data is kept.
# Usage: down.sh [engine...]
set -uo pipefail
DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if (( $# > 0 )); then ENGINES=("$@"); else ENGINES=(seaweedfs opensearch kafka postgres); fi
rc=0
for e in "${ENGINES[@]}"; do
  bash "$DIR/$e.sh" down || { echo "[engines] FAILED to stop $e" >&2; rc=1; }
done
exit "$rc"
