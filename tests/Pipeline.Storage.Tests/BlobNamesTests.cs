using Pipeline.Storage.Blobs;

namespace Pipeline.Storage.Tests;

public class BlobNamesTests
{
    [Theory]
    [InlineData("..")]
    [InlineData("../x")]
    [InlineData("a/../../b")]
    [InlineData("a/./b")]
    [InlineData("/etc/passwd")]
    [InlineData("a\\..\\b")]
    [InlineData("C:/x")]
    [InlineData("a//b")]
    [InlineData("a/")]
    [InlineData("")]
    [InlineData("a\u0000b")]
    [InlineData("a\nb")]
    [InlineData(" a/b")]
    [InlineData("a/b ")]
    public void Names_that_could_escape_or_confuse_are_rejected(string name)
    {
        Assert.False(BlobNames.IsValid(name));
        var e = Assert.Throws<InvalidBlobNameException>(() => BlobNames.Check(name));
        Assert.Contains("is not valid", e.Message);
    }

    [Fact]
    public void Unpaired_surrogates_are_rejected()
    {
        Assert.Contains("surrogate", BlobNames.FindProblem("a/" + (char)0xD800 + "b"));
        Assert.Contains("surrogate", BlobNames.FindProblem("a" + (char)0xDC00));
    }

    [Theory]
    [InlineData("a")]
    [InlineData("images/0001.dcm")]
    [InlineData("a..b/c...d")]
    [InlineData("x/.hidden")]
    [InlineData("Ünïcødé/名前.png")]
    [InlineData("emoji/😀.png")]
    public void Ordinary_names_are_accepted(string name) => Assert.True(BlobNames.IsValid(name), BlobNames.FindProblem(name));

    [Fact]
    public void Length_limits_hold_per_segment_and_in_total()
    {
        Assert.True(BlobNames.IsValid(new string('a', 255)));
        Assert.False(BlobNames.IsValid(new string('a', 256)));
        Assert.False(BlobNames.IsValid(string.Join('/', Enumerable.Repeat(new string('a', 200), 6))));
    }

    [Theory]
    [InlineData("runs/../datasets/x")]
    [InlineData("secrets/x")]
    [InlineData("runs")]
    [InlineData("/runs/x")]
    public void Paths_outside_the_layout_do_not_parse(string path) =>
        Assert.Throws<InvalidBlobNameException>(() => BlobPath.Parse(path));

    [Fact]
    public void Layout_paths_validate_each_part()
    {
        Assert.Equal("runs/run-1/out/a.png", BlobPath.Run("run-1", "out/a.png").ToString());
        Assert.Equal("datasets/d1/img/1.dcm", BlobPath.Dataset("d1", "img/1.dcm").ToString());
        Assert.Equal("models/m/1.0.0/model.json", BlobPath.Model("m", "1.0.0", "model.json").ToString());
        Assert.Throws<ArgumentException>(() => BlobPath.Run("../x", "a"));
        Assert.Throws<ArgumentException>(() => BlobPath.Dataset("..", "a"));
        Assert.Throws<InvalidBlobNameException>(() => BlobPath.Run("run-1", "../run-2/status.json"));
        Assert.Throws<ArgumentException>(() => BlobPath.Model("m", "..", "model.json"));
    }
}
