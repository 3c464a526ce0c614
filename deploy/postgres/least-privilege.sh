#!/bin/sh
# Run once by the postgres image, when its data volume is new (docker-compose.yml mounts this file into
# /docker-entrypoint-initdb.d/ of both PostgreSQL servers), connected as the image's superuser.
#
# Least privilege: the superuser (POSTGRES_USER/POSTGRES_PASSWORD) is for this script and an administrator only.
# Each `role:database` pair of DATABASE_OWNERS gets a login role that is not a superuser and may not create roles or
# databases, and that owns its database(s): the services each own one (their Prisma migrations create their tables
# at start-up), Temporal's role owns its two (the schema job creates the tables and the trusted extension
# btree_gin, which a database owner may create). No role may connect to a database
# it does not own: CONNECT is revoked from PUBLIC on every database, the maintenance ones included, so a leaked
# service password reads one service's rows and nothing else (no `COPY ... TO PROGRAM`, no other service's tables).
# A role's password comes from <ROLE>_PASSWORD (upper case), with no default: the script stops if one is missing.
set -eu

: "${DATABASE_OWNERS:?set DATABASE_OWNERS to role:database pairs}"

for pair in $DATABASE_OWNERS; do
  role="${pair%%:*}"
  database="${pair#*:}"
  variable="$(echo "$role" | tr '[:lower:]' '[:upper:]')_PASSWORD"
  password="$(printenv "$variable" || true)"
  if [ -z "$password" ]; then
    echo "least-privilege.sh: set $variable (the password of the role $role)" >&2
    exit 1
  fi
  psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname postgres \
    -v role="$role" -v database="$database" -v password="$password" <<'SQL'
SELECT NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') AS role_missing \gset
\if :role_missing
CREATE ROLE :"role" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'password';
\endif
CREATE DATABASE :"database" OWNER :"role";
REVOKE ALL ON DATABASE :"database" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"database" TO :"role";
SQL
done

psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname postgres <<'SQL'
REVOKE CONNECT ON DATABASE postgres FROM PUBLIC;
REVOKE CONNECT ON DATABASE template1 FROM PUBLIC;
SQL
