# The image every Airflow service of docker-compose.yml runs: Airflow plus this project.
FROM apache/airflow:3.3.2-python3.11

USER root
COPY --chown=airflow:root . /opt/cjm
USER airflow
WORKDIR /opt/cjm
# The same lock as `make`; the project itself is installed editable so DAGs import it.
RUN pip install --no-cache-dir uv==0.13.8 \
 && uv pip install --python "$(which python)" --no-cache -r requirements.lock \
 && uv pip install --python "$(which python)" --no-cache "apache-airflow-providers-celery==3.26.0" "celery<5.7" "redis" "asyncpg" "psycopg2-binary"
