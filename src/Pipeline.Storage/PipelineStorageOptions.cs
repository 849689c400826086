using Azure.Core.Pipeline;

namespace Pipeline.Storage;

/// <summary>Options of <see cref="PipelineStorage"/>.</summary>
public sealed class PipelineStorageOptions
{
    /// <summary>The configuration key of the connection string, as in Azure Functions.</summary>
    public const string ConnectionStringKey = "AzureWebJobsStorage";

    /// <summary>Storage connection string; "UseDevelopmentStorage=true" means Azurite on its default ports. Ignored when
    /// <see cref="Connection"/> is set.</summary>
    public string ConnectionString { get; set; } = "UseDevelopmentStorage=true";

    /// <summary>The connection as read from the AzureWebJobsStorage settings (a connection string, or an identity-based
    /// connection: <see cref="StorageConnection.FromSettings"/>); null means <see cref="ConnectionString"/>.</summary>
    public StorageConnection? Connection { get; set; }

    /// <summary>Content up to this size is uploaded in one request; larger content is streamed in blocks.</summary>
    public int SingleUploadThreshold { get; set; } = 4 * 1024 * 1024;

    /// <summary>Block size of streamed uploads.</summary>
    public int BlockSize { get; set; } = 4 * 1024 * 1024;

    /// <summary>Attempts of an ETag-conditional read-modify-write before <see cref="Blobs.BlobUpdateContentionException"/>.</summary>
    public int MaxUpdateAttempts { get; set; } = 50;

    /// <summary>Retries of each storage request by the Azure SDK (exponential backoff) before an error surfaces.</summary>
    public int MaxRetries { get; set; } = 3;

    /// <summary>The HTTP transport of the blob and queue clients; null is the Azure SDK's default (set one for a proxy, or
    /// to trust a test's self-signed certificate).</summary>
    public HttpPipelineTransport? Transport { get; set; }

    /// <summary>Timeout of one storage request attempt.</summary>
    public TimeSpan NetworkTimeout { get; set; } = TimeSpan.FromSeconds(60);
}
