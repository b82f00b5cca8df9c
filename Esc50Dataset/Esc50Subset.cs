using System.Text.Json.Serialization;

namespace EnvNet.Esc50Dataset;

/// <summary>
/// Which classes of ESC-50 a run uses: all 50, or the 10 of ESC-10 (the rows meta/esc50.csv marks in its column of
/// the same name). <see cref="Name"/> is how the command line, run.json and checkpoint metadata write it; this is the
/// one place those names are spelled.
/// </summary>
[JsonConverter(typeof(NamedChoiceJsonConverter<Esc50Subset>))]
public sealed class Esc50Subset : INamedChoice<Esc50Subset>
{
    public static readonly Esc50Subset Esc50 = new("esc50", Esc50Metadata.MaxTarget + 1);
    public static readonly Esc50Subset Esc10 = new("esc10", Esc50Metadata.Esc10ClassCount);

    public static IReadOnlyList<Esc50Subset> All { get; } = [Esc50, Esc10];

    public static string Noun => "subset";

    private Esc50Subset(string name, int classCount) => (Name, ClassCount) = (name, classCount);

    public string Name { get; }

    /// <summary>The classes of the full subset (a sample folder may hold fewer).</summary>
    public int ClassCount { get; }

    /// <summary>The subset named <paramref name="name"/>, or null for a name that is none.</summary>
    public static Esc50Subset? Parse(string name) => All.FirstOrDefault(s => s.Name == name);

    /// <summary>The clips of this subset among <paramref name="metadata"/>'s.</summary>
    public Esc50Metadata Of(Esc50Metadata metadata) => this == Esc10 ? metadata.Esc10() : metadata;

    public override string ToString() => Name;
}
