/*
 * Exact money: currency exponents, rounding policies, decimal parsing
 * and rendering.
 */

#include <stdio.h>
#include <string.h>

#include "../../src/core/evb_money.h"
#include "tap.h"


static int64_t
parse(const char *s, unsigned scale, int *rc)
{
    int64_t  v;

    v = 12345;
    *rc = evb_decimal_parse(s, strlen(s), scale, &v);

    return v;
}


static void
parse_ok(const char *s, unsigned scale, int64_t want)
{
    int      rc;
    int64_t  v;

    v = parse(s, scale, &rc);
    ok(rc == 0 && v == want, "parse \"%s\" at scale %u = %lld", s, scale,
       (long long) want);

    if (rc != 0 || v != want) {
        printf("#   rc %d got %lld\n", rc, (long long) v);
    }
}


static void
parse_bad(const char *s, unsigned scale)
{
    int      rc;
    int64_t  v;

    v = parse(s, scale, &rc);
    ok(rc == -1 && v == 12345, "parse \"%s\" at scale %u refused", s,
       scale);
}


static void
render(int64_t v, unsigned scale, unsigned min_decimals, const char *want)
{
    evb_buf_t  b;

    evb_buf_init(&b);
    evb_buf_append_decimal(&b, v, scale, min_decimals);
    is_str(b.data, b.len, want, "render %lld / 10^%u (min %u) = %s",
           (long long) v, scale, min_decimals, want);
    evb_buf_free(&b);
}


static int64_t
rnd(int64_t micro, int exponent, evb_rounding_e mode)
{
    int64_t  v;

    v = 12345;

    if (evb_round_micro(micro, exponent, mode, &v) != 0) {
        return -999;
    }

    return v;
}


static int64_t
divr(evb_i128_t num, evb_i128_t den, evb_rounding_e mode)
{
    int64_t  v;

    v = 12345;

    if (evb_div_round(num, den, mode, &v) != 0) {
        return -999;
    }

    return v;
}


static void
test_currencies(void)
{
    static const char  *two[] = {
        "EUR", "USD", "GBP", "CHF", "SEK", "NOK", "DKK", "PLN", "CZK",
        "HUF", "RON", "BGN", "CAD", "AUD", "NZD", "CNY", "INR", "BRL", "MXN",
        "ZAR", "TRY", "ILS", "AED", "SAR", "QAR", "HKD", "SGD", "TWD", "THB",
        "MYR", "IDR", "PHP", "UYU", "RSD", "UAH", "EGP"
    };
    static const char  *zero[] = {
        "JPY", "KRW", "ISK", "CLP", "VND", "XOF", "XAF", "PYG", "UGX", "XPF"
    };
    static const char  *three[] = {
        "KWD", "BHD", "OMR", "JOD", "TND", "LYD", "IQD"
    };
    size_t  i;
    int     all;

    all = 1;

    for (i = 0; i < sizeof(two) / sizeof(two[0]); i++) {
        if (evb_currency_exponent(two[i], 3) != 2) {
            printf("# %s\n", two[i]);
            all = 0;
        }
    }

    ok(all, "two-decimal currencies");

    all = 1;

    for (i = 0; i < sizeof(zero) / sizeof(zero[0]); i++) {
        if (evb_currency_exponent(zero[i], 3) != 0) {
            printf("# %s\n", zero[i]);
            all = 0;
        }
    }

    ok(all, "zero-decimal currencies");

    all = 1;

    for (i = 0; i < sizeof(three) / sizeof(three[0]); i++) {
        if (evb_currency_exponent(three[i], 3) != 3) {
            printf("# %s\n", three[i]);
            all = 0;
        }
    }

    ok(all, "three-decimal currencies");

    is_int(evb_currency_exponent("CLF", 3), 4, "CLF 4");
    is_int(evb_currency_exponent("UYW", 3), 4, "UYW 4");
    is_int(evb_currency_exponent("AAA", 3), -1, "AAA unknown");
    is_int(evb_currency_exponent("ZZZ", 3), -1, "ZZZ unknown");
    is_int(evb_currency_exponent("eur", 3), -1, "lower case refused");
    is_int(evb_currency_exponent("EURO", 4), -1, "four letters refused");
    is_int(evb_currency_exponent("EURO", 3), 2, "length honoured");
    is_int(evb_currency_exponent("EU", 2), -1, "two letters refused");
    is_int(evb_currency_exponent("XAU", 3), -1, "gold has no minor unit");
    is_int(evb_currency_exponent("DEM", 3), -1, "withdrawn DEM refused");
    is_int(evb_currency_exponent("HRK", 3), -1, "withdrawn HRK refused");
}


static void
test_rounding(void)
{
    int64_t  v;

    /* evb_div_round */
    is_int(divr(5, 2, EVB_ROUND_HALF_UP), 3, "5/2 half-up 3");
    is_int(divr(5, 2, EVB_ROUND_HALF_EVEN), 2, "5/2 half-even 2");
    is_int(divr(7, 2, EVB_ROUND_HALF_EVEN), 4, "7/2 half-even 4");
    is_int(divr(-5, 2, EVB_ROUND_HALF_UP), -3, "-5/2 half-up -3");
    is_int(divr(-5, 2, EVB_ROUND_HALF_EVEN), -2, "-5/2 half-even -2");
    is_int(divr(-7, 2, EVB_ROUND_HALF_EVEN), -4, "-7/2 half-even -4");
    is_int(divr(7, 3, EVB_ROUND_HALF_UP), 2, "7/3 = 2");
    is_int(divr(8, 3, EVB_ROUND_HALF_UP), 3, "8/3 = 3");
    is_int(divr(-7, 3, EVB_ROUND_HALF_UP), -2, "-7/3 = -2");
    is_int(divr(-8, 3, EVB_ROUND_HALF_EVEN), -3, "-8/3 = -3");
    is_int(divr(0, 7, EVB_ROUND_HALF_UP), 0, "0/7");
    is_int(divr(6, 1, EVB_ROUND_HALF_EVEN), 6, "6/1");
    is_int(divr(1, 1000000, EVB_ROUND_HALF_UP), 0, "tiny rounds to 0");
    is_int(divr(500000, 1000000, EVB_ROUND_HALF_UP), 1, "0.5 half-up 1");
    is_int(divr(500000, 1000000, EVB_ROUND_HALF_EVEN), 0, "0.5 even 0");
    is_int(divr(1500000, 1000000, EVB_ROUND_HALF_EVEN), 2, "1.5 even 2");
    is_int(divr(2500000, 1000000, EVB_ROUND_HALF_EVEN), 2, "2.5 even 2");
    is_int(divr(-2500001, 1000000, EVB_ROUND_HALF_EVEN), -3, "-2.500001");

    v = 7;
    is_int(evb_div_round(1, 0, EVB_ROUND_HALF_UP, &v), -1, "den 0 refused");
    is_int(evb_div_round(1, -2, EVB_ROUND_HALF_UP, &v), -1,
           "negative den refused");
    is_int(evb_div_round((evb_i128_t) INT64_MAX, 1, EVB_ROUND_HALF_UP, &v),
           0, "INT64_MAX fits");
    is_int(v, INT64_MAX, "INT64_MAX kept");
    is_int(evb_div_round((evb_i128_t) INT64_MIN, 1, EVB_ROUND_HALF_UP, &v),
           0, "INT64_MIN fits");
    is_int(v, INT64_MIN, "INT64_MIN kept");
    is_int(evb_div_round((evb_i128_t) INT64_MAX + 1, 1, EVB_ROUND_HALF_UP,
                         &v), -1, "INT64_MAX + 1 overflows");
    is_int(evb_div_round((evb_i128_t) INT64_MAX * 2 + 1, 2,
                         EVB_ROUND_HALF_UP, &v), -1,
           "(2 INT64_MAX + 1) / 2 rounds up past INT64_MAX");
    is_int(evb_div_round((evb_i128_t) INT64_MAX * 2 + 1, 2,
                         EVB_ROUND_HALF_EVEN, &v), -1,
           "... and half-even too (INT64_MAX is odd)");
    is_int(evb_div_round((evb_i128_t) INT64_MIN * 2 - 1, 2,
                         EVB_ROUND_HALF_EVEN, &v), 0,
           "(2 INT64_MIN - 1) / 2 half-even fits");
    is_int(v, INT64_MIN, "... to INT64_MIN");
    is_int(evb_div_round((evb_i128_t) INT64_MIN * 2 - 1, 2,
                         EVB_ROUND_HALF_UP, &v), -1,
           "... half-up overflows");
    is_int(evb_div_round(-((evb_i128_t) 1 << 126) * 2, 3,
                         EVB_ROUND_HALF_UP, &v), -1,
           "huge 128-bit quotient refused");
    is_int(divr((evb_i128_t) INT64_MAX * 1000000 + 999999, 1000000,
                EVB_ROUND_HALF_EVEN), -999, "rounds to INT64_MAX + 1");
    is_int(divr((evb_i128_t) INT64_MAX * 1000000 + 499999, 1000000,
                EVB_ROUND_HALF_EVEN), INT64_MAX,
           "128-bit numerator, in range");

    /* evb_round_micro per exponent and policy */
    is_int(rnd(5125000, 2, EVB_ROUND_HALF_UP), 5130000, "5.125 EUR up 5.13");
    is_int(rnd(5125000, 2, EVB_ROUND_HALF_EVEN), 5120000,
           "5.125 EUR even 5.12");
    is_int(rnd(5135000, 2, EVB_ROUND_HALF_EVEN), 5140000,
           "5.135 EUR even 5.14");
    is_int(rnd(-5125000, 2, EVB_ROUND_HALF_UP), -5130000,
           "-5.125 EUR up -5.13 (away from zero)");
    is_int(rnd(-5125000, 2, EVB_ROUND_HALF_EVEN), -5120000,
           "-5.125 EUR even -5.12");
    is_int(rnd(-5125001, 2, EVB_ROUND_HALF_EVEN), -5130000,
           "-5.125001 EUR even -5.13");
    is_int(rnd(5124999, 2, EVB_ROUND_HALF_UP), 5120000,
           "5.124999 EUR up 5.12");
    is_int(rnd(5000, 2, EVB_ROUND_HALF_UP), 10000, "0.005 EUR up 0.01");
    is_int(rnd(5000, 2, EVB_ROUND_HALF_EVEN), 0, "0.005 EUR even 0.00");
    is_int(rnd(4997000, 2, EVB_ROUND_HALF_UP), 5000000, "4.997 -> 5.00");
    is_int(rnd(13861000, 2, EVB_ROUND_HALF_UP), 13860000, "13.861 -> 13.86");
    is_int(rnd(2500000, 0, EVB_ROUND_HALF_UP), 3000000, "2.5 JPY up 3");
    is_int(rnd(2500000, 0, EVB_ROUND_HALF_EVEN), 2000000, "2.5 JPY even 2");
    is_int(rnd(-2500000, 0, EVB_ROUND_HALF_UP), -3000000, "-2.5 JPY up -3");
    is_int(rnd(1234567, 0, EVB_ROUND_HALF_UP), 1000000, "1.234567 JPY 1");
    is_int(rnd(1234500, 3, EVB_ROUND_HALF_UP), 1235000, "1.2345 KWD up");
    is_int(rnd(1234500, 3, EVB_ROUND_HALF_EVEN), 1234000, "1.2345 KWD even");
    is_int(rnd(1235500, 3, EVB_ROUND_HALF_EVEN), 1236000, "1.2355 KWD even");
    is_int(rnd(123456, 4, EVB_ROUND_HALF_UP), 123500, "0.123456 CLF");
    is_int(rnd(123456, 6, EVB_ROUND_HALF_UP), 123456, "exponent 6 exact");
    is_int(rnd(123456, -1, EVB_ROUND_HALF_UP), -999, "exponent -1 refused");
    is_int(rnd(INT64_MAX, 2, EVB_ROUND_HALF_UP), -999,
           "rounding INT64_MAX up overflows");
    is_int(rnd(INT64_MIN, 2, EVB_ROUND_HALF_UP), -999,
           "rounding INT64_MIN down overflows");
    is_int(rnd(INT64_MAX - 999999, 0, EVB_ROUND_HALF_UP),
           9223372036854000000LL, "a large value rounds up in range");
}


static void
test_parse(void)
{
    parse_ok("0.25", 6, 250000);
    parse_ok("-1", 6, -1000000);
    parse_ok("1e-3", 6, 1000);
    parse_ok("1E-3", 6, 1000);
    parse_ok("20.5", 6, 20500000);
    parse_ok("0.03125", 6, 31250);
    parse_ok("13.861", 6, 13861000);
    parse_ok("13.861", 3, 13861);
    parse_ok("0", 6, 0);
    parse_ok("-0", 6, 0);
    parse_ok("0.000", 6, 0);
    parse_ok("0e999999999999999999", 6, 0);
    parse_ok("0.0000000000000000000000000", 0, 0);
    parse_ok("1.5e2", 0, 150);
    parse_ok("1.5E+2", 6, 150000000);
    parse_ok("25e-1", 6, 2500000);
    parse_ok("0.1234560000000000000000", 6, 123456);
    parse_ok("000012", 6, 12000000);
    parse_ok("0.000001", 6, 1);
    parse_ok("-0.000001", 6, -1);
    parse_ok("9223372036854.775807", 6, INT64_MAX);
    parse_ok("-9223372036854.775808", 6, INT64_MIN);
    parse_ok("9223372036854775807", 0, INT64_MAX);
    parse_ok("-9223372036854775808", 0, INT64_MIN);
    parse_ok("92233720368547758.07e2", 0, INT64_MAX);
    parse_ok("100000000000000000000e-10", 0, 10000000000LL);
    parse_ok("0.2", 9, 200000000);
    parse_ok("3600", 6, 3600000000LL);

    parse_bad("0.0000001", 6);              /* a digit beyond the scale */
    parse_bad("1e-7", 6);
    parse_bad("1.0000005", 6);
    parse_bad("13.861", 2);
    parse_bad("9223372036854.775808", 6);   /* overflow */
    parse_bad("-9223372036854.775809", 6);
    parse_bad("9223372036854775808", 0);
    parse_bad("10000000000000000000", 0);
    parse_bad("99999999999999999999", 0);
    parse_bad("1e19", 0);
    parse_bad("1e999999999999999999", 6);
    parse_bad("1e-999999999999999999", 6);
    parse_bad("", 6);
    parse_bad("-", 6);
    parse_bad("+1", 6);
    parse_bad(".5", 6);
    parse_bad("5.", 6);
    parse_bad("1e", 6);
    parse_bad("1e+", 6);
    parse_bad("1.2.3", 6);
    parse_bad("1 ", 6);
    parse_bad(" 1", 6);
    parse_bad("0x10", 6);
    parse_bad("--1", 6);
    parse_bad("abc", 6);
    parse_bad("1,5", 6);
    parse_bad("NaN", 6);
    parse_bad("Infinity", 6);

    /* length is honoured: "1.25" cut to "1.2" */
    {
        int64_t  v;

        is_int(evb_decimal_parse("1.25", 3, 6, &v), 0, "length honoured");
        is_int(v, 1200000, "... as 1.2");
        is_int(evb_decimal_parse("1.25", 0, 6, &v), -1, "length 0 refused");
    }
}


static void
test_render(void)
{
    render(5125000, 6, 0, "5.125");
    render(5000000, 6, 0, "5");
    render(5000000, 6, 2, "5.00");
    render(5100000, 6, 2, "5.10");
    render(5125000, 6, 2, "5.125");
    render(-1, 6, 0, "-0.000001");
    render(-1, 6, 2, "-0.000001");
    render(0, 6, 0, "0");
    render(0, 6, 2, "0.00");
    render(1, 6, 0, "0.000001");
    render(100, 6, 0, "0.0001");
    render(-5130000, 6, 2, "-5.13");
    render(-5000000, 6, 0, "-5");
    render(123, 0, 0, "123");
    render(123, 0, 2, "123.00");
    render(13861, 3, 2, "13.861");
    render(1, 9, 0, "0.000000001");
    render(INT64_MAX, 6, 0, "9223372036854.775807");
    render(INT64_MIN, 6, 0, "-9223372036854.775808");
    render(INT64_MIN, 0, 0, "-9223372036854775808");
    render(INT64_MIN, 19, 0, "-0.9223372036854775808");
    render(5, 20, 0, "0.00000000000000000005");
    render(10, 1, 0, "1");
    render(10, 1, 3, "1.000");
    render(1200000, 6, 4, "1.2000");
}


/* parse(render(v)) == v over a spread of values and scales */
static void
test_round_trip(void)
{
    evb_buf_t  b;
    int64_t    v, got;
    unsigned   scale;
    int        all, i;
    uint64_t   x;

    all = 1;
    x = 88172645463325252ULL;

    for (i = 0; i < 20000 && all; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v = (int64_t) x >> (x % 60);
        scale = (unsigned) (x % 13);

        evb_buf_init(&b);
        evb_buf_append_decimal(&b, v, scale, (unsigned) (x % 3));

        if (b.oom || evb_decimal_parse(b.data, b.len, scale, &got) != 0
            || got != v)
        {
            printf("# %lld scale %u: %.*s\n", (long long) v, scale,
                   (int) b.len, b.data);
            all = 0;
        }

        evb_buf_free(&b);
    }

    ok(all, "render then parse round-trips 20000 values");
}


int
main(void)
{
    test_currencies();
    test_rounding();
    test_parse();
    test_render();
    test_round_trip();

    tap_plan(tap_n);

    return tap_done();
}
