using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Pipeline.Inference.Onnx;
using Pipeline.Inference.Packages;
using Pipeline.Inference.Noise;
using Pipeline.Inference.Schedulers;
using R = Pipeline.Inference.Packages.ModelPackage.Roles;

namespace Pipeline.Inference.Sampling;

/// <summary>
/// Reference-guided diffusion inpainting over an <see cref="InpaintingModel"/>. For each batch: encode the masked
/// context (latent models), build the conditioning, run the scheduler loop with classifier-free guidance as ONE
/// denoiser call per step (unconditional rows then conditional rows stacked in the batch), decode, return the crops.
/// <para>Inpainting modes: <see cref="InpaintingMode.Model"/> feeds mask and masked context to the denoiser;
/// <see cref="InpaintingMode.Blend"/> re-noises the known region to the current timestep before every evaluation,
/// x_t ← m ⊙ x_t + (1 − m) ⊙ q(x_t | x_0^known) (RePaint, Lugmayr et al. 2022, eq. 8), with optional resampling, and
/// pastes the known region into the final sample.</para>
/// <para>All noise comes from <see cref="NoiseStream"/> keyed by (run seed, item id, purpose, iteration): an item's
/// output is bit-identical whatever the batch size or order.</para>
/// </summary>
public sealed class InpaintingSampler(InpaintingModel model, CreateScheduler schedulers)
{
    private static readonly HashSet<string> SingleStepSchedulers = new(StringComparer.OrdinalIgnoreCase) { "ddim", "ddpm", "euler" };

    public InpaintingModel Model { get; } = model;

    /// <summary>Samples every item; returns one image per item (imageChannels x resolution x resolution, model value range, not clipped).</summary>
    public Task<IReadOnlyList<float[]>> SampleAsync(IReadOnlyList<InpaintingItem> items, SamplingOptions options, CancellationToken cancellationToken = default) =>
        Task.Run(() => Sample(items, options, cancellationToken), cancellationToken);

    /// <summary>Synchronous form of <see cref="SampleAsync"/>.</summary>
    public IReadOnlyList<float[]> Sample(IReadOnlyList<InpaintingItem> items, SamplingOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        var p = Model.Package;
        var plan = Plan.From(p, options);
        foreach (var item in items) Validate(item);
        var results = new float[items.Count][];
        var batchCount = (items.Count + plan.MaxBatch - 1) / plan.MaxBatch;
        for (var b = 0; b < batchCount; b++)
        {
            var batch = items.Skip(b * plan.MaxBatch).Take(plan.MaxBatch).ToArray();
            var images = SampleBatch(batch, plan, options, b, batchCount, cancellationToken);
            for (var i = 0; i < batch.Length; i++) results[b * plan.MaxBatch + i] = images[i];
        }
        return results;
    }

    /// <summary>Resolved settings of one call.</summary>
    private sealed record Plan(string Scheduler, SchedulerConfig Config, int Steps, double Guidance, int MaxBatch, RePaintOptions? RePaint)
    {
        public bool Cfg => Guidance != 1.0;

        public static Plan From(ModelPackage p, SamplingOptions o)
        {
            var name = (o.Scheduler ?? p.Sampler.Scheduler).ToLowerInvariant();
            var steps = o.Steps ?? p.Sampler.Steps;
            if (steps <= 0) throw new ArgumentOutOfRangeException(nameof(o), $"steps must be positive, got {steps}");
            var guidance = o.GuidanceScale ?? p.Guidance.Scale;
            if (!double.IsFinite(guidance) || guidance < 0) throw new ArgumentOutOfRangeException(nameof(o), $"guidance scale must be finite and >= 0, got {guidance}");
            if (o.MaxBatchSize <= 0) throw new ArgumentOutOfRangeException(nameof(o), $"MaxBatchSize must be positive, got {o.MaxBatchSize}");
            if (o.RePaint is { } rp)
            {
                if (p.Inpainting != InpaintingMode.Blend)
                    throw new ArgumentException($"RePaint resampling applies to known-region blending models; '{p.Name}' conditions on the mask (inpainting 'model').");
                if (rp.JumpLength <= 0 || rp.Resamplings <= 0) throw new ArgumentOutOfRangeException(nameof(o), "RePaint jump length and resamplings must be positive");
                if (!SingleStepSchedulers.Contains(name))
                    throw new ArgumentException($"RePaint resampling needs a single-step scheduler (ddim, ddpm, euler); '{name}' keeps multistep history that jumping back would invalidate.");
            }
            var config = p.Schedule with { Eta = o.Eta ?? p.Sampler.Eta };
            return new Plan(name, config, steps, guidance, o.MaxBatchSize, o.RePaint);
        }

        /// <summary>Denoiser evaluations per batch for a loop of <paramref name="evaluations"/> timesteps, RePaint jumps included.</summary>
        public int Iterations(int evaluations) =>
            RePaint is { } rp ? evaluations + (evaluations - 1) / rp.JumpLength * (rp.Resamplings - 1) * rp.JumpLength : evaluations;
    }

    private void Validate(InpaintingItem item)
    {
        var p = Model.Package;
        int imageLen = p.ImageChannels * p.Resolution * p.Resolution, maskLen = p.Modalities.Count * p.Resolution * p.Resolution;
        var refLen = p.Reference.Channels * p.Reference.Size * p.Reference.Size;
        void Check(float[]? a, int len, string what)
        {
            if (a is null) throw new ArgumentException($"Item {item.ItemId}: {what} is missing (model '{p.Name}' needs {len} values).");
            if (a.Length != len) throw new ArgumentException($"Item {item.ItemId}: {what} has {a.Length} values; model '{p.Name}' needs {len}.");
            foreach (var v in a) if (!float.IsFinite(v)) throw new ArgumentException($"Item {item.ItemId}: {what} contains a non-finite value.");
        }
        Check(item.Context, imageLen, $"context ({p.ImageChannels}x{p.Resolution}x{p.Resolution})");
        Check(item.Mask, maskLen, $"mask ({p.Modalities.Count}x{p.Resolution}x{p.Resolution})");
        if (p.TakesBox) Check(item.Box, p.Modalities.Count * 24, $"box ({p.Modalities.Count}x8x3)");
        Check(item.Reference, refLen, $"reference ({p.Reference.Channels}x{p.Reference.Size}x{p.Reference.Size})");
        if (p.Denoiser.Input(R.DetailMap) is not null) Check(item.DetailMap, imageLen, $"detail map ({p.ImageChannels}x{p.Resolution}x{p.Resolution})");
    }

    private float[][] SampleBatch(InpaintingItem[] items, Plan plan, SamplingOptions options, int batchIndex, int batchCount, CancellationToken cancellationToken)
    {
        var p = Model.Package;
        int B = items.Length, rows = plan.Cfg ? 2 * B : B;
        int modalities = p.Modalities.Count;
        int n = p.SampleChannels, s = p.SampleSize, sampleLen = n * s * s, maskLen = modalities * s * s, c = p.ImageChannels, res = p.Resolution;
        var refLen = Model.DenoiserReferenceLength;
        var d = p.Denoiser;
        var blend = p.Inpainting == InpaintingMode.Blend;

        // --- conditioning, in the denoiser's sample space -----------------------------------------------------
        var maskS = new float[B * maskLen];
        for (var b = 0; b < B; b++) SampleSpaceMask(items[b].Mask, res, p.Kind == ModelKind.Latent ? p.Latent!.Downsample : 1, maskS.AsSpan(b * maskLen, maskLen));
        var maskedImage = new float[B * c * res * res];
        var groups = p.Modalities.Select(m => m.Channels).ToArray();
        for (var b = 0; b < B; b++) MaskedContext(items[b].Context, items[b].Mask, groups, res * res, maskedImage.AsSpan(b * c * res * res, c * res * res));
        float[] maskedCtx = d.Input(R.MaskedContext) is null ? [] : ToSampleSpace(maskedImage, B);
        float[] known0 = blend ? ToSampleSpace(items.SelectMany(i => i.Context).ToArray(), B) : [];
        float[] detail = d.Input(R.DetailMap) is null ? [] : ToSampleSpace(items.SelectMany(i => i.DetailMap!).ToArray(), B);
        var condRef = p.Reference.Input == ReferenceInput.Embedding ? EncodeReferences(items) : items.SelectMany(i => i.Reference).ToArray();

        // --- stacked denoiser inputs: rows [0, B) unconditional, [B, 2B) conditional (when guidance != 1) -----
        var modelIn = new float[rows * sampleLen];
        var pred = new float[rows * sampleLen];
        var tLong = new long[rows];
        var tFloat = new float[rows];
        var names = new List<string>();
        var tensors = new List<OrtValue>();
        try
        {
            // OrtValues over the pinned arrays (no copies), bound once: each step rewrites modelIn / the timestep in
            // place and the denoiser writes pred in place.
            void Add(string role, Array data, long[] shape)
            {
                names.Add(d.Input(role)!);
                tensors.Add(data switch
                {
                    float[] f => OrtValue.CreateTensorValueFromMemory(f, shape),
                    long[] l => OrtValue.CreateTensorValueFromMemory(l, shape),
                    _ => throw new ArgumentException($"unsupported tensor buffer {data.GetType()}"),
                });
            }
            long[] Shape(params long[] tail) => [rows, .. tail];
            Add(R.Sample, modelIn, Shape(n, s, s));
            if (Model.TimestepType == TensorElementType.Int64) Add(R.Timestep, tLong, [rows]); else Add(R.Timestep, tFloat, [rows]);
            if (d.Input(R.Mask) is not null) Add(R.Mask, Stack(maskS, maskS, plan.Cfg), Shape(modalities, s, s));
            if (d.Input(R.Box) is not null)
            {
                // CFG's unconditional rows get the all-zero box with the null reference (MObI drops both together)
                var condBox = items.SelectMany(i => i.Box!).ToArray();
                Add(R.Box, plan.Cfg ? Stack(new float[condBox.Length], condBox, true) : condBox, Shape(modalities, 8, 3));
            }
            if (d.Input(R.MaskedContext) is not null) Add(R.MaskedContext, Stack(maskedCtx, maskedCtx, plan.Cfg), Shape(n, s, s));
            if (d.Input(R.DetailMap) is not null) Add(R.DetailMap, Stack(detail, detail, plan.Cfg), Shape(n, s, s));
            if (d.Input(R.Reference) is not null)
            {
                var nullRef = new float[B * refLen];
                for (var b = 0; b < B; b++) Model.NullReference.CopyTo(nullRef, b * refLen);
                Add(R.Reference, plan.Cfg ? Stack(nullRef, condRef, true) : condRef, Shape(Model.DenoiserReferenceShape));
            }
            using var output = OrtValue.CreateTensorValueFromMemory(pred, Shape(n, s, s));
            using var denoise = Model.Denoiser.Bind(names, tensors, [d.Outputs[R.Prediction]], [output]);

            // --- the loop -------------------------------------------------------------------------------------
            var scheduler = schedulers(plan.Scheduler, plan.Config);
            scheduler.SetTimesteps(plan.Steps);
            // One entry per denoiser evaluation: PLMS repeats a timestep, the ldm spacing may give more than Steps.
            var timesteps = scheduler.Timesteps;
            var evaluations = timesteps.Count;
            var x = new float[B * sampleLen];
            var xPrev = new float[B * sampleLen];
            var guided = plan.Cfg ? new float[B * sampleLen] : pred;
            var noise = new float[B * sampleLen];
            var knownT = blend ? new float[sampleLen] : [];
            var sigma0 = (float)scheduler.InitNoiseSigma;
            for (var b = 0; b < B; b++)
            {
                var xb = x.AsSpan(b * sampleLen, sampleLen);
                new NoiseStream(options.Seed, items[b].ItemId).Fill(xb, NoisePurpose.Initial, 0);
                for (var k = 0; k < xb.Length; k++) xb[k] *= sigma0;
            }

            var jumps = plan.RePaint is null ? [] : new int[evaluations];
            var iteration = 0;
            var total = plan.Iterations(evaluations);
            for (var i = 0; i < evaluations;)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var t = timesteps[i];
                if (blend)
                    for (var b = 0; b < B; b++)
                    {
                        // Known region re-noised to timestep t: q(x_t | x_0) = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps.
                        new NoiseStream(options.Seed, items[b].ItemId).Fill(noise.AsSpan(b * sampleLen, sampleLen), NoisePurpose.KnownRegion, iteration);
                        scheduler.AddNoise(known0.AsSpan(b * sampleLen, sampleLen), noise.AsSpan(b * sampleLen, sampleLen), t, knownT);
                        BlendKnown(x.AsSpan(b * sampleLen, sampleLen), knownT, maskS.AsSpan(b * maskLen, maskLen));
                    }

                x.CopyTo(modelIn, 0);
                if (plan.Cfg) x.CopyTo(modelIn, B * sampleLen);
                scheduler.ScaleModelInput(modelIn, i);
                Array.Fill(tLong, t);
                Array.Fill(tFloat, t);
                denoise.Run(cancellationToken);

                if (plan.Cfg) Guide(pred.AsSpan(0, B * sampleLen), pred.AsSpan(B * sampleLen, B * sampleLen), (float)plan.Guidance, guided);
                if (scheduler.NeedsNoise)
                    for (var b = 0; b < B; b++)
                        new NoiseStream(options.Seed, items[b].ItemId).Fill(noise.AsSpan(b * sampleLen, sampleLen), NoisePurpose.SchedulerStep, iteration);
                scheduler.Step(guided, i, x, xPrev, scheduler.NeedsNoise ? noise : ReadOnlySpan<float>.Empty);
                (x, xPrev) = (xPrev, x);
                iteration++;
                options.Progress?.Report(new SamplingProgress(batchIndex, batchCount, B, iteration, total));

                if (plan.RePaint is { } rp && (i + 1) % rp.JumpLength == 0 && i + 1 < evaluations && jumps[i] < rp.Resamplings - 1)
                {
                    jumps[i]++;
                    var back = i + 1 - rp.JumpLength;
                    for (var b = 0; b < B; b++)
                    {
                        new NoiseStream(options.Seed, items[b].ItemId).Fill(noise.AsSpan(b * sampleLen, sampleLen), NoisePurpose.Resample, iteration);
                        ForwardJump(scheduler, timesteps[i + 1], timesteps[back], x.AsSpan(b * sampleLen, sampleLen), noise.AsSpan(b * sampleLen, sampleLen));
                    }
                    i = back;
                }
                else i++;
            }

            if (blend)
                for (var b = 0; b < B; b++)
                    BlendKnown(x.AsSpan(b * sampleLen, sampleLen), known0.AsSpan(b * sampleLen, sampleLen), maskS.AsSpan(b * maskLen, maskLen));

            var images = p.Kind == ModelKind.Latent ? Decode(x, B) : x;
            var imageLen = c * res * res;
            return Enumerable.Range(0, B).Select(b => images.AsSpan(b * imageLen, imageLen).ToArray()).ToArray();
        }
        finally
        {
            foreach (var t in tensors) t.Dispose();
        }
    }

    /// <summary>Classifier-free guidance (Ho &amp; Salimans 2022, diffusers convention): g = u + w (c − u).</summary>
    internal static void Guide(ReadOnlySpan<float> uncond, ReadOnlySpan<float> cond, float w, Span<float> guided)
    {
        for (var k = 0; k < guided.Length; k++) guided[k] = uncond[k] + w * (cond[k] - uncond[k]);
    }

    /// <summary>x ← m ⊙ x + (1 − m) ⊙ known, the mask (1 = generate) broadcast over channels.</summary>
    internal static void BlendKnown(Span<float> x, ReadOnlySpan<float> known, ReadOnlySpan<float> mask)
    {
        var plane = mask.Length;
        for (var k = 0; k < x.Length; k++)
        {
            var m = mask[k % plane];
            x[k] = m * x[k] + (1 - m) * known[k];
        }
    }

    /// <summary>Context with the region to generate zeroed: context ⊙ (1 − mask), per channel.</summary>
    internal static void MaskedContext(ReadOnlySpan<float> context, ReadOnlySpan<float> mask, int channels, int plane, Span<float> result) =>
        MaskedContext(context, mask, [channels], plane, result);

    /// <summary>Context with each modality's region zeroed by its own mask plane: the channels of group g (in order) times
    /// (1 − mask[g]).</summary>
    internal static void MaskedContext(ReadOnlySpan<float> context, ReadOnlySpan<float> mask, IReadOnlyList<int> groups, int plane, Span<float> result)
    {
        var ch = 0;
        for (var g = 0; g < groups.Count; g++)
            for (var k = 0; k < groups[g]; k++, ch++)
                for (var i = 0; i < plane; i++)
                    result[ch * plane + i] = context[ch * plane + i] * (1 - mask[g * plane + i]);
    }

    /// <summary>
    /// The mask at the sample's resolution: identity for pixel models; for latent models a cell is 1 when any pixel of
    /// its downsample x downsample block is to be generated (max pooling, so the generated region never shrinks).
    /// </summary>
    internal static void SampleSpaceMask(ReadOnlySpan<float> mask, int res, int downsample, Span<float> result)
    {
        if (downsample == 1) { mask.CopyTo(result); return; }
        if (mask.Length != res * res) throw new ArgumentException("latent models take one mask plane");
        var s = res / downsample;
        for (var y = 0; y < s; y++)
            for (var x = 0; x < s; x++)
            {
                var m = 0f;
                for (var dy = 0; dy < downsample; dy++)
                    for (var dx = 0; dx < downsample; dx++)
                        m = Math.Max(m, mask[(y * downsample + dy) * res + x * downsample + dx]);
                result[y * s + x] = m;
            }
    }

    /// <summary>
    /// RePaint's forward jump from timestep <paramref name="from"/> to the noisier <paramref name="to"/> (q(x_to | x_from)):
    /// with the scheduler's forward coefficients x_t = a_t x_0 + b_t ε (probed through AddNoise),
    /// x_to = (a_to/a_from) x_from + sqrt(b_to² − (a_to/a_from)² b_from²) z; for DDPM's VP process this is
    /// sqrt(abar_to/abar_from) x + sqrt(1 − abar_to/abar_from) z.
    /// </summary>
    private static void ForwardJump(IScheduler scheduler, int from, int to, Span<float> x, ReadOnlySpan<float> z)
    {
        var (aFrom, bFrom) = ForwardCoefficients(scheduler, from);
        var (aTo, bTo) = ForwardCoefficients(scheduler, to);
        var ratio = aTo / aFrom;
        var sd = Math.Sqrt(Math.Max(0, bTo * bTo - ratio * ratio * bFrom * bFrom));
        for (var k = 0; k < x.Length; k++) x[k] = (float)(ratio * x[k] + sd * z[k]);
    }

    private static (double A, double B) ForwardCoefficients(IScheduler scheduler, int t)
    {
        Span<float> r = stackalloc float[1];
        scheduler.AddNoise([1f], [0f], t, r);
        var a = (double)r[0];
        scheduler.AddNoise([0f], [1f], t, r);
        return (a, r[0]);
    }

    /// <summary>Images (B x C x res x res) to the sample space: identity for pixel models, scaled VAE latents for latent ones.</summary>
    private float[] ToSampleSpace(float[] images, int count)
    {
        var p = Model.Package;
        if (p.Kind == ModelKind.Pixel) return images;
        var enc = p.VaeEncoder!;
        var z = new float[count * p.SampleChannels * p.SampleSize * p.SampleSize];
        RunOnce(Model.VaeEncoder!, enc.Input(R.Image)!, images, [count, p.ImageChannels, p.Resolution, p.Resolution],
            enc.Outputs[R.Latent], z, [count, p.SampleChannels, p.SampleSize, p.SampleSize]);
        var scale = (float)p.Latent!.ScalingFactor; // LDM: z = scalingFactor · E(x)
        for (var k = 0; k < z.Length; k++) z[k] *= scale;
        return z;
    }

    private float[] Decode(float[] latents, int count)
    {
        var p = Model.Package;
        var dec = p.VaeDecoder!;
        var scaled = new float[latents.Length];
        var inv = 1.0f / (float)p.Latent!.ScalingFactor; // x = D(z / scalingFactor)
        for (var k = 0; k < latents.Length; k++) scaled[k] = latents[k] * inv;
        var images = new float[count * p.ImageChannels * p.Resolution * p.Resolution];
        RunOnce(Model.VaeDecoder!, dec.Input(R.Latent)!, scaled, [count, p.SampleChannels, p.SampleSize, p.SampleSize],
            dec.Outputs[R.Image], images, [count, p.ImageChannels, p.Resolution, p.Resolution]);
        return images;
    }

    private float[] EncodeReferences(InpaintingItem[] items)
    {
        var p = Model.Package;
        var enc = p.ReferenceEncoder!;
        var input = items.SelectMany(i => i.Reference).ToArray();
        var output = new float[items.Length * Model.DenoiserReferenceLength];
        RunOnce(Model.ReferenceEncoder!, enc.Input(R.Image)!, input, [items.Length, p.Reference.Channels, p.Reference.Size, p.Reference.Size],
            enc.Outputs[R.Embedding], output, [items.Length, .. Model.DenoiserReferenceShape]);
        return output;
    }

    private void RunOnce(OrtSession session, string inputName, float[] input, long[] inputShape, string outputName, float[] output, long[] outputShape)
    {
        using var i = OrtValue.CreateTensorValueFromMemory(input, inputShape);
        using var o = OrtValue.CreateTensorValueFromMemory(output, outputShape);
        session.Run([inputName], [i], [outputName], [o]);
    }

    private static float[] Stack(float[] first, float[] second, bool both)
    {
        if (!both) return second;
        var r = new float[first.Length + second.Length];
        first.CopyTo(r, 0);
        second.CopyTo(r, first.Length);
        return r;
    }
}
