# syntax=docker/dockerfile:1.7
# The GPU worker image of the Functions app (role "gpu": the inference-requests queue), also usable for the control
# role. No GPU-ready Azure Functions base image exists (azure-functions-docker#1201), so this starts from NVIDIA's
# CUDA 13 + cuDNN 9 runtime image and copies in the Functions host and the .NET runtimes from the official
# dotnet-isolated image. Build from the repository root:
#   docker build -f infra/functions-gpu.Dockerfile -t <registry>/pipeline-functions-gpu:<tag> .
# ONNX Runtime comes with the app: publishing with -p:OnnxRuntimeFlavor=Gpu references Microsoft.ML.OnnxRuntime.Gpu.Linux
# 1.31.0 instead of the CPU package, which puts libonnxruntime.so and libonnxruntime_providers_cuda.so into the published
# folder; the CUDA provider needs the CUDA 13 runtime, cuBLAS 13 and cuDNN 9 from the base image.
# Lines marked "unverified" could not be checked here (no Docker engine, no network to those registries).

ARG DOTNET_SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0
# unverified: the .NET 10 isolated tag of the Functions base image
ARG FUNCTIONS_IMAGE=mcr.microsoft.com/azure-functions/dotnet-isolated:4-dotnet-isolated10.0
# CUDA 13 runtime (with cuBLAS 13) and cuDNN 9: what Microsoft.ML.OnnxRuntime.Gpu.Linux 1.31.0's CUDA provider is built
# against. Checked on the package itself (readelf -d libonnxruntime_providers_cuda.so): it needs libcublasLt.so.13,
# libcublas.so.13, libcurand.so.10, libcudart.so.13 and the driver's libcuda.so.1; symbols up to GLIBC_2.28 /
# GLIBCXX_3.4.22 (Ubuntu 24.04: 2.39 / 3.4.33); ONNX Runtime's CUDA EP requirements add cuDNN 9 (docs/inference.md).
# (unverified: this tag's name on Docker Hub; no registry is reachable here)
ARG CUDA_IMAGE=nvidia/cuda:13.0.1-cudnn-runtime-ubuntu24.04

# ---- 1. publish the Functions app (restores from nuget.org only, whatever feeds the build machine configures)
FROM ${DOTNET_SDK_IMAGE} AS build
WORKDIR /src
COPY . .
# Pipeline.Imaging references GDCM's C# binding at .pipeline/gdcm (infra/setup.sh puts it there; not in the context):
# extract Debian/Ubuntu's libgdcm-cil without Mono (unverified: the package name in the SDK image's distribution)
RUN apt-get update && mkdir -p /tmp/gdcm .pipeline/gdcm && cd /tmp/gdcm \
 && apt-get download libgdcm-cil && dpkg-deb -x libgdcm-cil_*.deb x && cp x/usr/lib/cli/gdcm-sharp-3.0/* /src/.pipeline/gdcm/ \
 && rm -rf /tmp/gdcm /var/lib/apt/lists/*
RUN printf '<?xml version="1.0" encoding="utf-8"?>\n<configuration><packageSources><clear />\n<add key="nuget.org" value="https://api.nuget.org/v3/index.json" />\n</packageSources></configuration>\n' > /tmp/nuget.config \
# verified without Docker (2026-12-02): these restore + publish lines, run on the repository, put libonnxruntime.so,
# libonnxruntime_providers_cuda.so and _shared.so in /out; never run on a CUDA machine (no GPU lent)
 && dotnet restore functions/Pipeline.Functions/Pipeline.Functions.csproj --configfile /tmp/nuget.config -p:OnnxRuntimeFlavor=Gpu \
 && dotnet publish functions/Pipeline.Functions/Pipeline.Functions.csproj -c Release --no-restore -o /out /p:UseAppHost=false -p:OnnxRuntimeFlavor=Gpu \
 && test -f /out/libonnxruntime_providers_cuda.so

# ---- 3. the Functions host and .NET runtimes (host: ASP.NET Core; worker: .NET 10) from the official image
FROM ${FUNCTIONS_IMAGE} AS functions

# ---- 4. runtime
FROM ${CUDA_IMAGE}
# Native libraries the app binds: GDCM (DICOM codecs; the C# binding extracted without
# Mono, as infra/setup.sh does), LAPACKE/OpenBLAS (Fréchet distance), ICU/OpenSSL for the Functions host, curl for
# the health check. Ubuntu 24.04 renamed some libraries with a t64 suffix; each line tries both names (unverified).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates curl libicu74 libssl3t64 zlib1g \
      liblapacke libopenblas0-pthread \
 && (apt-get install -y --no-install-recommends libgdcm3.0t64 || apt-get install -y --no-install-recommends libgdcm3.0) \
 && mkdir -p /tmp/gdcm /opt/gdcm && cd /tmp/gdcm \
 && apt-get download libgdcm-cil && dpkg-deb -x libgdcm-cil_*.deb x && cp x/usr/lib/cli/gdcm-sharp-3.0/* /opt/gdcm/ \
 && cd / && rm -rf /tmp/gdcm /var/lib/apt/lists/*

COPY --from=functions /usr/share/dotnet /usr/share/dotnet
COPY --from=functions /azure-functions-host /azure-functions-host
COPY --from=build /out /home/site/wwwroot
# GDCM's binding and SWIG glue from this image's own distribution (matching its libgdcm), beside the app, where
# src/Pipeline.Imaging/Dicom/GdcmNative.cs looks first
RUN cp /opt/gdcm/* /home/site/wwwroot/

RUN ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet \
 && useradd --uid 10001 --user-group --create-home --home-dir /home/app --shell /usr/sbin/nologin app

# ONNX Runtime and its CUDA provider library load from the app's folder (the Gpu.Linux package's natives, published
# beside the app). The app listens on 8080 (a non-root user cannot bind 80).
ENV AzureWebJobsScriptRoot=/home/site/wwwroot \
    AzureFunctionsJobHost__Logging__Console__IsEnabled=true \
    FUNCTIONS_WORKER_RUNTIME=dotnet-isolated \
    DOTNET_ROOT=/usr/share/dotnet \
    ASPNETCORE_URLS=http://+:8080 \
    HOME=/home/app \
    NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility

USER 10001
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD curl -fsS http://localhost:8080/api/healthz || exit 1
# unverified: the host's executable path inside the official image
ENTRYPOINT ["/azure-functions-host/Microsoft.Azure.WebJobs.Script.WebHost"]
