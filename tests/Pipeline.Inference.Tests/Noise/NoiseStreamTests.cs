using System.Text.Json;
using Pipeline.Inference.Noise;

namespace Pipeline.Inference.Tests.Noise;

public class NoiseStreamTests
{
    [Theory]
    // Known-answer vectors of Random123's kat_vectors for philox4x32 with 10 rounds.
    [InlineData(0u, 0u, 0u, 0u, 0u, 0u, 0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u)]
    [InlineData(0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu)]
    [InlineData(0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0xa4093822u, 0x299f31d0u, 0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u)]
    public void Philox4x32_10_matches_the_Random123_known_answers(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1, uint e0, uint e1, uint e2, uint e3)
    {
        Assert.Equal((e0, e1, e2, e3), Philox4x32.Block(c0, c1, c2, c3, k0, k1));
    }

    [Fact]
    public void Noise_matches_the_python_reference_vectors()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestModels.Data("sampling", "noise_vectors.json")));
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            var expected = c.GetProperty("values").EnumerateArray().Select(v => v.GetSingle()).ToArray();
            var purpose = c.GetProperty("purpose").GetString() switch
            {
                "initial" => NoisePurpose.Initial, "scheduler_step" => NoisePurpose.SchedulerStep,
                "known_region" => NoisePurpose.KnownRegion, _ => NoisePurpose.Resample,
            };
            var actual = new float[expected.Length];
            new NoiseStream(c.GetProperty("seed").GetUInt64(), c.GetProperty("item").GetUInt64()).Fill(actual, purpose, c.GetProperty("iteration").GetInt32());
            for (var i = 0; i < actual.Length; i++) Assert.Equal(expected[i], actual[i], 1e-6f);
        }
    }

    [Fact]
    public void Noise_is_standard_normal_in_distribution()
    {
        var z = new float[200_000];
        new NoiseStream(7, 11).Fill(z, NoisePurpose.Initial, 0);
        double mean = z.Average(v => (double)v), var = z.Average(v => (v - mean) * (v - mean));
        Assert.InRange(mean, -0.01, 0.01); // 4.5 standard errors
        Assert.InRange(Math.Sqrt(var), 0.99, 1.01);
        Assert.InRange(z.Count(v => Math.Abs(v) > 1.96) / (double)z.Length, 0.047, 0.053);
    }

    [Fact]
    public void Streams_of_different_items_purposes_iterations_and_seeds_differ_and_prefixes_agree()
    {
        float[] Draw(ulong seed, ulong item, NoisePurpose p, int it, int n) { var a = new float[n]; new NoiseStream(seed, item).Fill(a, p, it); return a; }
        var baseline = Draw(1, 2, NoisePurpose.Initial, 0, 64);
        Assert.NotEqual(baseline, Draw(1, 3, NoisePurpose.Initial, 0, 64));
        Assert.NotEqual(baseline, Draw(2, 2, NoisePurpose.Initial, 0, 64));
        Assert.NotEqual(baseline, Draw(1, 2, NoisePurpose.SchedulerStep, 0, 64));
        Assert.NotEqual(baseline, Draw(1, 2, NoisePurpose.Initial, 1, 64));
        // element i does not depend on how many are drawn
        Assert.Equal(baseline.AsSpan(0, 13).ToArray(), Draw(1, 2, NoisePurpose.Initial, 0, 13));
    }

    [Fact]
    public void Item_ids_from_strings_are_stable_fnv1a()
    {
        Assert.Equal(0xcbf29ce484222325UL, NoiseStream.ItemIdFromString(""));
        Assert.Equal(0xaf63dc4c8601ec8cUL, NoiseStream.ItemIdFromString("a"));
    }
}
