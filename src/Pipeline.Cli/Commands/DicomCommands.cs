using System.CommandLine;
using System.Text.Json;
using Pipeline.Imaging.Codecs;
using Pipeline.Imaging.Dicom;

namespace Pipeline.Cli.Commands;

/// <summary><c>pipeline dicom info|render</c>: what a DICOM file says about itself, and how a viewer would show it.</summary>
public sealed class DicomCommands : ICommandGroup
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public Command Build()
    {
        var dicom = new Command("dicom", "Inspect and render DICOM files.");

        var info = new Command("info", "Print the typed image attributes as JSON (reads FOR PROCESSING images too, and says so).");
        var infoFile = new Argument<FileInfo>("file") { Description = "DICOM file." };
        info.Arguments.Add(infoFile);
        info.SetAction(parse =>
        {
            var path = parse.GetValue(infoFile)!.FullName;
            try
            {
                var file = DicomFile.Open(path, new DicomReadOptions { StopBeforePixelData = true });
                var a = DicomImageAttributes.From(file);
                var doc = new
                {
                    file = path,
                    transferSyntax = file.TransferSyntax.Name,
                    attributes = a,
                    forProcessing = a.IsForProcessing,
                };
                Console.WriteLine(JsonSerializer.Serialize(doc, Json));
                return ExitCodes.Ok;
            }
            catch (DicomException ex) { Console.Error.WriteLine(ex.Message); return ExitCodes.Usage; }
            catch (IOException ex) { Console.Error.WriteLine($"{path}: {ex.Message}"); return ExitCodes.NotFound; }
        });
        dicom.Subcommands.Add(info);

        var render = new Command("render", "Render to PNG as a viewer would: Modality LUT, VOI (window or VOI LUT), MONOCHROME1 inversion, padding black.");
        var file = new Argument<FileInfo>("file") { Description = "DICOM file." };
        var output = new Option<FileInfo>("-o", "--output") { Description = "Output PNG.", Required = true };
        var index = new Option<int>("--window-index") { Description = "Which window (or VOI LUT item) to use when several are offered.", DefaultValueFactory = _ => 0 };
        var bits = new Option<int>("--bits") { Description = "PNG bit depth: 8 or 16.", DefaultValueFactory = _ => 8 };
        var voi = new Option<VoiSource>("--voi") { Description = "VOI source: Auto, Window, LutSequence or MinMax.", DefaultValueFactory = _ => VoiSource.Auto };
        var center = new Option<double?>("--center") { Description = "Explicit window center (with --width)." };
        var width = new Option<double?>("--width") { Description = "Explicit window width (with --center)." };
        var forProcessing = new Option<bool>("--allow-for-processing") { Description = "Render FOR PROCESSING images instead of refusing them." };
        render.Arguments.Add(file);
        foreach (var o in new Option[] { output, index, bits, voi, center, width, forProcessing }) render.Options.Add(o);
        render.SetAction(async (parse, ct) =>
        {
            var path = parse.GetValue(file)!.FullName;
            int b = parse.GetValue(bits);
            if (b is not (8 or 16)) { Console.Error.WriteLine("--bits must be 8 or 16"); return ExitCodes.Usage; }
            var c = parse.GetValue(center); var w = parse.GetValue(width);
            if ((c == null) != (w == null)) { Console.Error.WriteLine("--center and --width go together"); return ExitCodes.Usage; }
            try
            {
                using var image = DicomImage.Open(path, new DicomImageReadOptions { SkipForProcessing = !parse.GetValue(forProcessing) });
                var options = new DicomRenderOptions { VoiSource = parse.GetValue(voi), VoiIndex = parse.GetValue(index) };
                if (c != null) options.Window = new VoiWindow(c.Value, w!.Value, VoiWindow.ParseFunction(image.Attributes.VoiLutFunction, path));
                using var display = DicomRenderer.Render(image, options);
                using var quantised = DicomRenderer.Quantise(display, b);
                var outPath = parse.GetValue(output)!.FullName;
                await PngCodec.WriteAsync(outPath, quantised, cancellationToken: ct);
                Console.WriteLine($"{outPath}: {quantised.Width}x{quantised.Height} {b}-bit {image.Attributes.PhotometricInterpretation} ({image.File.TransferSyntax.Name})");
                return ExitCodes.Ok;
            }
            catch (DicomException ex) { Console.Error.WriteLine(ex.Message); return ExitCodes.Usage; }
        });
        dicom.Subcommands.Add(render);
        return dicom;
    }
}
