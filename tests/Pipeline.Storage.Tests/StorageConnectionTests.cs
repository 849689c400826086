using Azure.Identity;

namespace Pipeline.Storage.Tests;

/// <summary>The AzureWebJobsStorage settings as Azure Functions reads them: a connection string, or an identity-based
/// connection (account name or service URIs, with the managed identity, a service principal or the developer identity),
/// and which clients <see cref="PipelineStorage"/> builds from each.</summary>
public class StorageConnectionTests
{
    private const string Name = "AzureWebJobsStorage";

    private static StorageConnection? Read(params (string? Property, string Value)[] settings) =>
        StorageConnection.FromSettings(Name, property => settings.FirstOrDefault(s => s.Property == property).Value);

    [Fact]
    public void Nothing_set_is_no_connection()
    {
        Assert.Null(Read());
        Assert.Null(Read((null, "  "), ("credential", "managedidentity")));
    }

    [Fact]
    public void A_connection_string_wins_over_identity_settings()
    {
        var c = Read((null, "UseDevelopmentStorage=true"), ("accountName", "pipelinest"))!;
        Assert.Equal(StorageCredentialKind.ConnectionString, c.CredentialKind);
        Assert.Equal("UseDevelopmentStorage=true", c.ConnectionString);
        Assert.False(c.IsIdentityBased);
        Assert.Null(c.BlobServiceUri);
    }

    [Fact]
    public void Account_name_with_a_user_assigned_managed_identity_as_the_bicep_template_sets_it()
    {
        var c = Read(("accountName", "stpipelinedev"), ("credential", "managedidentity"), ("clientId", "00000000-0000-0000-0000-0000000000aa"))!;
        Assert.Equal(StorageCredentialKind.ManagedIdentity, c.CredentialKind);
        Assert.IsType<ManagedIdentityCredential>(c.Credential);
        Assert.Equal(new Uri("https://stpipelinedev.blob.core.windows.net"), c.BlobServiceUri);
        Assert.Equal(new Uri("https://stpipelinedev.queue.core.windows.net"), c.QueueServiceUri);
        Assert.Null(c.ConnectionString);
        Assert.Contains("client id 00000000-0000-0000-0000-0000000000aa", c.Description);
    }

    [Fact]
    public void Managed_identity_without_a_client_id_is_the_system_assigned_one_and_the_credential_value_is_case_insensitive()
    {
        var c = Read(("accountName", "stpipelinedev"), ("credential", "ManagedIdentity"))!;
        Assert.IsType<ManagedIdentityCredential>(c.Credential);
        Assert.Contains("system-assigned", c.Description);
        var byResource = Read(("accountName", "stpipelinedev"), ("credential", "managedidentity"),
            ("managedIdentityResourceId", "/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id"))!;
        Assert.Contains("userAssignedIdentities/id", byResource.Description);
    }

    [Fact]
    public void Without_a_credential_the_developer_identity_is_used_and_a_secret_selects_a_service_principal()
    {
        var dev = Read(("accountName", "stpipelinedev"))!;
        Assert.Equal(StorageCredentialKind.Default, dev.CredentialKind);
        Assert.IsType<DefaultAzureCredential>(dev.Credential);
        var sp = Read(("accountName", "stpipelinedev"), ("tenantId", "t"), ("clientId", "c"), ("clientSecret", "s3cret"))!;
        Assert.Equal(StorageCredentialKind.ClientSecret, sp.CredentialKind);
        Assert.IsType<ClientSecretCredential>(sp.Credential);
        Assert.DoesNotContain("s3cret", sp.Description);
    }

    [Fact]
    public void Service_uris_override_the_account_name()
    {
        var c = Read(("blobServiceUri", "https://blob.example.net/"), ("queueServiceUri", "https://queue.example.net/"), ("credential", "managedidentity"))!;
        Assert.Equal(new Uri("https://blob.example.net/"), c.BlobServiceUri);
        Assert.Equal(new Uri("https://queue.example.net/"), c.QueueServiceUri);
        var mixed = Read(("accountName", "stpipelinedev"), ("queueServiceUri", "https://queue.example.net/"))!;
        Assert.Equal(new Uri("https://stpipelinedev.blob.core.windows.net"), mixed.BlobServiceUri);
        Assert.Equal(new Uri("https://queue.example.net/"), mixed.QueueServiceUri);
    }

    [Theory]
    [InlineData("accountName", "Bad_Name", null, null, "AzureWebJobsStorage__accountName 'Bad_Name' is not a storage account name")]
    [InlineData("blobServiceUri", "https://blob.example.net/", null, null, "AzureWebJobsStorage__blobServiceUri is set but AzureWebJobsStorage__queueServiceUri is not")]
    [InlineData("queueServiceUri", "https://queue.example.net/", null, null, "AzureWebJobsStorage__queueServiceUri is set but AzureWebJobsStorage__blobServiceUri is not")]
    [InlineData("accountName", "stpipelinedev", "credential", "clientsecret", "AzureWebJobsStorage__credential 'clientsecret' is not supported")]
    [InlineData("accountName", "stpipelinedev", "clientSecret", "s", "AzureWebJobsStorage__clientSecret needs AzureWebJobsStorage__tenantId and AzureWebJobsStorage__clientId")]
    [InlineData("accountName", "stpipelinedev", "blobServiceUri", "http://blob.example.net/", "AzureWebJobsStorage__blobServiceUri 'http://blob.example.net/' is not an https URI")]
    public void Incomplete_or_contradictory_settings_are_refused_naming_the_setting(string p1, string v1, string? p2, string? v2, string message)
    {
        var settings = new List<(string?, string)> { (p1, v1) };
        if (p2 is not null) settings.Add((p2, v2!));
        var e = Assert.Throws<ArgumentException>(() => Read(settings.ToArray()));
        Assert.StartsWith(message, e.Message);
    }

    [Fact]
    public void Pipeline_storage_over_an_identity_connection_uses_the_token_constructors()
    {
        var c = Read(("accountName", "stpipelinedev"), ("credential", "managedidentity"), ("clientId", "00000000-0000-0000-0000-0000000000aa"))!;
        var storage = new PipelineStorage(new PipelineStorageOptions { Connection = c });
        Assert.Same(c, storage.Connection);
        Assert.Equal(new Uri("https://stpipelinedev.blob.core.windows.net"), storage.BlobService.Uri);
        Assert.Equal(new Uri("https://stpipelinedev.queue.core.windows.net"), storage.QueueService.Uri);
        Assert.Equal("stpipelinedev", storage.BlobService.AccountName);
        // no shared key: built with the token credential, not from a connection string
        Assert.False(storage.BlobService.CanGenerateAccountSasUri);
        Assert.False(storage.QueueService.CanGenerateAccountSasUri);

        var keyed = new PipelineStorage("DefaultEndpointsProtocol=https;AccountName=stpipelinedev;AccountKey=" + Convert.ToBase64String(new byte[32]) + ";EndpointSuffix=core.windows.net");
        Assert.Equal(StorageCredentialKind.ConnectionString, keyed.Connection.CredentialKind);
        Assert.True(keyed.BlobService.CanGenerateAccountSasUri);
    }
}
