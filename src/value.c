/* value.c — PHP/Laravel-compatible scalar syntax, ISO 8601 dates and exact decimals.
 *
 * Everything here is a pure function over a (pointer, length) byte string: no allocation, no
 * locale, no global state, and no binary floating point where exactness matters (decimal
 * columns and numeric bounds are decided digit by digit, so "9999.9999995" really is more
 * than 9999.999999). Dates are converted with civil-calendar arithmetic, never mktime/TZ. */
#include "value.h"

#include <stdint.h>
#include <string.h>

/* ---- numeric strings ---------------------------------------------------------------- */

/* Exponents are saturated here: anything larger is already far outside every decimal
 * column and every rule bound, and saturation keeps the arithmetic free of overflow. */
#define EXP_CAP 1000000000000000LL

/* A number as written: value = (-1)^neg * ip.fp * 10^exp. */
struct decimal_text {
    bool neg;
    const char *ip; /* integer digits (may be empty: ".5") */
    size_t il;
    const char *fp; /* fraction digits (may be empty: "5.") */
    size_t fl;
    long long exp;
};

/* The same number normalised: value = (-1)^neg * 0.D * 10^point, where D is the digits
 * [first, end) of the concatenation ip fp, with no leading or trailing zeros. */
struct decimal_norm {
    bool neg;
    bool zero;
    size_t first, end;
    long long point;
};

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* is_numeric()'s whitespace (PHP's ZEND_STRTOL whitespace set). */
static bool is_numeric_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int parse_decimal(const char *s, size_t n, struct decimal_text *d)
{
    size_t p = 0;

    if (!s) return -1;
    while (p < n && is_numeric_space(s[p])) p++;
    while (n > p && is_numeric_space(s[n - 1])) n--;
    d->neg = false;
    if (p < n && (s[p] == '+' || s[p] == '-')) {
        d->neg = s[p] == '-';
        p++;
    }
    d->ip = s + p;
    while (p < n && is_digit(s[p])) p++;
    d->il = (size_t)(s + p - d->ip);
    d->fp = s + p;
    d->fl = 0;
    if (p < n && s[p] == '.') {
        p++;
        d->fp = s + p;
        while (p < n && is_digit(s[p])) p++;
        d->fl = (size_t)(s + p - d->fp);
    }
    if (d->il + d->fl == 0) return -1;
    d->exp = 0;
    if (p < n && (s[p] == 'e' || s[p] == 'E')) {
        bool eneg = false;
        p++;
        if (p < n && (s[p] == '+' || s[p] == '-')) {
            eneg = s[p] == '-';
            p++;
        }
        if (p >= n || !is_digit(s[p])) return -1;
        while (p < n && is_digit(s[p])) {
            if (d->exp < EXP_CAP) d->exp = d->exp * 10 + (s[p] - '0');
            p++;
        }
        if (d->exp > EXP_CAP) d->exp = EXP_CAP;
        if (eneg) d->exp = -d->exp;
    }
    return p == n ? 0 : -1;
}

static char digit_at(const struct decimal_text *d, size_t i)
{
    return i < d->il ? d->ip[i] : d->fp[i - d->il];
}

static void normalise(const struct decimal_text *d, struct decimal_norm *m)
{
    size_t total = d->il + d->fl;

    m->neg = d->neg;
    m->first = 0;
    while (m->first < total && digit_at(d, m->first) == '0') m->first++;
    m->zero = m->first == total;
    if (m->zero) {
        m->end = m->first;
        m->point = 0;
        return;
    }
    m->end = total;
    while (digit_at(d, m->end - 1) == '0') m->end--;
    m->point = (long long)d->il - (long long)m->first + d->exp;
}

bool value_is_numeric(const char *s, size_t n)
{
    struct decimal_text d;
    return parse_decimal(s, n, &d) == 0;
}

/* FILTER_VALIDATE_INT trims a slightly different set than is_numeric (no \f). */
static bool is_filter_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v';
}

int value_parse_int(const char *s, size_t n, long long *out)
{
    size_t p = 0;
    bool neg = false;
    unsigned long long acc = 0;
    /* Magnitude limit: INT64_MAX, or INT64_MAX + 1 for a negative number. */
    unsigned long long limit;

    if (!s) return -1;
    while (p < n && is_filter_space(s[p])) p++;
    while (n > p && is_filter_space(s[n - 1])) n--;
    if (p < n && (s[p] == '+' || s[p] == '-')) {
        neg = s[p] == '-';
        p++;
    }
    if (p >= n) return -1;
    if (s[p] == '0') {
        /* "0", "-0", "+0" only: a leading zero would be octal to PHP, and is refused. */
        if (p + 1 != n) return -1;
        *out = 0;
        return 0;
    }
    limit = neg ? (unsigned long long)INT64_MAX + 1u : (unsigned long long)INT64_MAX;
    for (; p < n; p++) {
        unsigned dgt;
        if (!is_digit(s[p])) return -1;
        dgt = (unsigned)(s[p] - '0');
        if (acc > (limit - dgt) / 10) return -1;
        acc = acc * 10 + dgt;
    }
    if (neg)
        *out = acc == (unsigned long long)INT64_MAX + 1u ? INT64_MIN : -(long long)acc;
    else
        *out = (long long)acc;
    return 0;
}

bool value_is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\0' && c != '\x0B')
            return false;
    }
    return true;
}

int value_parse_id(const char *s, unsigned long long *out)
{
    if (!s || !*s || strlen(s) > 20) return -1;
    unsigned long long v = 0;
    for (const char *p = s; *p; p++) {
        if (!is_digit(*p)) return -1;
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10) return -1;
        v = v * 10 + d;
    }
    if (v == 0) return -1;
    *out = v;
    return 0;
}

int value_hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool value_is_identifier(const char *s)
{
    if (!s) return false;
    size_t n = strlen(s);
    if (n == 0 || n > 64) return false; /* MariaDB's limit on identifier length */
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
        if (!alpha && !(i > 0 && is_digit(c))) return false;
    }
    return true;
}

/* ---- UTF-8 -------------------------------------------------------------------------- */

size_t value_utf8_seq_len(const char *p, size_t avail)
{
    const unsigned char *u = (const unsigned char *)p;
    size_t len;
    unsigned cp;
    if (avail == 0) return 0;
    if (u[0] < 0x80) return 1;
    if (u[0] >= 0xc2 && u[0] <= 0xdf) {
        len = 2;
        cp = u[0] & 0x1f;
    } else if (u[0] >= 0xe0 && u[0] <= 0xef) {
        len = 3;
        cp = u[0] & 0x0f;
    } else if (u[0] >= 0xf0 && u[0] <= 0xf4) {
        len = 4;
        cp = u[0] & 0x07;
    } else {
        return 0;
    }
    if (len > avail) return 0;
    for (size_t k = 1; k < len; k++) {
        if ((u[k] & 0xc0) != 0x80) return 0;
        cp = cp << 6 | (u[k] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

bool value_utf8_valid(const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        if (s[i] == '\0') return false;
        size_t len = value_utf8_seq_len(s + i, n - i);
        if (len == 0) return false;
        i += len;
    }
    return true;
}

size_t value_utf8_len(const char *s, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) count++;
    return count;
}

/* ---- dates -------------------------------------------------------------------------- */

static bool is_leap(long long y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(long long y, int m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static long long days_from_civil(long long y, int m, int d)
{
    long long era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(long long z, long long *y, int *m, int *d)
{
    long long era, doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* Reads exactly `count` digits at *p. */
static int read_digits(const char *s, size_t n, size_t *p, int count, int *out)
{
    int v = 0;
    if (n - *p < (size_t)count) return -1;
    for (int i = 0; i < count; i++) {
        char c = s[*p + (size_t)i];
        if (!is_digit(c)) return -1;
        v = v * 10 + (c - '0');
    }
    *p += (size_t)count;
    *out = v;
    return 0;
}

static bool expect(const char *s, size_t n, size_t *p, char c)
{
    if (*p < n && s[*p] == c) {
        (*p)++;
        return true;
    }
    return false;
}

static void put_digits(char *out, long long v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        out[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

int value_parse_date(const char *s, size_t n, char out[27])
{
    size_t p = 0;
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, oh = 0, om = 0;
    long micro = 0;
    int osign = 0;
    long long secs, days, rem, uy;
    int um, ud;

    if (!s) return -1;
    if (read_digits(s, n, &p, 4, &y) || !expect(s, n, &p, '-') || read_digits(s, n, &p, 2, &mo) ||
        !expect(s, n, &p, '-') || read_digits(s, n, &p, 2, &d))
        return -1;
    if (p < n && (s[p] == 'T' || s[p] == ' ')) {
        p++;
        if (read_digits(s, n, &p, 2, &h) || !expect(s, n, &p, ':') || read_digits(s, n, &p, 2, &mi))
            return -1;
        if (expect(s, n, &p, ':')) {
            if (read_digits(s, n, &p, 2, &sec)) return -1;
            if (expect(s, n, &p, '.')) {
                int nd = 0;
                while (p < n && is_digit(s[p])) {
                    /* Digits past the sixth are truncated, as MariaDB does. */
                    if (nd < 6) micro = micro * 10 + (s[p] - '0');
                    nd++;
                    p++;
                }
                if (nd < 1 || nd > 9) return -1;
                for (; nd < 6; nd++) micro *= 10;
            }
        }
        /* An offset only makes sense after a time of day (ISO 8601 has none for dates). */
        if (expect(s, n, &p, 'Z')) {
            osign = 0;
        } else if (p < n && (s[p] == '+' || s[p] == '-')) {
            osign = s[p] == '-' ? -1 : 1;
            p++;
            if (read_digits(s, n, &p, 2, &oh)) return -1;
            if (expect(s, n, &p, ':')) {
                if (read_digits(s, n, &p, 2, &om)) return -1;
            } else if (p < n) {
                if (read_digits(s, n, &p, 2, &om)) return -1;
            }
        }
    }
    if (p != n) return -1;
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo)) return -1;
    if (h > 23 || mi > 59 || sec > 59 || oh > 23 || om > 59) return -1;

    secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
    secs -= osign * (oh * 3600 + om * 60);
    days = secs / 86400;
    rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    civil_from_days(days, &uy, &um, &ud);
    /* The offset can carry the instant out of four-digit years. */
    if (uy < 1 || uy > 9999) return -1;

    put_digits(out, uy, 4);
    out[4] = '-';
    put_digits(out + 5, um, 2);
    out[7] = '-';
    put_digits(out + 8, ud, 2);
    out[10] = ' ';
    put_digits(out + 11, rem / 3600, 2);
    out[13] = ':';
    put_digits(out + 14, rem / 60 % 60, 2);
    out[16] = ':';
    put_digits(out + 17, rem % 60, 2);
    out[19] = '.';
    put_digits(out + 20, micro, 6);
    out[26] = '\0';
    return 0;
}

/* "YYYY-MM-DD HH:MM:SS" at s, with `sep` between date and time. */
static bool has_datetime_shape(const char *s, char sep)
{
    static const char shape[] = "dddd-dd-dd?dd:dd:dd";
    for (size_t i = 0; i < sizeof shape - 1; i++) {
        char want = shape[i] == '?' ? sep : shape[i];
        if (want == 'd' ? !is_digit(s[i]) : s[i] != want) return false;
    }
    return true;
}

int value_date_epoch(const char *s, size_t n, long long *out)
{
    char utc[27];
    if (value_parse_date(s, n, utc)) return -1;
    /* "YYYY-MM-DD HH:MM:SS.ffffff", already calendar-checked */
    long long y = 0;
    for (int i = 0; i < 4; i++) y = y * 10 + (utc[i] - '0');
    int mo = (utc[5] - '0') * 10 + (utc[6] - '0'), d = (utc[8] - '0') * 10 + (utc[9] - '0');
    int h = (utc[11] - '0') * 10 + (utc[12] - '0'), mi = (utc[14] - '0') * 10 + (utc[15] - '0');
    int sec = (utc[17] - '0') * 10 + (utc[18] - '0');
    *out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
    return 0;
}

bool value_timestamp_fits(const char utc[27])
{
    if (!utc || !has_datetime_shape(utc, ' ') || utc[19] != '.') return false;
    for (int i = 20; i < 26; i++)
        if (!is_digit(utc[i])) return false;
    /* Fixed-width, zero-padded: byte order is time order. */
    return memcmp(utc, "1970-01-01 00:00:01.000000", 26) >= 0 &&
           memcmp(utc, "2038-01-19 03:14:07.999999", 26) <= 0;
}

int value_format_timestamp(const char *s, size_t n, char out[28])
{
    size_t nd = 0;

    if (!s || n < 19 || !has_datetime_shape(s, ' ')) return -1;
    if (n > 19) {
        if (s[19] != '.' || n == 20) return -1;
        for (size_t i = 20; i < n; i++)
            if (!is_digit(s[i])) return -1;
        nd = n - 20;
    }
    memcpy(out, s, 19);
    out[10] = 'T';
    out[19] = '.';
    for (size_t i = 0; i < 6; i++) out[20 + i] = i < nd ? s[20 + i] : '0';
    out[26] = 'Z';
    out[27] = '\0';
    return 0;
}

/* ---- exact decimals ----------------------------------------------------------------- */

#define DECIMAL_MAX_PRECISION 65 /* MariaDB's limit for DECIMAL(M, D) */

int value_decimal(const char *s, size_t n, int precision, int scale, char *out, size_t outlen)
{
    struct decimal_text d;
    struct decimal_norm m;
    char r[DECIMAL_MAX_PRECISION + 2]; /* the result scaled by 10^scale, as digits */
    size_t rl = 0, intdigits, need, o = 0;

    if (parse_decimal(s, n, &d)) return -1;
    /* A column that cannot exist holds nothing. */
    if (precision < 1 || precision > DECIMAL_MAX_PRECISION || scale < 0 || scale > precision ||
        !out)
        return -2;
    normalise(&d, &m);
    if (!m.zero) {
        long long kept = m.point + scale; /* digits of D left of the rounding position */
        size_t len = m.end - m.first;
        bool up;

        if (kept > precision) return -2;
        if (kept >= 0) {
            for (long long i = 0; i < kept; i++)
                r[i] = (size_t)i < len ? digit_at(&d, m.first + (size_t)i) : '0';
            rl = (size_t)kept;
            /* Half away from zero: the magnitude goes up when the first dropped digit is
             * 5 or more, whatever the sign. */
            up = (size_t)kept < len && digit_at(&d, m.first + (size_t)kept) >= '5';
            if (up) {
                size_t i = rl;
                while (i > 0 && r[i - 1] == '9') r[--i] = '0';
                if (i > 0) {
                    r[i - 1]++;
                } else {
                    memmove(r + 1, r, rl);
                    r[0] = '1';
                    rl++;
                }
            }
            if (rl > (size_t)precision) return -2;
        }
    }

    intdigits = rl > (size_t)scale ? rl - (size_t)scale : 0;
    need =
        (m.neg && rl ? 1 : 0) + (intdigits ? intdigits : 1) + (scale ? 1 + (size_t)scale : 0) + 1;
    if (outlen < need) return -2;
    /* A value that rounds to zero is written without a sign. */
    if (m.neg && rl) out[o++] = '-';
    if (intdigits) {
        memcpy(out + o, r, intdigits);
        o += intdigits;
    } else {
        out[o++] = '0';
    }
    if (scale) {
        out[o++] = '.';
        for (size_t i = 0; i < (size_t)scale; i++) {
            /* Fraction digit i is digit (rl - scale + i) of r, zero when that is before r. */
            size_t back = (size_t)scale - i; /* position counted from the end of r */
            out[o++] = back <= rl ? r[rl - back] : '0';
        }
    }
    out[o] = '\0';
    return 0;
}

static int sign_of(const struct decimal_norm *m)
{
    return m->zero ? 0 : m->neg ? -1 : 1;
}

/* A string that is not numeric compares as zero: callers only pass is_numeric input, and
 * a fixed answer is better than reading garbage. */
int value_numeric_cmp(const char *s, size_t n, const char *bound)
{
    struct decimal_text a, b;
    struct decimal_norm ma, mb;
    int sa, sb, mag = 0;
    size_t la, lb;

    if (parse_decimal(s, n, &a)) {
        a = (struct decimal_text){.ip = "0", .il = 1, .fp = ""};
    }
    if (!bound || parse_decimal(bound, strlen(bound), &b)) {
        b = (struct decimal_text){.ip = "0", .il = 1, .fp = ""};
    }
    normalise(&a, &ma);
    normalise(&b, &mb);
    sa = sign_of(&ma);
    sb = sign_of(&mb);
    if (sa != sb) return sa < sb ? -1 : 1;
    if (sa == 0) return 0;
    if (ma.point != mb.point) {
        mag = ma.point < mb.point ? -1 : 1;
    } else {
        la = ma.end - ma.first;
        lb = mb.end - mb.first;
        for (size_t i = 0; mag == 0 && (i < la || i < lb); i++) {
            char ca = i < la ? digit_at(&a, ma.first + i) : '0';
            char cb = i < lb ? digit_at(&b, mb.first + i) : '0';
            if (ca != cb) mag = ca < cb ? -1 : 1;
        }
    }
    return sa < 0 ? -mag : mag;
}
