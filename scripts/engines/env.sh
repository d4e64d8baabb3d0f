#!/usr/bin/env bash
# The environment the app and its tests use to reach the engines.
#   eval "$(bash scripts/engines/env.sh)"     # print-and-eval
#   source scripts/engines/env.sh             # or source it (exports directly)
# Ports follow the same STRATA_*_PORT overrides as the engine scripts.
_strata_pg_port="${STRATA_PG_PORT:-55432}"
_strata_kafka_port="${STRATA_KAFKA_PORT:-59092}"
_strata_os_port="${STRATA_OS_PORT:-59200}"
_strata_s3_port="${STRATA_S3_PORT:-58333}"
_strata_env_lines() {
  printf "export STRATA_DATABASE_URL='postgres://strata:strata@127.0.0.1:%s/strata_test'\n" "$_strata_pg_port"
  printf "export STRATA_KAFKA_BROKERS='127.0.0.1:%s'\n" "$_strata_kafka_port"
  printf "export STRATA_SEARCH_URL='http://127.0.0.1:%s'\n" "$_strata_os_port"
  printf "export STRATA_EVENT_STORE='s3://strata-test/?endpoint=http://127.0.0.1:%s&region=us-east-1&forcePathStyle=true'\n" "$_strata_s3_port"
  printf "export AWS_ACCESS_KEY_ID='%s'\n" "${STRATA_S3_ACCESS_KEY:-strata}"
  printf "export AWS_SECRET_ACCESS_KEY='%s'\n" "${STRATA_S3_SECRET_KEY:-strata-secret}"
}
if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
  eval "$(_strata_env_lines)"
  unset -f _strata_env_lines
  unset _strata_pg_port _strata_kafka_port _strata_os_port _strata_s3_port
else
  set -euo pipefail
  _strata_env_lines
fi
