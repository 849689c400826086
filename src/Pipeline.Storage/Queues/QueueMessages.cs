using System.Text;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;

namespace Pipeline.Storage.Queues;

/// <summary>
/// Queue message bodies. Messages are written base64-encoded (the Azure Functions queue trigger's default encoding,
/// so the same message works with both hosts); reading accepts base64 and, for messages put by other tools, plain text.
/// </summary>
public static class QueueMessages
{
    public static string Encode(ReadOnlySpan<byte> body) => Convert.ToBase64String(body);

    /// <summary>The body of a received message: base64-decoded when it is valid base64, else the raw text.</summary>
    public static byte[] Decode(QueueMessage message) => Decode(message.Body.ToString());

    public static byte[] Decode(string text)
    {
        var buffer = new byte[(text.Length * 3 + 3) / 4];
        // A JSON document is never valid base64 ('{' is not in the alphabet), so the two forms cannot be confused.
        return Convert.TryFromBase64String(text, buffer, out int written) ? buffer[..written] : Encoding.UTF8.GetBytes(text);
    }

    /// <summary>Sends <paramref name="body"/> (base64-encoded); returns the message id.</summary>
    public static async Task<string> SendAsync(QueueClient queue, ReadOnlyMemory<byte> body, CancellationToken cancellationToken = default)
    {
        // 64 KiB is the service's limit per message, after base64 (4/3 growth).
        if ((body.Length + 2) / 3 * 4 > 64 * 1024)
            throw new ArgumentException($"The message is {body.Length} bytes; a queue message holds at most 48 KiB before base64. Put large data in a blob and send its path.", nameof(body));
        var r = await queue.SendMessageAsync(Encode(body.Span), cancellationToken).ConfigureAwait(false);
        return r.Value.MessageId;
    }
}
