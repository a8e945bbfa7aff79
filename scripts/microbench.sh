#!/usr/bin/env bash
# Micro-benchmarks of the per-record hot paths (envelope encode, decode,
# MySQL row extraction, S3 record formatting), with allocation counts. They
# need no servers and run in seconds, with package-benchmark, from the
# separate package in Benchmarks/ (the main package and CI never build it).
#
#   scripts/microbench.sh                      this checkout
#   scripts/microbench.sh --baseline REV       also REV (e.g. main) through the old API, first
#   scripts/microbench.sh -- ARGS…             extra arguments for `swift package benchmark`
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
baseline=
while (($#)); do
  case $1 in
    --baseline) baseline=${2:?}; shift 2 ;;
    --) shift; break ;;
    -h | --help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "microbench: unknown argument $1" >&2; exit 2 ;;
  esac
done

run() { # LABEL [ARGS…]
  local label=$1
  shift
  echo "== $label" >&2
  (cd "$REPO/Benchmarks" && swift package --allow-writing-to-package-directory benchmark --no-progress "$@")
}

if [[ -n $baseline ]]; then
  # A private export of REV (never a worktree of ours), benchmarked through the old API.
  export_dir=$(mktemp -d)
  trap 'rm -rf "$export_dir"' EXIT
  mkdir -p "$export_dir/tributary"
  git -C "$REPO" archive "$baseline" | tar -x -C "$export_dir/tributary"
  TRIBUTARY_BENCH_BASELINE=$export_dir/tributary run "baseline: $baseline" "$@"
fi
run "this checkout ($(git -C "$REPO" rev-parse --short HEAD))" "$@"
