# Roster: the API (`roster serve`) and the job worker (`roster worker`) from one image.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Exactly the versions CI tested (requirements.txt: pinned, with hashes), in a layer of their own.
COPY requirements.txt ./
RUN pip install --require-hashes -r requirements.txt

# The project and its package data (db/migrations/*.sql, rules/data/*), built with the pinned
# setuptools and asking for nothing more.
COPY pyproject.toml README.md ./
COPY roster ./roster
COPY resolvers ./resolvers
COPY schema ./schema
COPY jobs ./jobs
COPY db ./db
COPY rules ./rules
RUN pip install --no-deps --no-build-isolation . && rm -rf /app/build

RUN useradd --create-home --uid 10001 --user-group roster
USER roster

EXPOSE 8000
CMD ["roster", "serve", "--host", "0.0.0.0", "--port", "8000"]
