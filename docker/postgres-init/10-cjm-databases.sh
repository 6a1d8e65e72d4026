#!/bin/bash
# Run once by the postgres image when its volume is empty (docker-entrypoint-initdb.d):
# the BI target and Metabase's own application database, next to Airflow's.
#   cjm       the published marts (schema `marts`, replaced whole at each refresh),
#             owned by cjm_publisher; cjm_reader may only read them
#   metabase  Metabase's questions, dashboards and users
# Passwords come from the environment (.env), never from this file.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v publisher_pw="$CJM_PG_PASSWORD" -v reader_pw="$CJM_PG_READER_PASSWORD" \
    -v metabase_pw="$METABASE_DB_PASSWORD" <<'SQL'
create role cjm_publisher login password :'publisher_pw';
create role cjm_reader login password :'reader_pw';
create database cjm owner cjm_publisher;
create role metabase login password :'metabase_pw';
create database metabase owner metabase;
revoke all on database cjm from public;
grant connect on database cjm to cjm_reader;
SQL
