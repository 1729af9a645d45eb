# syntax=docker/dockerfile:1
# Glossary assistant. Two stages: the builder installs the reference model (CPU torch +
# sentence-transformers) only to build the index; the runtime serves queries through ONNX Runtime
# and carries no torch. The model files and the built index are inside the image, so the container
# never reaches a model hub.

FROM python:3.11-slim AS builder
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
WORKDIR /src
# CPU-only torch from the PyTorch CPU index (never the multi-GB CUDA build).
RUN python -m venv /opt/build && \
    /opt/build/bin/pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0
COPY pyproject.toml README.md ./
COPY app ./app
RUN /opt/build/bin/pip install ".[reference]" && \
    python -m venv /opt/venv && \
    /opt/venv/bin/pip install .
COPY glossary ./glossary
RUN GLOSSARY_GLOSSARY_DIR=/src/glossary GLOSSARY_INDEX_DIR=/src/index /opt/build/bin/glossary build

FROM python:3.11-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 \
    GLOSSARY_GLOSSARY_DIR=/srv/glossary \
    GLOSSARY_INDEX_DIR=/srv/index \
    GLOSSARY_DATABASE_URL=sqlite:////srv/data/glossary.db \
    GLOSSARY_EMBEDDER=onnx \
    GLOSSARY_HOST=0.0.0.0 \
    GLOSSARY_PORT=8000
RUN groupadd --system --gid 10001 glossary && \
    useradd --system --uid 10001 --gid glossary --home-dir /srv --shell /usr/sbin/nologin glossary
COPY --from=builder /opt/venv /opt/venv
COPY --from=builder --chown=glossary:glossary /src/glossary /srv/glossary
COPY --from=builder --chown=glossary:glossary /src/index /srv/index
RUN mkdir -p /srv/data && chown glossary:glossary /srv/data
USER 10001:10001
WORKDIR /srv
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"]
CMD ["glossary", "serve"]
