using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Pipeline.Driving.NuScenes;

/// <summary>
/// nuScenes lidar files (<c>samples/LIDAR_TOP/*.pcd.bin</c>): little-endian float32 records of 5 values, x, y, z
/// (sensor frame, metres), intensity (0-255) and ring index (devkit: LidarPointCloud.from_file reshapes to (-1, 5)).
/// </summary>
public static class LidarPointCloud
{
    public const int Stride = 5;

    public static byte[] Encode(ReadOnlySpan<float> points)
    {
        if (points.Length % Stride != 0) throw new ArgumentException($"{points.Length} floats is not a whole number of {Stride}-float points", nameof(points));
        var bytes = new byte[points.Length * 4];
        for (int i = 0; i < points.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), points[i]);
        return bytes;
    }

    /// <summary>Decodes a file; throws <see cref="InvalidDataException"/> naming the file and the problem.</summary>
    public static float[] Decode(ReadOnlySpan<byte> bytes, string file)
    {
        if (bytes.Length == 0) throw new InvalidDataException($"{file}: empty point cloud");
        if (bytes.Length % (Stride * 4) != 0)
            throw new InvalidDataException($"{file}: {bytes.Length} bytes is not a whole number of {Stride * 4}-byte points (x, y, z, intensity, ring as float32): truncated?");
        var points = new float[bytes.Length / 4];
        if (BitConverter.IsLittleEndian) MemoryMarshal.Cast<byte, float>(bytes).CopyTo(points);
        else for (int i = 0; i < points.Length; i++) points[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[(4 * i)..]);
        for (int i = 0; i < points.Length; i++)
            if (!float.IsFinite(points[i])) throw new InvalidDataException($"{file}: point {i / Stride} has a non-finite value");
        return points;
    }
}
