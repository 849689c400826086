using Pipeline.Imaging.Synthetic;

namespace Pipeline.Imaging.Tests.Synthetic;

public class MammoPhantomTests
{
    private static MammoImageSpec Spec(MammoView view, BreastSide side, params LesionSpec[] lesions) =>
        new(512, 416, 240.0 / 512, view, side, 42, 0.4, lesions);

    [Theory]
    [InlineData(LesionKind.CircumscribedMass, 15)]
    [InlineData(LesionKind.SpiculatedMass, 18)]
    [InlineData(LesionKind.CalcificationCluster, 8)]
    [InlineData(LesionKind.Asymmetry, 25)]
    public void EveryLesionKindIsPlacedInsideTheBreastWithABoxOfPlausibleSize(LesionKind kind, double sizeMm)
    {
        foreach (var view in new[] { MammoView.CC, MammoView.MLO })
        {
            var image = MammoPhantom.Render(Spec(view, BreastSide.L, new LesionSpec(kind, sizeMm, 1234)));
            var lesion = Assert.Single(image.Lesions);
            Assert.Equal(kind, lesion.Kind);
            double sizePx = sizeMm / (240.0 / 512);
            Assert.InRange(Math.Max(lesion.Box.Width, lesion.Box.Height), sizePx * 0.3, sizePx * 3.5);
            // the box centre lies on breast tissue (non-zero stored value)
            int cx = (int)((lesion.Box.XMin + lesion.Box.XMax) / 2), cy = (int)((lesion.Box.YMin + lesion.Box.YMax) / 2);
            Assert.True(image.Pixels[cy * 416 + cx] > 0);
        }
    }
}
