# syntax=docker/dockerfile:1.7
# The control image of the Functions app (role "control": triggers, orchestrations, CPU activities incl. metrics
# feature networks on ONNX Runtime's CPU provider). Same app as functions-gpu.Dockerfile on the official
# dotnet-isolated base image (Debian). Build from the repository root:
#   docker build -f infra/functions-cpu.Dockerfile -t <registry>/pipeline-functions:<tag> .
# ONNX Runtime (CPU) comes with the app: the Microsoft.ML.OnnxRuntime NuGet package puts libonnxruntime.so (linux-x64)
# into the published folder.
# Lines marked "unverified" could not be checked here (no Docker engine, no network to those registries).

ARG DOTNET_SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0
# unverified: the .NET 10 isolated tag of the Functions base image
ARG FUNCTIONS_IMAGE=mcr.microsoft.com/azure-functions/dotnet-isolated:4-dotnet-isolated10.0

FROM ${DOTNET_SDK_IMAGE} AS build
WORKDIR /src
COPY . .
# Pipeline.Imaging references GDCM's C# binding at .pipeline/gdcm (infra/setup.sh puts it there; not in the context):
# extract Debian/Ubuntu's libgdcm-cil without Mono (unverified: the package name in the SDK image's distribution)
RUN apt-get update && mkdir -p /tmp/gdcm .pipeline/gdcm && cd /tmp/gdcm \
 && apt-get download libgdcm-cil && dpkg-deb -x libgdcm-cil_*.deb x && cp x/usr/lib/cli/gdcm-sharp-3.0/* /src/.pipeline/gdcm/ \
 && rm -rf /tmp/gdcm /var/lib/apt/lists/*
RUN printf '<?xml version="1.0" encoding="utf-8"?>\n<configuration><packageSources><clear />\n<add key="nuget.org" value="https://api.nuget.org/v3/index.json" />\n</packageSources></configuration>\n' > /tmp/nuget.config \
 && dotnet restore functions/Pipeline.Functions/Pipeline.Functions.csproj --configfile /tmp/nuget.config \
 && dotnet publish functions/Pipeline.Functions/Pipeline.Functions.csproj -c Release --no-restore -o /out /p:UseAppHost=false

FROM ${FUNCTIONS_IMAGE}
# Debian 12 package names (as infra/setup.sh installs them)
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends curl libgdcm3.0 liblapacke libopenblas0-pthread \
 && mkdir -p /tmp/gdcm /opt/gdcm && cd /tmp/gdcm \
 && apt-get download libgdcm-cil && dpkg-deb -x libgdcm-cil_*.deb x && cp x/usr/lib/cli/gdcm-sharp-3.0/* /opt/gdcm/ \
 && cd / && rm -rf /tmp/gdcm /var/lib/apt/lists/* \
 && useradd --uid 10001 --user-group --create-home --home-dir /home/app --shell /usr/sbin/nologin app

COPY --from=build /out /home/site/wwwroot
# GDCM's binding and SWIG glue from this image's own distribution (matching its libgdcm), beside the app, where
# src/Pipeline.Imaging/Dicom/GdcmNative.cs looks first
RUN cp /opt/gdcm/* /home/site/wwwroot/

ENV AzureWebJobsScriptRoot=/home/site/wwwroot \
    AzureFunctionsJobHost__Logging__Console__IsEnabled=true \
    FUNCTIONS_WORKER_RUNTIME=dotnet-isolated \
    ASPNETCORE_URLS=http://+:8080 \
    HOME=/home/app

USER 10001
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD curl -fsS http://localhost:8080/api/healthz || exit 1
# the base image's own entrypoint starts the Functions host (unverified: it honours ASPNETCORE_URLS for the port)
