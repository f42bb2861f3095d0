/*-------------------------------------------------------------------------
 *
 * canon_float.c
 *		Python's float repr() of a double, for canonical JSON (canon.c):
 *		the shortest decimal that reads back as the same double.
 *
 * A JSON number that is not an int is a float in Python, and its
 * canonical form is the text repr() gives it.  PostgreSQL's Ryu
 * (double_to_shortest_decimal_buf) gives the length to start from, but it
 * is not always Python's answer (it never uses an end of the rounding
 * interval, Python does), so the digits are settled with
 * snprintf()/strtod() probes (canon_format_double).  Non-finite values
 * are refused: Python would write the non-JSON token Infinity.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "canon.h"
#include "common/shortest_dec.h"

/*
 * Number of significant digits in Ryu's shortest output for x (> 0).
 */
static int
canon_ryu_ndigits(double x)
{
	char		ryu[DOUBLE_SHORTEST_DECIMAL_LEN + 1];
	const char *p;
	int			ndigits = 0;
	int			pending_zeros = 0;

	double_to_shortest_decimal_buf(x, ryu);
	for (p = ryu; *p != '\0' && *p != 'e'; p++)
	{
		if (*p == '0')
		{
			if (ndigits > 0)
				pending_zeros++;
		}
		else if (*p >= '1' && *p <= '9')
		{
			ndigits += pending_zeros + 1;
			pending_zeros = 0;
		}
	}
	return ndigits;
}

/*
 * Look for a decimal of ndigits significant digits that strtod() reads back
 * as x (> 0), choosing the one nearest to x.  On success, *mant * 10^*exp10
 * is that decimal.
 *
 * snprintf("%.*e") gives the nearest such decimal exactly; if it does not
 * read back as x, the only other candidate is its neighbour on the other
 * side of x.
 */
static bool
canon_try_digits(double x, int ndigits, uint64 *mant, int *exp10)
{
	char		buf[64];
	char	   *p;
	uint64		m = 0;
	int			e;
	double		y;

	snprintf(buf, sizeof(buf), "%.*e", ndigits - 1, x);
	for (p = buf; *p != 'e'; p++)
	{
		if (*p != '.')
			m = m * 10 + (*p - '0');
	}
	e = atoi(p + 1) - (ndigits - 1);

	y = strtod(buf, NULL);
	if (y != x)
	{
		m = (y > x) ? m - 1 : m + 1;
		snprintf(buf, sizeof(buf), UINT64_FORMAT "e%d", m, e);
		if (strtod(buf, NULL) != x)
			return false;
	}
	*mant = m;
	*exp10 = e;
	return true;
}

/*
 * Append d as Python's repr() would write it: the shortest decimal that
 * reads back as d (the nearest one if several), in exponent notation when
 * the decimal exponent is below -4 or at least 16, otherwise in fixed
 * notation that always has a fractional part.
 *
 * Ryu alone is not enough: when an end of d's rounding interval is itself a
 * short decimal that rounds to d (ties go to the even mantissa), Python
 * (David Gay's dtoa) uses it and Ryu does not; 1e23 is "1e+23" in Python
 * but "9.999999999999999e+22" from Ryu.  So Ryu's digit count is only the
 * starting point, and the length is then settled with snprintf()/strtod()
 * probes, normally two.
 */
void
canon_format_double(StringInfo out, double d)
{
	char		digits[24];
	char		buf[48];
	char	   *b = buf;
	double		x;
	uint64		mant = 0;
	uint64		m;
	int			exp10 = 0;
	int			ndigits;
	int			decpt;			/* d = 0.DIGITS * 10^decpt */
	int			i;

	if (!isfinite(d))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("non-finite float cannot be canonicalized")));

	if (d == 0.0)
	{
		if (signbit(d))
			appendBinaryStringInfo(out, "-0.0", 4);
		else
			appendBinaryStringInfo(out, "0.0", 3);
		return;
	}

	if (d < 0)
		*b++ = '-';
	x = fabs(d);

	/* shortest length that reads back; 17 digits always do */
	ndigits = canon_ryu_ndigits(x);
	while (!canon_try_digits(x, ndigits, &mant, &exp10))
	{
		if (++ndigits > 17)
			elog(ERROR, "could not find a round-trip decimal for %.17g", d);
	}
	while (ndigits > 1)
	{
		uint64		m2;
		int			e2;

		if (!canon_try_digits(x, ndigits - 1, &m2, &e2))
			break;
		mant = m2;
		exp10 = e2;
		ndigits--;
	}

	/* mantissa digits without trailing zeros (mant > 0 here) */
	while (mant >= 10 && mant % 10 == 0)
	{
		mant /= 10;
		exp10++;
	}
	ndigits = 0;
	m = mant;
	do
	{
		ndigits++;
		m /= 10;
	} while (m > 0);
	m = mant;
	for (i = ndigits - 1; i >= 0; i--)
	{
		digits[i] = '0' + (int) (m % 10);
		m /= 10;
	}
	decpt = exp10 + ndigits;

	if (decpt <= -4 || decpt > 16)
	{
		int			exp = decpt - 1;

		*b++ = digits[0];
		if (ndigits > 1)
		{
			*b++ = '.';
			memcpy(b, digits + 1, ndigits - 1);
			b += ndigits - 1;
		}
		*b++ = 'e';
		if (exp < 0)
		{
			*b++ = '-';
			exp = -exp;
		}
		else
			*b++ = '+';
		if (exp >= 100)
			*b++ = '0' + exp / 100;
		*b++ = '0' + (exp / 10) % 10;
		*b++ = '0' + exp % 10;
	}
	else if (decpt <= 0)
	{
		*b++ = '0';
		*b++ = '.';
		for (i = decpt; i < 0; i++)
			*b++ = '0';
		memcpy(b, digits, ndigits);
		b += ndigits;
	}
	else if (decpt < ndigits)
	{
		memcpy(b, digits, decpt);
		b += decpt;
		*b++ = '.';
		memcpy(b, digits + decpt, ndigits - decpt);
		b += ndigits - decpt;
	}
	else
	{
		memcpy(b, digits, ndigits);
		b += ndigits;
		for (i = ndigits; i < decpt; i++)
			*b++ = '0';
		*b++ = '.';
		*b++ = '0';
	}

	appendBinaryStringInfo(out, buf, b - buf);
}
