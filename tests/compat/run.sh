#!/usr/bin/env bash
# The official emnify Python SDK against simgate: a venv with emnify-sdk 0.5.3, simgate on a fresh
# database (SQLite; and Postgres when SIMGATE_TEST_DATABASE_URL is set), then sdk_test.py.
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../harness.sh"
venv "$here/.venv" "emnify-sdk==0.5.3"

sdk() {
  echo "== emnify SDK against simgate on $backend"
  EMNIFY_SDK_API_ENDPOINT_URL="$base/api" SIMGATE_URL="$base" \
    SIMGATE_ADMIN_EMAIL="admin@localhost" SIMGATE_ADMIN_PASSWORD="$admin_password" \
    "$here/.venv/bin/python" "$here/sdk_test.py"
}
each_backend sdk
