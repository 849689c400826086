namespace Pipeline.Imaging.Dicom;

/// <summary>
/// A DICOM file or data set could not be read, decoded or written. <see cref="Item"/> names the file (or blob) and
/// the message says what was wrong, where (tag or byte offset) and, where possible, what to do.
/// </summary>
public class DicomException : Exception
{
    public DicomException(string item, string message, Exception? inner = null)
        : base($"{item}: {message}", inner)
    {
        Item = item;
        Problem = message;
    }

    /// <summary>The file, blob or data set the error concerns.</summary>
    public string Item { get; }

    /// <summary>The problem without the item prefix.</summary>
    public string Problem { get; }
}
