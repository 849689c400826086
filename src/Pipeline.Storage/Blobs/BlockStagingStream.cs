using System.Security.Cryptography;
using Azure.Storage.Blobs.Specialized;

namespace Pipeline.Storage.Blobs;

/// <summary>
/// A write-only stream that stages what is written to a block blob in blocks of a fixed size, hashing it on the way
/// (SHA-256), so a large document can be serialised straight into storage with one block of memory. Nothing is
/// visible until the caller commits <see cref="BlockIds"/>. Block ids carry a per-upload random prefix, so two
/// concurrent writers never commit each other's blocks.
/// </summary>
internal sealed class BlockStagingStream(BlockBlobClient blob, int blockSize, CancellationToken cancellationToken) : Stream
{
    private readonly string _prefix = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly byte[] _buffer = new byte[blockSize];
    private int _filled;
    private long _length;

    public List<string> BlockIds { get; } = [];

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => _length;
    public override long Position { get => _length; set => throw new NotSupportedException(); }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken token = default)
    {
        while (data.Length > 0)
        {
            int n = Math.Min(data.Length, _buffer.Length - _filled);
            data[..n].CopyTo(_buffer.AsMemory(_filled));
            _filled += n;
            _length += n;
            data = data[n..];
            if (_filled == _buffer.Length) await StageAsync().ConfigureAwait(false);
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken token) => WriteAsync(buffer.AsMemory(offset, count), token).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    /// <summary>Stages what is buffered; returns the content's SHA-256 (lowercase hex). Call once, after the last write.</summary>
    public async Task<string> CompleteAsync()
    {
        if (_filled > 0) await StageAsync().ConfigureAwait(false);
        return Convert.ToHexStringLower(_hash.GetHashAndReset());
    }

    private async Task StageAsync()
    {
        _hash.AppendData(_buffer, 0, _filled);
        string id = Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes($"{_prefix}-{BlockIds.Count:D6}"));
        await blob.StageBlockAsync(id, new MemoryStream(_buffer, 0, _filled, writable: false), new Azure.Storage.Blobs.Models.BlockBlobStageBlockOptions(), cancellationToken).ConfigureAwait(false);
        BlockIds.Add(id);
        _filled = 0;
    }

    public override void Flush() { } // blocks are staged when full and by CompleteAsync
    public override Task FlushAsync(CancellationToken token) => Task.CompletedTask;
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) _hash.Dispose();
        base.Dispose(disposing);
    }
}
