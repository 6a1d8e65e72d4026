# The image every Airflow service of docker-compose.yml runs: Airflow plus this project.
FROM apache/airflow:3.3.2-python3.11

USER root
COPY --chown=airflow:root . /opt/cjm
USER airflow
WORKDIR /opt/cjm
# The same lock as `make` (it holds the Celery provider, celery, redis and asyncpg of the
# `cluster` extra); the project itself is installed editable so DAGs import it.
# .dockerignore keeps the local .venv, data/ and .git out of this COPY.
RUN pip install --no-cache-dir uv==0.13.8 \
 && uv pip install --python "$(which python)" --no-cache -r requirements.lock
