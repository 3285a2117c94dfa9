# vidext web app, self-hosted.  The steps live in scripts/docker_steps.sh, which
# tests/test_deploy.py runs for real (it reads this file: COPY, ENV, RUN, CMD).
#
#   docker build -t vidext .                                   GPU-capable (default)
#   docker run --gpus all -p 7860:7860 -v vidext-models:/data vidext
#
# CUDA: the default TORCH_VARIANT=cuda installs the PyPI torch wheels, which
# bundle the CUDA 12 runtime, so the slim base needs no CUDA image; the host
# needs an NVIDIA driver and the NVIDIA Container Toolkit (`--gpus all`).
#   docker build --build-arg TORCH_VARIANT=cpu -t vidext:cpu .  CPU only, several GB smaller
#   docker build --build-arg PRELOAD_MODELS="rife-4.25 musicgen-small" -t vidext .
#                                                              weights baked into the model cache
# RIFE on the CPU: the server measures its settings in the background at start (low priority, once
# the machine is quiet) into /data/calibration.json, which the volume keeps across restarts; jobs
# before that take the table of CPUs already measured or a one-second screen. On the host that will
# run the image, `docker run ... vidext scripts/docker_steps.sh calibrate` measures them at once.
# A Ray cluster for `vidext batch` from the same image (docs/batch.md); inputs and the
# output folder on storage every node mounts at the same path, one secret token for all:
#   docker run --gpus all --network host -e RAY_AUTH_TOKEN=... -v /shared:/shared vidext \
#       scripts/docker_steps.sh ray head
#   docker run --gpus all --network host -e RAY_AUTH_TOKEN=... -v /shared:/shared vidext \
#       scripts/docker_steps.sh ray worker HEAD:6379
#   docker exec -e RAY_AUTH_TOKEN=... HEAD_CONTAINER vidext batch interpolate /shared/in \
#       --out-dir /shared/out --address HEAD:6379 --model rife --factor 4 --chunk-seconds 120
# Limits for a public deployment: -e VIDEXT_MAX_UPLOAD_MB=200 -e VIDEXT_MAX_DURATION_S=120 ...
# (or `vidext serve --public`).  Models gated on the Hub (SVD) need -e HF_TOKEN=... at build
# or run time and acceptance of their licence.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
FROM ${PYTHON_IMAGE}

ARG TORCH_VARIANT=cuda
ARG PRELOAD_MODELS=""

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHON=python \
    GRADIO_SERVER_NAME=0.0.0.0 \
    GRADIO_SERVER_PORT=7860 \
    GRADIO_ANALYTICS_ENABLED=False \
    HF_HOME=/data/hf \
    VIDEXT_MODEL_DIR=/data/models \
    VIDEXT_CALIBRATION_FILE=/data/calibration.json \
    VIDEXT_APP_WORKDIR=/tmp/vidext-app

WORKDIR /app
COPY scripts/docker_steps.sh scripts/docker_steps.sh
RUN scripts/docker_steps.sh system
COPY requirements.txt requirements.txt
RUN TORCH_VARIANT=${TORCH_VARIANT} scripts/docker_steps.sh python
COPY pyproject.toml README.md app.py ./
COPY vidext vidext
COPY model_cards model_cards
RUN scripts/docker_steps.sh package /app
RUN scripts/docker_steps.sh models ${PRELOAD_MODELS}
RUN scripts/docker_steps.sh user vidext /data /tmp/vidext-app

USER vidext
# glibc keeps freed frame buffers for reuse in every process of the image (Ray workers included):
# the same settings as vidext.media.heap.TUNABLES, which the CLI and the server also apply at start
ENV GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.arena_max=1:glibc.malloc.trim_threshold=2147483647
VOLUME ["/data"]
EXPOSE 7860
HEALTHCHECK --interval=30s --timeout=10s --start-period=90s --retries=3 \
    CMD ["python", "-m", "vidext.webapp.health"]
CMD ["vidext", "serve"]
