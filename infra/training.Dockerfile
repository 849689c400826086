# Training job image for Azure Container Apps Jobs (GPU workload profile): trains the reference-guided inpainting
# denoiser and writes an ONNX model package (docs/model-package.md). Build from the repository root:
#   docker build -f infra/training.Dockerfile -t pipeline-training:1 .
# The job reads training tensors, not DICOMs: export them first with the C# preparation
#   ./pipeline train-data export --dataset /datasets/mammo --out /data/mammo [--transfer-pairs /datasets/lt]
# Run (parameters from the environment; every train.py option has a TRAIN_<OPTION> variable, see training/README.md):
#   docker run --gpus all -v /data/mammo:/data:ro -v /runs/mammo-1:/out \
#     -e TRAIN_MAX_MINUTES=240 -e TRAIN_SEED=0 pipeline-training:1
# Resume after a restart or preemption: run again with the same /out volume (Azure Files share in the job).
#
# Base: the official PyTorch CUDA runtime image (Python 3.11, torch 2.4.1, CUDA 12.1, cuDNN 9). The code is tested
# here with Debian's torch 1.13; it uses only APIs that exist in both (torch.onnx.export with opset 17, GridSample
# needs opset >= 16). Pin by digest in production: docker pull pytorch/pytorch:2.4.1-cuda12.1-cudnn9-runtime and
# replace the tag with @sha256:<digest>.
FROM pytorch/pytorch:2.4.1-cuda12.1-cudnn9-runtime

# Pure-Python dependencies, pinned. numpy < 2 keeps torch 2.4's numpy bridge on the ABI it was built for; onnx 1.16
# reads/checks opset 17 graphs. No DICOM reader: the job reads the .npy tensors `pipeline train-data export` writes.
RUN python -m pip install --no-cache-dir \
        "numpy==1.26.4" "scipy==1.13.1" "pillow==10.4.0" "onnx==1.16.2"

# Non-root user; /data is the exported training data (read-only mount), /out the run folder (checkpoints, logs, package).
RUN useradd --create-home --uid 10001 trainer && mkdir -p /data /out && chown trainer /out
WORKDIR /app
COPY training/*.py /app/training/
USER trainer

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    TRAIN_DATA=/data \
    TRAIN_OUT=/out \
    TRAIN_MAX_MINUTES=60 \
    TRAIN_SEED=0 \
    TRAIN_DEVICE=auto \
    TRAIN_BATCH_SIZE=64 \
    TRAIN_THREADS=4

# Container Apps sends SIGTERM before stopping a replica: train.py checkpoints and exits 130; the job's retry (or the
# next execution with the same /out) resumes from /out/checkpoints/last.pt. Exec form: python is PID 1 and gets the
# signal directly (train.py installs its own SIGTERM/SIGINT handlers, which PID 1 needs).
STOPSIGNAL SIGTERM
ENTRYPOINT ["python", "/app/training/train.py"]
CMD []
