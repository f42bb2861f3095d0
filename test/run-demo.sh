#!/usr/bin/env bash
# test/run-demo.sh: build and install bh_audit, start a throwaway preloaded
# server with the database bh_demo, create the extension, run test/demo.sql
# with psql, then stop the server and remove everything.  Must run as root
# (the server runs as postgres).
set -euo pipefail

# shellcheck source=test/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

bh_setup
bh_workdir

bh_header "demo: starting a throwaway server"
bh_server_start demo "bh_audit.database = 'bh_demo'"

rc=0
bh_as_pg createdb bh_demo &&
	bh_as_pg psql -X -q -v ON_ERROR_STOP=1 -d bh_demo -c 'CREATE EXTENSION bh_audit' &&
	bh_header "demo: test/demo.sql" &&
	bh_as_pg psql -X -q -v ON_ERROR_STOP=1 -P pager=off -e -d bh_demo \
		-f "$BH_WORK/test/demo.sql" || rc=$?

if [ "$rc" -ne 0 ]; then
	echo
	echo "bh_audit demo: FAILED (status $rc)" >&2
	bh_server_log_tail demo >&2
	exit "$rc"
fi

bh_server_stop demo
echo
echo "bh_audit demo: done"
