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
#   scripts/mutation.sh --lines Bounce.cs:330-332 [--lines …] [--mutate PATTERN …] BioModel.Reference
#                                           a focused run over those lines of the project's files (--lines; converted
#                                           to Stryker.NET's {start..end}, which counts characters, not lines) or raw
#                                           Stryker mutate patterns (--mutate), reports to mutation/<project>/focused/:
#                                           checks that new tests kill the survivors of an earlier run, without a full run
#   scripts/mutation.sh --part bounce BioModel.Reference
#                                           one part of a project (its files below), reports to
#                                           mutation/<project>/<part>/; a full Reference run takes more than the 2 h
#                                           a working session leaves, so it is run part by part, and
#                                           scripts/mutation-summary.py merges the parts' reports into one score
#
# Parts (disjoint file sets that together cover the project; each mutant is tested in exactly one part, so the
# merged report is the same as one full run's, up to Stryker's per-run compile-error bookkeeping):
#   BioModel.Reference: bounce = Bounce.cs Effects.cs; extract = Extract.cs; iter = IovIter.cs NumPagesContiguous.cs;
#                       bio = BioAdd.cs BioIov.cs; rules = MemoryModelRules.cs ReferenceModel.cs;
#                       variants = KernelVariants.cs
#   (at 2f6e094 in Release on 2 cores: bounce 270 mutants tested in 60 min, extract 245 in 62 min)
#
# Exits non-zero when a project's score is below the break threshold. Not part of .ci/run (too long for it).
# Do not edit this script while a run is going: bash reads it as it runs (an edit during the extract run broke its
# last lines; the reports had been copied by then).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
part=""
focus=()
lines=()
while [ $# -gt 0 ]; do
  case "$1" in
    --part) part=${2:?--part needs a name}; shift 2 ;;
    --mutate) focus+=("${2:?--mutate needs a pattern}"); shift 2 ;;
    --lines) lines+=("${2:?--lines needs FILE:FIRST-LAST}"); shift 2 ;;
    *) break ;;
  esac
done
projects=("$@")
# --lines FILE:FIRST-LAST: Stryker.NET's {a..b} spans are character positions in the file, not lines; convert.
for spec in "${lines[@]}"; do
  [ ${#projects[@]} -eq 1 ] || { echo "--lines takes exactly one project" >&2; exit 2; }
  focus+=("$(python3 - "model/${projects[0]}" "$spec" <<'PY'
import re, sys
root, spec = sys.argv[1], sys.argv[2]
m = re.fullmatch(r"([^:]+):(\d+)-(\d+)", spec)
if not m: sys.exit(f"--lines {spec}: give FILE:FIRST-LAST, e.g. Bounce.cs:330-332")
name, first, last = m.group(1), int(m.group(2)), int(m.group(3))
try:
    text = open(f"{root}/{name}", encoding="utf-8-sig").read()
except OSError as e:
    sys.exit(f"--lines {spec}: {e}")
starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
if not 1 <= first <= last <= len(starts): sys.exit(f"--lines {spec}: {name} has {len(starts)} lines")
end = starts[last] - 1 if last < len(starts) else len(text)
print(f"**/{name}{{{starts[first - 1]}..{end}}}")
PY
)") || exit 2
done
if [ ${#focus[@]} -gt 0 ]; then
  [ -z "$part" ] || { echo "--mutate/--lines and --part do not go together (focus: ${focus[*]})" >&2; exit 2; }
  [ ${#projects[@]} -eq 1 ] || { echo "--mutate takes exactly one project" >&2; exit 2; }
fi
# The parts, once: "project:part" -> its files (the list at the top of this script says the same).
declare -A PARTS=(
  [BioModel.Reference:bounce]="Bounce.cs Effects.cs"
  [BioModel.Reference:extract]="Extract.cs"
  [BioModel.Reference:iter]="IovIter.cs NumPagesContiguous.cs"
  [BioModel.Reference:bio]="BioAdd.cs BioIov.cs"
  [BioModel.Reference:rules]="MemoryModelRules.cs ReferenceModel.cs"
  [BioModel.Reference:variants]="KernelVariants.cs"
)
part_files() { echo "${PARTS[$1:$2]:-}"; } # project part -> the file names of that part (empty: no such part)
if [ -n "$part" ]; then
  [ ${#projects[@]} -eq 1 ] || { echo "--part takes exactly one project" >&2; exit 2; }
  [ -n "$(part_files "${projects[0]}" "$part")" ] || { echo "no part '$part' for ${projects[0]} (see the list at the top of $0)" >&2; exit 2; }
  # Every file of the project must be in exactly one part, or the merged score would silently miss it.
  listed=$(for k in "${!PARTS[@]}"; do if [ "${k%%:*}" = "${projects[0]}" ]; then echo "${PARTS[$k]}"; fi; done | tr ' ' '\n' | sort)
  actual=$(cd "model/${projects[0]}" && git ls-files '*.cs' | xargs -n1 basename | sort)
  [ "$listed" = "$actual" ] || { echo "the parts of ${projects[0]} do not match its files:"; diff <(echo "$listed") <(echo "$actual"); exit 2; } >&2
fi
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
  config=../stryker-config.json dest="$root/mutation/$p"
  if [ -n "$part" ] || [ ${#focus[@]} -gt 0 ]; then
    # stryker-config.json with a "mutate" list: the part's files, or the --mutate patterns as given
    if [ -n "$part" ]; then
      globs=()
      for f in $(part_files "$p" "$part"); do globs+=("**/$f"); done
      dest="$root/mutation/$p/$part"
      echo "== part $part: $(part_files "$p" "$part")"
    else
      globs=("${focus[@]}")
      dest="$root/mutation/$p/focused"
      echo "== focused: ${focus[*]}"
    fi
    python3 - "${globs[@]}" >stryker-part.json <<'PY'
import json, sys
c = json.load(open("stryker-config.json"))
c["stryker-config"]["mutate"] = sys.argv[1:]
print(json.dumps(c, indent=2))
PY
    config=../stryker-part.json
  fi
  (cd tests && dotnet stryker --skip-version-check -f "$config" -p "$p.csproj" -O "$work/out/$p") || rc=1
  echo "== $p${part:+ part $part}: ${SECONDS}s"
  mkdir -p "$dest"
  cp "$work/out/$p"/reports/* "$dest/" 2>/dev/null || true
done
echo "reports: mutation/<project>/mutation-report.html (and .json, .md); a part's under mutation/<project>/<part>/"
exit $rc
