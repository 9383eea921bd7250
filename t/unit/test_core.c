/*
 * Core helpers: arena, buf, RFC 3339, base64, hex, ids.
 */

#include <stdlib.h>

#include "tap.h"
#include "../../src/core/evb_core.h"


static void
time_ok(const char *s, int64_t want, const char *fmt)
{
    char        buf[25];
    evb_msec_t  t;
    int         rc;

    t = -42;
    rc = evb_time_parse_rfc3339(s, strlen(s), &t);
    is_int(rc, 0, "parse %s", s);
    is_int(t, want, "value of %s", s);

    if (fmt) {
        is_str(buf, evb_time_format_rfc3339(t, buf), fmt, "format %s", s);
    }
}


static void
time_bad(const char *s)
{
    evb_msec_t  t;

    is_int(evb_time_parse_rfc3339(s, strlen(s), &t), -1, "refuse '%s'", s);
}


static void
b64_vec(const char *plain, const char *enc)
{
    char           out[64];
    unsigned char  dec[64];
    size_t         n;

    n = evb_base64_encode((const unsigned char *) plain, strlen(plain), out);
    is_int(evb_base64_encoded_len(strlen(plain)), strlen(enc),
           "encoded_len of '%s'", plain);
    is_str(out, n, enc, "encode '%s'", plain);

    n = evb_base64_decode(enc, strlen(enc), dec);
    is_str((char *) dec, n, plain, "decode '%s'", enc);
}


static void
b64_bad(const char *enc)
{
    unsigned char  dec[64];

    ok(evb_base64_decode(enc, strlen(enc), dec) == (size_t) -1,
       "refuse base64 '%s'", enc);
}


/* the one civil calendar (evb_tz.c's wrappers use it too) */
static void
test_calendar(void)
{
    int      m, d, bad;
    int64_t  y, z;

    is_int(evb_days_from_civil64(1970, 1, 1), 0, "1970-01-01 is day 0");
    is_int(evb_days_from_civil64(2000, 3, 1), 11017, "2000-03-01");
    is_int(evb_days_from_civil64(1900, 3, 1), -25508, "1900-03-01");
    is_int(evb_days_from_civil64(-1, 12, 31), -719529, "-0001-12-31");
    ok(evb_is_leap(2000) && evb_is_leap(2024) && !evb_is_leap(1900)
       && !evb_is_leap(2026), "leap years");

    bad = 0;

    for (z = -800000; z <= 800000; z += 7) {
        evb_civil_from_days64(z, &y, &m, &d);

        if (evb_days_from_civil64(y, m, d) != z || m < 1 || m > 12 || d < 1
            || d > 31)
        {
            bad++;
        }
    }

    is_int(bad, 0, "days -> civil -> days round trip, 4000 years");
}


int
main(void)
{
    int            i;
    char          *p, *q, hex[80], tb[25];
    size_t         n;
    evb_buf_t      b;
    evb_arena_t   *a;
    unsigned char  bin[64];

    test_calendar();

    /* arena */
    a = evb_arena_create(0);
    ok(a != NULL, "arena created");

    p = evb_arena_alloc(a, 3);
    q = evb_arena_alloc(a, 5);
    ok(p && q && ((uintptr_t) p & 7) == 0 && ((uintptr_t) q & 7) == 0,
       "8-byte aligned");
    ok(q >= p + 3 || q + 5 <= p, "no overlap");

    for (i = 0; i < 1000; i++) {
        p = evb_arena_alloc(a, (size_t) (i % 50) + 1);
        if (p == NULL) {
            break;
        }

        memset(p, 'x', (size_t) (i % 50) + 1);
    }
    is_int(i, 1000, "many small allocations across chunks");

    p = evb_arena_alloc(a, 1 << 20);
    ok(p != NULL, "large allocation gets its own chunk");
    if (p) {
        memset(p, 0, 1 << 20);
    }

    p = evb_arena_strdup(a, "hello world", 5);
    is_str(p, p ? strlen(p) : 0, "hello", "strdup NUL-terminates");
    p = evb_arena_strdup(a, NULL, 0);
    is_str(p, p ? strlen(p) : 0, "", "strdup of empty");
    ok(evb_arena_alloc(a, SIZE_MAX - 3) == NULL, "absurd size refused");
    evb_arena_destroy(a);
    evb_arena_destroy(NULL);

    /* buf */
    evb_buf_init(&b);
    for (i = 0; i < 1000; i++) {
        evb_buf_appends(&b, "abc");
    }
    is_int(b.len, 3000, "buf grows");
    ok(b.cap >= b.len && !b.oom, "cap and no oom");
    evb_buf_reset(&b);
    is_int(b.len, 0, "reset");

    evb_buf_append_i64(&b, INT64_MIN);
    evb_buf_appends(&b, " ");
    evb_buf_append_i64(&b, INT64_MAX);
    evb_buf_appends(&b, " ");
    evb_buf_append_u64(&b, UINT64_MAX);
    evb_buf_appends(&b, " ");
    evb_buf_append_i64(&b, 0);
    is_str(b.data, b.len,
           "-9223372036854775808 9223372036854775807 "
           "18446744073709551615 0", "integers");

    evb_buf_reset(&b);
    evb_buf_append_json_str(&b, "a\"b\\c\n\r\t\b\f\x01\x1f\x7f \xc3\xa9/", 17);
    is_str(b.data, b.len,
           "\"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u001f\x7f \xc3\xa9/\"",
           "json string escapes");

    evb_buf_reset(&b);
    evb_buf_append_json_time(&b, 1795626966123LL);
    is_str(b.data, b.len, "\"2026-11-25T17:16:06.123Z\"", "json time");

    b.oom = 1;
    n = b.len;
    evb_buf_appends(&b, "more");
    is_int(b.len, n, "append after oom is a no-op");
    evb_buf_free(&b);
    ok(b.data == NULL && b.len == 0 && !b.oom, "free resets");

    /* RFC 3339 */
    time_ok("1970-01-01T00:00:00Z", 0, "1970-01-01T00:00:00.000Z");
    time_ok("2026-11-25T17:16:06.123Z", 1795626966123LL,
            "2026-11-25T17:16:06.123Z");
    time_ok("2026-11-25t17:16:06.123z", 1795626966123LL, NULL);
    time_ok("2026-11-25T18:16:06.123+01:00", 1795626966123LL, NULL);
    time_ok("2026-11-25T12:46:06.123-04:30", 1795626966123LL, NULL);
    time_ok("2026-11-25T17:16:06.123-00:00", 1795626966123LL, NULL);
    time_ok("2026-11-25T17:16:06.1239999Z", 1795626966123LL,
            "2026-11-25T17:16:06.123Z");
    time_ok("2026-11-25T17:16:06.1Z", 1795626966100LL,
            "2026-11-25T17:16:06.100Z");
    time_ok("2026-11-25T17:16:06.000000001Z", 1795626966000LL, NULL);
    time_ok("2024-02-29T00:00:00Z", 1709164800000LL,
            "2024-02-29T00:00:00.000Z");
    time_ok("2000-02-29T23:59:59.999Z", 951868799999LL, NULL);
    time_ok("1969-12-31T23:59:59.999Z", -1, "1969-12-31T23:59:59.999Z");
    time_ok("2024-01-01T00:30:00+01:00", 1704065400000LL,
            "2023-12-31T23:30:00.000Z");
    time_ok("9999-12-31T23:59:59.999Z", 253402300799999LL,
            "9999-12-31T23:59:59.999Z");
    time_ok("0000-01-01T00:00:00Z", -62167219200000LL,
            "0000-01-01T00:00:00.000Z");
    time_ok("2024-12-31T23:59:59Z", 1735689599000LL, NULL);

    time_bad("");
    time_bad("2026-11-25");
    time_bad("2026-11-25T17:16:06");
    time_bad("2026-11-25 17:16:06Z");
    time_bad("2026-11-25T17:16Z");
    time_bad("2026-11-25T17:16:06.Z");
    time_bad("2026-11-25T17:16:06.123");
    time_bad("2026-11-25T17:16:06ZZ");
    time_bad("2026-11-25T17:16:06Z ");
    time_bad("2026-11-25T17:16:06+0100");
    time_bad("2026-11-25T17:16:06+01");
    time_bad("2026-11-25T17:16:06+24:00");
    time_bad("2026-11-25T17:16:06+01:60");
    time_bad("2023-02-29T00:00:00Z");
    time_bad("1900-02-29T00:00:00Z");
    time_bad("2026-04-31T00:00:00Z");
    time_bad("2026-13-01T00:00:00Z");
    time_bad("2026-00-01T00:00:00Z");
    time_bad("2026-01-00T00:00:00Z");
    time_bad("2026-01-32T00:00:00Z");
    time_bad("2026-01-01T24:00:00Z");
    time_bad("2026-01-01T00:60:00Z");
    time_bad("2016-12-31T23:59:60Z");
    time_bad("+2026-01-01T00:00:00Z");
    time_bad("2026-1-01T00:00:00Z");
    time_bad("2026/01/01T00:00:00Z");
    time_bad("2026-01-01T0a:00:00Z");
    time_bad("２026-01-01T00:00:00Z");

    n = evb_time_format_rfc3339(INT64_MAX, tb);
    is_str(tb, n, "9999-12-31T23:59:59.999Z", "format clamps the top");
    n = evb_time_format_rfc3339(INT64_MIN, tb);
    is_str(tb, n, "0000-01-01T00:00:00.000Z", "format clamps the bottom");

    /* base64: RFC 4648 section 10 */
    b64_vec("", "");
    b64_vec("f", "Zg==");
    b64_vec("fo", "Zm8=");
    b64_vec("foo", "Zm9v");
    b64_vec("foob", "Zm9vYg==");
    b64_vec("fooba", "Zm9vYmE=");
    b64_vec("foobar", "Zm9vYmFy");

    bin[0] = 0xfb;
    bin[1] = 0xff;
    bin[2] = 0xbf;
    n = evb_base64_encode(bin, 3, hex);
    is_str(hex, n, "+/+/", "alphabet + and /");
    ok(evb_base64_decode("+/+/", 4, bin) == 3 && bin[0] == 0xfb
       && bin[2] == 0xbf, "decode + and /");

    b64_bad("Zg");
    b64_bad("Zg=");
    b64_bad("Zg===");
    b64_bad("Z===");
    b64_bad("====");
    b64_bad("Zg=a");
    b64_bad("Zm=v");
    b64_bad("Zh==");
    b64_bad("Zm9=");
    b64_bad("Zm9v\n");
    b64_bad("Zm 9");
    b64_bad("Zm-_");
    b64_bad("Zg==Zg==");

    /* hex */
    evb_hex_encode((const unsigned char *) "\x00\xab\xff", 3, hex);
    is_str(hex, 6, "00abff", "hex encode");
    n = evb_hex_decode("00ABff", 6, bin);
    ok(n == 3 && bin[0] == 0 && bin[1] == 0xab && bin[2] == 0xff,
       "hex decode either case");
    ok(evb_hex_decode("abc", 3, bin) == (size_t) -1, "odd length");
    ok(evb_hex_decode("zz", 2, bin) == (size_t) -1, "bad digit");
    ok(evb_hex_decode("", 0, bin) == 0, "empty hex");

    /* ids */
    ok(evb_id_valid("CP-0001", 7), "plain id");
    ok(evb_id_valid("a b~!", 5), "space and punctuation allowed");
    ok(!evb_id_valid("", 0), "empty id");
    ok(!evb_id_valid("a/b", 3), "slash refused");
    ok(!evb_id_valid(".", 1), "\".\" refused");
    ok(!evb_id_valid("..", 2), "\"..\" refused");
    ok(evb_id_valid("...", 3), "\"...\" allowed");
    ok(evb_id_valid(".a", 2), "\".a\" allowed");
    ok(!evb_id_valid("a\tb", 3), "control refused");
    ok(!evb_id_valid("a\x7f", 2), "DEL refused");
    ok(!evb_id_valid("\xc3\xa9", 2), "non-ASCII refused");
    memset(hex, 'x', 65);
    ok(evb_id_valid(hex, 64), "64 bytes ok");
    ok(!evb_id_valid(hex, 65), "65 bytes refused");

    tap_plan(tap_n);

    return tap_done();
}
