#!/usr/bin/env python3
"""Summarise a dotnet-stryker mutation-report.json as the Markdown committed under docs/ (issue 8).

    scripts/mutation-summary.py mutation/BioModel.Optimized/mutation-report.json [--title T] [--command C]
        [--reviewed docs/mutation-reviewed.tsv]
    scripts/mutation-summary.py mutation/BioModel.Reference/*/mutation-report.json ...
    scripts/mutation-summary.py docs/mutation-parts/BioModel.Reference-*.json.gz ...   (the committed part reports)

Several reports (the parts of `scripts/mutation.sh --part`) are merged into one: a mutant (file, position,
mutator, replacement) takes its status from the report that tested it, i.e. the one where it is not "Removed by
mutate filter"; a mutant that two reports tested with different results is an error (the parts overlap), and
so is a report of another project, or two reports that tested one file on different texts of it. A report that
did not test a file may have run on another text of it (the model changed between the parts' runs): that is
allowed, and the summary says so in a note.

Prints, per file and in total: killed, timeout, survived, no coverage, ignored (with the reasons given in
the source's `// Stryker disable` comments), compile errors, and the mutation score as Stryker computes it,
(killed + timeout) / (killed + timeout + survived + no coverage); then every surviving and uncovered mutant
(file, line, mutator, the mutated code), and every ignored mutant grouped by its reason.

With --reviewed, each undetected mutant also gets the verdict of a review by reading (EQUIVALENT with the
reason, KILLABLE with the input that kills it, UNSURE), from a TSV whose rows name a mutant by file, source line
text, mutator and replacement (so a row still finds its mutant when lines move); a mutant no row names is
"not reviewed". Stryker's score is unchanged by this: a reviewed-equivalent mutant still counts as undetected.
"""
import argparse
import collections
import json
import sys

ap = argparse.ArgumentParser()
ap.add_argument("report", nargs="+")
ap.add_argument("--title", default="Mutation testing")
ap.add_argument("--command", default="scripts/mutation.sh")
ap.add_argument("--note", default="")
ap.add_argument("--reviewed", default=None)
a = ap.parse_args()

reviews = {}
if a.reviewed:
    import csv
    with open(a.reviewed, encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            reviews[(row["file"], row["source_line"], row["mutator"], row["replacement"])] = (row["verdict"], row["reason"])

FILTERED = "Removed by mutate filter"


def mkey(m):
    st, en = m["location"]["start"], m["location"]["end"]
    return (st["line"], st["column"], en["line"], en["column"], m["mutatorName"], m.get("replacement") or "")


def tested(f):
    """Whether a report tested any mutant of this file (rather than leaving every one to another part)."""
    return any(m.get("statusReason") != FILTERED and m["status"] != "CompileError" for m in f["mutants"])


def merge(reports):
    """One report from the parts: per file, each mutant from the part that tested it.

    A file's mutants come from the reports that tested it; they must all have run on the same text of it. A report
    that did not test the file may have run on another text of it (the model changed between two parts' runs):
    that is allowed and listed in `notes`, since such a part's own mutants were still tested against that text.
    """
    names = a.report
    # Each run mutates its own scratch copy (mutation.sh), so the same file has another absolute path in each
    # report: files are matched by their path under model/.
    for rep in reports:
        rep["files"] = {path.replace("\\", "/").split("/model/")[-1]: f for path, f in rep["files"].items()}
    base = reports[0]
    for name, other in zip(names[1:], reports[1:]):
        if set(other["files"]) != set(base["files"]):
            sys.exit(f"{name}: its files differ from {names[0]}'s (another project?)")
    notes = []
    for path in base["files"]:
        texts = [rep["files"][path]["source"] for rep in reports]
        owners = [i for i, rep in enumerate(reports) if tested(rep["files"][path])]
        owner_texts = {texts[i] for i in owners}
        if len(owner_texts) > 1:
            sys.exit(f"{path} was tested in {', '.join(names[i] for i in owners)} on different texts of it (the parts ran at different commits)")
        text = owner_texts.pop() if owner_texts else texts[0]
        same = [i for i in range(len(reports)) if texts[i] == text]
        for i in range(len(reports)):
            if texts[i] != text:
                notes.append(f"{names[i]} ran with another text of {path} than the part that tested it")
        index = {}
        for i in same:
            for m in reports[i]["files"][path]["mutants"]:
                k = mkey(m)
                cur = index.get(k)
                if cur is None or (cur.get("statusReason") == FILTERED and m.get("statusReason") != FILTERED):
                    index[k] = m
                elif m.get("statusReason") == FILTERED:
                    continue
                elif cur["status"] != m["status"] and "CompileError" not in (cur["status"], m["status"]):
                    sys.exit(f"{names[i]}: {path} line {k[0]} {k[4]} was tested in two parts ({cur['status']}, {m['status']})")
        base["files"][path] = dict(reports[same[0]]["files"][path], mutants=list(index.values()))
    left = 0
    for f in base["files"].values():
        for m in f["mutants"]:
            if m.get("statusReason") == FILTERED:
                m["status"] = "NotRun"  # in no part given: its part has not run (or a focused run left it out)
                left += 1
    return base, left, notes


def load(path):
    """A report as Stryker wrote it, or gzipped (the part reports kept under docs/mutation-parts/)."""
    import gzip
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8-sig") as fh:
        return json.load(fh)


r, not_run, merge_notes = merge([load(p) for p in a.report])
COLS = ["Killed", "Timeout", "Survived", "NoCoverage", "Ignored", "CompileError", "RuntimeError"] + (["NotRun"] if not_run else [])
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
            rep = (m.get("replacement") or "").replace("\n", " ")
            rv = reviews.get((name.split("/")[-1], code, m["mutatorName"], m.get("replacement") or ""), ("not reviewed", ""))
            undetected.append((name, line, m["status"], m["mutatorName"], rep[:110], code[:110], rv))
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
out.append(f"Produced by `{a.command}`; this file by `scripts/mutation-summary.py` from the JSON report"
           + (f"s of {len(a.report)} parts, merged.\n" if len(a.report) > 1 else ".\n"))
for note in merge_notes:
    out.append(f"Note: {note}.\n")
if not_run:
    out.append(f"**Incomplete: {not_run} mutants were tested in none of the reports given** (column NotRun: their part "
               "has not run yet); the score below is over the mutants that were tested.\n")
out.append(f"**Mutation score: {score(total):.2f}%** "
           f"({total['Killed'] + total['Timeout']} detected of {total['Killed'] + total['Timeout'] + total['Survived'] + total['NoCoverage']} "
           f"mutants that ran or had no test; {total['Ignored']} ignored, {total['CompileError']} did not compile).\n")
out.append("| file | score | " + " | ".join(COLS) + " |")
out.append("|---|---:|" + "---:|" * len(COLS))
for name, c in per_file.items():
    out.append(f"| {name} | {score(c):.1f}% | " + " | ".join(str(c[k]) for k in COLS) + " |")
out.append(f"| **total** | **{score(total):.2f}%** | " + " | ".join(f"**{total[k]}**" for k in COLS) + " |\n")

out.append(f"## Mutants not detected ({len(undetected)})\n")
if a.reviewed:
    verdicts = collections.Counter(u[6][0] if u[6][0] == "not reviewed" else u[6][0].split(" ")[0] for u in undetected)
    out.append("Review by reading (" + ", ".join(f"{k}: {v}" for k, v in sorted(verdicts.items())) + "). EQUIVALENT: no valid "
               "world or operation can tell the mutant from the original (the reason says why); KILLABLE: an input "
               "that kills it is named (whether a test for it exists now is for the note above to say); KILLABLE\\*: only an input the validator "
               "refuses tells them apart.\n")
esc = lambda s: s.replace("|", "\\|")
if undetected:
    out.append("| file:line | status | mutator | mutated to | source line |" + (" review |" if a.reviewed else ""))
    out.append("|---|---|---|---|---|" + ("---|" if a.reviewed else ""))
    for name, line, st, mut, rep, code, rv in sorted(undetected):
        row = f"| {name}:{line} | {st} | {mut} | `{esc(rep)}` | `{esc(code)}` |"
        if a.reviewed:
            row += f" {esc(rv[0])}{': ' + esc(rv[1]) if rv[1] else ''} |"
        out.append(row)
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
