FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DATA_DIR=/data
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install --no-cache-dir . && useradd --create-home helpline && mkdir -p /data && chown helpline /data
USER helpline
# Train the triage model once at build time so the first start is instant.
RUN python -c "from bot.triage import load_triager; load_triager()" || true
VOLUME ["/data"]
CMD ["python", "-m", "bot", "run"]
