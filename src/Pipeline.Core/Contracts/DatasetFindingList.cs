using System.Collections;

namespace Pipeline.Core.Contracts;

/// <summary>
/// The findings of a <see cref="DatasetIndex"/> held compactly (see <see cref="DatasetFileList"/>): image paths, image ids
/// and sources as UTF-8, an image path equal to the previous finding's stored once (an image's findings are consecutive),
/// class names, splits, lateralities and views stored once each, the box as four doubles. Reading an entry makes a new,
/// equal <see cref="DatasetFinding"/>; the list only grows, in the index's order.
/// </summary>
public sealed class DatasetFindingList : IReadOnlyList<DatasetFinding>
{
    private struct Entry
    {
        public TextRef Image, ImageId, Source;
        public int Width, Height, ClassName, Split, Laterality, View;
        public bool HasBox;
        public double X0, Y0, X1, Y1;
    }

    private readonly CompactText _text = new();
    private readonly StringTable _strings = new();
    private Entry[] _entries;
    private int _count;

    public DatasetFindingList(int capacity = 0) => _entries = new Entry[Math.Max(4, capacity)];

    /// <summary>A compact copy of <paramref name="findings"/> (itself when it is one).</summary>
    public static DatasetFindingList From(IEnumerable<DatasetFinding> findings)
    {
        if (findings is DatasetFindingList list) return list;
        var result = new DatasetFindingList(findings is IReadOnlyCollection<DatasetFinding> c ? c.Count : 0);
        foreach (var f in findings) result.Add(f);
        return result;
    }

    public int Count => _count;

    public void Add(DatasetFinding finding)
    {
        ArgumentNullException.ThrowIfNull(finding);
        if (_count == _entries.Length) Array.Resize(ref _entries, _entries.Length * 2);
        var image = _count > 0 && _text.Equals(_entries[_count - 1].Image, finding.Image) ? _entries[_count - 1].Image : _text.Add(finding.Image);
        var e = new Entry
        {
            Image = image, ImageId = _text.Add(finding.ImageId), Source = _text.Add(finding.Source),
            Width = finding.Width, Height = finding.Height, ClassName = _strings.Add(finding.ClassName),
            Split = _strings.Add(finding.Split), Laterality = _strings.Add(finding.Laterality), View = _strings.Add(finding.View),
        };
        if (finding.Box is { } b) (e.HasBox, e.X0, e.Y0, e.X1, e.Y1) = (true, b.X0, b.Y0, b.X1, b.Y1);
        _entries[_count++] = e;
    }

    public DatasetFinding this[int index]
    {
        get
        {
            if ((uint)index >= (uint)_count) throw new ArgumentOutOfRangeException(nameof(index));
            ref readonly var e = ref _entries[index];
            return new DatasetFinding(_text.Get(e.Image)!, _text.Get(e.ImageId)!, e.Width, e.Height, _strings.Get(e.ClassName),
                e.HasBox ? new BoundingBox(e.X0, e.Y0, e.X1, e.Y1) : null, _strings.Get(e.Split), _strings.Get(e.Laterality), _strings.Get(e.View), _text.Get(e.Source));
        }
    }

    public IEnumerator<DatasetFinding> GetEnumerator()
    {
        for (int i = 0; i < _count; i++) yield return this[i];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
