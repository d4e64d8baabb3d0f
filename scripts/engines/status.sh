#!/usr/bin/env bash
# One line per engine; exit status 0 only if all the named engines are UP.
# Usage: status.sh [engine...]
set -uo pipefail
DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if (( $# > 0 )); then ENGINES=("$@"); else ENGINES=(postgres kafka opensearch seaweedfs); fi
rc=0
for e in "${ENGINES[@]}"; do
  bash "$DIR/$e.sh" status || rc=1
done
exit "$rc"
