#!/bin/bash
# Side-by-side figures of several checkouts (git worktrees, each built with
# `npm ci`): every section runs for each tree in turn before the next section,
# so the trees see the same machine state as nearly as a shared host allows.
#
#   bench/compare.sh "collect scrape launch" /work/wt/before /work/main .
#
# As root (the sections create cgroups). Each tree's own bench code runs.
set -eu
sections=$1
shift
for section in $sections; do
  for tree in "$@"; do
    echo "=== $section $(cd "$tree" && git log --oneline -1 | cut -c1-60) ($(date -u +%H:%M:%S), load $(cut -d' ' -f1 /proc/loadavg))"
    (cd "$tree" && node --max-semi-space-size=4 dist/bench/run.js --only "$section")
  done
done
