using System.Globalization;
using System.Text.Json;

namespace BioModel.Core;

/// <summary>
/// Strict reading of one JSON object: every read names the field, every error names the JSON path and
/// the reason, and fields nobody asked for are reported as unknown (with the known ones listed).
/// </summary>
internal sealed class JsonFields
{
    private readonly JsonElement _e;
    private readonly List<ScenarioError> _errors;
    private readonly HashSet<string> _known = new(StringComparer.Ordinal);

    public string Path { get; }

    private JsonFields(JsonElement e, string path, List<ScenarioError> errors)
    {
        _e = e;
        Path = path;
        _errors = errors;
    }

    /// <summary>An object at <paramref name="path"/>, or null (with an error) if the value is not an object.</summary>
    public static JsonFields? Of(JsonElement e, string path, List<ScenarioError> errors)
    {
        if (e.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new(path, $"expected an object, got {Describe(e)}"));
            return null;
        }
        return new JsonFields(e, path, errors);
    }

    public void Error(string field, string reason) => _errors.Add(new(At(field), reason));

    public string At(string field) => $"{Path}.{field}";

    public bool Has(string name)
    {
        _known.Add(name);
        return _e.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null;
    }

    private bool Get(string name, bool required, out JsonElement v)
    {
        _known.Add(name);
        if (_e.TryGetProperty(name, out v) && v.ValueKind != JsonValueKind.Null) return true;
        if (required) _errors.Add(new(At(name), "required field is missing"));
        return false;
    }

    public ulong U64(string name, ulong def = 0, bool required = false)
        => Get(name, required, out var v) ? ParseU64(v, At(name), _errors) ?? def : def;

    public ulong? OptU64(string name)
        => Get(name, false, out var v) ? ParseU64(v, At(name), _errors) : null;

    public int Int(string name, int def, int min, int max, bool required = false)
    {
        if (!Get(name, required, out var v)) return def;
        if (min < 0 && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var signed))
        {
            if (signed >= min && signed <= max) return signed;
            _errors.Add(new(At(name), $"{signed} is out of range [{min}, {max}]"));
            return def;
        }
        var u = ParseU64(v, At(name), _errors);
        if (u is null) return def;
        if (u.Value < (ulong)Math.Max(min, 0) || u.Value > (ulong)max)
        {
            _errors.Add(new(At(name), $"{u.Value} is out of range [{min}, {max}]"));
            return def;
        }
        return (int)u.Value;
    }

    public bool Bool(string name, bool def)
    {
        if (!Get(name, false, out var v)) return def;
        if (v.ValueKind is JsonValueKind.True or JsonValueKind.False) return v.GetBoolean();
        _errors.Add(new(At(name), $"expected true or false, got {Describe(v)}"));
        return def;
    }

    public string? Str(string name, bool required = false)
    {
        if (!Get(name, required, out var v)) return null;
        if (v.ValueKind == JsonValueKind.String) return v.GetString();
        _errors.Add(new(At(name), $"expected a string, got {Describe(v)}"));
        return null;
    }

    /// <summary>A string field that must be one of <paramref name="choices"/>.</summary>
    public T Choice<T>(string name, IReadOnlyDictionary<string, T> choices, T def, bool required = false)
    {
        var s = Str(name, required);
        if (s is null) return def;
        if (choices.TryGetValue(s, out var c)) return c;
        _errors.Add(new(At(name), $"'{s}' is not one of: {string.Join(", ", choices.Keys)}"));
        return def;
    }

    public JsonFields? Obj(string name, bool required = false)
        => Get(name, required, out var v) ? Of(v, At(name), _errors) : null;

    /// <summary>The elements of an array field with their paths (empty, with an error, when it is not an array).</summary>
    public IEnumerable<(JsonElement Value, string Path)> Arr(string name, bool required = false)
    {
        if (!Get(name, required, out var v)) yield break;
        if (v.ValueKind != JsonValueKind.Array)
        {
            _errors.Add(new(At(name), $"expected an array, got {Describe(v)}"));
            yield break;
        }
        int i = 0;
        foreach (var x in v.EnumerateArray()) yield return (x, $"{At(name)}[{i++}]");
    }

    /// <summary>Reports every field that was not read as unknown.</summary>
    public void Done()
    {
        foreach (var p in _e.EnumerateObject())
            if (!_known.Contains(p.Name))
                _errors.Add(new(At(p.Name), $"unknown field (known here: {string.Join(", ", _known.OrderBy(k => k, StringComparer.Ordinal))})"));
    }

    /// <summary>An array element (or any value) read as a number, reporting into this object's errors.</summary>
    public ulong? U64Of(JsonElement v, string path) => ParseU64(v, path, _errors);

    public static ulong? ParseU64(JsonElement v, string path, List<ScenarioError> errors)
    {
        if (v.ValueKind == JsonValueKind.Number)
        {
            if (v.TryGetUInt64(out var u)) return u;
            errors.Add(new(path, $"{v.GetRawText()} is not a non-negative integer that fits 64 bits"));
            return null;
        }
        if (v.ValueKind == JsonValueKind.String)
        {
            var s = v.GetString()!;
            if (TryParseU64(s, out var u)) return u;
            errors.Add(new(path, $"'{s}' is not a number (write 4096 or \"0x1000\")"));
            return null;
        }
        errors.Add(new(path, $"expected a non-negative integer (number or \"0x…\" string), got {Describe(v)}"));
        return null;
    }

    public static bool TryParseU64(string s, out ulong u)
    {
        s = s.Trim();
        if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            return ulong.TryParse(s.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out u) && s.Length > 2;
        return ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out u);
    }

    public static string Describe(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => $"the string \"{v.GetString()}\"",
        JsonValueKind.Number => $"the number {v.GetRawText()}",
        JsonValueKind.True or JsonValueKind.False => $"{v.GetRawText()}",
        JsonValueKind.Null => "null",
        _ => v.ValueKind.ToString(),
    };
}
