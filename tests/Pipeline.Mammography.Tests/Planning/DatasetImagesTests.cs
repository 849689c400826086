using Pipeline.Imaging.Ingestion;
using Pipeline.Mammography.Planning;

namespace Pipeline.Mammography.Tests.Planning;

/// <summary>The planner's view of a dataset: annotation rows grouped per image in file order.</summary>
public class DatasetImagesTests
{
    private static AnnotatedFinding Row(string path, string? cls, double[]? box, int line, string? split = null) =>
        new(path, Path.GetFileNameWithoutExtension(path), "s", 100, 80, cls, box, split, null, null, line);

    [Fact]
    public void Rows_group_per_image_in_file_order_with_blob_paths_and_healthy_images_kept()
    {
        var rows = new[]
        {
            Row("images/s/b.dicom", "Mass", [1, 2, 11, 12], 2, "training"),
            Row("images/s/a.dicom", null, null, 3, "test"),                       // no finding: a healthy image
            Row("images/s/b.dicom", "Suspicious Calcification", [20, 20, 25, 26], 4, "training"),
        };
        var images = DatasetImages.FromFindings(rows, "datasets/d/", new HashSet<string> { "images/s/a.dicom", "images/s/b.dicom" });
        Assert.Equal(["datasets/d/images/s/b.dicom", "datasets/d/images/s/a.dicom"], images.Select(i => i.Path));
        var b = images[0];
        Assert.Equal(("b", 100, 80, "training"), (b.ImageId, b.Width, b.Height, b.Split));
        Assert.Equal(["Mass", "Suspicious Calcification"], b.Findings.Select(f => f.ClassName));
        Assert.Equal((1.0, 2.0, 11.0, 12.0), (b.Findings[0].Box.X0, b.Findings[0].Box.Y0, b.Findings[0].Box.X1, b.Findings[0].Box.Y1));
        Assert.Empty(images[1].Findings);
        Assert.Equal("test", images[1].Split);
    }

    [Fact]
    public void Rows_naming_images_not_in_the_dataset_are_left_out_and_reported_with_their_line()
    {
        var missing = new List<string>();
        var images = DatasetImages.FromFindings([Row("images/s/a.dicom", "Mass", [1, 1, 5, 5], 2), Row("images/s/gone.dicom", "Mass", [1, 1, 5, 5], 7)],
            "", new HashSet<string> { "images/s/a.dicom" }, missing);
        Assert.Single(images);
        Assert.Equal(["annotation line 7: image images/s/gone.dicom is not in the dataset (left out)"], missing);
    }
}
