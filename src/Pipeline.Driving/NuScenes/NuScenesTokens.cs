using System.Security.Cryptography;
using System.Text;

namespace Pipeline.Driving.NuScenes;

/// <summary>Deterministic 32-hex-digit tokens (nuScenes tokens are 128-bit hex strings): SHA-256 of the seed and a key, truncated.</summary>
public static class NuScenesTokens
{
    public static string For(ulong seed, string kind, params object[] key) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{seed}/{kind}/{string.Join('/', key)}")))[..32];
}
