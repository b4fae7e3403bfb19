namespace BioModel.Bench;

/// <summary>
/// Every benchmark, every parameter, run once (not timed): the reference, the optimized implementation and
/// the C baseline must return the same value, and that value must be the one worked out by hand (runs of
/// num_pages_contiguous, bytes and bvecs of an extraction). Guards the benchmarks against measuring a
/// broken setup; run by <c>--validate</c> and by the test suite.
/// </summary>
public static class Validation
{
    public static int Run(TextWriter o)
    {
        int problems = 0;
        void Check(string what, long expected, long reference, long optimized, long? c, bool hasC = true)
        {
            bool ok = reference == expected && optimized == expected && (c is null || c == expected);
            o.WriteLine($"{(ok ? "ok " : "BAD")} {what,-52} expected {expected,8}  reference {reference,8}  optimized {optimized,8}  C {(c is null ? (hasC ? "unavailable" : "n/a") : c.ToString()),8}");
            if (!ok) problems++;
        }

        foreach (int pages in new[] { 16, 1024, 65536, 1048576 })
            foreach (var shape in Enum.GetValues<NpcShape>())
            {
                var b = new NpcBench { Pages = pages, Shape = shape };
                b.Setup();
                try
                {
                    long perSection = 1L << 15; // x86-64: 128 MiB sections of 4 KiB pages
                    long expected = shape switch
                    {
                        NpcShape.Contiguous => 1,
                        NpcShape.Broken8 => pages / 8,
                        _ => 1 + (pages - 8 + perSection - 1) / perSection, // 8 pages, then one run per section touched
                    };
                    Check($"num_pages_contiguous {shape} {pages} pages (runs)", expected, b.Reference(), b.Optimized(), NativeBaseline.Available ? b.C() : null);
                }
                finally { b.Cleanup(); }
            }

        foreach (bool merging in new[] { true, false })
        {
            var b = new BioAddBench { Merging = merging };
            b.Setup();
            try
            {
                long bytes = BioAddBench.Adds * 4096;
                Check($"bio_add_page x256 {(merging ? "merging" : "not merging")} (bytes + vcnt)", bytes + (merging ? 1 : BioAddBench.Adds), b.Reference(), b.Optimized(), null, hasC: false);
            }
            finally { b.Cleanup(); }
        }

        foreach (int order in new[] { 0, 4, 9 })
        {
            long bvecs = order switch { 0 => 256, 4 => 16, _ => 1 };
            var x = new ExtractBench { FolioOrder = order };
            x.Setup();
            try
            {
                Check($"iov_iter_extract_bvecs 1 MiB order-{order} (bytes + bvecs)", (long)UbufBench.Bytes + bvecs, x.Reference(), x.Optimized(), NativeBaseline.Available ? x.C() : null);
            }
            finally { x.Cleanup(); }
            var g = new GetPagesBench { FolioOrder = order };
            g.Setup();
            try
            {
                Check($"bio_iov_iter_get_pages 1 MiB order-{order} (size + vcnt)", (long)UbufBench.Bytes + bvecs, g.Reference(), g.Optimized(), null, hasC: false);
            }
            finally { g.Cleanup(); }
        }
        o.WriteLine(NativeBaseline.Available ? "native C baseline: loaded" : "native C baseline: baseline unavailable (" + NativeBaseline.Why + ")");
        o.WriteLine(problems == 0 ? "every benchmark agrees" : $"{problems} benchmark(s) disagree");
        return problems;
    }
}
