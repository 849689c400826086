#!/usr/bin/env bash
# Idempotent setup for a fresh machine of this kind (Debian 12, .NET 10 SDK, Node 20, root or sudo).
# Installs: Debian packages, the pinned npm packages (Azurite), GDCM's C# binding (extracted, without Mono) and the
# Bicep compiler (a NuGet package). Other NuGet packages are restored by the build. A second run does nothing and
# takes < 1 s.
# Usage: infra/setup.sh [--quiet]   (--quiet drops the final "ready" line; installing steps always say what they do,
# with a rough duration, so a first run of ./pipeline never sits silent for minutes)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
QUIET=0; [ "${1:-}" = "--quiet" ] && QUIET=1
log() { [ $QUIET -eq 1 ] || echo "[setup] $*" >&2; }
# step "what (usually ~N s)": announced before a slow step; done reports how long it took.
STEP_START=0
step() { STEP_START=$SECONDS; echo "[setup] $*" >&2; }
done_step() { echo "[setup]   done in $((SECONDS - STEP_START)) s" >&2; }
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"

# 0. Tools the commands cannot install themselves (see README, Prerequisites).
for tool in dotnet node npm /usr/bin/python3 dpkg-query; do
  command -v "$tool" >/dev/null 2>&1 || { echo "setup: '$tool' is required but not found (README: Prerequisites)" >&2; exit 1; }
done

APT_PACKAGES=(libgdcm3.0 libgdcm-tools dcmtk dicom3tools liblapacke libopenblas0-pthread
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
  step "first-run setup: installing ${#missing[@]} Debian package(s): ${missing[*]} (usually 1-3 min on a fresh machine)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  done_step
fi

# 2. GDCM's C# binding without Mono: extract libgdcm-cil's files into .pipeline/gdcm.
GDCM_DIR="$ROOT/.pipeline/gdcm"
if [ ! -f "$GDCM_DIR/gdcm-sharp.dll" ]; then
  if [ -f /usr/lib/cli/gdcm-sharp-3.0/gdcm-sharp.dll ]; then
    mkdir -p "$GDCM_DIR"; cp /usr/lib/cli/gdcm-sharp-3.0/* "$GDCM_DIR/"
  else
    step "first-run setup: extracting GDCM's C# binding (libgdcm-cil) into .pipeline/gdcm (usually ~5 s)"
    tmp=$(mktemp -d); ( cd "$tmp" && apt-get download libgdcm-cil >/dev/null 2>&1 || { $SUDO apt-get update -qq && apt-get download libgdcm-cil >/dev/null; } )
    dpkg-deb -x "$tmp"/libgdcm-cil_*.deb "$tmp/x"
    mkdir -p "$GDCM_DIR"; cp "$tmp"/x/usr/lib/cli/gdcm-sharp-3.0/* "$GDCM_DIR/"
    rm -rf "$tmp"
    done_step
  fi
fi

# 3. npm packages pinned in package.json + package-lock.json.
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
PY
}
if ! npm_ok; then
  step "first-run setup: installing the pinned npm packages (Azurite) (usually 20-60 s)"
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
  done_step
fi

# 4. The Bicep compiler: Azure.Bicep.CommandLine.linux-x64 (the real `bicep` binary inside a NuGet package), restored
#    like any package by the restore-only infra/bicep-cli/bicep-cli.csproj; .pipeline/bicep/bicep links to tools/bicep
#    in the package folder (tests run `bicep build` and `bicep lint` through it).
BICEP_VERSION=$(sed -n 's:.*<BicepVersion>\(.*\)</BicepVersion>.*:\1:p' infra/bicep-cli/bicep-cli.csproj)
BICEP_LINK="$ROOT/.pipeline/bicep/bicep"
if [ ! -x "$BICEP_LINK" ] || [[ "$(readlink "$BICEP_LINK")" != */azure.bicep.commandline.linux-x64/$BICEP_VERSION/tools/bicep ]]; then
  step "first-run setup: restoring the Bicep compiler (Azure.Bicep.CommandLine.linux-x64 $BICEP_VERSION, NuGet; usually 10-40 s)"
  dotnet restore infra/bicep-cli/bicep-cli.csproj -nologo -v q >/dev/null
  PKG_ROOT=$(/usr/bin/python3 -c 'import json, sys; print(next(iter(json.load(open(sys.argv[1]))["packageFolders"])))' infra/bicep-cli/obj/project.assets.json)
  BICEP_BIN="${PKG_ROOT%/}/azure.bicep.commandline.linux-x64/$BICEP_VERSION/tools/bicep"
  [ -f "$BICEP_BIN" ] || { echo "setup: $BICEP_BIN not found after restoring Azure.Bicep.CommandLine.linux-x64 $BICEP_VERSION" >&2; exit 1; }
  [ -x "$BICEP_BIN" ] || chmod +x "$BICEP_BIN"
  mkdir -p "$(dirname "$BICEP_LINK")"; ln -sfn "$BICEP_BIN" "$BICEP_LINK"
  done_step
fi
log "ready"
