using Pipeline.Core.Contracts;
using Pipeline.Core.Domains;
using Pipeline.Imaging.Dicom;
using Pipeline.Imaging.Ingestion;

namespace Pipeline.Mammography.Tests;

/// <summary>An item's model inputs (the run's Preprocess and the training export): deterministic in the item seed, the
/// preparation's crop ratio range and sizes, the contract between the tensors; clear errors for what cannot be prepared.
/// The numerical checks of each step against an independent NumPy reference are in Pipeline.Imaging.Tests
/// (Preprocessing/PreprocessVectorTests, data/preprocess/check_vectors.py).</summary>
public sealed class ItemImagingTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("item-imaging-").FullName;
    private FolderBlobs _blobs = null!;
    private WorkItem _item = null!;

    public async Task InitializeAsync()
    {
        _blobs = await FolderBlobs.SyntheticAsync(_dir);
        var lesion = DatasetAnnotations.Parse(AnnotationFormat.VinDrMammo, DatasetAnnotations.VinDrFile, File.ReadAllText(Path.Combine(_dir, DatasetAnnotations.VinDrFile)), [])
            .First(r => r.Box is not null);
        var box = new BoundingBox(lesion.Box![0], lesion.Box[1], lesion.Box[2], lesion.Box[3]);
        _item = new WorkItem { ItemId = "i", Mode = TaskMode.Reinsertion, TargetImage = lesion.ImagePath, ReferenceImage = lesion.ImagePath, TargetBox = box, ReferenceBox = box, ClassName = lesion.ClassName!, Seed = 42 };
    }

    public Task DisposeAsync() { Directory.Delete(_dir, recursive: true); return Task.CompletedTask; }

    private static readonly PreparationSettings Preparation = PreparationSettings.Default with { Resolution = 48, ReferenceSize = 40, CropRatioMin = 2.0, CropRatioMax = 2.5, ReferenceExpand = 1.4 };

    [Fact]
    public async Task Inputs_follow_the_preparation_and_the_item_seed()
    {
        var preparer = new MammographyPreparer();
        var a = await preparer.PrepareAsync(_item, Preparation, _blobs, CancellationToken.None);
        var again = await preparer.PrepareAsync(_item, Preparation, _blobs, CancellationToken.None);
        var other = await preparer.PrepareAsync(_item with { Seed = 43 }, Preparation, _blobs, CancellationToken.None);
        Assert.Equal(a.Geometry, again.Geometry);
        Assert.Equal(a.Tensors.Get(ModelTensorNames.Context, "i"), again.Tensors.Get(ModelTensorNames.Context, "i"));
        Assert.NotEqual(a.Geometry.Ratio, other.Geometry.Ratio);
        var g = a.Geometry;
        Assert.InRange(g.Ratio, 2.0, 2.5);
        Assert.Equal(48, g.Resolution);
        // the crop side is ratio x the box's longer edge (rounded up), the box centred as far as the image allows
        Assert.Equal(Math.Max(_item.TargetBox.Width, _item.TargetBox.Height) * g.Ratio, g.Side, 1.0);

        var original = a.Tensors.Get(ModelTensorNames.Original, "i");
        var context = a.Tensors.Get(ModelTensorNames.Context, "i");
        var mask = a.Tensors.Get(ModelTensorNames.Mask, "i");
        var detail = a.Tensors.Get(ModelTensorNames.Detail, "i");
        Assert.Equal(48 * 48, original.Length);
        Assert.Equal(40 * 40, a.Tensors.Get(ModelTensorNames.Reference, "i").Length);
        for (int y = 0; y < 48; y++)
            for (int x = 0; x < 48; x++)
            {
                int k = y * 48 + x;
                bool inBox = x >= g.BoxLeft && x < g.BoxLeft + g.BoxWidth && y >= g.BoxTop && y < g.BoxTop + g.BoxHeight;
                Assert.Equal(inBox ? 1f : 0f, mask[k]);
                Assert.Equal(inBox ? 0f : original[k], context[k]);
                if (!inBox) Assert.Equal(0f, detail[k]);
                Assert.InRange(original[k], -1f, 1f);
            }
    }

    [Fact]
    public async Task An_insertion_keeps_the_target_tissue_under_what_the_model_generated_above_its_background()
    {
        // a package asking for the target's tissue (docs/preprocessing.md "Keeping the target's tissue"): insertion items
        // carry the sigma, reinsertion and replacement items do not
        var preparer = new MammographyPreparer();
        var keep = Preparation with { TargetTextureSigma = 6 };
        var insertion = _item with { Mode = TaskMode.Insertion };
        var a = await preparer.PrepareAsync(insertion, keep, _blobs, CancellationToken.None);
        Assert.Equal((6.0, true), (a.Geometry.TextureSigma, a.Geometry.KeepDetail));
        var reinsertion = (await preparer.PrepareAsync(_item, keep, _blobs, CancellationToken.None)).Geometry;
        Assert.Equal((0.0, true), (reinsertion.TextureSigma, reinsertion.KeepDetail)); // the lesion's own fine band, no tissue keeping
        var replacement = (await preparer.PrepareAsync(_item with { Mode = TaskMode.Replacement }, keep, _blobs, CancellationToken.None)).Geometry;
        Assert.Equal((0.0, false), (replacement.TextureSigma, replacement.KeepDetail));
        Assert.Equal((0.0, false), ((await preparer.PrepareAsync(insertion, Preparation, _blobs, CancellationToken.None)).Geometry is var off ? (off.TextureSigma, off.KeepDetail) : default));

        // a generated crop whose box is flat background (no lesion) composites to the source itself, at full resolution,
        // although the box of the crop the model saw was the (smoothed) zoom-in; without the setting the box is flat
        var original = a.Tensors.Get(ModelTensorNames.Original, "i");
        var mask = a.Tensors.Get(ModelTensorNames.Mask, "i");
        var flat = original.Select((v, k) => mask[k] != 0 ? -0.2f : v).ToArray();
        using var target = SourceImage.Decode(await File.ReadAllBytesAsync(Path.Combine(_dir, _item.TargetImage)), _item.TargetImage);
        using var kept = ItemImaging.Compose(target, flat, a.Geometry, _item.TargetBox);
        using var plain = ItemImaging.Compose(target, flat, a.Geometry with { TextureSigma = 0, KeepDetail = false }, _item.TargetBox);
        var source = target.Stored.ToFloat32();
        var k1 = kept.ToFloat32();
        var k0 = plain.ToFloat32();
        int far = 0, changed = 0;
        var display = target.Display.Pixels<float>();
        for (int i = 0; i < source.Pixels<float>().Length; i++)
        {
            // a stored value outside the VOI window comes back at the window's edge (compositing works in display values)
            bool windowed = display[i] > 0 && display[i] < 1;
            far += windowed && Math.Abs(k1.Pixels<float>()[i] - source.Pixels<float>()[i]) > 1 ? 1 : 0;
            changed += Math.Abs(k0.Pixels<float>()[i] - source.Pixels<float>()[i]) > 1 ? 1 : 0;
        }
        source.Dispose(); k1.Dispose(); k0.Dispose();
        Assert.Equal(0, far);
        Assert.True(changed > 100, $"the flat box should differ from the source without the setting ({changed} pixels)");

        // Measure compares what the output shows: the kept crop equals the original, so the seam is the untouched one
        var measured = new MammographyMeasurer().Measure(insertion, a.Tensors,
            new TensorBundle().Add(ModelTensorNames.Sample, flat), a.Geometry);
        Assert.Equal(measured.Metrics["untouched/seam"], measured.Metrics["seam"], 4);
    }

    [Fact]
    public async Task A_replacement_on_the_skin_line_keeps_the_air_and_the_skin_fall_off()
    {
        // docs/preprocessing.md "The donor window" and "Air stays air": a box across the breast's edge (half air) of a
        // synthetic mammogram; the donor is a window along the skin line, no air comes into the tissue and the air stays
        using var target = SourceImage.Decode(await File.ReadAllBytesAsync(Path.Combine(_dir, _item.TargetImage)), _item.TargetImage);
        var air = ItemImaging.AirMask(target)!;
        int w = target.Width, h = target.Height, y0 = h / 2;
        // the skin at the middle row: the last tissue pixel before the air, from the chest wall's side
        bool chestLeft = !air[y0 * w + 2];
        int edge = chestLeft ? Enumerable.Range(0, w).First(x => air[y0 * w + x]) : Enumerable.Range(0, w).Last(x => air[y0 * w + x]) + 1;
        var box = chestLeft ? new BoundingBox(edge - 14, y0 - 10, edge + 6, y0 + 10) : new BoundingBox(edge - 6, y0 - 10, edge + 14, y0 + 10);
        var item = _item with { Mode = TaskMode.Replacement, TargetBox = box, ReferenceBox = _item.TargetBox };
        var a = await new MammographyPreparer().PrepareAsync(item, Preparation with { TargetTextureSigma = 6, TissueDonor = true }, _blobs, CancellationToken.None);
        var g = a.Geometry;
        Assert.True(g.TissueDonor, $"{g}");
        var rect = new Pipeline.Imaging.Preprocessing.PixelRect((int)box.X0, (int)box.Y0, 20, 20);
        int airInBox = 0;
        for (int y = rect.Top - 5; y < rect.Bottom + 5; y++)
            for (int x = rect.Left - 5; x < rect.Right + 5; x++)
            {
                Assert.False(air[(y + g.DonorOffsetY) * w + x + g.DonorOffsetX] && !air[y * w + x], $"donor air at ({x}, {y})");
                airInBox += air[y * w + x] ? 1 : 0;
            }
        Assert.InRange(airInBox, 100, 500);

        // the output, with the model's crop as the sample: padding stays padding; along the skin the tissue keeps its
        // fall-off (the mean over the box's tissue pixels within 4 px of the air close to the source's)
        var original = a.Tensors.Get(ModelTensorNames.Original, "i");
        using var output = ItemImaging.Compose(target, original, g, box);
        var src = target.Stored.Pixels<ushort>();
        var outp = output.Pixels<ushort>();
        double window = target.Dicom!.Attributes.WindowWidths[0];
        double srcSkin = 0, outSkin = 0; int n = 0;
        for (int y = rect.Top - 5; y < rect.Bottom + 5; y++)
            for (int x = rect.Left - 5; x < rect.Right + 5; x++)
            {
                int i = y * w + x;
                if (air[i]) { Assert.Equal(src[i], outp[i]); continue; }
                if (!rect.Contains(x, y)) continue;
                bool nearAir = false;
                for (int d = 1; d <= 4 && !nearAir; d++) nearAir = air[i + (chestLeft ? d : -d)];
                if (nearAir) { srcSkin += src[i]; outSkin += outp[i]; n++; }
            }
        Assert.True(n > 20, $"{n} skin pixels");
        Assert.True(Math.Abs(srcSkin / n - outSkin / n) < 0.05 * window, $"skin band mean {outSkin / n} vs source {srcSkin / n} (window {window})");
    }

    [Fact]
    public async Task A_replacement_with_a_tissue_donor_puts_the_lesion_over_the_donor_tissue_matched_to_the_border()
    {
        // docs/preprocessing.md "Replacement: tissue from the image itself"
        var preparer = new MammographyPreparer();
        var donor = Preparation with { TargetTextureSigma = 6, TissueDonor = true };
        var replacement = _item with { Mode = TaskMode.Replacement };
        var a = await preparer.PrepareAsync(replacement, donor, _blobs, CancellationToken.None);
        var g = a.Geometry;
        Assert.True(g.TissueDonor && g.KeepDetail && g.TextureSigma == 6, $"{g}");
        Assert.NotEqual((0, 0), (g.DonorOffsetX, g.DonorOffsetY));
        using var target = SourceImage.Decode(await File.ReadAllBytesAsync(Path.Combine(_dir, _item.TargetImage)), _item.TargetImage);
        var expected = Pipeline.Imaging.Compositing.TissueDonor.Find(target.Display.Pixels<float>(), target.Width, target.Height,
            Pipeline.Mammography.Planning.LesionPlanner.ToBoxF(_item.TargetBox).Cover(), 5, ItemImaging.AirMask(target))!.Value;
        Assert.Equal((expected.OffsetX, expected.OffsetY), (g.DonorOffsetX, g.DonorOffsetY));
        // another annotated finding of the target where that donor lies: the donor moves off it
        var b = _item.TargetBox;
        var finding = new BoundingBox(b.X0 + g.DonorOffsetX, b.Y0 + g.DonorOffsetY, b.X1 + g.DonorOffsetX, b.Y1 + g.DonorOffsetY);
        var moved = (await preparer.PrepareAsync(replacement with { OtherFindings = [finding] }, donor, _blobs, CancellationToken.None)).Geometry;
        Assert.True(moved.TissueDonor);
        Assert.NotEqual((g.DonorOffsetX, g.DonorOffsetY), (moved.DonorOffsetX, moved.DonorOffsetY));
        Assert.True(Math.Abs(moved.DonorOffsetX - g.DonorOffsetX) >= b.Width + 5 || Math.Abs(moved.DonorOffsetY - g.DonorOffsetY) >= b.Height + 5,
            $"donor ({moved.DonorOffsetX}, {moved.DonorOffsetY}) overlaps the finding at ({g.DonorOffsetX}, {g.DonorOffsetY})");
        // the other tasks and a package without the setting take no donor
        Assert.False((await preparer.PrepareAsync(_item with { Mode = TaskMode.Insertion }, donor, _blobs, CancellationToken.None)).Geometry.TissueDonor);
        Assert.False((await preparer.PrepareAsync(_item, donor, _blobs, CancellationToken.None)).Geometry.TissueDonor);
        Assert.False((await preparer.PrepareAsync(replacement, donor with { TissueDonor = false }, _blobs, CancellationToken.None)).Geometry.TissueDonor);

        // the tissue: equal to the target crop outside the box, the donor's crop (shifted zoom-in) plus a harmonic membrane inside
        var original = a.Tensors.Get(ModelTensorNames.Original, "i");
        var mask = a.Tensors.Get(ModelTensorNames.Mask, "i");
        var tissue = a.Tensors.Get(ModelTensorNames.Tissue, "i");
        Assert.Equal(ItemImaging.DonorTissue(target, g, original), tissue);
        for (int k = 0; k < tissue.Length; k++)
            if (mask[k] == 0) Assert.Equal(original[k], tissue[k]);
        Assert.True(tissue.Where((v, k) => mask[k] != 0 && Math.Abs(v - original[k]) > 0.05f).Count() > 20, "the box's tissue is the donor's, not the old lesion");

        // a generated box that is flat background puts nothing over the tissue: Measure sees the tissue in the box
        var flat = original.Select((v, k) => mask[k] != 0 ? -0.2f : v).ToArray();
        var measured = new MammographyMeasurer().Measure(replacement, a.Tensors, new TensorBundle().Add(ModelTensorNames.Sample, flat), g);
        var alpha = a.Tensors.Get(ModelTensorNames.CompositeAlpha, "i");
        for (int k = 0; k < tissue.Length; k++)
            if (mask[k] != 0) Assert.Equal((original[k] + 1) / 2 + alpha[k] * (tissue[k] - original[k]) / 2, measured.Generated[k], 5);
        // and the full-resolution output carries the donor window's fine band: it differs from the output without it
        using var withBand = ItemImaging.Compose(target, flat, g, _item.TargetBox);
        using var without = ItemImaging.Compose(target, flat, g with { KeepDetail = false }, _item.TargetBox);
        using var f1 = withBand.ToFloat32();
        using var f0 = without.ToFloat32();
        Assert.NotEqual(f1.Pixels<float>().ToArray(), f0.Pixels<float>().ToArray());
    }

    [Fact]
    public async Task The_composer_measures_texture_on_a_window_with_the_whole_images_values()
    {
        using var target = SourceImage.Decode(await File.ReadAllBytesAsync(Path.Combine(_dir, _item.TargetImage)), _item.TargetImage);
        var a = await new MammographyPreparer().PrepareAsync(_item, Preparation, _blobs, CancellationToken.None);
        using var composed = ItemImaging.Compose(target, a.Tensors.Get(ModelTensorNames.Context, "i"), a.Geometry, _item.TargetBox);
        var metrics = MammographyComposer.FullResolutionMetrics(target.Stored, composed, _item.TargetBox);
        var rect = Pipeline.Mammography.Planning.LesionPlanner.ToBoxF(_item.TargetBox).Cover();
        var box = new Pipeline.Metrics.Pixel.SeamBox(rect.Left, rect.Top, rect.Width, rect.Height);
        foreach (var (key, image) in new[] { ("texture", composed), ("untouched/texture", target.Stored) })
        {
            using var whole = image.ToFloat32();
            var expected = Pipeline.Metrics.Pixel.TextureMeasure.Compute(whole.Pixels<float>(), whole.Width, whole.Height, box)!.Value.Texture;
            Assert.Equal(expected, metrics[key], 12);
        }
        Assert.NotEqual(metrics["untouched/texture"], metrics["texture"]); // the flat box changed what is measured
    }

    [Fact]
    public async Task What_cannot_be_prepared_is_a_clear_error_naming_the_item()
    {
        var preparer = new MammographyPreparer();
        var range = await Assert.ThrowsAsync<InvalidDataException>(() => preparer.PrepareAsync(_item, Preparation with { ValueMin = 0 }, _blobs, CancellationToken.None));
        Assert.StartsWith("i: the model's value range is [0, 1]", range.Message);
        var missing = await Assert.ThrowsAsync<FileNotFoundException>(() => preparer.PrepareAsync(_item with { TargetImage = "nope.dicom" }, Preparation, _blobs, CancellationToken.None));
        Assert.Contains("nope.dicom does not exist", missing.Message);
        File.WriteAllBytes(Path.Combine(_dir, "junk.dicom"), [1, 2, 3]);
        var junk = await Record.ExceptionAsync(() => preparer.PrepareAsync(_item with { TargetImage = "junk.dicom" }, Preparation, _blobs, CancellationToken.None));
        Assert.True(junk is DicomException or InvalidDataException, junk?.GetType().Name);
        Assert.Contains("junk.dicom", junk!.Message);
    }
}
