-- test/regress/seal_hold.sql: one hold of the sealer (functions of
-- test/regress/seal_hold_functions.sql): a background session takes an
-- EXCLUSIVE lock on the ledger and keeps it until a session waits in seal().
\! PGAPPNAME=bh_seal_hold psql -X -q -d contrib_regression -c 'BEGIN' -c 'LOCK TABLE bh_audit.events IN EXCLUSIVE MODE' -c 'SELECT public.seal_hold_until_waited()' -c 'COMMIT' >/dev/null 2>&1 &
SELECT public.seal_hold_taken() AS sealer_held;
