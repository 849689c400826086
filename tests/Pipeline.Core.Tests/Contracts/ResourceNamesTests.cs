using Pipeline.Core.Contracts;

namespace Pipeline.Core.Tests.Contracts;

public class ResourceNamesTests
{
    [Theory]
    [InlineData("run-1", true)]
    [InlineData("0abc", true)]
    [InlineData("-abc", false)]
    [InlineData("Run", false)]
    [InlineData("a/b", false)]
    [InlineData("..", false)]
    [InlineData("", false)]
    public void Run_ids(string id, bool valid) => Assert.Equal(valid, ResourceNames.IsValidRunId(id));

    [Fact]
    public void Run_id_length_is_limited_to_63() 
    {
        Assert.True(ResourceNames.IsValidRunId(new string('a', 63)));
        Assert.False(ResourceNames.IsValidRunId(new string('a', 64)));
    }

    [Fact]
    public void New_run_ids_are_valid_and_distinct()
    {
        var now = new DateTimeOffset(2026, 11, 22, 6, 15, 30, TimeSpan.Zero);
        string a = ResourceNames.NewRunId(now), b = ResourceNames.NewRunId(now);
        Assert.True(ResourceNames.IsValidRunId(a));
        Assert.StartsWith("run-20261122-061530-", a);
        Assert.NotEqual(a, b);
    }

    [Fact]
    public void Check_name_explains_the_rule()
    {
        var e = Assert.Throws<ArgumentException>(() => ResourceNames.CheckName("../x", "Dataset name"));
        Assert.Contains("Dataset name '../x'", e.Message);
    }
}
