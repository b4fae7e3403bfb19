#!/usr/bin/env bash
# Mutation testing (issue 8): dotnet-stryker (the local tool of .config/dotnet-tools.json) over BioModel.Optimized
# and BioModel.Reference with stryker-config.json (thresholds: break 80, low 90, high 95), the tests in the
# pinned-seed `mutation` profile (BIOMODEL_PROFILE=mutation: 400 cases a property, one seed, no shrinking of a
# property that must hold, nothing saved under golden/regressions).
#
# Stryker runs in a scratch copy of the checkout (tracked and modified files, no bin/obj), so a mutant's test run
# can never leave a regression file or a golden .received.txt in your tree; the reports are copied back to
# mutation/<project>/ (mutation-report.html, mutation-report.json, mutation-report.md; git-ignored).
#
#   scripts/mutation.sh                     both projects (Optimized took 88 min on 2 cores at fc7da3a; a Reference run
#                                           at 78fc9f6 was stopped unfinished after 2 h: run it overnight)
#   scripts/mutation.sh BioModel.Optimized  one project
#
# Exits non-zero when a project's score is below the break threshold. Not part of .ci/run (too long for it).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
projects=("$@")
[ ${#projects[@]} -eq 0 ] && projects=(BioModel.Optimized BioModel.Reference)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Tracked files as they are now in the working tree (uncommitted edits included), nothing else.
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
  [ -e "$f" ] && mkdir -p "$work/$(dirname "$f")" && cp -p "$f" "$work/$f"
done
cd "$work"
dotnet tool restore >/dev/null
export BIOMODEL_PROFILE=mutation
unset BIOMODEL_SEED BIOMODEL_REPLAY
rc=0
for p in "${projects[@]}"; do
  echo "== mutation testing $p (scratch copy $work)"
  SECONDS=0
  (cd tests && dotnet stryker --skip-version-check -f ../stryker-config.json -p "$p.csproj" -O "$work/out/$p") || rc=1
  echo "== $p: ${SECONDS}s"
  mkdir -p "$root/mutation/$p"
  cp "$work/out/$p"/reports/* "$root/mutation/$p/" 2>/dev/null || true
done
echo "reports: mutation/<project>/mutation-report.html (and .json, .md)"
exit $rc
