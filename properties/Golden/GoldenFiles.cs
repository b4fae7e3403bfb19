using System.Text;

namespace BioModel.Properties;

/// <summary>The outcome of comparing a rendered layout with its verified file.</summary>
public sealed record GoldenResult(string Name, bool Ok, string? Diff, string? ReceivedPath);

/// <summary>
/// Golden files with Verify's conventions (Verify.Xunit itself cannot be restored here: its core
/// package is not served): golden/&lt;Name&gt;.verified.txt is committed; on a mismatch the new text is
/// written to golden/&lt;Name&gt;.received.txt (git-ignored) and the failure carries a unified diff;
/// nothing is accepted automatically on CI (CI set); `dotnet run --project properties -- accept` turns
/// received files into verified ones after review (BIOMODEL_ACCEPT=1 does it during a local run).
/// Files are UTF-8 without BOM, LF line ends, one trailing newline.
/// </summary>
public sealed class GoldenFiles(string directory, bool? autoAccept = null)
{
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    public string Directory { get; } = directory;

    /// <summary>golden/ of the checkout this code runs from, or null outside a checkout.</summary>
    public static GoldenFiles? OfCheckout()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "BioModel.sln"))) dir = dir.Parent;
        return dir is null ? null : new GoldenFiles(Path.Combine(dir.FullName, "golden"));
    }

    public string VerifiedPath(string name) => Path.Combine(Directory, name + ".verified.txt");
    public string ReceivedPath(string name) => Path.Combine(Directory, name + ".received.txt");

    /// <summary>LF line ends and exactly one trailing newline.</summary>
    public static string Normalize(string text) => text.Replace("\r\n", "\n").TrimEnd('\n') + "\n";

    /// <summary>BIOMODEL_ACCEPT=1 outside CI, unless the constructor said otherwise.</summary>
    private bool AutoAccept => autoAccept
        ?? (Environment.GetEnvironmentVariable("BIOMODEL_ACCEPT") == "1" && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI")));

    public GoldenResult Verify(string name, string text)
    {
        text = Normalize(text);
        string verified = VerifiedPath(name), received = ReceivedPath(name);
        string? old = File.Exists(verified) ? File.ReadAllText(verified, Utf8) : null;
        if (old == text)
        {
            if (File.Exists(received)) File.Delete(received);
            return new GoldenResult(name, true, null, null);
        }
        if (AutoAccept)
        {
            File.WriteAllText(verified, text, Utf8);
            if (File.Exists(received)) File.Delete(received);
            return new GoldenResult(name, true, null, null);
        }
        File.WriteAllText(received, text, Utf8);
        string diff = old is null
            ? $"no verified file yet: {Path.GetFileName(verified)} (review {Path.GetFileName(received)}, then accept it)\n"
            : UnifiedDiff.Format(old, text, Path.GetFileName(verified), Path.GetFileName(received));
        return new GoldenResult(name, false, diff, received);
    }

    /// <summary>Every received file becomes the verified one; returns the names accepted.</summary>
    public IReadOnlyList<string> Accept()
    {
        var names = new List<string>();
        if (!System.IO.Directory.Exists(Directory)) return names;
        foreach (var received in System.IO.Directory.GetFiles(Directory, "*.received.txt").Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileName(received)[..^".received.txt".Length];
            File.Move(received, VerifiedPath(name), overwrite: true);
            names.Add(name);
        }
        return names;
    }
}
