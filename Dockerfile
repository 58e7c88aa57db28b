FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    PATH=/app/.venv/bin:$PATH

WORKDIR /app
RUN pip install --no-cache-dir uv

# Dependencies first, so a code change does not reinstall them.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project

COPY . .
# Settings refuse DEBUG off with the default key; this throwaway key exists only for this build step.
RUN SECRET_KEY=collectstatic-only-not-a-secret DEBUG=0 python manage.py collectstatic --noinput \
    && useradd --create-home --uid 1000 healtalk \
    && mkdir -p /app/var/media \
    && chown -R healtalk /app/var

USER healtalk
EXPOSE 8000
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "community.asgi:application"]
