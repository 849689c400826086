#!/usr/bin/env bash
# Idempotent setup for a fresh machine of this kind (Debian 12, .NET 10 SDK, Node 20, root or sudo).
# Installs: Debian packages, the pinned npm packages (Azurite, onnxruntime-node's native library),
# GDCM's C# binding (extracted, without Mono), a local NuGet feed holding System.IO.Hashing
# packed from the SDK's own DLL (see DEPENDENCIES.md), and the Bicep compiler (a NuGet package).
# A second run does nothing and takes < 1 s.
# Usage: infra/setup.sh [--quiet]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
QUIET=0; [ "${1:-}" = "--quiet" ] && QUIET=1
log() { [ $QUIET -eq 1 ] || echo "[setup] $*" >&2; }
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"

# 0. Tools the commands cannot install themselves (see README, Prerequisites).
for tool in dotnet node npm /usr/bin/python3 dpkg-query; do
  command -v "$tool" >/dev/null 2>&1 || { echo "setup: '$tool' is required but not found (README: Prerequisites)" >&2; exit 1; }
done

APT_PACKAGES=(libgdcm3.0 libgdcm-tools dcmtk libturbojpeg0 liblapacke libopenblas0-pthread
  python3-numpy python3-torch python3-onnx python3-torchvision python3-pydicom python3-skimage
  python3-scipy python3-pil python3-jsonschema chromium)

# 1. Debian packages (only the missing ones, found with one dpkg query; apt-get update only when something is missing).
# (dpkg-query exits 1 when a package is unknown to dpkg: that is "missing", not an error)
installed="$({ dpkg-query -W -f='${Package} ${Status}\n' "${APT_PACKAGES[@]}" 2>/dev/null || true; } | awk '$NF == "installed" {print $1}')"
missing=()
for p in "${APT_PACKAGES[@]}"; do
  grep -qx "$p" <<<"$installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "apt: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# 2. GDCM's C# binding without Mono: extract libgdcm-cil's files into .pipeline/gdcm.
GDCM_DIR="$ROOT/.pipeline/gdcm"
if [ ! -f "$GDCM_DIR/gdcm-sharp.dll" ]; then
  if [ -f /usr/lib/cli/gdcm-sharp-3.0/gdcm-sharp.dll ]; then
    mkdir -p "$GDCM_DIR"; cp /usr/lib/cli/gdcm-sharp-3.0/* "$GDCM_DIR/"
  else
    log "gdcm: extracting libgdcm-cil"
    tmp=$(mktemp -d); ( cd "$tmp" && apt-get download libgdcm-cil >/dev/null 2>&1 || { $SUDO apt-get update -qq && apt-get download libgdcm-cil >/dev/null; } )
    dpkg-deb -x "$tmp"/libgdcm-cil_*.deb "$tmp/x"
    mkdir -p "$GDCM_DIR"; cp "$tmp"/x/usr/lib/cli/gdcm-sharp-3.0/* "$GDCM_DIR/"
    rm -rf "$tmp"
  fi
fi

# 3. npm packages pinned in package.json + package-lock.json (onnxruntime-node's download script skipped).
#    Installed when a pinned package is missing or at another version (timestamps are not used: a checkout or merge
#    touches package-lock.json without changing it).
npm_ok() {
  /usr/bin/python3 - "$ROOT" <<'PY'
import json, os, sys
root = sys.argv[1]
want = json.load(open(os.path.join(root, "package.json")))["dependencies"]
for name, version in want.items():
    p = os.path.join(root, "node_modules", name, "package.json")
    if not os.path.isfile(p) or json.load(open(p)).get("version") != version:
        sys.exit(1)
if not os.path.isfile(os.path.join(root, "node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1")):
    sys.exit(1)
PY
}
if ! npm_ok; then
  log "npm: installing azurite and onnxruntime-node"
  ONNXRUNTIME_NODE_INSTALL=skip ONNXRUNTIME_NODE_INSTALL_CUDA=skip npm ci --no-audit --no-fund --loglevel=error >/dev/null
fi

# 4. Local NuGet feed: System.IO.Hashing packed from the SDK's own copy (never committed).
FEED="$ROOT/.nuget-local"; PKG_VERSION=10.0.0
if [ ! -f "$FEED/system.io.hashing.$PKG_VERSION.nupkg" ]; then
  SDK_DIR="$(dirname "$(dotnet --list-sdks | tail -n1 | sed -E 's/^([^ ]+) \[(.*)\]$/\2\/\1/')/x")"
  DLL=$(find "$SDK_DIR" -path '*Sdks/Microsoft.NET.Sdk/tools/net*' -name System.IO.Hashing.dll 2>/dev/null | grep -v net4 | head -n1)
  [ -n "$DLL" ] || { echo "setup: System.IO.Hashing.dll not found under $SDK_DIR" >&2; exit 1; }
  log "nuget: packing System.IO.Hashing $PKG_VERSION from $DLL"
  mkdir -p "$FEED"
  /usr/bin/python3 - "$DLL" "$FEED/system.io.hashing.$PKG_VERSION.nupkg" "$PKG_VERSION" <<'PY'
import sys, zipfile
dll, out, ver = sys.argv[1:4]
nuspec = f'''<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd">
  <metadata><id>System.IO.Hashing</id><version>{ver}</version><authors>local</authors>
  <description>System.IO.Hashing packed at setup time from the installed .NET SDK's own copy.</description>
  <dependencies><group targetFramework="net10.0" /></dependencies></metadata>
</package>'''
with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED) as z:
    z.writestr('System.IO.Hashing.nuspec', nuspec)
    z.write(dll, 'lib/net10.0/System.IO.Hashing.dll')
PY
fi
# NuGet's global cache is shared by every clone on the machine: drop its copy only when it is broken or holds another
# DLL than the one packed here (removing it unconditionally broke builds running in other clones at that moment).
CACHED="${NUGET_PACKAGES:-$HOME/.nuget/packages}/system.io.hashing/$PKG_VERSION"
if [ -f "$CACHED/.nupkg.metadata" ]; then   # written last by NuGet: the extraction is complete
  PACKED_DLL_SHA=$(/usr/bin/python3 -c 'import sys, zipfile, hashlib; print(hashlib.sha256(zipfile.ZipFile(sys.argv[1]).read("lib/net10.0/System.IO.Hashing.dll")).hexdigest())' "$FEED/system.io.hashing.$PKG_VERSION.nupkg")
  CACHED_DLL="$CACHED/lib/net10.0/System.IO.Hashing.dll"
  if [ ! -f "$CACHED_DLL" ] || [ "$(sha256sum "$CACHED_DLL" | cut -d' ' -f1)" != "$PACKED_DLL_SHA" ]; then
    log "nuget: refreshing the cached System.IO.Hashing $PKG_VERSION"
    rm -rf "$CACHED"
  fi
fi

# 5. The Bicep compiler: Azure.Bicep.CommandLine.linux-x64 (the real `bicep` binary inside a NuGet package), restored
#    like any package by the restore-only infra/bicep-cli/bicep-cli.csproj; .pipeline/bicep/bicep links to tools/bicep
#    in the package folder (tests run `bicep build` and `bicep lint` through it).
BICEP_VERSION=$(sed -n 's:.*<BicepVersion>\(.*\)</BicepVersion>.*:\1:p' infra/bicep-cli/bicep-cli.csproj)
BICEP_LINK="$ROOT/.pipeline/bicep/bicep"
if [ ! -x "$BICEP_LINK" ] || [[ "$(readlink "$BICEP_LINK")" != */azure.bicep.commandline.linux-x64/$BICEP_VERSION/tools/bicep ]]; then
  log "nuget: restoring Azure.Bicep.CommandLine.linux-x64 $BICEP_VERSION"
  dotnet restore infra/bicep-cli/bicep-cli.csproj -nologo -v q >/dev/null
  PKG_ROOT=$(/usr/bin/python3 -c 'import json, sys; print(next(iter(json.load(open(sys.argv[1]))["packageFolders"])))' infra/bicep-cli/obj/project.assets.json)
  BICEP_BIN="${PKG_ROOT%/}/azure.bicep.commandline.linux-x64/$BICEP_VERSION/tools/bicep"
  [ -f "$BICEP_BIN" ] || { echo "setup: $BICEP_BIN not found after restoring Azure.Bicep.CommandLine.linux-x64 $BICEP_VERSION" >&2; exit 1; }
  [ -x "$BICEP_BIN" ] || chmod +x "$BICEP_BIN"
  mkdir -p "$(dirname "$BICEP_LINK")"; ln -sfn "$BICEP_BIN" "$BICEP_LINK"
fi
log "ready"
