-- bh_audit.set_context() states the context for the current transaction,
-- like SET LOCAL; called on its own outside a transaction block (its
-- transaction ends with it) it warns as SET LOCAL does there, and the
-- statements after it record the login.  Not in a transaction block, nor
-- inside a function, procedure or DO block called outside one, nor in a
-- string of several statements sent at once: there it holds for what
-- follows, as SET LOCAL does.
SELECT bh_audit.seal() >= 0 AS sealed;
CREATE TEMP TABLE mark AS SELECT coalesce(max(seq), 0) AS seq FROM bh_audit.events;

-- On its own in autocommit: the warning (SQLSTATE 25P01, as SET LOCAL's)
SELECT bh_audit.set_context(actor_id => 'dr_top', request_id => 'ctx-top');
\set VERBOSITY sqlstate
SELECT bh_audit.set_context(actor_id => 'dr_top');
\set VERBOSITY default
SET LOCAL bh_audit.actor_id = 'dr_top';
-- and the context is gone for the next statement
SELECT current_setting('bh_audit.actor_id') AS actor, current_setting('bh_audit.request_id') AS request;
SELECT bh_audit.emit('READ', 'Ctx49', 'after-top') IS NOT NULL AS emitted;

-- In a transaction block: no warning, and the context applies
BEGIN;
SELECT bh_audit.set_context(actor_id => 'dr_block', request_id => 'ctx-block');
SELECT bh_audit.emit('READ', 'Ctx49', 'in-block') IS NOT NULL AS emitted;
COMMIT;
SELECT current_setting('bh_audit.actor_id') AS actor_after_commit;

-- Inside functions called in autocommit: no warning, and the context holds
-- for the rest of the call (PERFORM, an expression of PL/pgSQL, a SQL
-- function of several statements)
CREATE FUNCTION pg_temp.ctx_perform(a text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  PERFORM bh_audit.set_context(actor_id => a, request_id => 'ctx-perform');
  PERFORM bh_audit.emit('READ', 'Ctx49', 'perform');
  RETURN current_setting('bh_audit.actor_id');
END $$;
SELECT pg_temp.ctx_perform('dr_perform') AS actor_inside;
CREATE FUNCTION pg_temp.ctx_expr(a text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  IF bh_audit.set_context(actor_id => a, request_id => 'ctx-expr') IS NOT NULL THEN
    PERFORM bh_audit.emit('READ', 'Ctx49', 'expr');
  END IF;
  RETURN current_setting('bh_audit.actor_id');
END $$;
SELECT pg_temp.ctx_expr('dr_expr') AS actor_inside;
CREATE FUNCTION pg_temp.ctx_sql(a text) RETURNS text LANGUAGE sql AS $$
  SELECT bh_audit.set_context(actor_id => a, request_id => 'ctx-sql');
  SELECT bh_audit.emit('READ', 'Ctx49', 'sql');
  SELECT current_setting('bh_audit.actor_id');
$$;
SELECT pg_temp.ctx_sql('dr_sql') AS actor_inside;
-- a procedure, a DO block
CREATE PROCEDURE pg_temp.ctx_proc(a text) LANGUAGE plpgsql AS $$
BEGIN
  PERFORM bh_audit.set_context(actor_id => a, request_id => 'ctx-proc');
  PERFORM bh_audit.emit('READ', 'Ctx49', 'proc');
END $$;
CALL pg_temp.ctx_proc('dr_proc');
DO $$
BEGIN
  PERFORM bh_audit.set_context(actor_id => 'dr_do', request_id => 'ctx-do');
  PERFORM bh_audit.emit('READ', 'Ctx49', 'do');
END $$;
SELECT current_setting('bh_audit.actor_id') AS actor_after_calls;

-- A string of several statements (psql's \;) is one implicit transaction
-- block: no warning, and the context holds for the statements after it
SELECT bh_audit.set_context(actor_id => 'dr_string', request_id => 'ctx-string') \; SELECT bh_audit.emit('READ', 'Ctx49', 'string') IS NOT NULL AS emitted \; SELECT current_setting('bh_audit.actor_id') AS actor_in_string;
SELECT current_setting('bh_audit.actor_id') AS actor_after_string;

-- A SQL function of that one call, which PostgreSQL inlines into the
-- statement, is the statement's own call (nothing in it follows the call):
-- it warns
CREATE FUNCTION pg_temp.ctx_only(a text) RETURNS void LANGUAGE sql AS
  $$ SELECT bh_audit.set_context(actor_id => a) $$;
SELECT pg_temp.ctx_only('dr_only');

-- A prepared statement the client EXECUTEs on its own is that statement
-- sent on its own: it warns, and the context is gone after it; EXECUTEd in
-- a transaction block, it holds
PREPARE ctx_prep(text) AS SELECT bh_audit.set_context(actor_id => $1, request_id => 'ctx-prep');
EXECUTE ctx_prep('dr_prep_top');
SELECT bh_audit.emit('READ', 'Ctx49', 'after-prep-top') IS NOT NULL AS emitted;
BEGIN;
EXECUTE ctx_prep('dr_prep_block');
SELECT bh_audit.emit('READ', 'Ctx49', 'prep-block') IS NOT NULL AS emitted;
COMMIT;
-- a procedure's EXECUTE of it is inside the procedure: no warning
CREATE PROCEDURE pg_temp.ctx_proc_prep() LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE 'EXECUTE ctx_prep(''dr_proc_prep'')';
  PERFORM bh_audit.emit('READ', 'Ctx49', 'proc-prep');
END $$;
CALL pg_temp.ctx_proc_prep();
DEALLOCATE ctx_prep;

SELECT bh_audit.seal() >= 0 AS sealed;
SELECT resource_id, actor_id, event #>> '{correlation,request_id}' AS request_id
  FROM bh_audit.events
 WHERE seq > (SELECT seq FROM mark) AND resource_type = 'Ctx49'
 ORDER BY seq;
