namespace Pipeline.Host.AzureFunctions;

/// <summary>Names of the Functions app's trigger functions (functions/Pipeline.Functions); bicep/main.bicep's role
/// switch (AzureWebJobs.&lt;name&gt;.Disabled) names them too, and tests/Pipeline.Functions.Tests checks both against
/// the generated functions.metadata. Orchestrator and activity functions are named by
/// Pipeline.Core.Runs.RunActivityNames, as on the local host.</summary>
public static class FunctionNames
{
    public const string AugmentRequests = "AugmentRequests";
    public const string DatasetBlobCreated = "DatasetBlobCreated";
    public const string GetRun = "GetRun";
    public const string CancelRun = "CancelRun";
    public const string InferenceRequests = "InferenceRequests";
    public const string Health = "Health";
}
