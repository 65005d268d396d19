# Two targets, both run as a non-root user with configuration from the environment
# (TALEWRIGHT_* variables; see config.example.toml):
#   docker build --target service -t talewright-service .   # the generation service (torch)
#   docker build --target bot -t talewright-bot .           # the Discord bot
# The bot target also carries torch (CPU build) so a small install can run in-process; point it
# at the service with TALEWRIGHT_GENERATOR__MODE=http and TALEWRIGHT_GENERATOR__URLS='["http://service:8765"]'.
# The service listens on every interface in its container, so it refuses to start without an API
# key: give it TALEWRIGHT_SERVICE__API_KEY (or TALEWRIGHT_SERVICE__API_KEY_FILE=/run/secrets/...)
# and the bot the same key as TALEWRIGHT_GENERATOR__API_KEY (or ..._API_KEY_FILE). Only on a
# network you trust, TALEWRIGHT_SERVICE__ALLOW_UNAUTHENTICATED_REMOTE=true runs it without one.
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
# /healthz is open unless protect_probes; the check sends the key when there is one.
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import os, pathlib, urllib.request as u; f = os.environ.get('TALEWRIGHT_SERVICE__API_KEY_FILE'); k = (pathlib.Path(f).read_text() if f else os.environ.get('TALEWRIGHT_SERVICE__API_KEY', '')).strip(); u.urlopen(u.Request('http://127.0.0.1:8765/healthz', headers={'Authorization': 'Bearer ' + k} if k else {}), timeout=4)" || exit 1
# The service alone (generators.service: its own settings, no import of the bot).
CMD ["python", "-m", "generators.service"]

FROM base AS bot
ENV TALEWRIGHT_STORAGE__PATH=/home/talewright/data/talewright.db
RUN mkdir -p /home/talewright/data
VOLUME ["/home/talewright/data"]
CMD ["talewright", "bot"]
