-- expected_head refused (22023): the DETAIL counts characters, as the
-- message says, not bytes.  A hash pasted with a no-break space (U+00A0,
-- two bytes in UTF-8) or a zero-width space (U+200B, three bytes) after it
-- is 65 characters long; 64 letters that are not hexadecimal digits are
-- 64.
SELECT bh_audit.emit('OTHER', 'HeadDetail') IS NOT NULL AS queued;
SELECT bh_audit.seal() >= 0 AS sealed;
SELECT seq IS NOT NULL AS has_head FROM bh_audit.chain_head();
\set VERBOSITY default
SELECT result FROM bh_audit.verify_chain(expected_head => (SELECT event_hash || chr(160) FROM bh_audit.chain_head()));
SELECT count(*) FROM bh_audit.chain_failures(expected_head => (SELECT event_hash || chr(8203) FROM bh_audit.chain_head()));
SELECT result FROM bh_audit.verify_chain(expected_head => repeat(chr(233), 64));
\set VERBOSITY terse
