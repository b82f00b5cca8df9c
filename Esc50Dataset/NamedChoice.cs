using System.Text.Json;
using System.Text.Json.Serialization;

namespace EnvNet.Esc50Dataset;

/// <summary>One of a fixed set of values known by name (a dataset kind, an ESC-50 subset): run.json holds the name.</summary>
public interface INamedChoice<TSelf> where TSelf : class, INamedChoice<TSelf>
{
    string Name { get; }

    static abstract IReadOnlyList<TSelf> All { get; }

    /// <summary>What one of them is called in an error ("dataset", "subset").</summary>
    static abstract string Noun { get; }
}

/// <summary>Writes a named choice as its name and reads it back by it; any other value is an error listing the names.</summary>
public sealed class NamedChoiceJsonConverter<T> : JsonConverter<T> where T : class, INamedChoice<T>
{
    public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.GetString() is { } name && T.All.FirstOrDefault(choice => choice.Name == name) is { } choice
            ? choice
            : throw new JsonException($"expected a {T.Noun}, one of {string.Join(", ", T.All.Select(c => c.Name))}");

    public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) => writer.WriteStringValue(value.Name);
}
