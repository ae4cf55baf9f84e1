#!/usr/bin/env bash
# Tests a PostgreSQL backup by restoring it: dumps SOURCE_URL with pg_dump (custom format), restores the
# dump with pg_restore into a scratch database created on the same server (aiops_restore_<time>_<random>),
# compares the row count of every table of the public schema and of the migrations journal, then drops the
# scratch database (also on failure). Exit 0 when the restored copy matches.
#
#   scripts/pg-restore-test.sh SOURCE_URL [ADMIN_URL] [DUMP_FILE]
#
# ADMIN_URL: a database to connect to for CREATE/DROP DATABASE (default: SOURCE_URL). DUMP_FILE: an existing
# `pg_dump -Fc` file to test instead of taking a new dump. Needs pg_dump/pg_restore/psql of the server's
# major version and a role that may create databases.
set -euo pipefail

src=${1:?usage: pg-restore-test.sh SOURCE_URL [ADMIN_URL] [DUMP_FILE]}
admin=${2:-$src}
given_dump=${3:-}
name="aiops_restore_$(date +%s)_${RANDOM}${RANDOM}"
base=${src%%\?*}
query=""
[[ "$src" == *\?* ]] && query="?${src#*\?}"
scratch="${base%/*}/${name}${query}"

dump=${given_dump:-$(mktemp --suffix=.dump)}
cleanup() {
  psql "$admin" -qAtc "DROP DATABASE IF EXISTS \"${name}\" WITH (FORCE)" >/dev/null || true
  [[ -z "$given_dump" ]] && rm -f "$dump"
}
trap cleanup EXIT

if [[ -z "$given_dump" ]]; then
  pg_dump --format=custom --file="$dump" "$src"
fi
psql "$admin" -qAtc "CREATE DATABASE \"${name}\""
pg_restore --exit-on-error --dbname="$scratch" "$dump"

counts() {
  psql "$1" -qAt <<'SQL'
SELECT string_agg(t || '=' || (xpath('/row/c/text()',
         query_to_xml(format('SELECT count(*) AS c FROM %s', t), false, true, '')))[1]::text, E'\n' ORDER BY t)
FROM (SELECT format('%I.%I', schemaname, tablename) AS t FROM pg_tables
      WHERE schemaname IN ('public', 'drizzle')) x;
SQL
}

before=$(counts "$src")
after=$(counts "$scratch")
if [[ "$before" != "$after" ]]; then
  echo "pg-restore-test: the restored copy differs" >&2
  diff <(echo "$before") <(echo "$after") >&2 || true
  exit 1
fi
tables=$(echo "$before" | wc -l)
rows=$(echo "$before" | awk -F= '{s += $2} END {print s}')
echo "pg-restore-test: restored copy identical (${tables} tables, ${rows} rows) in ${name}; dropped"
