using System.Text.Json;
using System.Text.RegularExpressions;
using Pipeline.Storage;

namespace Pipeline.Functions.Tests.Bicep;

/// <summary>bicep/ through the real compiler: `bicep build` and `bicep lint` of main.bicep and of every parameters
/// file give no error and no warning (the one suppressed warning is listed with its reason in docs/azure.md).</summary>
public class BicepCompilerTests
{
    public static TheoryData<string> ParameterFiles()
    {
        var data = new TheoryData<string>();
        foreach (string f in Directory.EnumerateFiles(BicepCompiler.BicepFolder, "*.bicepparam").Order())
            data.Add(Path.GetRelativePath(FunctionsApp.RepoRoot, f));
        return data;
    }

    [Fact]
    public void Main_template_builds_without_diagnostics_and_creates_the_containers_and_queues_of_StorageLayout()
    {
        var result = BicepCompiler.Run("build", "bicep/main.bicep", "--stdout").AssertClean("bicep build bicep/main.bicep");
        using var arm = JsonDocument.Parse(result.Stdout);
        var storage = NestedTemplate(arm.RootElement, "-storage");
        var variables = storage.GetProperty("variables");
        Assert.Equal(StorageLayout.Containers, variables.GetProperty("containerNames").EnumerateArray().Select(e => e.GetString()!).ToList());
        var queues = variables.GetProperty("queueNames").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Empty(StorageLayout.Queues.Except(queues));
    }

    [Fact]
    public void Storage_is_identity_based_by_default_with_the_settings_Pipeline_Storage_reads_and_the_data_roles()
    {
        var result = BicepCompiler.Run("build", "bicep/main.bicep", "--stdout").AssertClean("bicep build bicep/main.bicep");
        using var arm = JsonDocument.Parse(result.Stdout);
        Assert.True(arm.RootElement.GetProperty("parameters").GetProperty("useManagedIdentity").GetProperty("defaultValue").GetBoolean());
        // the identity branch of the app settings names only settings StorageConnection understands, and the ones it needs
        string app = NestedTemplate(arm.RootElement, "-control").GetRawText();
        var names = Regex.Matches(app, @"AzureWebJobsStorage__(\w+)").Select(m => m.Groups[1].Value).Distinct().Order().ToList();
        Assert.Equal(["accountName", "clientId", "credential"], names);
        Assert.Empty(names.Except(StorageConnection.IdentitySettings));
        Assert.Contains("'managedidentity'", app);
        // blobs, queues and tables (Durable's Azure Storage backend) for the identity; shared keys off with the identity
        string storage = NestedTemplate(arm.RootElement, "-storage").GetRawText();
        foreach (string role in new[] { "b7e6dc6d-f1e8-4753-8033-0f276bb0955b", "974c5e8b-45b9-4653-ba55-5f855dd0fb88", "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3" })
            Assert.Contains(role, storage);
        Assert.Contains("\"allowSharedKeyAccess\": \"[not(parameters('useManagedIdentity'))]\"", storage);

        var dev = BicepCompiler.Run("build-params", "bicep/main.dev.bicepparam", "--stdout").AssertClean("bicep build-params bicep/main.dev.bicepparam");
        using var devDoc = JsonDocument.Parse(dev.Stdout);
        using var parameters = JsonDocument.Parse(devDoc.RootElement.GetProperty("parametersJson").GetString()!);
        Assert.True(parameters.RootElement.GetProperty("parameters").GetProperty("useManagedIdentity").GetProperty("value").GetBoolean());
    }

    [Fact]
    public void Main_template_lints_clean()
        => BicepCompiler.Run("lint", "bicep/main.bicep").AssertClean("bicep lint bicep/main.bicep");

    [Theory]
    [MemberData(nameof(ParameterFiles))]
    public void Every_parameters_file_builds_and_lints_clean(string file)
    {
        Assert.NotEmpty(ParameterFiles());
        // build-params fails on a parameter that main.bicep requires and the file does not set, or one it does not declare
        var built = BicepCompiler.Run("build-params", file, "--stdout").AssertClean($"bicep build-params {file}");
        using var doc = JsonDocument.Parse(built.Stdout);
        Assert.Equal(JsonValueKind.String, doc.RootElement.GetProperty("parametersJson").ValueKind);
        BicepCompiler.Run("lint", file).AssertClean($"bicep lint {file}");
    }

    [Fact]
    public void A_linter_warning_fails_the_check()
    {
        // the check above must see what the linter reports: an unused parameter is a default-rule warning
        string dir = Directory.CreateTempSubdirectory("pipeline-bicep-").FullName;
        try
        {
            string file = Path.Combine(dir, "unused.bicep");
            File.WriteAllText(file, "param unused string\n");
            var result = BicepCompiler.Run("lint", file);
            Assert.Contains(result.Diagnostics, d => d.Contains("Warning no-unused-params", StringComparison.Ordinal));
            Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => result.AssertClean("unused.bicep"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The template of the module deployment whose name ends with <paramref name="suffix"/>.</summary>
    private static JsonElement NestedTemplate(JsonElement arm, string suffix)
    {
        foreach (var r in arm.GetProperty("resources").EnumerateArray())
            if (r.GetProperty("type").GetString() == "Microsoft.Resources/deployments"
                && r.GetProperty("name").GetString()!.Contains(suffix + "'", StringComparison.Ordinal))
                return r.GetProperty("properties").GetProperty("template");
        throw new InvalidOperationException($"main.bicep has no module deployment named '...{suffix}'");
    }
}
