# One image for the API, the worker, the migration job and the sandboxes.
FROM python:3.11-slim-bookworm

RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-wqy-microhei fontconfig \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
 && rm -rf /var/lib/apt/lists/* \
 && pip install --no-cache-dir uv==0.13.9

WORKDIR /app
COPY pyproject.toml uv.lock ./
# The image's own CPython 3.11; uv is never to download one. Bytecode compiled in the image: the
# user the processes run as cannot write it, so each process started would compile all it imports.
RUN uv sync --frozen --no-dev --no-install-project --python /usr/local/bin/python3.11 \
      --no-python-downloads --compile-bytecode
COPY . .
RUN .venv/bin/python -m compileall -q -j 0 ./*/ ./*.py
ENV PATH="/app/.venv/bin:$PATH" PYTHONUNBUFFERED=1 TRADEFLOW_ENVIRONMENT=production

RUN useradd --system --uid 10001 tradeflow
USER tradeflow
# Idle connections are kept 75 s, past a load balancer's own idle timeout (60 s on an AWS ALB):
# the balancer, not the API, closes an idle one, so it never forwards a request on a connection
# the API is closing (a 502). Uvicorn's default is 5 s.
CMD ["uvicorn", "api.main:create_app", "--factory", "--host", "0.0.0.0", "--port", "8000", \
     "--timeout-keep-alive", "75"]
