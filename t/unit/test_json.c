/*
 * The strict JSON reader: syntax, encoding, duplicates, depth, numbers.
 */

#include <stdlib.h>

#include "tap.h"
#include "../../src/core/evb_json.h"


static evb_arena_t  *arena;
static char          errbuf[256];


static evb_json_err_e
parse(const char *text, evb_json_t **v)
{
    evb_json_t  *dummy;

    return evb_json_parse(arena, text, strlen(text), 32, v ? v : &dummy,
                          errbuf, sizeof(errbuf));
}


static evb_json_err_e
parse_len(const char *text, size_t len)
{
    evb_json_t  *v;

    return evb_json_parse(arena, text, len, 32, &v, errbuf, sizeof(errbuf));
}


static evb_json_t *
num(const char *lit)
{
    evb_json_t  *v;

    if (parse(lit, &v) != EVB_JSON_OK) {
        return NULL;
    }

    return v;
}


static void
roundtrip(const char *in, const char *want)
{
    evb_buf_t    b;
    evb_json_t  *v;

    evb_buf_init(&b);

    if (parse(in, &v) != EVB_JSON_OK) {
        ok(0, "roundtrip parse %s: %s", in, errbuf);
        return;
    }

    evb_json_write(&b, v);
    is_str(b.data, b.len, want, "write %s", in);
    evb_buf_free(&b);
}


static void
int64_case(const char *lit, evb_num_err_e want, int64_t wantv)
{
    int64_t         got;
    evb_num_err_e   e;
    evb_json_t     *v;

    v = num(lit);
    got = 0;
    e = evb_json_int64(v, &got);
    is_int(e, want, "int64 %s -> err %d", lit, (int) want);

    if (want == EVB_NUM_OK) {
        is_int(got, wantv, "int64 %s value", lit);
    }
}


static void
fixed_case(const char *lit, unsigned scale, evb_num_err_e want,
    int64_t wantv)
{
    int64_t         got;
    evb_num_err_e   e;
    evb_json_t     *v;

    v = num(lit);
    got = 0;
    e = evb_json_fixed(v, scale, &got);
    is_int(e, want, "fixed %s scale %u -> err %d", lit, scale, (int) want);

    if (want == EVB_NUM_OK) {
        is_int(got, wantv, "fixed %s scale %u value", lit, scale);
    }
}


int
main(void)
{
    int           i;
    char          deep[200], big[4096], *p;
    evb_json_t   *v, *w;
    evb_json_err_e  e;

    arena = evb_arena_create(4096);

    /* tree shape */
    e = parse(" {\"a\": [1, -2.5e3, true, false, null, \"x\\ny\"],"
              " \"b\": {}, \"c\": []} \n", &v);
    is_int(e, EVB_JSON_OK, "parse a mixed document");
    ok(v && v->type == EVB_JSON_OBJECT && v->u.obj.n == 3, "root object");
    w = evb_json_get(v, "a");
    ok(w && w->type == EVB_JSON_ARRAY && w->u.arr.n == 6, "array of 6");
    ok(w && w->u.arr.items[1]->type == EVB_JSON_NUMBER, "number node");
    is_str(w ? w->u.arr.items[1]->u.str.data : NULL,
           w ? w->u.arr.items[1]->u.str.len : 0, "-2.5e3",
           "number kept as literal");
    ok(w && w->u.arr.items[2]->type == EVB_JSON_BOOL
       && w->u.arr.items[2]->u.boolean == 1, "true");
    ok(w && w->u.arr.items[3]->u.boolean == 0, "false");
    ok(w && w->u.arr.items[4]->type == EVB_JSON_NULL, "null");
    is_str(w ? w->u.arr.items[5]->u.str.data : NULL,
           w ? w->u.arr.items[5]->u.str.len : 0, "x\ny", "escape decoded");
    ok(evb_json_get(v, "b") && evb_json_get(v, "b")->u.obj.n == 0,
       "empty object");
    ok(evb_json_get(v, "zz") == NULL, "absent key is NULL");
    ok(evb_json_get(w, "a") == NULL, "get on an array is NULL");

    e = parse("\"\\ud83d\\ude00 \xc3\xa9\"", &v);
    is_int(e, EVB_JSON_OK, "surrogate pair and raw UTF-8");
    is_str(v ? v->u.str.data : NULL, v ? v->u.str.len : 0,
           "\xf0\x9f\x98\x80 \xc3\xa9", "pair decoded to UTF-8");

    /* syntax */
    is_int(parse("", NULL), EVB_JSON_ESYNTAX, "empty");
    is_int(parse("   ", NULL), EVB_JSON_ESYNTAX, "only blanks");
    is_int(parse("{\"a\":1", NULL), EVB_JSON_ESYNTAX, "truncated object");
    ok(strstr(errbuf, "byte") != NULL && strchr(errbuf, '\n') == NULL,
       "errbuf one line with offset: %s", errbuf);
    is_int(parse("[1,]", NULL), EVB_JSON_ESYNTAX, "trailing comma");
    ok(strstr(errbuf, "at byte 4") != NULL, "offset after the ']': %s", errbuf);
    is_int(parse("{\"a\":1} x", NULL), EVB_JSON_ESYNTAX, "trailing garbage");
    is_int(parse("{} {}", NULL), EVB_JSON_ESYNTAX, "two values");
    is_int(parse("01", NULL), EVB_JSON_ESYNTAX, "leading zero");
    is_int(parse("1.", NULL), EVB_JSON_ESYNTAX, "1.");
    is_int(parse("-", NULL), EVB_JSON_ESYNTAX, "lone minus");
    is_int(parse("{'a':1}", NULL), EVB_JSON_ESYNTAX, "single quotes");
    is_int(parse("/* c */ 1", NULL), EVB_JSON_ESYNTAX, "comments");
    is_int(parse("\"a\tb\"", NULL), EVB_JSON_ESYNTAX, "raw tab in string");
    is_int(parse("\"\\x\"", NULL), EVB_JSON_ESYNTAX, "bad escape");
    is_int(parse("NaN", NULL), EVB_JSON_ESYNTAX, "NaN");
    is_int(parse("{\"a\"}", NULL), EVB_JSON_ESYNTAX, "key without value");
    is_int(parse("\"abc", NULL), EVB_JSON_ESYNTAX, "unterminated string");
    is_int(parse_len("{\"a\":1}\0", 8), EVB_JSON_ESYNTAX, "NUL after value");
    is_int(parse("42", NULL), EVB_JSON_OK, "scalar root is a value");

    /* encoding */
    is_int(parse("\"a\\u0000b\"", NULL), EVB_JSON_EENCODING, "\\u0000");
    ok(strstr(errbuf, "NUL") != NULL, "detail names NUL: %s", errbuf);
    is_int(parse("{\"a\\u0000\":1}", NULL), EVB_JSON_EENCODING,
           "\\u0000 in a key");
    is_int(parse("\"\xff\"", NULL), EVB_JSON_EENCODING, "byte ff");
    is_int(parse("\"\xc3\"", NULL), EVB_JSON_EENCODING, "truncated sequence");
    is_int(parse("\"\xc0\x80\"", NULL), EVB_JSON_EENCODING, "overlong NUL");
    is_int(parse("\"\xe0\x80\xaf\"", NULL), EVB_JSON_EENCODING,
           "overlong 3-byte");
    is_int(parse("\"\xed\xa0\x80\"", NULL), EVB_JSON_EENCODING,
           "encoded surrogate");
    is_int(parse("\"\xf4\x90\x80\x80\"", NULL), EVB_JSON_EENCODING,
           "above U+10FFFF");
    is_int(parse("[\"\\ud800\"]", NULL), EVB_JSON_EENCODING,
           "lone high surrogate escape");
    ok(strstr(errbuf, "at byte 2") != NULL, "offset of the escape: %s",
       errbuf);
    is_int(parse("\"\\ud800\\u0041\"", NULL), EVB_JSON_EENCODING,
           "high surrogate + non-low");
    is_int(parse("\"\\udc00\"", NULL), EVB_JSON_EENCODING,
           "lone low surrogate escape");
    is_int(parse("\"\\\\ud800\"", NULL), EVB_JSON_OK,
           "escaped backslash then ud800 is text");
    is_int(parse("[1,] \"\\ud800\"", NULL), EVB_JSON_ESYNTAX,
           "earlier syntax error wins over later surrogate");

    /* duplicates */
    is_int(parse("{\"a\":1,\"a\":2}", NULL), EVB_JSON_EDUPKEY, "dup key");
    ok(strstr(errbuf, "\"a\"") != NULL, "detail names the key: %s", errbuf);
    is_int(parse("{\"x\":{\"b\":1,\"c\":2,\"b\":3}}", NULL),
           EVB_JSON_EDUPKEY, "nested dup key");
    is_int(parse("[{\"a\":1},{\"a\":1}]", NULL), EVB_JSON_OK,
           "same key in sibling objects");
    is_int(parse("{\"a\":{\"a\":1}}", NULL), EVB_JSON_OK,
           "same key at another level");
    is_int(parse("{\"\\u0061\":1,\"a\":2}", NULL), EVB_JSON_EDUPKEY,
           "dup after unescaping");

    /* a big object: duplicates found by the sort at close */
    p = big;
    *p++ = '{';
    for (i = 0; i < 100; i++) {
        p += sprintf(p, "%s\"k%d\":%d", i ? "," : "", i, i);
    }
    strcpy(p, "}");
    is_int(parse(big, &v), EVB_JSON_OK, "100 distinct keys");
    ok(v && v->u.obj.n == 100 && evb_json_get(v, "k99") != NULL,
       "all 100 members");
    p[0] = ',';
    strcpy(p + 1, "\"k7\":0}");
    is_int(parse(big, NULL), EVB_JSON_EDUPKEY, "101st key duplicates k7");
    ok(strstr(errbuf, "k7") != NULL, "names k7: %s", errbuf);

    /* depth */
    memset(deep, '[', 32);
    memset(deep + 32, ']', 32);
    deep[64] = '\0';
    is_int(parse(deep, NULL), EVB_JSON_OK, "depth 32 ok");
    memset(deep, '[', 33);
    memset(deep + 33, ']', 33);
    deep[66] = '\0';
    is_int(parse(deep, NULL), EVB_JSON_EDEPTH, "depth 33 refused");
    ok(strstr(errbuf, "32") != NULL, "detail: %s", errbuf);
    memset(deep, '[', 150);
    deep[150] = '\0';
    is_int(parse(deep, NULL), EVB_JSON_EDEPTH,
           "deep and truncated: depth reported first");
    is_int(evb_json_parse(arena, "{\"a\":{}}", 8, 1, &v, errbuf,
                          sizeof(errbuf)),
           EVB_JSON_EDEPTH, "max_depth 1");
    is_int(evb_json_parse(arena, "{\"a\":1}", 7, 1, &v, NULL, 0),
           EVB_JSON_OK, "max_depth 1 flat, NULL errbuf");

    /* int64 */
    int64_case("0", EVB_NUM_OK, 0);
    int64_case("-0", EVB_NUM_OK, 0);
    int64_case("42", EVB_NUM_OK, 42);
    int64_case("9223372036854775807", EVB_NUM_OK, INT64_MAX);
    int64_case("9223372036854775808", EVB_NUM_RANGE, 0);
    int64_case("-9223372036854775808", EVB_NUM_OK, INT64_MIN);
    int64_case("-9223372036854775809", EVB_NUM_RANGE, 0);
    int64_case("18446744073709551616", EVB_NUM_RANGE, 0);
    int64_case("99999999999999999999999", EVB_NUM_RANGE, 0);
    int64_case("1.0", EVB_NUM_NOT_INTEGER, 0);
    int64_case("1e3", EVB_NUM_NOT_INTEGER, 0);
    int64_case("-1E0", EVB_NUM_NOT_INTEGER, 0);
    ok(evb_json_int64(num("\"1\""), NULL) == EVB_NUM_NOT_NUMBER,
       "int64 of a string");
    ok(evb_json_int64(NULL, NULL) == EVB_NUM_NOT_NUMBER, "int64 of NULL");

    /* fixed */
    fixed_case("16.25", 3, EVB_NUM_OK, 16250);
    fixed_case("16.25", 6, EVB_NUM_OK, 16250000);
    fixed_case("16.25", 2, EVB_NUM_OK, 1625);
    fixed_case("16.25", 1, EVB_NUM_PRECISION, 0);
    fixed_case("16.250", 2, EVB_NUM_OK, 1625);
    fixed_case("16", 0, EVB_NUM_OK, 16);
    fixed_case("-0.000001", 6, EVB_NUM_OK, -1);
    fixed_case("0.0000001", 6, EVB_NUM_PRECISION, 0);
    fixed_case("0.0000000", 6, EVB_NUM_OK, 0);
    fixed_case("1.5e2", 0, EVB_NUM_OK, 150);
    fixed_case("1.5E-1", 2, EVB_NUM_OK, 15);
    fixed_case("1.5e-1", 1, EVB_NUM_PRECISION, 0);
    fixed_case("15e-2", 1, EVB_NUM_PRECISION, 0);
    fixed_case("150e-2", 1, EVB_NUM_OK, 15);
    fixed_case("1e+3", 3, EVB_NUM_OK, 1000000);
    fixed_case("0e999999999999", 6, EVB_NUM_OK, 0);
    fixed_case("1e999999999999", 6, EVB_NUM_RANGE, 0);
    fixed_case("1e-999999999999", 6, EVB_NUM_PRECISION, 0);
    fixed_case("0.0e-999999999999", 6, EVB_NUM_OK, 0);
    fixed_case("9223372036854.775807", 6, EVB_NUM_OK, INT64_MAX);
    fixed_case("9223372036854.775808", 6, EVB_NUM_RANGE, 0);
    fixed_case("-9223372036854.775808", 6, EVB_NUM_OK, INT64_MIN);
    fixed_case("9223372036854775807", 0, EVB_NUM_OK, INT64_MAX);
    fixed_case("9223372036854775807", 1, EVB_NUM_RANGE, 0);
    fixed_case("0.1", 18, EVB_NUM_OK, 100000000000000000LL);
    fixed_case("0.1", 20, EVB_NUM_RANGE, 0);
    ok(evb_json_fixed(num("true"), 2, NULL) == EVB_NUM_NOT_NUMBER,
       "fixed of a bool");

    /* writer */
    roundtrip(" { \"a\" : [ 1 , 2.50 , \"\\u00e9\\t\\\"\" ] ,\"b\":null,"
              "\"c\":{\"d\":false}} ",
              "{\"a\":[1,2.50,\"\xc3\xa9\\t\\\"\"],\"b\":null,"
              "\"c\":{\"d\":false}}");
    roundtrip("\"\\u0001\\/\"", "\"\\u0001/\"");
    roundtrip("[]", "[]");

    evb_arena_destroy(arena);

    tap_plan(tap_n);

    return tap_done();
}
