/*-------------------------------------------------------------------------
 *
 * chain.c
 *		Chain hashing (OpenSSL EVP) and the SQL functions that expose the
 *		canonical form and the hash of one event.
 *
 * The chain is the one bh-audit-logger writes:
 *		event_hash = lowercase hex( H( prev_event_hash ‖ canonical ) )
 * where prev_event_hash is the previous event's hex digest as ASCII text,
 * left out for the first event, and canonical is the event without its
 * top-level "integrity" key in canonical JSON (canon.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <openssl/evp.h>

#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/json.h"

#include "bh_audit.h"
#include "canon.h"

/* One digest context per process, reused for every hash. */
static EVP_MD_CTX *bh_md_ctx = NULL;

/* Name of an algorithm as it appears in integrity.hash_alg. */
const char *
bh_hash_alg_name(BhHashAlg alg)
{
	switch (alg)
	{
		case BH_HASH_SHA256:
			return "sha256";
		case BH_HASH_SHA384:
			return "sha384";
		case BH_HASH_SHA512:
			return "sha512";
	}
	return "sha256";			/* keep compiler quiet */
}

/* Parse a hash_alg name; false if it is not one of ours. */
bool
bh_hash_alg_from_name(const char *name, BhHashAlg *alg)
{
	if (strcmp(name, "sha256") == 0)
		*alg = BH_HASH_SHA256;
	else if (strcmp(name, "sha384") == 0)
		*alg = BH_HASH_SHA384;
	else if (strcmp(name, "sha512") == 0)
		*alg = BH_HASH_SHA512;
	else
		return false;
	return true;
}

/*
 * The digest of an algorithm.  With OpenSSL 3 it is fetched once per
 * process and kept: EVP_sha256() and friends make every DigestInit fetch
 * the implementation again, which cost more than hashing a whole event.
 */
static const EVP_MD *
bh_evp_md(BhHashAlg alg)
{
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	static EVP_MD *fetched[3] = {NULL, NULL, NULL};
	static const char *const names[3] = {"SHA256", "SHA384", "SHA512"};
	int			i = (alg == BH_HASH_SHA384) ? 1 : (alg == BH_HASH_SHA512) ? 2 : 0;

	if (fetched[i] == NULL)
	{
		fetched[i] = EVP_MD_fetch(NULL, names[i], NULL);
		if (fetched[i] == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("OpenSSL has no %s implementation", names[i])));
	}
	return fetched[i];
#else
	switch (alg)
	{
		case BH_HASH_SHA256:
			return EVP_sha256();
		case BH_HASH_SHA384:
			return EVP_sha384();
		case BH_HASH_SHA512:
			return EVP_sha512();
	}
	return EVP_sha256();
#endif
}

/*
 * Compute the chain hash of one event into hex_out (BH_MAX_HEX_LEN bytes).
 * prev_hex may be NULL for the first event of a chain.
 */
void
bh_chain_hash(BhHashAlg alg, const char *prev_hex,
			  const char *canonical, int canonical_len, char *hex_out)
{
	static const char hexdigits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	unsigned int i;

	if (bh_md_ctx == NULL)
	{
		bh_md_ctx = EVP_MD_CTX_new();
		if (bh_md_ctx == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("could not allocate a digest context")));
	}

	if (EVP_DigestInit_ex(bh_md_ctx, bh_evp_md(alg), NULL) != 1 ||
		(prev_hex != NULL &&
		 EVP_DigestUpdate(bh_md_ctx, prev_hex, strlen(prev_hex)) != 1) ||
		EVP_DigestUpdate(bh_md_ctx, canonical, canonical_len) != 1 ||
		EVP_DigestFinal_ex(bh_md_ctx, md, &mdlen) != 1)
		elog(ERROR, "could not compute %s digest", bh_hash_alg_name(alg));

	for (i = 0; i < mdlen; i++)
	{
		hex_out[2 * i] = hexdigits[md[i] >> 4];
		hex_out[2 * i + 1] = hexdigits[md[i] & 0x0f];
	}
	hex_out[2 * mdlen] = '\0';
}

PG_FUNCTION_INFO_V1(bh_audit_canonical_json);

/*
 * bh_audit.canonical_json(json): the bytes an event hash covers.
 */
Datum
bh_audit_canonical_json(PG_FUNCTION_ARGS)
{
	text	   *json = PG_GETARG_TEXT_PP(0);
	StringInfoData out;

	initStringInfo(&out);
	canon_render(&out,
				 canon_parse_json(VARDATA_ANY(json), VARSIZE_ANY_EXHDR(json)),
				 true);
	/* UTF-8, as text of this database (as export_jsonl() returns its lines) */
	if (GetDatabaseEncoding() != PG_UTF8 && GetDatabaseEncoding() != PG_SQL_ASCII)
		PG_RETURN_TEXT_P(cstring_to_text(pg_any_to_server(out.data, out.len, PG_UTF8)));
	PG_RETURN_TEXT_P(cstring_to_text_with_len(out.data, out.len));
}

PG_FUNCTION_INFO_V1(bh_audit_event_hash);

/*
 * bh_audit.event_hash(event json, prev_event_hash text, hash_alg text):
 * the chain hash of an event given its predecessor's hash.
 */
Datum
bh_audit_event_hash(PG_FUNCTION_ARGS)
{
	text	   *json;
	char	   *prev = NULL;
	char	   *algname;
	BhHashAlg	alg;
	StringInfoData out;
	char		hex[BH_MAX_HEX_LEN];

	/*
	 * No event, or no algorithm, no hash: a NULL hash_alg names none, as
	 * verify_chain() has no expected hash for a row whose hash_alg is NULL
	 * (left out, the argument's default is sha256).
	 */
	if (PG_ARGISNULL(0) || PG_ARGISNULL(2))
		PG_RETURN_NULL();
	json = PG_GETARG_TEXT_PP(0);
	if (!PG_ARGISNULL(1))
		prev = text_to_cstring(PG_GETARG_TEXT_PP(1));
	algname = text_to_cstring(PG_GETARG_TEXT_PP(2));
	if (!bh_hash_alg_from_name(algname, &alg))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown hash algorithm \"%s\"", algname),
				 errhint("Use sha256, sha384 or sha512.")));

	initStringInfo(&out);
	canon_render(&out,
				 canon_parse_json(VARDATA_ANY(json), VARSIZE_ANY_EXHDR(json)),
				 true);
	bh_chain_hash(alg, prev, out.data, out.len, hex);
	PG_RETURN_TEXT_P(cstring_to_text(hex));
}
