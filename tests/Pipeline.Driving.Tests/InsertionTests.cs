using Pipeline.Driving.Geometry;
using Pipeline.Driving.Insertion;
using Pipeline.Driving.NuScenes;
using Pipeline.Driving.Runs;
using Pipeline.Imaging.Synthetic;
using Xunit;

namespace Pipeline.Driving.Tests;

/// <summary>Model inputs, tracked references, empty boxes (docs/driving.md "Model inputs", "Tracked reference and empty boxes").</summary>
public sealed class InsertionTests(SyntheticDatasetFixture fixture) : IClassFixture<SyntheticDatasetFixture>
{
    [Fact]
    public void Beta_4_1_draws_have_the_distributions_mean_and_favour_distant_frames()
    {
        var rng = new PhantomRandom(3);
        var draws = Enumerable.Range(0, 20000).Select(_ => ReferenceSelection.DrawDeltaT(rng)).ToArray();
        Assert.InRange(draws.Average(), 0.79, 0.81);                         // E[Beta(a, 1)] = a / (a + 1) = 0.8
        Assert.InRange(draws.Count(u => u < 0.5) / 20000.0, 0.055, 0.07);     // P(u < 0.5) = 0.5^4 = 0.0625
    }

    [Fact]
    public void A_tracked_reference_is_another_frame_of_the_track_with_normalised_delta_t()
    {
        var track = Enumerable.Range(0, 5).Select(k => new TrackFrame(k, $"s{k}", $"a{k}")).ToList();
        Assert.Equal([1.0, 0.5, 0.5, 1.0], ReferenceSelection.DeltaT(track.Where(f => f.Index != 2).ToList(), 2));
        var counts = new int[5];
        for (ulong s = 0; s < 2000; s++) counts[ReferenceSelection.Pick(track, 0, new PhantomRandom(s))!.Value.Frame.Index]++;
        Assert.Equal(0, counts[0]);
        // Δt = 0.25, 0.5, 0.75, 1 for frames 1-4; the nearest to u ~ Beta(4, 1) (CDF u^4) wins:
        // P = 0.375^4, 0.625^4 - 0.375^4, 0.875^4 - 0.625^4, 1 - 0.875^4
        double[] expected = [0, Math.Pow(0.375, 4), Math.Pow(0.625, 4) - Math.Pow(0.375, 4), Math.Pow(0.875, 4) - Math.Pow(0.625, 4), 1 - Math.Pow(0.875, 4)];
        for (int k = 1; k < 5; k++) Assert.InRange(counts[k] / 2000.0, expected[k] - 0.035, expected[k] + 0.035);
        Assert.Null(ReferenceSelection.Pick([track[0]], 0, new PhantomRandom(1)));
    }

    [Fact]
    public void A_box_round_trips_through_item_details_exactly()
    {
        var b = new Box3(new Vector3d(411.123456789, -1180.5, 0.9125), 1.91, 4.62, 1.55, Quaternion.FromYaw(0.731).Normalized());
        var edit = new DrivingEdit("v1.0", "s", b, "a", "r", "rs", "vehicle.car");
        var item = new Pipeline.Core.Contracts.WorkItem
        {
            ItemId = "t0-000000", Mode = Pipeline.Core.Contracts.TaskMode.Reinsertion, TargetImage = "datasets/x/a.jpg", ReferenceImage = "",
            ReferenceBox = new(0, 0, 1, 1), TargetBox = new(0, 0, 1, 1), ClassName = "car", Seed = 1, Details = edit.ToDetails(),
        };
        Assert.Equal(edit, DrivingEdit.Of(item));
    }

    [Fact]
    public async Task Inputs_have_the_contract_shapes_and_bad_boxes_are_refused_with_the_reason()
    {
        var db = await NuScenesDataset.LoadAsync(fixture.Folder);
        var frame = await DrivingSample.LoadAsync(fixture.Folder, db, db.OrderedSamples()[1]);
        var o = frame.Objects.Where(x => x.Projection.InFront && !x.Projection.ClippedBounds.IsEmpty && x.Annotation.NumLidarPts > 10).OrderByDescending(x => x.Annotation.NumLidarPts).First();
        var inputs = InsertionInputs.Create(frame, o.GlobalBox, 32);
        Assert.Equal(5 * 32 * 32, inputs.Target().Length);
        Assert.Equal(2 * 32 * 32, inputs.Mask().Length);
        Assert.Equal(48, inputs.Box.Length);
        Assert.All(inputs.Target(), v => Assert.InRange(v, -1f, 1f));
        Assert.True(inputs.Mask().Take(1024).Sum() > 0 && inputs.Mask().Skip(1024).Sum() > 0);
        // range-box depths are the same in both modalities' corner triples
        for (int k = 0; k < 8; k++) Assert.Equal(inputs.Box[3 * k + 2], inputs.Box[24 + 3 * k + 2]);

        var toGlobal = RigidTransform.SensorToGlobal(frame.CameraCalibration, frame.CameraEgoPose);
        Box3 At(double z) => new(toGlobal.ToParent(new Vector3d(0, 0.5, z)), 1.9, 4.4, 1.6, frame.CameraEgoPose.Rotation);
        Assert.Contains("behind the camera", Assert.Throws<InvalidDataException>(() => InsertionInputs.Create(frame, At(-6), 32)).Message);
        Assert.Contains("outside the lidar range", Assert.Throws<InvalidDataException>(() => InsertionInputs.Create(frame, At(90), 32)).Message);

        var reference = ReferenceCrop.Extract(frame.CameraRgb, frame.Camera.Width, frame.Camera.Height, o.Projection, 16);
        Assert.Equal(3 * 16 * 16, reference.Length);
        Assert.Contains(reference, v => v != 0);
        Assert.All(ReferenceCrop.Empty(16), v => Assert.Equal(0f, v));
    }

    [Fact]
    public async Task An_empty_box_overlapping_an_object_or_holding_points_above_the_ground_is_refused()
    {
        var db = await NuScenesDataset.LoadAsync(fixture.Folder);
        var frame = await DrivingSample.LoadAsync(fixture.Folder, db, db.OrderedSamples()[0]);
        var o = frame.Objects.Where(x => x.Projection.InFront && !x.Projection.ClippedBounds.IsEmpty).OrderByDescending(x => x.Annotation.NumLidarPts).First();
        Assert.Contains("overlaps", EmptyBoxPool.Check(frame, o.GlobalBox));
        var toGlobal = RigidTransform.SensorToGlobal(frame.CameraCalibration, frame.CameraEgoPose);
        var behind = new Box3(toGlobal.ToParent(new Vector3d(0, 0.5, -8)), 1.9, 4.4, 1.6, frame.CameraEgoPose.Rotation);
        Assert.Equal("behind the camera", EmptyBoxPool.Check(frame, behind));
    }
}
