using System.Globalization;

namespace BioModel.Properties;

/// <summary>
/// How hard to try: cases per property, the largest size, and the seed. Chosen with BIOMODEL_PROFILE
/// (dev | ci | nightly | mutation; default ci) and BIOMODEL_SEED. Every profile has a fixed default seed,
/// so the same profile and seed give the same report (DET-1); mutation pins its seed whatever
/// BIOMODEL_SEED says, so every mutant sees the same cases, and neither shrinks nor keeps what it finds.
/// </summary>
public sealed record Profile(string Name, int BaseCases, int EndSize, ulong Seed)
{
    /// <summary>
    /// Whether a failing case is shrunk and kept under golden/regressions/. Off in the mutation profile: a mutant
    /// only needs to be killed, shrinking a mutant's counterexample costs more than finding it, and a mutant's
    /// failure must never be kept as a regression of the real code.
    /// </summary>
    public bool Shrinks { get; init; } = true;

    public const ulong DefaultSeed = 0xB10_5EED_2026UL;

    public static Profile Dev => new("dev", 200, 60, DefaultSeed);
    public static Profile Ci => new("ci", 2500, 100, DefaultSeed);
    public static Profile Nightly => new("nightly", 40000, 100, DefaultSeed);
    public static Profile Mutation => new("mutation", 400, 100, 0x5EED_0F_0117A7E5UL) { Shrinks = false };

    public static Profile FromName(string name) => name switch
    {
        "dev" => Dev,
        "ci" => Ci,
        "nightly" => Nightly,
        "mutation" => Mutation,
        _ => throw new ArgumentException($"unknown BIOMODEL_PROFILE '{name}' (dev, ci, nightly, mutation)"),
    };

    /// <summary>The profile named by the environment (BIOMODEL_PROFILE, BIOMODEL_SEED).</summary>
    public static Profile FromEnvironment()
    {
        var p = FromName(Environment.GetEnvironmentVariable("BIOMODEL_PROFILE") is { Length: > 0 } n ? n : "ci");
        var seed = Environment.GetEnvironmentVariable("BIOMODEL_SEED");
        if (seed is { Length: > 0 } && p.Name != "mutation")
        {
            if (!TryParseSeed(seed, out var s)) throw new ArgumentException($"BIOMODEL_SEED '{seed}' is not a number");
            p = p with { Seed = s };
        }
        return p;
    }

    public static bool TryParseSeed(string s, out ulong v)
        => s.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.TryParse(s.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out v)
            : ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out v);

    public int CasesFor(PropertyDef def) => Math.Max(20, (int)(BaseCases * def.Weight));

    /// <summary>The FsCheck seed of one property: the profile seed mixed with the property id.</summary>
    public ulong SeedFor(PropertyDef def)
    {
        ulong h = Seed;
        foreach (char c in def.Id) h = (h ^ c) * 0x100000001B3UL;
        return h;
    }
}
