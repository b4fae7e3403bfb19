using BioModel.Core;
using BioModel.Properties;
using BioModel.Reference;

// The main job. `dotnet run --project properties -- check` runs the property campaign on the embedded
// default worlds (generated from the profile's fixed seed) and prints the report.
return Cli.Run(args, Console.Out, Console.Error);

namespace BioModel.Properties
{
    public static class Cli
    {
        public const string Usage = """
            usage: dotnet run --project properties -- <command>
              check [ID ...] [--replay seed,gamma,size]   run the property campaign (all properties, or the ids given);
                                                           without ids, then the verdict matrix of the kernel variants
              matrix                                       only the verdict matrix (VARIANTS.md rows × INVARIANTS.md columns)
              cell <ROW> <ID> [--replay seed,gamma,size]   one matrix cell, e.g. cell npc/pointer-only@SPARSEMEM NPC-2
              list                                         list the properties and the matrix rows
              explain <scenario.json> [--variant V]        load a scenario, run it on the reference model (or on the
                                                           code of a VARIANTS.md variant), print the layout
              case <ID> <scenario.json> [--variant V]      check one property on the case a scenario file describes
              throughput [CASES]                           conformance cases checked per second per core, per operation
                                                           (CF-1's generator, one thread; default 20000 cases)
              exhaustive [npc|bio_add]                     every world up to the small-scope bound (see docs), checked
                                                           exhaustively; reports worlds per second
              bad-input [INPUTS]                           the bad-input campaign: mutated scenario files and the
                                                           out-of-contract operations they make (default: profile's count)
              scenarios                                    list the golden scenarios with what each shows
              golden                                       run every golden scenario, compare with golden/*.verified.txt
              accept                                       turn golden/*.received.txt into verified files (after review)
            environment: BIOMODEL_PROFILE=dev|ci|nightly|mutation (default ci), BIOMODEL_SEED, BIOMODEL_REPLAY=ID:seed,gamma,size
            """;

        /// <summary>Splits off "--variant ID" (a VARIANTS.md id) from the arguments.</summary>
        private static (List<string> Args, Variant? Variant) VariantOption(string[] args)
        {
            var rest = new List<string>();
            Variant? v = null;
            for (int i = 0; i < args.Length; i++)
            {
                if (args[i] == "--variant" && i + 1 < args.Length) v = Variants.Get(args[++i]);
                else rest.Add(args[i]);
            }
            return (rest, v);
        }

        /// <summary>Prints the verdict matrix; true when every cell gave its expected verdict.</summary>
        public static bool PrintMatrix(Profile profile, TextWriter stdout)
        {
            var m = VerdictMatrix.Run(profile);
            stdout.Write(VerdictMatrix.Render(m));
            return m.AllAsExpected;
        }

        /// <summary>
        /// Runs one command. <paramref name="profileOverride"/> replaces BIOMODEL_PROFILE / BIOMODEL_SEED (tests that
        /// assert what the default profile prints pass <see cref="Profile.Ci"/>, so the environment cannot change them).
        /// </summary>
        public static int Run(string[] args, TextWriter stdout, TextWriter stderr, Profile? profileOverride = null)
        {
            try
            {
                if (args.Length == 0) { stderr.WriteLine(Usage); return 2; }
                switch (args[0])
                {
                    case "check":
                    {
                        var profile = (profileOverride ?? Profile.FromEnvironment());
                        var ids = new List<string>();
                        string? replay = null;
                        for (int i = 1; i < args.Length; i++)
                        {
                            if (args[i] == "--replay" && i + 1 < args.Length) replay = args[++i];
                            else ids.Add(args[i]);
                        }
                        if (replay is not null)
                        {
                            if (ids.Count != 1) { stderr.WriteLine("--replay needs exactly one property id"); return 2; }
                            var r = PropertyChecker.Run(Campaign.Get(ids[0]), profile, replay);
                            stdout.Write(Campaign.FormatRun(r));
                            return r.Ok ? 0 : 1;
                        }
                        var only = ids.Count == 0 ? null : ids.Select(Campaign.Get).ToList();
                        bool ok = Campaign.RunAll(profile, stdout, only, timings: stderr);
                        if (only is null)
                        {
                            stdout.Write('\n');
                            ok &= PrintMatrix(profile, stdout);
                        }
                        return ok ? 0 : 1;
                    }
                    case "throughput":
                    {
                        int n = 20000;
                        if (args.Length > 2 || (args.Length == 2 && (!int.TryParse(args[1], out n) || n <= 0)))
                        { stderr.WriteLine("throughput takes one positive number of cases"); return 2; }
                        var profile = (profileOverride ?? Profile.FromEnvironment());
                        var rows = Throughput.Measure(profile, n, out int diffs);
                        Throughput.Print(profile, n, rows, diffs, stdout);
                        return diffs == 0 ? 0 : 1;
                    }
                    case "exhaustive":
                    {
                        if (args.Length > 2 || (args.Length == 2 && args[1] is not ("npc" or "bio_add")))
                        { stderr.WriteLine("exhaustive takes npc or bio_add (or nothing: both)"); return 2; }
                        var reports = new List<Exhaustive.Report>();
                        stdout.WriteLine("exhaustive small-scope check: 4 KiB pages, 2-page sections, PFNs 0-7, every present-section set, every memory");
                        stdout.WriteLine("model and memmap placement, folios of order 0-2, up to two pgmaps (GENERIC, PCI_P2PDMA); see properties/Exhaustive.cs");
                        if (args.Length == 1 || args[1] == "npc") reports.Add(Exhaustive.Npc());
                        if (args.Length == 1 || args[1] == "bio_add") reports.Add(Exhaustive.BioAdd());
                        foreach (var r in reports) Exhaustive.Print(r, stdout);
                        return reports.All(r => r.Failures == 0) ? 0 : 1;
                    }
                    case "bad-input":
                    {
                        var profile = (profileOverride ?? Profile.FromEnvironment());
                        int n = BadInput.DefaultInputs(profile);
                        if (args.Length > 2 || (args.Length == 2 && (!int.TryParse(args[1], out n) || n <= 0)))
                        { stderr.WriteLine("bad-input takes one positive number of inputs"); return 2; }
                        var rep = BadInput.Run(profile, n);
                        BadInput.Print(rep, stdout);
                        return rep.Crashes == 0 && rep.TrapsTouched == 0 ? 0 : 1;
                    }
                    case "matrix":
                        if (args.Length != 1) { stderr.WriteLine(Usage); return 2; }
                        return PrintMatrix((profileOverride ?? Profile.FromEnvironment()), stdout) ? 0 : 1;
                    case "cell":
                    {
                        if (args.Length is not (3 or 5) || (args.Length == 5 && args[3] != "--replay")) { stderr.WriteLine(Usage); return 2; }
                        var row = VerdictMatrix.Row(args[1], args[2]);
                        var spec = row.Cell(args[2])!;
                        var run = VerdictMatrix.RunCell(row, spec.Property, (profileOverride ?? Profile.FromEnvironment()), args.Length == 5 ? args[4] : null);
                        var cell = new CellResult(row, spec, run);
                        stdout.Write(VerdictMatrix.FormatCell(cell));
                        return cell.AsExpected ? 0 : 1;
                    }
                    case "list":
                        foreach (var p in Campaign.Properties)
                            stdout.WriteLine($"{p.Id,-18} {(p.Expect == Expectation.KnownFinding ? "[known finding] " : "")}{p.Title}");
                        stdout.WriteLine();
                        foreach (var r in VerdictMatrix.Rows)
                            stdout.WriteLine($"{r.Key,-36} {string.Join(" ", r.Cells.Select(c => c.Property + (c.Expect == CellExpectation.Fails ? "✗" : "✓")))}");
                        return 0;
                    case "explain":
                    {
                        var (rest, variant) = VariantOption(args);
                        if (rest.Count != 2) { stderr.WriteLine(Usage); return 2; }
                        if (!ScenarioFile.TryLoad(rest[1], out var s, out var errors))
                        {
                            stderr.WriteLine($"{rest[1]}: invalid scenario");
                            foreach (var e in errors) stderr.WriteLine("  " + e);
                            return 1;
                        }
                        using var _ = Ref.Use(variant is null ? ReferenceModel.Instance : ReferenceModel.For(variant));
                        var outcomes = s!.Operations.Select(op => Ref.Run(s.World, op)).ToList();
                        stdout.Write($"# {s.Name}\n");
                        if (s.Comment is not null) stdout.Write($"# {s.Comment}\n");
                        if (variant is not null) stdout.Write($"# run with {variant.Id}: {variant.What} ({variant.Provenance})\n");
                        stdout.Write(LayoutRenderer.RenderScenario(s.World, s.Operations.Items, outcomes));
                        return 0;
                    }
                    case "case":
                    {
                        var (rest, variant) = VariantOption(args);
                        if (rest.Count != 3) { stderr.WriteLine(Usage); return 2; }
                        var def = Campaign.Get(rest[1]);
                        if (!ScenarioFile.TryLoad(rest[2], out var s, out var errors))
                        {
                            stderr.WriteLine($"{rest[2]}: invalid scenario");
                            foreach (var e in errors) stderr.WriteLine("  " + e);
                            return 1;
                        }
                        using var _ = Ref.Use(variant is null ? ReferenceModel.Instance : ReferenceModel.For(variant));
                        var c = new Case(s!.World, s.Operations.Length > 0 ? s.Operations[0] : null);
                        var v = PropertyChecker.CheckCase(def, c);
                        stdout.Write(Counterexamples.Layout(c));
                        string on = variant is null ? "" : $" with {variant.Id}";
                        stdout.WriteLine(v.Ok ? $"{def.Id}: holds for this case{on}" : $"{def.Id}: FAILS{on}: {v.Message}");
                        return v.Ok ? 0 : 1;
                    }
                    case "scenarios":
                    {
                        var g = GoldenFiles.OfCheckout();
                        if (g is null) { stderr.WriteLine("not run from a BioModel checkout: no golden/ directory"); return 2; }
                        foreach (var name in GoldenScenarios.Names(g))
                        {
                            var path = Path.Combine(GoldenScenarios.ScenarioDirectory(g), name + ".json");
                            string what = ScenarioFile.TryLoad(path, out var sc, out var errs) ? sc!.Comment ?? "" : $"INVALID: {errs[0]}";
                            stdout.WriteLine($"{name,-44} {what}");
                        }
                        return 0;
                    }
                    case "golden":
                    {
                        var g = GoldenFiles.OfCheckout();
                        if (g is null) { stderr.WriteLine("not run from a BioModel checkout: no golden/ directory"); return 2; }
                        int bad = 0;
                        var names = GoldenScenarios.Names(g);
                        foreach (var name in names)
                        {
                            var r = GoldenScenarios.Run(g, name);
                            if (!r.Ok) { bad++; stdout.WriteLine(r.Report()); }
                        }
                        stdout.WriteLine($"golden: {names.Count - bad}/{names.Count} scenarios match their verified layout");
                        return bad == 0 ? 0 : 1;
                    }
                    case "accept":
                    {
                        var g = GoldenFiles.OfCheckout();
                        if (g is null) { stderr.WriteLine("not run from a BioModel checkout: no golden/ directory"); return 2; }
                        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI"))) { stderr.WriteLine("refusing to accept golden files on CI (CI is set)"); return 2; }
                        var accepted = g.Accept();
                        foreach (var n in accepted) stdout.WriteLine($"accepted golden/{n}.verified.txt");
                        stdout.WriteLine(accepted.Count == 0 ? "nothing to accept: no golden/*.received.txt" : $"{accepted.Count} file(s) accepted");
                        return 0;
                    }
                    default:
                        stderr.WriteLine($"unknown command '{args[0]}'");
                        stderr.WriteLine(Usage);
                        return 2;
                }
            }
            catch (ArgumentException e)
            {
                stderr.WriteLine(e.Message);
                return 2;
            }
        }
    }
}
