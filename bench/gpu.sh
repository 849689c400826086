#!/usr/bin/env bash
# GPU benchmark (docs/inference.md, "GPU benchmark"): the committed models on ONNX Runtime's CUDA execution provider.
#   bench/gpu.sh [bench gpu options, e.g. --items 8 --steps 20 --repeats 5]
# 1. refuses (exit 3, nothing written) when nvidia-smi finds no NVIDIA GPU;
# 2. builds the bench with -p:OnnxRuntimeFlavor=Gpu (Microsoft.ML.OnnxRuntime.Gpu.Linux) into its own folders, so the
#    CPU build's bin/obj are untouched;
# 3. runs `bench gpu`, which fails (no fallback to the CPU) when the CUDA provider cannot be created, and writes
#    bench/results/gpu.json.
# Non-interactive; needs the .NET SDK, the NuGet feed, and GDCM's C# binding in .pipeline/gdcm (infra/setup.sh, or
# Debian's libgdcm-cil in /usr/lib/cli/gdcm-sharp-3.0, copied here when present) because the bench references the
# imaging project. The CPU dry run of the same code path: dotnet run -c Release --project bench/Pipeline.Bench -- gpu --device cpu
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if ! command -v nvidia-smi >/dev/null 2>&1; then
  echo "bench/gpu.sh: no NVIDIA GPU here (nvidia-smi not found); nothing measured, nothing written." >&2
  exit 3
fi
if ! gpus="$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>&1)" || [ -z "$gpus" ]; then
  echo "bench/gpu.sh: nvidia-smi lists no usable NVIDIA GPU ($gpus); nothing measured, nothing written." >&2
  exit 3
fi
echo "bench/gpu.sh: GPU: $gpus"

GDCM_DIR="$ROOT/.pipeline/gdcm"
if [ ! -f "$GDCM_DIR/gdcm-sharp.dll" ]; then
  if [ -f /usr/lib/cli/gdcm-sharp-3.0/gdcm-sharp.dll ]; then
    mkdir -p "$GDCM_DIR"; cp /usr/lib/cli/gdcm-sharp-3.0/* "$GDCM_DIR/"
  else
    echo "bench/gpu.sh: .pipeline/gdcm/gdcm-sharp.dll is missing (the bench builds the imaging project): run infra/setup.sh," \
         "or copy .pipeline/gdcm from a checkout where it ran." >&2
    exit 2
  fi
fi

ART="$ROOT/.pipeline/gpu-build"   # ignored (.pipeline/): GPU-flavour obj/bin apart from the CPU build's
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
dotnet build bench/Pipeline.Bench -c Release -nologo -v q -p:OnnxRuntimeFlavor=Gpu --artifacts-path "$ART"
BIN="$(dirname "$(find "$ART/bin/Pipeline.Bench" -name Pipeline.Bench.dll | head -n 1)")"
[ -f "$BIN/libonnxruntime_providers_cuda.so" ] || { echo "bench/gpu.sh: the GPU build has no libonnxruntime_providers_cuda.so in $BIN" >&2; exit 2; }
exec dotnet "$BIN/Pipeline.Bench.dll" gpu --device cuda "$@"
