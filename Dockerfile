# Two targets, both run as a non-root user with configuration from the environment
# (TALEWRIGHT_* variables; see config.example.toml):
#   docker build --target service -t talewright-service .   # the generation service (torch)
#   docker build --target bot -t talewright-bot .           # the Discord bot
# The bot target also carries torch (CPU build) so a small install can run in-process; point it
# at the service with TALEWRIGHT_GENERATOR__MODE=http and TALEWRIGHT_GENERATOR__URLS='["http://service:8765"]'.
# For a GPU service, build from an NVIDIA CUDA base image and install the matching torch wheel.

FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN useradd --create-home --uid 10001 talewright
WORKDIR /app
# Same pins as the Makefile: the CPU build of PyTorch, explicitly.
RUN pip install --index-url https://download.pytorch.org/whl/cpu "torch==2.13.0"
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY generators ./generators
COPY storage ./storage
RUN pip install .
USER talewright

FROM base AS service
ENV TALEWRIGHT_SERVICE__HOST=0.0.0.0 TALEWRIGHT_SERVICE__PORT=8765
EXPOSE 8765
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8765/healthz', timeout=4)" || exit 1
CMD ["talewright", "serve"]

FROM base AS bot
ENV TALEWRIGHT_STORAGE__PATH=/home/talewright/data/talewright.db
RUN mkdir -p /home/talewright/data
VOLUME ["/home/talewright/data"]
CMD ["talewright", "bot"]
