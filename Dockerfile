# The worker, relay and mailer image used by docker-compose.yml (one image, three commands).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY worker ./worker
RUN pip install --no-cache-dir . && useradd --system --uid 10001 reengage
USER reengage
ENTRYPOINT ["reengage"]
CMD ["worker"]
