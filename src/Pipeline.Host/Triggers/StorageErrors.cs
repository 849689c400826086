using System.Net.Sockets;
using Azure;

namespace Pipeline.Host.Triggers;

/// <summary>Tells storage being unreachable (worth waiting out) from errors of the work itself.</summary>
public static class StorageErrors
{
    public static bool IsUnavailable(Exception e) => e switch
    {
        RequestFailedException r => r.Status is 0 or 408 or 500 or 502 or 503 or 504,
        // Azure.Core throws an AggregateException when every retry of a request threw
        AggregateException a => a.InnerExceptions.Count > 0 && a.InnerExceptions.All(IsUnavailable),
        HttpRequestException or SocketException or IOException => true,
        TimeoutException => true,
        _ => e.InnerException is not null && IsUnavailable(e.InnerException),
    };
}
