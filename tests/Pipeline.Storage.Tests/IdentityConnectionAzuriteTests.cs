using System.Collections.Concurrent;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Pipeline.Storage.Azurite;

namespace Pipeline.Storage.Tests;

/// <summary>
/// The identity-based path end to end, as far as it goes without Entra ID: <see cref="PipelineStorage"/> over an
/// identity connection (token constructors, bearer tokens) against Azurite in https + "basic" OAuth mode, which checks
/// each token's audience, issuer and lifetime (not its signature). Tokens are minted by a test credential shaped like
/// Entra ID's; a token for another audience is refused, so the emulator really checks what the SDK sends.
/// </summary>
public sealed class IdentityConnectionAzuriteTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pipeline-azurite-oauth-").FullName;
    private X509Certificate2 _certificate = null!;
    private AzuriteServer _azurite = null!;

    public async Task InitializeAsync()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        _certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        string cert = Path.Combine(_dir, "cert.pem"), pem = Path.Combine(_dir, "key.pem");
        await File.WriteAllTextAsync(cert, _certificate.ExportCertificatePem());
        await File.WriteAllTextAsync(pem, key.ExportPkcs8PrivateKeyPem());
        _azurite = await AzuriteServer.StartAsync(new AzuriteOptions { CertificatePath = cert, KeyPath = pem, OAuth = true });
    }

    public Task DisposeAsync()
    {
        _azurite.Dispose();
        _certificate.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
        return Task.CompletedTask;
    }

    /// <summary>Trusts exactly this test's self-signed certificate.</summary>
    private HttpPipelineTransport TrustingTransport() => new HttpClientTransport(new HttpClientHandler
    {
        ServerCertificateCustomValidationCallback = (_, cert, _, errors) =>
            errors == SslPolicyErrors.None || cert?.Thumbprint == _certificate.Thumbprint,
    });

    private PipelineStorage Storage(EntraShapedCredential credential) => new(new PipelineStorageOptions
    {
        Connection = StorageConnection.FromIdentity(_azurite.BlobServiceUri, _azurite.QueueServiceUri, credential, "Azurite (OAuth)"),
        Transport = TrustingTransport(),
        MaxRetries = 0,
    });

    [Fact]
    public async Task Blobs_and_queues_work_with_bearer_tokens_for_the_storage_audience()
    {
        var credential = new EntraShapedCredential("https://storage.azure.com");
        var storage = Storage(credential);
        Assert.Equal("https", storage.BlobService.Uri.Scheme);
        await storage.EnsureCreatedAsync();
        var run = storage.Run("identity-1");
        var written = await run.WriteIfAbsentAsync("out/a.txt", BinaryData.FromString("over a token"));
        Assert.True(written.Written);
        Assert.Equal("over a token", (await run.ReadAsync("out/a.txt"))!.ToString());
        var queue = storage.Queue(StorageLayout.AugmentRequestsQueue);
        await queue.SendMessageAsync("hello");
        var message = (await queue.ReceiveMessageAsync()).Value;
        Assert.Equal("hello", message.Body.ToString());
        // the SDK asked for the storage scope; every request carried a token
        Assert.Contains("https://storage.azure.com/.default", credential.Scopes);
    }

    [Fact]
    public async Task A_token_for_another_audience_is_refused()
    {
        var storage = Storage(new EntraShapedCredential("https://vault.azure.net"));
        var e = await Assert.ThrowsAsync<RequestFailedException>(() => storage.EnsureCreatedAsync());
        Assert.Equal(403, e.Status);
    }

    /// <summary>Unsigned JWTs with Entra ID's claims (aud, iss of a tenant, nbf/iat/exp): what Azurite's basic OAuth checks.</summary>
    private sealed class EntraShapedCredential(string audience) : TokenCredential
    {
        public ConcurrentBag<string> Scopes { get; } = [];

        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            foreach (var s in requestContext.Scopes) Scopes.Add(s);
            var now = DateTimeOffset.UtcNow;
            static string B64(string json) => Convert.ToBase64String(Encoding.UTF8.GetBytes(json)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
            string payload = JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["aud"] = audience, ["iss"] = "https://sts.windows.net/00000000-0000-0000-0000-0000000000aa/",
                ["nbf"] = now.AddMinutes(-1).ToUnixTimeSeconds(), ["iat"] = now.AddMinutes(-1).ToUnixTimeSeconds(),
                ["exp"] = now.AddHours(1).ToUnixTimeSeconds(),
            });
            return new AccessToken($"{B64("{\"alg\":\"none\",\"typ\":\"JWT\"}")}.{B64(payload)}.unsigned", now.AddHours(1));
        }

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            ValueTask.FromResult(GetToken(requestContext, cancellationToken));
    }
}
