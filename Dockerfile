# Coach: production image (PostgreSQL through docker-compose.yml; see deploy/.env.example).

# The web chat's script fonts (Noto Sans Ethiopic and Arabic) come from the npm registry,
# pinned by package-lock.json; only the font files reach the final image.
FROM node:20-slim AS fonts
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

# Unprivileged user with a fixed uid/gid, so volume permissions are predictable.
RUN groupadd --system --gid 10001 coach \
 && useradd --system --uid 10001 --gid coach --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin coach

WORKDIR /app

# 1. Third-party dependencies only: this layer is rebuilt only when pyproject.toml changes,
#    not on every code edit. Production dependencies only (no "dev" extra).
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
 && pip install --no-cache-dir -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

# 2. The application itself (packages + their package data: web static files, migrations).
#    README.md is the project's readme in pyproject.toml, so the build needs it.
COPY README.md ./
COPY bot/ bot/
COPY scheduler/ scheduler/
RUN pip install --no-cache-dir . \
 && rm -rf build ./*.egg-info

# 3. Content last: trainers' edits to lessons and translations rebuild only these layers.
COPY curriculum/ curriculum/
COPY locales/ locales/
COPY --from=fonts /build/node_modules/@fontsource/ node_modules/@fontsource/
# The coach reads the .po catalogs directly (leaving fuzzy entries out), so no compile step.
RUN mkdir -p var && chown coach:coach var

# The installed package cannot find curriculum/ and locales/ next to itself (it lives in
# site-packages), hence the explicit paths. The SQLite default is only for a bare
# `docker run`; docker-compose.yml points COACH_DATABASE_URL at PostgreSQL.
ENV COACH_CURRICULUM_PATH=/app/curriculum \
    COACH_LOCALES_PATH=/app/locales \
    COACH_DATABASE_URL=sqlite+aiosqlite:////app/var/coach.db \
    COACH_WEB_HOST=0.0.0.0 \
    COACH_WEB_PORT=8080

# Numeric, so runtimes (e.g. Kubernetes runAsNonRoot) can verify it is not root.
USER 10001:10001

EXPOSE 8080

# No curl in the slim image: use the standard library. urlopen raises on non-2xx.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('COACH_WEB_PORT', '8080'), timeout=4)"]

CMD ["coach", "run"]
