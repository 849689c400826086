namespace Pipeline.Functions;

/// <summary>Names of the trigger functions; bicep/main.bicep's role switch (AzureWebJobs.&lt;name&gt;.Disabled) names
/// them too, and tests/Pipeline.Host.Tests/Bicep checks that they exist. Orchestrator and activity functions are
/// named by Pipeline.Core.Runs.RunActivityNames, as on the local engine.</summary>
public static class FunctionNames
{
    public const string AugmentRequests = "AugmentRequests";
    public const string DatasetBlobCreated = "DatasetBlobCreated";
    public const string GetRun = "GetRun";
    public const string CancelRun = "CancelRun";
    public const string InferenceRequests = "InferenceRequests";
    public const string Health = "Health";
}
