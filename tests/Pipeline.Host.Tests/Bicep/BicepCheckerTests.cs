namespace Pipeline.Host.Tests.Bicep;

/// <summary>The checker itself catches each breakage it claims to (so the template test can fail).</summary>
public class BicepCheckerTests
{
    private static List<string> Check(params (string Name, string Text)[] files)
    {
        string root = Path.Combine(Path.GetTempPath(), "bicep-check");
        var parsed = files.ToDictionary(f => Path.GetFullPath(Path.Combine(root, f.Name)), f => BicepFile.Parse(Path.GetFullPath(Path.Combine(root, f.Name)), f.Text));
        return BicepChecks.Problems(parsed);
    }

    private const string Module = """
        param location string
        param name string = 'x'

        resource id 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
          name: name
          location: location
        }

        output principalId string = id.properties.principalId
        """;

    private const string Main = """
        param location string = 'westeurope'

        var prefix = 'p'

        module identity 'modules/identity.bicep' = {
          name: '${prefix}-identity'
          params: {
            location: location
          }
        }

        output principal string = identity.outputs.principalId
        """;

    [Fact]
    public void AValidPairHasNoProblems()
    {
        Assert.Empty(Check(("main.bicep", Main), ("modules/identity.bicep", Module)));
    }

    [Fact]
    public void AnUndeclaredVariableIsReported()
    {
        var p = Check(("main.bicep", Main.Replace("'${prefix}-identity'", "'${prefx}-identity'")), ("modules/identity.bicep", Module));
        Assert.Contains(p, x => x.Contains("'prefx' is not a declared"));
    }

    [Fact]
    public void AMissingModuleOutputIsReported()
    {
        var p = Check(("main.bicep", Main.Replace("outputs.principalId", "outputs.clientId")), ("modules/identity.bicep", Module));
        Assert.Contains(p, x => x.Contains("has no output 'clientId'"));
    }

    [Fact]
    public void AMissingModuleFileIsReported()
    {
        var p = Check(("main.bicep", Main), ("modules/other.bicep", Module));
        Assert.Contains(p, x => x.Contains("does not exist"));
    }

    [Fact]
    public void UnknownAndMissingModuleParamsAreReported()
    {
        var p = Check(("main.bicep", Main.Replace("location: location", "region: location")), ("modules/identity.bicep", Module));
        Assert.Contains(p, x => x.Contains("passes 'region'"));
        Assert.Contains(p, x => x.Contains("required param 'location'"));
    }

    [Fact]
    public void AResourceWithoutApiVersionIsReported()
    {
        var p = Check(("main.bicep", Main), ("modules/identity.bicep", Module.Replace("@2023-01-31", "")));
        Assert.Contains(p, x => x.Contains("no valid API version"));
    }

    [Fact]
    public void UnusedParamsAndUnknownFunctionsAreReported()
    {
        var p = Check(("main.bicep", Main.Replace("var prefix = 'p'", "var prefix = toLowr('P')") + "\nparam unused int = 1\n"), ("modules/identity.bicep", Module));
        Assert.Contains(p, x => x.Contains("'toLowr(...)' is not a Bicep function"));
        Assert.Contains(p, x => x.Contains("param 'unused' is never used"));
    }

    [Fact]
    public void ParameterFilesAreCheckedAgainstTheirTemplate()
    {
        const string paramFile = """
            using 'main.bicep'

            param region = 'x'
            """;
        var p = Check(("main.bicep", Main.Replace("param location string = 'westeurope'", "param location string")), ("modules/identity.bicep", Module), ("dev.bicepparam", paramFile));
        Assert.Contains(p, x => x.Contains("param 'region' is not declared"));
        Assert.Contains(p, x => x.Contains("required param 'location'"));
    }

    [Fact]
    public void LoopAndLambdaVariablesCountAsDeclared()
    {
        const string text = """
            param names array

            resource ids 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = [for (n, i) in names: {
              name: '${n}-${i}'
              location: 'westeurope'
            }]

            output upper array = map(names, x => toUpper(x))
            """;
        Assert.Empty(Check(("main.bicep", text)));
    }
}
