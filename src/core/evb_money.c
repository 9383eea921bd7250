/*
 * Exact decimal money: ISO 4217 exponents, rounding of 128-bit
 * quotients, decimal parsing and rendering without binary floating point.
 */

#include <string.h>

#include "evb_money.h"


typedef struct {
    char  code[4];
    int   exponent;
} evb_currency_t;


/* ISO 4217 list one, active codes with a minor unit, sorted by code
 * (binary search); funds codes (BOV, CHE, ...) included, precious
 * metals and XDR ("N.A.") not. */
static const evb_currency_t  evb_currencies[] = {
    { "AED", 2 }, { "AFN", 2 }, { "ALL", 2 }, { "AMD", 2 }, { "ANG", 2 },
    { "AOA", 2 }, { "ARS", 2 }, { "AUD", 2 }, { "AWG", 2 }, { "AZN", 2 },
    { "BAM", 2 }, { "BBD", 2 }, { "BDT", 2 }, { "BGN", 2 }, { "BHD", 3 },
    { "BIF", 0 }, { "BMD", 2 }, { "BND", 2 }, { "BOB", 2 }, { "BOV", 2 },
    { "BRL", 2 }, { "BSD", 2 }, { "BTN", 2 }, { "BWP", 2 }, { "BYN", 2 },
    { "BZD", 2 }, { "CAD", 2 }, { "CDF", 2 }, { "CHE", 2 }, { "CHF", 2 },
    { "CHW", 2 }, { "CLF", 4 }, { "CLP", 0 }, { "CNY", 2 }, { "COP", 2 },
    { "COU", 2 }, { "CRC", 2 }, { "CUC", 2 }, { "CUP", 2 }, { "CVE", 2 },
    { "CZK", 2 }, { "DJF", 0 }, { "DKK", 2 }, { "DOP", 2 }, { "DZD", 2 },
    { "EGP", 2 }, { "ERN", 2 }, { "ETB", 2 }, { "EUR", 2 }, { "FJD", 2 },
    { "FKP", 2 }, { "GBP", 2 }, { "GEL", 2 }, { "GHS", 2 }, { "GIP", 2 },
    { "GMD", 2 }, { "GNF", 0 }, { "GTQ", 2 }, { "GYD", 2 }, { "HKD", 2 },
    { "HNL", 2 }, { "HTG", 2 }, { "HUF", 2 }, { "IDR", 2 }, { "ILS", 2 },
    { "INR", 2 }, { "IQD", 3 }, { "IRR", 2 }, { "ISK", 0 }, { "JMD", 2 },
    { "JOD", 3 }, { "JPY", 0 }, { "KES", 2 }, { "KGS", 2 }, { "KHR", 2 },
    { "KMF", 0 }, { "KPW", 2 }, { "KRW", 0 }, { "KWD", 3 }, { "KYD", 2 },
    { "KZT", 2 }, { "LAK", 2 }, { "LBP", 2 }, { "LKR", 2 }, { "LRD", 2 },
    { "LSL", 2 }, { "LYD", 3 }, { "MAD", 2 }, { "MDL", 2 }, { "MGA", 2 },
    { "MKD", 2 }, { "MMK", 2 }, { "MNT", 2 }, { "MOP", 2 }, { "MRU", 2 },
    { "MUR", 2 }, { "MVR", 2 }, { "MWK", 2 }, { "MXN", 2 }, { "MXV", 2 },
    { "MYR", 2 }, { "MZN", 2 }, { "NAD", 2 }, { "NGN", 2 }, { "NIO", 2 },
    { "NOK", 2 }, { "NPR", 2 }, { "NZD", 2 }, { "OMR", 3 }, { "PAB", 2 },
    { "PEN", 2 }, { "PGK", 2 }, { "PHP", 2 }, { "PKR", 2 }, { "PLN", 2 },
    { "PYG", 0 }, { "QAR", 2 }, { "RON", 2 }, { "RSD", 2 }, { "RUB", 2 },
    { "RWF", 0 }, { "SAR", 2 }, { "SBD", 2 }, { "SCR", 2 }, { "SDG", 2 },
    { "SEK", 2 }, { "SGD", 2 }, { "SHP", 2 }, { "SLE", 2 }, { "SOS", 2 },
    { "SRD", 2 }, { "SSP", 2 }, { "STN", 2 }, { "SVC", 2 }, { "SYP", 2 },
    { "SZL", 2 }, { "THB", 2 }, { "TJS", 2 }, { "TMT", 2 }, { "TND", 3 },
    { "TOP", 2 }, { "TRY", 2 }, { "TTD", 2 }, { "TWD", 2 }, { "TZS", 2 },
    { "UAH", 2 }, { "UGX", 0 }, { "USD", 2 }, { "USN", 2 }, { "UYI", 0 },
    { "UYU", 2 }, { "UYW", 4 }, { "UZS", 2 }, { "VED", 2 }, { "VES", 2 },
    { "VND", 0 }, { "VUV", 0 }, { "WST", 2 }, { "XAF", 0 }, { "XCD", 2 },
    { "XCG", 2 }, { "XOF", 0 }, { "XPF", 0 }, { "YER", 2 }, { "ZAR", 2 },
    { "ZMW", 2 }, { "ZWG", 2 }, { "ZWL", 2 }
};


int
evb_currency_exponent(const char *code, size_t len)
{
    size_t  lo, hi, mid;
    int     c;

    if (code == NULL || len != 3) {
        return -1;
    }

    lo = 0;
    hi = sizeof(evb_currencies) / sizeof(evb_currencies[0]);

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        c = memcmp(code, evb_currencies[mid].code, 3);

        if (c == 0) {
            return evb_currencies[mid].exponent;
        }

        if (c < 0) {
            hi = mid;

        } else {
            lo = mid + 1;
        }
    }

    return -1;
}


int
evb_div_round(evb_i128_t num, evb_i128_t den, evb_rounding_e mode,
    int64_t *out)
{
    evb_i128_t  q, r;
    int         up;

    if (den <= 0) {
        return -1;
    }

    q = num / den;
    r = num % den;

    /* |r| against den - |r| decides; no 2 * r, which could overflow */
    if (r < 0) {
        r = -r;
    }

    if (r > den - r) {
        up = 1;

    } else if (r == den - r) {
        up = mode == EVB_ROUND_HALF_UP || (q % 2 != 0);

    } else {
        up = 0;
    }

    if (up) {
        /* away from zero; den >= 2 here, so q +- 1 cannot overflow */
        q += num < 0 ? -1 : 1;
    }

    if (q > INT64_MAX || q < INT64_MIN) {
        return -1;
    }

    *out = (int64_t) q;

    return 0;
}


static const int64_t  evb_pow10[] = {
    1LL, 10LL, 100LL, 1000LL, 10000LL, 100000LL, 1000000LL, 10000000LL,
    100000000LL, 1000000000LL, 10000000000LL, 100000000000LL,
    1000000000000LL, 10000000000000LL, 100000000000000LL,
    1000000000000000LL, 10000000000000000LL, 100000000000000000LL,
    1000000000000000000LL
};


int
evb_round_micro(int64_t micro, int exponent, evb_rounding_e mode,
    int64_t *out)
{
    int64_t     q;
    evb_i128_t  unit, v;

    if (exponent < 0) {
        return -1;
    }

    if (exponent >= 6) {
        *out = micro;
        return 0;
    }

    unit = evb_pow10[6 - exponent];

    if (evb_div_round(micro, unit, mode, &q) != 0) {
        return -1;
    }

    v = (evb_i128_t) q * unit;

    if (v > INT64_MAX || v < INT64_MIN) {
        return -1;
    }

    *out = (int64_t) v;

    return 0;
}


/*
 * -?digits(.digits)?([eE][+-]?digits)?  Leading zeros are accepted;
 * the value is exact or refused.
 */
int
evb_decimal_parse(const char *s, size_t len, unsigned scale, int64_t *out)
{
    size_t    i, ib, ie, fb, fe, n, a, b, j;
    int       neg, eneg;
    int64_t   exp, k, sig;
    uint64_t  v, lim;
    char      c;

    if (s == NULL) {
        return -1;
    }

    i = 0;
    neg = 0;

    if (i < len && s[i] == '-') {
        neg = 1;
        i++;
    }

    ib = i;

    while (i < len && s[i] >= '0' && s[i] <= '9') {
        i++;
    }

    ie = i;

    if (ie == ib) {
        return -1;
    }

    fb = fe = i;

    if (i < len && s[i] == '.') {
        fb = ++i;

        while (i < len && s[i] >= '0' && s[i] <= '9') {
            i++;
        }

        fe = i;

        if (fe == fb) {
            return -1;
        }
    }

    exp = 0;

    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        eneg = 0;

        if (i < len && (s[i] == '+' || s[i] == '-')) {
            eneg = s[i] == '-';
            i++;
        }

        if (i == len) {
            return -1;
        }

        while (i < len && s[i] >= '0' && s[i] <= '9') {
            /* saturate: anything this large overflows or loses digits
             * anyway, unless the mantissa is zero */
            if (exp < 1000000000) {
                exp = exp * 10 + (s[i] - '0');
            }

            i++;
        }

        if (eneg) {
            exp = -exp;
        }
    }

    if (i != len || scale > 1000) {
        return -1;
    }

    /* the digits as one run: integer part then fraction */
    n = (ie - ib) + (fe - fb);

#define evb_digit(j)  ((j) < ie - ib ? s[ib + (j)] : s[fb + (j) - (ie - ib)])

    for (a = 0; a < n && evb_digit(a) == '0'; a++) { /* void */ }

    if (a == n) {
        *out = 0;
        return 0;
    }

    for (b = n - 1; evb_digit(b) == '0'; b--) { /* void */ }

    /* value = digits[a..b] * 10^k at the target scale */
    k = (int64_t) (n - 1 - b) - (int64_t) (fe - fb) + exp + (int64_t) scale;
    sig = (int64_t) (b - a + 1);

    if (k < 0 || sig + k > 19) {
        return -1;
    }

    v = 0;

    for (j = a; j <= b; j++) {
        c = evb_digit(j);
        v = v * 10 + (uint64_t) (c - '0');
    }

#undef evb_digit

    lim = neg ? (uint64_t) INT64_MAX + 1 : (uint64_t) INT64_MAX;

    /* sig + k <= 19 digits, so v * 10^k < 10^19 < 2^64 */
    for ( ; k > 0; k--) {
        v *= 10;
    }

    if (v > lim) {
        return -1;
    }

    *out = neg ? (int64_t) (0 - v) : (int64_t) v;

    return 0;
}


void
evb_buf_append_decimal(evb_buf_t *b, int64_t v, unsigned scale,
    unsigned min_decimals)
{
    char      tmp[24], out[64];
    size_t    n, len, i, ndec, nint;
    uint64_t  u;
    char     *p;

    if (scale > 30 || min_decimals > 30) {
        /* never used; keeps the output buffer bounded */
        evb_buf_append_i64(b, v);
        return;
    }

    u = v < 0 ? (uint64_t) 0 - (uint64_t) v : (uint64_t) v;
    p = tmp + sizeof(tmp);

    do {
        *--p = (char) ('0' + u % 10);
        u /= 10;
    } while (u != 0);

    n = tmp + sizeof(tmp) - p;
    len = 0;

    if (v < 0) {
        out[len++] = '-';
    }

    /* integer part: digits above the scale, or "0" */
    nint = n > scale ? n - scale : 0;

    if (nint == 0) {
        out[len++] = '0';

    } else {
        memcpy(out + len, p, nint);
        len += nint;
    }

    /* fraction: the scale's digits with leading zero padding, then
     * trailing zeros trimmed down to min_decimals */
    ndec = scale;

    while (ndec > 0) {
        i = ndec - 1;               /* position in the fraction */

        if (i + n >= scale && p[i + n - scale] != '0') {
            break;
        }

        ndec--;
    }

    if (ndec < min_decimals) {
        ndec = min_decimals;
    }

    if (ndec > 0) {
        out[len++] = '.';

        for (i = 0; i < ndec; i++) {
            /* fraction digit i is digit (n - scale + i) of the number */
            if (i < scale && i + n >= scale) {
                out[len++] = p[i + n - scale];

            } else {
                out[len++] = '0';
            }
        }
    }

    evb_buf_append(b, out, len);
}
