namespace SipCallPark.Sip.Sdp;

/// <summary>Reading and replacing attributes in the immutable attribute lists of the session and media levels.</summary>
internal static class SdpAttributes
{
    /// <summary>The direction written in a list, if any; when a peer wrongly writes several, the last one counts.</summary>
    public static MediaDirection? FindDirection(IReadOnlyList<SdpAttribute> attributes)
    {
        MediaDirection? found = null;
        foreach (var attribute in attributes)
        {
            if (attribute.Value is null && MediaDirectionExtensions.TryParse(attribute.Name, out var direction))
            {
                found = direction;
            }
        }

        return found;
    }

    /// <summary>
    /// The list with every direction attribute removed and, unless <paramref name="direction"/> is null, one put
    /// where the first one was (or at the end), so a re-offer differs from the previous offer in that line only.
    /// </summary>
    public static SdpAttribute[] WithDirection(IReadOnlyList<SdpAttribute> attributes, MediaDirection? direction)
    {
        var result = new List<SdpAttribute>(attributes.Count + 1);
        var insertAt = -1;
        foreach (var attribute in attributes)
        {
            if (attribute.Value is null && MediaDirectionExtensions.TryParse(attribute.Name, out _))
            {
                if (insertAt < 0)
                {
                    insertAt = result.Count;
                }

                continue;
            }

            result.Add(attribute);
        }

        if (direction is { } value)
        {
            result.Insert(insertAt < 0 ? result.Count : insertAt, new SdpAttribute(value.ToAttributeName()));
        }

        return [.. result];
    }

    public static string? FirstValue(IReadOnlyList<SdpAttribute> attributes, string name)
    {
        foreach (var attribute in attributes)
        {
            if (attribute.Name == name)
            {
                return attribute.Value;
            }
        }

        return null;
    }
}
