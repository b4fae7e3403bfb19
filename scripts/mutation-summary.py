#!/usr/bin/env python3
"""Summarise a dotnet-stryker mutation-report.json as the Markdown committed under docs/ (issue 8).

    scripts/mutation-summary.py mutation/BioModel.Optimized/mutation-report.json [--title T] [--command C]

Prints, per file and in total: killed, timeout, survived, no coverage, ignored (with the reasons given in
the source's `// Stryker disable` comments), compile errors, and the mutation score as Stryker computes it,
(killed + timeout) / (killed + timeout + survived + no coverage); then every surviving and uncovered mutant
(file, line, mutator, the mutated code), and every ignored mutant grouped by its reason.
"""
import argparse
import collections
import json
import sys

ap = argparse.ArgumentParser()
ap.add_argument("report")
ap.add_argument("--title", default="Mutation testing")
ap.add_argument("--command", default="scripts/mutation.sh")
ap.add_argument("--note", default="")
a = ap.parse_args()

r = json.load(open(a.report, encoding="utf-8-sig"))
COLS = ["Killed", "Timeout", "Survived", "NoCoverage", "Ignored", "CompileError", "RuntimeError"]
per_file = {}
undetected = []
ignored = collections.defaultdict(list)
for path, f in sorted(r["files"].items()):
    name = path.replace("\\", "/").split("/model/")[-1]
    src = f["source"].split("\n")
    c = collections.Counter(m["status"] for m in f["mutants"])
    per_file[name] = c
    for m in f["mutants"]:
        line = m["location"]["start"]["line"]
        code = src[line - 1].strip() if 0 < line <= len(src) else ""
        if m["status"] in ("Survived", "NoCoverage"):
            undetected.append((name, line, m["status"], m["mutatorName"], (m.get("replacement") or "").replace("\n", " ")[:110], code[:110]))
        elif m["status"] == "Ignored":
            ignored[m.get("statusReason") or "(no reason)"].append(f"{name}:{line}")


def score(c):
    det = c["Killed"] + c["Timeout"]
    den = det + c["Survived"] + c["NoCoverage"]
    return 100.0 * det / den if den else 100.0


total = collections.Counter()
for c in per_file.values():
    total.update(c)

out = []
out.append(f"# {a.title}\n")
if a.note:
    out.append(a.note + "\n")
out.append(f"Produced by `{a.command}`; this file by `scripts/mutation-summary.py` from the JSON report.\n")
out.append(f"**Mutation score: {score(total):.2f}%** "
           f"({total['Killed'] + total['Timeout']} detected of {total['Killed'] + total['Timeout'] + total['Survived'] + total['NoCoverage']} "
           f"mutants that ran or had no test; {total['Ignored']} ignored, {total['CompileError']} did not compile).\n")
out.append("| file | score | " + " | ".join(COLS) + " |")
out.append("|---|---:|" + "---:|" * len(COLS))
for name, c in per_file.items():
    out.append(f"| {name} | {score(c):.1f}% | " + " | ".join(str(c[k]) for k in COLS) + " |")
out.append(f"| **total** | **{score(total):.2f}%** | " + " | ".join(f"**{total[k]}**" for k in COLS) + " |\n")

out.append(f"## Mutants not detected ({len(undetected)})\n")
if undetected:
    out.append("| file:line | status | mutator | mutated to | source line |")
    out.append("|---|---|---|---|---|")
    for name, line, st, mut, rep, code in sorted(undetected):
        esc = lambda s: s.replace("|", "\\|")
        out.append(f"| {name}:{line} | {st} | {mut} | `{esc(rep)}` | `{esc(code)}` |")
    out.append("")
out.append(f"## Ignored mutants, by reason ({total['Ignored']})\n")
out.append("Reasons come from `// Stryker disable once <mutators> : <reason>` comments in the source (equivalent "
           "mutants: no field of any outcome can change, only speed or memory) and from stryker-config.json's "
           "ignore-methods (mutations inside the arguments of the named calls).\n")
for reason, where in sorted(ignored.items(), key=lambda kv: -len(kv[1])):
    if reason.startswith("Removed by block already covered"):
        out.append(f"* **{len(where)}** — Stryker's own: a block-removal mutant of a block whose every statement is "
                   f"already mutated is not generated (\"{reason}\")")
        continue
    byfile = collections.defaultdict(list)
    for w in where:
        fn, ln = w.rsplit(":", 1)
        byfile[fn].append(int(ln))
    lines = "; ".join(f"{fn.split('/')[-1]} {', '.join(str(x) for x in sorted(set(ls)))}" for fn, ls in sorted(byfile.items()))
    out.append(f"* **{len(where)}** — {reason} ({lines})")
try:
    print("\n".join(out))
except BrokenPipeError:
    pass
