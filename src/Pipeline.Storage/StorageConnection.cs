using System.Text.RegularExpressions;
using Azure.Core;
using Azure.Identity;

namespace Pipeline.Storage;

/// <summary>How the credential of an identity-based connection is obtained.</summary>
public enum StorageCredentialKind
{
    /// <summary>A connection string (account key, SAS or development storage): no token credential.</summary>
    ConnectionString,
    /// <summary><c>__credential = managedidentity</c>: the app's managed identity (user-assigned with <c>__clientId</c> or
    /// <c>__managedIdentityResourceId</c>, else system-assigned).</summary>
    ManagedIdentity,
    /// <summary><c>__tenantId</c> + <c>__clientId</c> + <c>__clientSecret</c>: a service principal (local development).</summary>
    ClientSecret,
    /// <summary>A token credential given in code (<see cref="StorageConnection.FromIdentity"/>).</summary>
    Given,
    /// <summary>No <c>__credential</c>: the developer's identity (environment, workload identity, managed identity, Azure
    /// CLI, ...) through DefaultAzureCredential, as Functions uses outside Azure.</summary>
    Default,
}

/// <summary>
/// How <see cref="PipelineStorage"/> reaches its account, read from the settings Azure Functions uses for
/// AzureWebJobsStorage (learn.microsoft.com/azure/azure-functions/functions-reference, "Connecting to host storage with an
/// identity" and "Common properties for identity-based connections"): either the connection string
/// <c>AzureWebJobsStorage</c>, or the identity-based <c>AzureWebJobsStorage__accountName</c> (or
/// <c>__blobServiceUri</c> + <c>__queueServiceUri</c>) with <c>__credential</c> / <c>__clientId</c> /
/// <c>__managedIdentityResourceId</c> / <c>__tenantId</c> / <c>__clientSecret</c>. A connection string wins when both are set.
/// </summary>
public sealed partial class StorageConnection
{
    /// <summary>The identity-based settings read under the connection's name (each as <c>{name}__{setting}</c>).</summary>
    public static readonly IReadOnlyList<string> IdentitySettings =
        ["accountName", "blobServiceUri", "queueServiceUri", "credential", "clientId", "managedIdentityResourceId", "tenantId", "clientSecret"];

    private StorageConnection(string? connectionString, Uri? blob, Uri? queue, StorageCredentialKind kind, TokenCredential? credential, string description)
    {
        ConnectionString = connectionString; BlobServiceUri = blob; QueueServiceUri = queue; CredentialKind = kind; Credential = credential;
        Description = description;
    }

    /// <summary>The connection string, for a connection-string connection.</summary>
    public string? ConnectionString { get; }
    /// <summary>The blob and queue endpoints of an identity-based connection.</summary>
    public Uri? BlobServiceUri { get; }
    public Uri? QueueServiceUri { get; }
    public StorageCredentialKind CredentialKind { get; }
    /// <summary>The Entra ID token credential of an identity-based connection.</summary>
    public TokenCredential? Credential { get; }
    public bool IsIdentityBased => Credential is not null;
    /// <summary>For messages and logs: the account or endpoints and how the app authenticates (never a secret).</summary>
    public string Description { get; }

    public static StorageConnection FromConnectionString(string connectionString)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
            throw new ArgumentException($"The storage connection string ({PipelineStorageOptions.ConnectionStringKey}) is empty.", nameof(connectionString));
        return new(connectionString, null, null, StorageCredentialKind.ConnectionString, null, "connection string");
    }

    /// <summary>An identity-based connection to the given https endpoints with a credential made by the caller.</summary>
    public static StorageConnection FromIdentity(Uri blobServiceUri, Uri queueServiceUri, TokenCredential credential, string description)
    {
        ArgumentNullException.ThrowIfNull(credential);
        foreach (var (uri, property) in new[] { (blobServiceUri, "blobServiceUri"), (queueServiceUri, "queueServiceUri") })
            ServiceUri(PipelineStorageOptions.ConnectionStringKey, property, uri?.AbsoluteUri ?? "");
        return new(null, blobServiceUri, queueServiceUri, StorageCredentialKind.Given, credential, description);
    }

    /// <summary>
    /// The connection named <paramref name="name"/> (AzureWebJobsStorage): <paramref name="setting"/> returns the value of
    /// <c>{name}</c> for <c>null</c> and of <c>{name}__{property}</c> for a property (null or blank when unset). Null when
    /// neither a connection string nor an account name / service URI is configured. Refuses incomplete or contradictory
    /// settings with a message naming the setting.
    /// </summary>
    public static StorageConnection? FromSettings(string name, Func<string?, string?> setting)
    {
        ArgumentNullException.ThrowIfNull(setting);
        string? Get(string? property) => setting(property) is { } v && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null;
        if (Get(null) is { } connectionString) return FromConnectionString(connectionString);

        string? account = Get("accountName");
        string? blob = Get("blobServiceUri"), queue = Get("queueServiceUri");
        if (account is null && blob is null && queue is null) return null;
        if (account is not null && !AccountName().IsMatch(account))
            throw new ArgumentException($"{name}__accountName '{account}' is not a storage account name (3-24 lowercase letters and digits).");
        Uri blobUri = blob is not null ? ServiceUri(name, "blobServiceUri", blob)
            : account is not null ? new Uri($"https://{account}.blob.core.windows.net")
            : throw new ArgumentException($"{name}__queueServiceUri is set but {name}__blobServiceUri is not: set both, or {name}__accountName.");
        Uri queueUri = queue is not null ? ServiceUri(name, "queueServiceUri", queue)
            : account is not null ? new Uri($"https://{account}.queue.core.windows.net")
            : throw new ArgumentException($"{name}__blobServiceUri is set but {name}__queueServiceUri is not (the pipeline's triggers use queues): set both, or {name}__accountName.");

        string? credential = Get("credential"), clientId = Get("clientId"), resourceId = Get("managedIdentityResourceId");
        string? tenantId = Get("tenantId"), secret = Get("clientSecret");
        string where = account is not null ? $"account '{account}'" : $"{blobUri.Host} / {queueUri.Host}";
        if (credential is not null)
        {
            if (!credential.Equals("managedidentity", StringComparison.OrdinalIgnoreCase))
                throw new ArgumentException($"{name}__credential '{credential}' is not supported: the only value is 'managedidentity' (leave it unset for the developer identity).");
            if (clientId is not null && resourceId is not null)
                throw new ArgumentException($"{name}__clientId and {name}__managedIdentityResourceId are both set: a user-assigned identity is named by one of them.");
            ManagedIdentityId id = clientId is not null ? ManagedIdentityId.FromUserAssignedClientId(clientId)
                : resourceId is not null ? ManagedIdentityId.FromUserAssignedResourceId(new ResourceIdentifier(resourceId))
                : ManagedIdentityId.SystemAssigned;
            string who = clientId is not null ? $"user-assigned managed identity (client id {clientId})"
                : resourceId is not null ? $"user-assigned managed identity ({resourceId})" : "system-assigned managed identity";
            return new(null, blobUri, queueUri, StorageCredentialKind.ManagedIdentity, new ManagedIdentityCredential(id), $"{where} with the {who}");
        }
        if (secret is not null)
        {
            if (tenantId is null || clientId is null)
                throw new ArgumentException($"{name}__clientSecret needs {name}__tenantId and {name}__clientId.");
            return new(null, blobUri, queueUri, StorageCredentialKind.ClientSecret, new ClientSecretCredential(tenantId, clientId, secret),
                $"{where} with the service principal {clientId} (tenant {tenantId})");
        }
        var options = new DefaultAzureCredentialOptions();
        if (clientId is not null) options.ManagedIdentityClientId = clientId;
        if (tenantId is not null) options.TenantId = tenantId;
        return new(null, blobUri, queueUri, StorageCredentialKind.Default, new DefaultAzureCredential(options),
            $"{where} with the developer identity (DefaultAzureCredential)");
    }

    private static Uri ServiceUri(string name, string property, string value)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps)
            throw new ArgumentException($"{name}__{property} '{value}' is not an https URI (Entra ID tokens are only sent over TLS).");
        return uri;
    }

    [GeneratedRegex("^[a-z0-9]{3,24}$")]
    private static partial Regex AccountName();
}
