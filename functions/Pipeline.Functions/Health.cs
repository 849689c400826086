using System.Net;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;
using Pipeline.Host.AzureFunctions;

namespace Pipeline.Functions;

/// <summary>GET /api/healthz: liveness for the container health check and the Container Apps probes (both roles).</summary>
public sealed class Health
{
    [Function(FunctionNames.Health)]
    public static HttpResponseData Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "healthz")] HttpRequestData request)
        => request.CreateResponse(HttpStatusCode.OK);
}
