/* value.h — the scalar conversions that sit between JSON, the rules and MariaDB columns:
 * PHP-compatible numeric and integer syntax, ISO 8601 dates, exact decimals, UTF-8 length.
 * Pure functions over (pointer, length) byte strings, no allocation, no global state. */
#ifndef AIENGINE_VALUE_H
#define AIENGINE_VALUE_H

#include <stdbool.h>
#include <stddef.h>

/* PHP 8 is_numeric() on a string: optional surrounding whitespace (" \t\n\r\v\f"), sign,
 * digits with optional fraction (".5", "5." ok), optional exponent. */
bool value_is_numeric(const char *s, size_t n);

/* PHP filter_var(FILTER_VALIDATE_INT) on a string: optional surrounding whitespace, optional
 * sign, "0" or digits without a leading zero, within int64. Returns 0 and sets *out, or -1. */
int value_parse_int(const char *s, size_t n, long long *out);

/* Laravel's `required` emptiness: every byte is one of PHP trim()'s " \t\n\r\0\x0B". */
bool value_is_blank(const char *s, size_t n);

/* A record id as it appears in a path or a row: 1 to 20 decimal digits, no sign, not 0,
 * within uint64. Returns 0 and sets *out, or -1. */
int value_parse_id(const char *s, unsigned long long *out);

/* The value of one hex digit, or -1. */
int value_hex_digit(char c);

/* A plain SQL identifier: [A-Za-z_][A-Za-z0-9_]*, 1 to 64 bytes. NULL is not one. */
bool value_is_identifier(const char *s);

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlongs, no surrogates, at most
 * U+10FFFF; ASCII counts as 1), or 0 when there is none within avail bytes. */
size_t value_utf8_seq_len(const char *p, size_t avail);
/* Whether s[0..n) is valid UTF-8 without NUL bytes. */
bool value_utf8_valid(const char *s, size_t n);

/* Number of UTF-8 code points (mb_strlen). Input is valid UTF-8. */
size_t value_utf8_len(const char *s, size_t n);

/* ISO 8601 date or date-time to a UTC MariaDB literal "YYYY-MM-DD HH:MM:SS.ffffff".
 * Accepts YYYY-MM-DD, then optionally 'T' or ' ' and HH:MM[:SS[.f{1,9}]], then optionally
 * 'Z', '+HH:MM', '-HH:MM', '+HHMM' or '+HH'. No offset means UTC; an offset is converted to
 * the UTC instant. Calendar-checked (Feb 29 only in leap years; hour 24 rejected).
 * Fractions beyond microseconds are truncated. Returns 0, or -1 if not a valid date. */
int value_parse_date(const char *s, size_t n, char out[27]);

/* A date as value_parse_date accepts it, as seconds since the Unix epoch (UTC).
 * Returns 0, or -1 if not a valid date. */
int value_date_epoch(const char *s, size_t n, long long *out);

/* Whether a UTC literal from value_parse_date fits a MariaDB TIMESTAMP column
 * (1970-01-01 00:00:01 .. 2038-01-19 03:14:07 UTC). */
bool value_timestamp_fits(const char utc[27]);

/* MariaDB "YYYY-MM-DD HH:MM:SS[.f...]" to Laravel's "YYYY-MM-DDTHH:MM:SS.ffffffZ"
 * (always six fraction digits). Returns 0, or -1 if the input is not in that shape. */
int value_format_timestamp(const char *s, size_t n, char out[28]);

/* An is_numeric string (or a JSON number's text) as an exact decimal(precision, scale)
 * literal: rounded half away from zero to `scale` places, written with exactly `scale`
 * fraction digits ("0.00125" -> "0.001250" at scale 6). Exponents are applied exactly.
 * Returns 0; -1 if not numeric; -2 if it does not fit (more than precision-scale integer
 * digits after rounding). out needs precision + 3 bytes at least. */
int value_decimal(const char *s, size_t n, int precision, int scale, char *out, size_t outlen);

/* Compare an is_numeric string with a bound: <0, 0, >0 like strcmp. Exact for decimals
 * (no binary floating point), so "9999.9999995" > 9999.999999 is decided correctly. */
int value_numeric_cmp(const char *s, size_t n, const char *bound);

#endif
