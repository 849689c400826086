using Pipeline.Driving.RangeView;

namespace Pipeline.Driving.Tests;

public class NormalisationTests
{
    [Fact]
    public void Depth_and_intensity_normalisation_match_reference()
    {
        var n = Vectors.Get("normalisation");
        var norm = DepthNormalisation.ForBox(n.GetProperty("corner_depths").Doubles());
        Assert.Equal(n.GetProperty("min_d").GetDouble(), norm.MinD, 14);
        Assert.Equal(n.GetProperty("max_d").GetDouble(), norm.MaxD, 14);
        var depths = n.GetProperty("depths").Doubles();
        var expected = n.GetProperty("normalised").Doubles();
        for (int i = 0; i < depths.Length; i++) Assert.Equal(expected[i], norm.Normalise(depths[i]), 12);
        var ints = n.GetProperty("intensities").Doubles();
        var expectedInts = n.GetProperty("intensity_normalised").Doubles();
        for (int i = 0; i < ints.Length; i++) Assert.Equal(expectedInts[i], DepthNormalisation.NormaliseIntensity(ints[i]), 14);
    }

    [Fact]
    public void Normalise_then_denormalise_is_the_identity_on_the_valid_range()
    {
        var norm = DepthNormalisation.ForBox([10.2, 11.0, 12.5, 13.1]);
        for (double d = 0; d <= 54; d += 0.01) Assert.Equal(d, norm.Denormalise(norm.Normalise(d)), 9);
        for (double i = 0; i <= 255; i += 0.05) Assert.Equal(i, DepthNormalisation.DenormaliseIntensity(DepthNormalisation.NormaliseIntensity(i)), 9);
    }

    [Fact]
    public void Object_aware_map_gives_the_box_depths_the_middle_of_the_range()
    {
        var norm = DepthNormalisation.ForBox([20, 24]);
        Assert.Equal(-1, norm.Normalise(0), 12);
        Assert.Equal(-0.75, norm.Normalise(20), 12);
        Assert.Equal(0, norm.Normalise(22), 12);
        Assert.Equal(0.75, norm.Normalise(24), 12);
        Assert.Equal(1, norm.Normalise(54), 12);
        Assert.Equal(1, DepthNormalisation.NormaliseIntensity(0), 12);
        Assert.Equal(2 * Math.Exp(-4) - 1, DepthNormalisation.NormaliseIntensity(255), 12);
        // a box whose corners reach 0 m or beyond 54 m still gives an invertible map
        var edge = DepthNormalisation.ForBox([0, 60]);
        Assert.True(edge.MinD > -1 && edge.MaxD < 1 && edge.MinD < edge.MaxD);
        Assert.Equal(30, edge.Denormalise(edge.Normalise(30)), 6);
        var far = DepthNormalisation.ForBox([58, 61]); // a box beyond the 54 m range
        Assert.True(far.MinD < far.MaxD && far.MaxD < 1);
        Assert.Equal(20, far.Denormalise(far.Normalise(20)), 6);
    }
}
