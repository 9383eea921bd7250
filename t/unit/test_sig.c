/*
 * RFC 9421 signatures and RFC 9530 Content-Digest: the RFC's B.2.5
 * vector, the worked charger example with its cases, and RFC 8941
 * parser edge cases.
 */

#include <ctype.h>
#include <stdlib.h>

#include "tap.h"
#include "../../src/core/evb_sig.h"


#define SIGDIR  EVB_SHARED "/conformance/http-signatures/"


typedef struct {
    const char  *name;
    const char  *value;
} field_t;

typedef struct {
    field_t      f[32];
    int          n;
} req_t;


static int
resolve(void *ctx, const char *name, size_t len, evb_str_t *value)
{
    int     i;
    req_t  *r = ctx;

    for (i = 0; i < r->n; i++) {
        if (strlen(r->f[i].name) == len
            && memcmp(r->f[i].name, name, len) == 0)
        {
            value->data = r->f[i].value;
            value->len = strlen(r->f[i].value);
            return 0;
        }
    }

    return -1;
}


static void
req_set(req_t *r, const char *name, const char *value)
{
    int  i;

    for (i = 0; i < r->n; i++) {
        if (strcmp(r->f[i].name, name) == 0) {
            r->f[i].value = value;
            return;
        }
    }

    r->f[r->n].name = name;
    r->f[r->n].value = value;
    r->n++;
}


static const char *
req_get(req_t *r, const char *name)
{
    int  i;

    for (i = 0; i < r->n; i++) {
        if (strcmp(r->f[i].name, name) == 0) {
            return r->f[i].value;
        }
    }

    return "";
}


static char *
slurp(const char *path, size_t *len)
{
    FILE   *f;
    char   *p;
    long    n;

    f = fopen(path, "rb");
    if (f == NULL) {
        printf("# cannot open %s\n", path);
        *len = 0;
        return calloc(1, 1);
    }

    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);

    p = malloc(n + 1);
    if (p == NULL || fread(p, 1, n, f) != (size_t) n) {
        printf("# cannot read %s\n", path);
        exit(1);
    }

    p[n] = '\0';
    fclose(f);
    *len = n;

    return p;
}


static evb_str_t
S(const char *s)
{
    evb_str_t  r;

    r.data = s;
    r.len = strlen(s);

    return r;
}


static evb_sig_err_e
parse(evb_arena_t *a, const char *in, const char *sig, evb_sig_t **s,
    size_t *n, char *err)
{
    err[0] = '\0';

    return evb_sig_parse(a, S(in), S(sig), s, n, err, 256);
}


/* RFC 9421 B.2.5: hmac-sha256 over "date" "@authority" "content-type" */
static void
test_b25(evb_arena_t *a)
{
    /* RFC 9421 B.1.5 test-shared-secret */
    static const char  key64[] = "uzvJfB4u3N0Jy4T7NZ75MDVcr8zSTInedJtkgcu46YW4"
                                 "XByzNJjxBdtjUkdJPBtbmHhIDi6pcl8jsasjlTMtDQ"
                                 "==";
    char            err[256], *want;
    size_t          n, wantlen, keylen;
    req_t           r;
    evb_buf_t       b;
    evb_sig_t      *s;
    unsigned char   key[64];

    err[0] = '\0';
    memset(&r, 0, sizeof(r));
    req_set(&r, "date", "Tue, 20 Apr 2021 02:07:55 GMT");
    req_set(&r, "@authority", "example.com");
    req_set(&r, "content-type", "application/json");
    req_set(&r, "@method", "POST");

    is_int(parse(a, "sig-b25=(\"date\" \"@authority\" \"content-type\")"
                 ";created=1618884473;keyid=\"test-shared-secret\"",
                 "sig-b25=:pxcQw6G3AjtMBQjwo8XzkZf/bws5LelbaMk5rGIGtE8=:",
                 &s, &n, err), EVB_SIG_OK, "B.2.5 parses (%s)", err);
    is_int(n, 1, "B.2.5 one signature");
    is_str(s->label.data, s->label.len, "sig-b25", "B.2.5 label");
    is_str(s->keyid.data, s->keyid.len, "test-shared-secret", "B.2.5 keyid");
    is_int(s->created, 1618884473, "B.2.5 created");
    is_int(s->maclen, 32, "B.2.5 MAC length");

    want = slurp(SIGDIR "rfc9421_b25_base.txt", &wantlen);
    evb_buf_init(&b);
    is_int(evb_sig_base(&b, s, resolve, &r, err, sizeof(err)), EVB_SIG_OK,
           "B.2.5 base builds");
    ok(b.len == wantlen && memcmp(b.data, want, wantlen) == 0,
       "B.2.5 base equals rfc9421_b25_base.txt byte for byte");

    keylen = evb_base64_decode(key64, sizeof(key64) - 1, key);
    is_int(keylen, 64, "B.1.5 key decodes to 64 bytes");
    is_int(evb_sig_verify_hmac(s, key, keylen, b.data, b.len), EVB_SIG_OK,
           "B.2.5 HMAC reproduces pxcQw6G3...");
    is_int(evb_sig_verify_hmac(s, key, keylen, want, wantlen), EVB_SIG_OK,
           "B.2.5 HMAC over the file content");

    key[0] ^= 1;
    is_int(evb_sig_verify_hmac(s, key, keylen, b.data, b.len),
           EVB_SIG_EINVALID, "B.2.5 with a changed key fails");

    is_int(evb_sig_check_profile(s, err, sizeof(err)), EVB_SIG_EINCOMPLETE,
           "B.2.5 does not meet evbill's profile");
    is_str(err, strlen(err), "covered components must include @method",
           "B.2.5 refusal names @method");

    evb_buf_free(&b);
    free(want);
}


/* the worked charger example and its cases */
static void
test_example(evb_arena_t *a)
{
    char            err[256], *req, *p, *eol, *colon, *v, *base, *keyhex;
    char           *body, *cases, *bodycopy;
    size_t          reqlen, baselen, keyhexlen, bodylen, caseslen, n, i;
    int64_t         created;
    req_t           r, r2;
    evb_buf_t       b, d;
    evb_sig_t      *s;
    unsigned char   key[32];
    static const char  *names[] = {
        "valid", "body-changed-digest-mismatch", "expired",
        "created-in-future", "wrong-key", "path-changed", "replayed-nonce"
    };

    err[0] = '\0';
    req = slurp(SIGDIR "example-request.http", &reqlen);
    base = slurp(SIGDIR "example-signature-base.txt", &baselen);
    keyhex = slurp(SIGDIR "example-key.hex", &keyhexlen);
    cases = slurp(SIGDIR "example-cases.json", &caseslen);

    memset(&r, 0, sizeof(r));

    /* the request: CRLF header lines, a blank line, the body */
    body = strstr(req, "\r\n\r\n");
    ok(body != NULL, "example request has a header/body boundary");
    if (body == NULL) {
        return;
    }

    *body = '\0';
    body += 4;
    bodylen = reqlen - (body - req);

    p = strstr(req, "\r\n");
    ok(p != NULL && strncmp(req, "POST ", 5) == 0, "request line is POST");
    p += 2;

    while (*p) {
        eol = strstr(p, "\r\n");
        if (eol) {
            *eol = '\0';
        }

        colon = strchr(p, ':');
        if (colon) {
            *colon = '\0';
            for (v = p; *v; v++) {
                *v = (char) tolower((unsigned char) *v);
            }
            v = colon + 1;
            while (*v == ' ' || *v == '\t') {
                v++;
            }
            req_set(&r, p, v);
        }

        if (eol == NULL) {
            break;
        }

        p = eol + 2;
    }

    req_set(&r, "@method", "POST");
    req_set(&r, "@target-uri", "https://edge.example.net/v1/meter-readings");
    req_set(&r, "@authority", "edge.example.net");
    req_set(&r, "@scheme", "https");
    req_set(&r, "@path", "/v1/meter-readings");
    req_set(&r, "@request-target", "/v1/meter-readings");

    is_int(evb_sig_parse(a, S(req_get(&r, "signature-input")),
                         S(req_get(&r, "signature")), &s, &n, err,
                         sizeof(err)),
           EVB_SIG_OK, "example parses (%s)", err);
    if (n != 1) {
        ok(0, "example has one signature");
        return;
    }

    is_str(s->keyid.data, s->keyid.len, "cp-DEEXAE0001.k2", "example keyid");
    is_int(s->created, 1718000000, "example created");
    ok(s->has_expires && s->expires == 1718000300, "example expires");
    is_int(s->ncomponents, 4, "example covers 4 components");
    is_str(s->params.data, s->params.len,
           "(\"@method\" \"@target-uri\" \"content-type\" \"content-digest\")"
           ";created=1718000000;expires=1718000300;keyid=\"cp-DEEXAE0001.k2\""
           ";nonce=\"b3k2Zk9xQ1c3TnJ2\";tag=\"ev-meter-v1\"",
           "params equal what the charger sent");
    is_int(evb_sig_check_profile(s, err, sizeof(err)), EVB_SIG_OK,
           "example meets the profile (%s)", err);

    evb_buf_init(&b);
    is_int(evb_sig_base(&b, s, resolve, &r, err, sizeof(err)), EVB_SIG_OK,
           "example base builds (%s)", err);
    ok(b.len == baselen && memcmp(b.data, base, baselen) == 0,
       "example base equals example-signature-base.txt byte for byte");

    while (keyhexlen && isspace((unsigned char) keyhex[keyhexlen - 1])) {
        keyhexlen--;
    }
    is_int(evb_hex_decode(keyhex, keyhexlen, key), 32, "example key decodes");
    ok(strstr(cases, "\"keyHex\": \"9f1c2a7b4e0d3c5a8b6f7e1d2c3b4a59"
                     "68778695a4b3c2d1e0f1a2b3c4d5e6f7\"") != NULL
       && keyhexlen == 64 && memcmp(keyhex, "9f1c2a7b4e0d3c5a", 16) == 0,
       "cases file and key file agree on the key");

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char  q[64];

        snprintf(q, sizeof(q), "\"name\": \"%s\"", names[i]);
        ok(strstr(cases, q) != NULL, "case %s exists in example-cases.json",
           names[i]);
    }

    /* valid */
    is_int(evb_digest_verify(S(req_get(&r, "content-digest")), body, bodylen),
           EVB_DIGEST_OK, "valid: digest of example-body.json matches");
    is_int(evb_sig_check_time(s, 1718000010, 60, err, sizeof(err)),
           EVB_SIG_OK, "valid: time ok at created+10");
    is_int(evb_sig_verify_hmac(s, key, 32, b.data, b.len), EVB_SIG_OK,
           "valid: MAC verifies");

    {
        size_t  blen;
        char   *bfile = slurp(SIGDIR "example-body.json", &blen);

        ok(blen == bodylen && memcmp(bfile, body, blen) == 0,
           "request body equals example-body.json");
        free(bfile);
    }

    /* body-changed-digest-mismatch */
    bodycopy = malloc(bodylen);
    memcpy(bodycopy, body, bodylen);
    p = strstr(bodycopy, "4711");
    ok(p != NULL, "body holds seq 4711");
    if (p) {
        p[3] = '2';
    }
    is_int(evb_digest_verify(S(req_get(&r, "content-digest")), bodycopy,
                             bodylen),
           EVB_DIGEST_EMISMATCH, "body-changed: digest mismatch");
    is_int(evb_digest_verify(S(req_get(&r, "content-digest")), body,
                             bodylen - 1),
           EVB_DIGEST_EMISMATCH, "body truncated: digest mismatch");
    free(bodycopy);

    /* expired: a wide window isolates the expires check */
    is_int(evb_sig_check_time(s, 1718000300, 600, err, sizeof(err)),
           EVB_SIG_OK, "expired: now == expires is still fine");
    is_int(evb_sig_check_time(s, 1718000301, 600, err, sizeof(err)),
           EVB_SIG_ETIME, "expired: now > expires -> ETIME (%s)", err);
    is_int(evb_sig_check_time(s, 1718000061, 60, err, sizeof(err)),
           EVB_SIG_ETIME, "expired: created older than the window -> ETIME");
    is_int(evb_sig_check_time(s, 1718000060, 60, err, sizeof(err)),
           EVB_SIG_OK, "created exactly window seconds ago is fine");

    /* created-in-future */
    is_int(evb_sig_check_time(s, 1718000000 - 61, 60, err, sizeof(err)),
           EVB_SIG_ETIME, "created-in-future: 61 s ahead -> ETIME (%s)", err);
    is_int(evb_sig_check_time(s, 1718000000 - 60, 60, err, sizeof(err)),
           EVB_SIG_OK, "created 60 s ahead is within the window");

    /* no overflow on extreme values */
    created = s->created;
    s->created = INT64_MIN;
    is_int(evb_sig_check_time(s, INT64_MAX, 60, err, sizeof(err)),
           EVB_SIG_ETIME, "extreme created is refused without overflow");
    s->created = INT64_MAX;
    is_int(evb_sig_check_time(s, INT64_MIN, INT64_MAX, err, sizeof(err)),
           EVB_SIG_ETIME, "extreme future created is refused");
    s->created = created;

    /* wrong-key */
    key[31] ^= 0x80;
    is_int(evb_sig_verify_hmac(s, key, 32, b.data, b.len), EVB_SIG_EINVALID,
           "wrong-key: MAC mismatch");
    key[31] ^= 0x80;
    is_int(evb_sig_verify_hmac(s, key, 31, b.data, b.len), EVB_SIG_EINVALID,
           "wrong-key: truncated key");

    /* path-changed: the request re-targeted */
    r2 = r;
    req_set(&r2, "@target-uri", "https://edge.example.net/v1/sessions");
    evb_buf_init(&d);
    is_int(evb_sig_base(&d, s, resolve, &r2, err, sizeof(err)), EVB_SIG_OK,
           "path-changed: base builds");
    is_int(evb_sig_verify_hmac(s, key, 32, d.data, d.len), EVB_SIG_EINVALID,
           "path-changed: MAC mismatch");
    evb_buf_free(&d);

    r2 = r;
    req_set(&r2, "@method", "PUT");
    evb_buf_init(&d);
    evb_sig_base(&d, s, resolve, &r2, err, sizeof(err));
    is_int(evb_sig_verify_hmac(s, key, 32, d.data, d.len), EVB_SIG_EINVALID,
           "method changed: MAC mismatch");
    evb_buf_free(&d);

    /* a changed MAC byte */
    s->mac[0] ^= 1;
    is_int(evb_sig_verify_hmac(s, key, 32, b.data, b.len), EVB_SIG_EINVALID,
           "flipped MAC bit: MAC mismatch");
    s->mac[0] ^= 1;

    /* replayed-nonce: the verifier accepts; idempotent writes answer it */
    is_int(evb_sig_verify_hmac(s, key, 32, b.data, b.len), EVB_SIG_OK,
           "replayed-nonce: verifies again (replay handled by the store)");

    /* the resolver cannot find a covered field */
    r2 = r;
    for (i = 0; i < (size_t) r2.n; i++) {
        if (strcmp(r2.f[i].name, "content-type") == 0) {
            r2.f[i].name = "x-gone2";
        }
    }
    evb_buf_init(&d);
    is_int(evb_sig_base(&d, s, resolve, &r2, err, sizeof(err)),
           EVB_SIG_ECOMPONENT, "absent content-type -> ECOMPONENT (%s)",
           err);
    evb_buf_free(&d);

    /* a value with a line break cannot be put in the base */
    r2 = r;
    req_set(&r2, "content-type", "application/json\n\"@method\": GET");
    evb_buf_init(&d);
    is_int(evb_sig_base(&d, s, resolve, &r2, err, sizeof(err)),
           EVB_SIG_ECOMPONENT, "value with a newline -> ECOMPONENT");
    evb_buf_free(&d);

    evb_buf_free(&b);
    free(req);
    free(base);
    free(keyhex);
    free(cases);
}


#define SIG1  "sig1=:pxcQw6G3AjtMBQjwo8XzkZf/bws5LelbaMk5rGIGtE8=:"
#define GOOD  "(\"@method\" \"@target-uri\" \"content-digest\");created=1;" \
              "keyid=\"k\""


static void
test_parser(evb_arena_t *a)
{
    char            err[256];
    size_t          n;
    req_t           r;
    evb_buf_t       b;
    evb_sig_t      *s;

    err[0] = '\0';
    memset(&r, 0, sizeof(r));
    req_set(&r, "@method", "POST");
    req_set(&r, "@target-uri", "https://x/y");
    req_set(&r, "@authority", "x");
    req_set(&r, "@path", "/y");
    req_set(&r, "content-digest", "sha-256=:x:");
    evb_buf_init(&b);

    /* missing */
    is_int(parse(a, "", SIG1, &s, &n, err), EVB_SIG_EMISSING,
           "empty Signature-Input -> EMISSING");
    is_int(parse(a, "sig1=" GOOD, "", &s, &n, err), EVB_SIG_EMISSING,
           "empty Signature -> EMISSING");
    is_int(parse(a, "   ", SIG1, &s, &n, err), EVB_SIG_EMISSING,
           "blank Signature-Input -> EMISSING");

    /* multiple signatures, labels matched across the two fields */
    is_int(parse(a, "sig1=" GOOD ", sig2=(\"@method\");created=2;"
                 "keyid=\"other\"",
                 "sig2=:AAAA:, sig1=:pxcQw6G3AjtMBQjwo8XzkZf/bws5LelbaMk5rG"
                 "IGtE8=:", &s, &n, err), EVB_SIG_OK,
           "two signatures parse (%s)", err);
    is_int(n, 2, "two signatures");
    if (n == 2) {
        is_str(s[0].label.data, s[0].label.len, "sig1",
               "Signature-Input order kept (first)");
        is_str(s[1].label.data, s[1].label.len, "sig2",
               "Signature-Input order kept (second)");
        is_int(s[0].maclen, 32, "sig1 got its own MAC");
        is_int(s[1].maclen, 3, "sig2 got its own MAC");
        is_str(s[1].keyid.data, s[1].keyid.len, "other", "sig2 keyid");
        is_int(evb_sig_check_profile(&s[1], err, sizeof(err)),
               EVB_SIG_EINCOMPLETE, "sig2 lacks the target");
    }

    /* two header lines joined with ", " by the HTTP layer */
    is_int(parse(a, "a=(\"@method\");created=1, b=" GOOD,
                 "a=:AAAA:, b=:AAAA:", &s, &n, err), EVB_SIG_OK,
           "joined header lines parse");
    is_int(n, 2, "joined: two signatures");

    /* whitespace */
    is_int(parse(a, "  sig1=(  \"@method\"   \"@target-uri\" "
                 "\"content-digest\"  );created=1; keyid=\"k\" \t ",
                 " \t" SIG1 "  ", &s, &n, err), EVB_SIG_EMALFORMED,
           "leading HTAB in Signature -> EMALFORMED");
    is_int(parse(a, "  sig1=(  \"@method\"   \"@target-uri\" "
                 "\"content-digest\"  );created=1; keyid=\"k\" \t ",
                 "  " SIG1 "  ", &s, &n, err), EVB_SIG_OK,
           "SP padding, inner SPs, SP after ';', trailing OWS (%s)", err);
    if (n == 1) {
        is_str(s->params.data, s->params.len, GOOD,
               "whitespace normalised in params");
    }
    is_int(parse(a, "x=(\"a\")  ,\t y=(\"b\")", "x=:AAAA:\t,  y=:AAAA:",
                 &s, &n, err), EVB_SIG_OK, "OWS around commas");
    is_int(parse(a, "sig1=(\"@method\"\t\"x\")", SIG1, &s, &n, err),
           EVB_SIG_EMALFORMED, "HTAB inside an inner list -> EMALFORMED");
    is_int(parse(a, "sig1=(\"@method\") ;created=1", SIG1, &s, &n, err),
           EVB_SIG_EMALFORMED, "SP before ';' -> EMALFORMED");
    is_int(parse(a, "sig1=(\"@method\");created= 1", SIG1, &s, &n, err),
           EVB_SIG_EMALFORMED, "SP after '=' -> EMALFORMED");
    is_int(parse(a, "sig1 =(\"@method\")", SIG1, &s, &n, err),
           EVB_SIG_EMALFORMED, "SP before '=' -> EMALFORMED");
    is_int(parse(a, "sig1=(\"a\"\"b\")", SIG1, &s, &n, err),
           EVB_SIG_EMALFORMED, "items without a separator -> EMALFORMED");

    /* malformed dictionaries */
    is_int(parse(a, "sig1=" GOOD ",", SIG1, &s, &n, err), EVB_SIG_EMALFORMED,
           "trailing comma -> EMALFORMED (%s)", err);
    is_int(parse(a, "sig1=" GOOD ",,sig2=()", SIG1, &s, &n, err),
           EVB_SIG_EMALFORMED, "empty member -> EMALFORMED");
    is_int(parse(a, "sig1=", SIG1, &s, &n, err), EVB_SIG_EMALFORMED,
           "missing value -> EMALFORMED");
    is_int(parse(a, "Sig1=" GOOD, "Sig1=:AAAA:", &s, &n, err),
           EVB_SIG_EMALFORMED, "upper-case key -> EMALFORMED");
    is_int(parse(a, "1sig=" GOOD, "1sig=:AAAA:", &s, &n, err),
           EVB_SIG_EMALFORMED, "key starting with a digit -> EMALFORMED");
    is_int(parse(a, "sig1=(\"@method\"", SIG1, &s, &n, err),
           EVB_SIG_EMALFORMED, "unterminated inner list -> EMALFORMED");
    is_int(parse(a, "sig1=(\"@method)", SIG1, &s, &n, err),
           EVB_SIG_EMALFORMED, "unterminated string -> EMALFORMED");
    is_int(parse(a, "sig1=" GOOD " sig2=()", SIG1, &s, &n, err),
           EVB_SIG_EMALFORMED, "members without a comma -> EMALFORMED");
    is_int(parse(a, "sig1=" GOOD, "sig1=:AAAA", &s, &n, err),
           EVB_SIG_EMALFORMED, "unterminated byte sequence -> EMALFORMED");
    is_int(parse(a, "sig1=(\"a\\nb\")", SIG1, &s, &n, err),
           EVB_SIG_EMALFORMED, "bad string escape -> EMALFORMED");
    is_int(parse(a, "sig1=(\"a\xc3\xa9\")", SIG1, &s, &n, err),
           EVB_SIG_EMALFORMED, "non-ASCII in a string -> EMALFORMED");
    is_int(parse(a, "sig1=" GOOD, "sig1=?2", &s, &n, err),
           EVB_SIG_EMALFORMED, "bad boolean -> EMALFORMED");

    /* member value kinds */
    is_int(parse(a, "sig1=\"@method\"", SIG1, &s, &n, err),
           EVB_SIG_EMALFORMED, "Signature-Input member not an inner list");
    is_int(parse(a, "sig1;created=1", SIG1, &s, &n, err),
           EVB_SIG_EMALFORMED, "Signature-Input member bare (true)");
    is_int(parse(a, "sig1=" GOOD, "sig1=\"AAAA\"", &s, &n, err),
           EVB_SIG_EMALFORMED, "Signature member a string -> EMALFORMED");
    is_int(parse(a, "sig1=" GOOD, "sig1=(:AAAA:)", &s, &n, err),
           EVB_SIG_EMALFORMED, "Signature member an inner list");
    is_int(parse(a, "sig1=" GOOD, "sig1=:AAAA:;x=1", &s, &n, err),
           EVB_SIG_OK, "parameters on a Signature member are ignored");

    /* non-string inner items */
    is_int(parse(a, "sig1=(@method \"x\")", SIG1, &s, &n, err),
           EVB_SIG_EMALFORMED, "token as component -> EMALFORMED");
    is_int(parse(a, "sig1=(\"@method\" method)", SIG1, &s, &n, err),
           EVB_SIG_EMALFORMED, "token item -> EMALFORMED (%s)", err);
    is_int(parse(a, "sig1=(\"@method\" 1)", SIG1, &s, &n, err),
           EVB_SIG_EMALFORMED, "integer item -> EMALFORMED");
    is_int(parse(a, "sig1=(:AAAA:)", SIG1, &s, &n, err),
           EVB_SIG_EMALFORMED, "byte sequence item -> EMALFORMED");
    is_int(parse(a, "sig1=(\"a\" \"b\" \"c\" \"d\" \"e\" \"f\" \"g\" \"h\" "
                 "\"i\" \"j\" \"k\" \"l\" \"m\" \"n\" \"o\" \"p\" \"q\")",
                 SIG1, &s, &n, err),
           EVB_SIG_EMALFORMED, "17 components -> EMALFORMED");
    is_int(parse(a, "sig1=()", SIG1, &s, &n, err), EVB_SIG_OK,
           "empty inner list parses");
    is_int(s->ncomponents, 0, "no components");
    is_str(s->params.data, s->params.len, "()", "params of an empty list");

    /* labels across the fields */
    is_int(parse(a, "sig1=" GOOD ", sig2=" GOOD, SIG1, &s, &n, err),
           EVB_SIG_EMALFORMED, "label without a Signature -> EMALFORMED");
    is_int(parse(a, "sig1=" GOOD, SIG1 ", sig2=:AAAA:", &s, &n, err),
           EVB_SIG_EMALFORMED,
           "Signature label without Signature-Input -> EMALFORMED (%s)", err);

    /* byte sequences */
    is_int(parse(a, "sig1=" GOOD, "sig1=:ab$c:", &s, &n, err),
           EVB_SIG_EMALFORMED, "bad base64 character -> EMALFORMED");
    is_int(parse(a, "sig1=" GOOD, "sig1=:ab=c:", &s, &n, err),
           EVB_SIG_EMALFORMED, "'=' inside base64 -> EMALFORMED");
    is_int(parse(a, "sig1=" GOOD, "sig1=:abcde:", &s, &n, err),
           EVB_SIG_EMALFORMED, "base64 of impossible length -> EMALFORMED");
    is_int(parse(a, "sig1=" GOOD, "sig1=:YQ===:", &s, &n, err),
           EVB_SIG_EMALFORMED, "three '=' -> EMALFORMED");
    is_int(parse(a, "sig1=" GOOD, "sig1=:YWI:", &s, &n, err), EVB_SIG_OK,
           "unpadded base64 is accepted (RFC 8941 4.2.7)");
    ok(n == 1 && s->maclen == 2 && memcmp(s->mac, "ab", 2) == 0,
       "unpadded base64 decodes");
    is_int(parse(a, "sig1=" GOOD, "sig1=::", &s, &n, err), EVB_SIG_OK,
           "empty byte sequence parses");
    is_int(s->maclen, 0, "empty MAC");
    is_int(evb_sig_verify_hmac(s, (const unsigned char *) "k", 1, "x", 1),
           EVB_SIG_EINVALID, "empty MAC never verifies");
    {
        char  big[200];

        /* 64 zero bytes: 86 "A" and "==" */
        memcpy(big, "sig1=:", 6);
        memset(big + 6, 'A', 86);
        memcpy(big + 92, "==:", 4);
        is_int(parse(a, "sig1=" GOOD, big, &s, &n, err), EVB_SIG_OK,
               "64-byte MAC accepted (%s)", err);
        is_int(s ? s->maclen : 0, 64, "64-byte MAC length");

        /* 65 bytes: 87 "A" and "=" */
        memset(big + 6, 'A', 87);
        memcpy(big + 93, "=:", 3);
        is_int(parse(a, "sig1=" GOOD, big, &s, &n, err), EVB_SIG_EMALFORMED,
               "65-byte MAC refused (%s)", err);
    }

    /* parameters: types, duplicates, canonical form */
    is_int(parse(a, "sig1=(\"@method\");keyid=\"a\\\"b\\\\c\";created=5",
                 SIG1, &s, &n, err), EVB_SIG_OK, "escaped keyid parses");
    is_str(s->keyid.data, s->keyid.len, "a\"b\\c", "keyid unescaped");
    is_str(s->params.data, s->params.len,
           "(\"@method\");keyid=\"a\\\"b\\\\c\";created=5",
           "params keep the escapes");

    is_int(parse(a, "sig1=(\"@method\");created=1;keyid=\"a\";created=2",
                 SIG1, &s, &n, err), EVB_SIG_OK, "duplicate parameter");
    is_int(s->created, 2, "duplicate parameter: last value wins");
    is_str(s->params.data, s->params.len,
           "(\"@method\");created=2;keyid=\"a\"",
           "duplicate parameter keeps its first place");

    is_int(parse(a, "sig1=(\"x\");created=1, sig2=(\"y\"), sig1=(\"z\");"
                 "created=3", "sig1=:AAAA:, sig2=:AAAA:, sig1=:YWI:",
                 &s, &n, err), EVB_SIG_OK, "duplicate label");
    is_int(n, 2, "duplicate label: one signature per label");
    if (n == 2) {
        is_str(s[0].label.data, s[0].label.len, "sig1",
               "duplicate label keeps its first place");
        is_int(s[0].created, 3, "duplicate label: last value wins");
        is_str(s[0].components[0].data, s[0].components[0].len, "z",
               "duplicate label: last components");
        is_int(s[0].maclen, 2, "duplicate label: last Signature value");
    }
    is_int(parse(a, "sig1=(1), sig1=(\"z\")", SIG1, &s, &n, err), EVB_SIG_OK,
           "an overwritten bad member does not matter");

    is_int(parse(a, "sig1=(\"@method\");x=1.50;y=?0;z=tok/a:b;w=:YWI:;v;"
                 "u=-0;t=-0.0;s=007;r=-12.005;q=?1;p=*x", SIG1, &s, &n, err),
           EVB_SIG_OK, "all bare item types as parameters (%s)", err);
    is_str(s->params.data, s->params.len,
           "(\"@method\");x=1.5;y=?0;z=tok/a:b;w=:YWI=:;v;u=0;t=0.0;s=7;"
           "r=-12.005;q;p=*x", "canonical serialisation of parameters");

    is_int(parse(a, "sig1=(\"@method\";sf \"b\";key=\"x\";bs)", SIG1, &s,
                 &n, err), EVB_SIG_OK, "component parameters parse");
    is_str(s->params.data, s->params.len,
           "(\"@method\";sf \"b\";key=\"x\";bs)",
           "component parameters are serialised");
    is_str(s->components[1].data, s->components[1].len, "b",
           "component name without its parameters");

    is_int(parse(a, "sig1=(\"@method\");created=1234567890123456", SIG1, &s,
                 &n, err), EVB_SIG_EMALFORMED, "16-digit integer refused");
    is_int(parse(a, "sig1=(\"@method\");created=123456789012345", SIG1, &s,
                 &n, err), EVB_SIG_OK, "15-digit integer accepted");
    is_int(s->created, 123456789012345LL, "15-digit integer value");
    is_int(parse(a, "sig1=(\"@method\");x=1.2345", SIG1, &s, &n, err),
           EVB_SIG_EMALFORMED, "decimal with 4 fraction digits refused");
    is_int(parse(a, "sig1=(\"@method\");x=1234567890123.1", SIG1, &s, &n,
                 err), EVB_SIG_EMALFORMED, "13 integer digits in a decimal");
    is_int(parse(a, "sig1=(\"@method\");x=1.", SIG1, &s, &n, err),
           EVB_SIG_EMALFORMED, "decimal ending in '.' refused");
    is_int(parse(a, "sig1=(\"@method\");x=-", SIG1, &s, &n, err),
           EVB_SIG_EMALFORMED, "lone '-' refused");
    is_int(parse(a, "sig1=(\"@method\");created=-5", SIG1, &s, &n, err),
           EVB_SIG_OK, "negative created parses");
    is_int(evb_sig_check_time(s, 1718000000, 300, err, sizeof(err)),
           EVB_SIG_ETIME, "negative created is out of the window");

    is_int(parse(a, "sig1=(\"@method\");created=\"1\"", SIG1, &s, &n, err),
           EVB_SIG_EMALFORMED, "created as a string -> EMALFORMED");
    is_int(parse(a, "sig1=(\"@method\");expires=1.5", SIG1, &s, &n, err),
           EVB_SIG_EMALFORMED, "expires as a decimal -> EMALFORMED");
    is_int(parse(a, "sig1=(\"@method\");keyid=k", SIG1, &s, &n, err),
           EVB_SIG_EMALFORMED, "keyid as a token -> EMALFORMED (%s)", err);
    is_int(parse(a, "sig1=(\"@method\");alg=hmac-sha256", SIG1, &s, &n, err),
           EVB_SIG_EMALFORMED, "alg as a token -> EMALFORMED");
    is_int(parse(a, "sig1=(\"@method\");nonce=1", SIG1, &s, &n, err),
           EVB_SIG_EMALFORMED, "nonce as an integer -> EMALFORMED");

    /* profile */
    is_int(parse(a, "sig1=" GOOD, SIG1, &s, &n, err), EVB_SIG_OK, "good");
    is_int(evb_sig_check_profile(s, err, sizeof(err)), EVB_SIG_OK,
           "@method @target-uri content-digest keyid created: ok");

    parse(a, "sig1=(\"@method\" \"@authority\" \"@path\" \"content-digest\")"
          ";created=1;keyid=\"k\"", SIG1, &s, &n, err);
    is_int(evb_sig_check_profile(s, err, sizeof(err)), EVB_SIG_OK,
           "@authority with @path is a target");

    parse(a, "sig1=(\"@method\" \"@authority\" \"content-digest\")"
          ";created=1;keyid=\"k\"", SIG1, &s, &n, err);
    is_int(evb_sig_check_profile(s, err, sizeof(err)), EVB_SIG_EINCOMPLETE,
           "@authority without @path is no target");
    is_str(err, strlen(err), "covered components must include @target-uri, "
           "or @authority and @path", "target refusal text");

    parse(a, "sig1=(\"@method\" \"@target-uri\");created=1;keyid=\"k\"",
          SIG1, &s, &n, err);
    is_int(evb_sig_check_profile(s, err, sizeof(err)), EVB_SIG_EINCOMPLETE,
           "no content-digest");
    is_str(err, strlen(err), "covered components must include "
           "content-digest", "content-digest refusal text");

    parse(a, "sig1=(\"@method\" \"@target-uri\" \"content-digest\")"
          ";created=1", SIG1, &s, &n, err);
    is_int(evb_sig_check_profile(s, err, sizeof(err)), EVB_SIG_EINCOMPLETE,
           "no keyid (%s)", err);
    ok(strstr(err, "keyid") != NULL, "keyid refusal names keyid");

    parse(a, "sig1=(\"@method\" \"@target-uri\" \"content-digest\")"
          ";keyid=\"k\"", SIG1, &s, &n, err);
    is_int(evb_sig_check_profile(s, err, sizeof(err)), EVB_SIG_EINCOMPLETE,
           "no created (%s)", err);
    ok(strstr(err, "created") != NULL, "created refusal names created");
    is_int(evb_sig_check_time(s, 100, 60, err, sizeof(err)), EVB_SIG_ETIME,
           "check_time without created -> ETIME");

    parse(a, "sig1=" GOOD ";alg=\"hmac-sha256\"", SIG1, &s, &n, err);
    is_int(evb_sig_check_profile(s, err, sizeof(err)), EVB_SIG_OK,
           "alg hmac-sha256 accepted");
    is_str(s->alg.data, s->alg.len, "hmac-sha256", "alg value");

    parse(a, "sig1=" GOOD ";alg=\"rsa-pss-sha512\"", SIG1, &s, &n, err);
    is_int(evb_sig_check_profile(s, err, sizeof(err)), EVB_SIG_EALG,
           "alg rsa-pss-sha512 -> EALG (%s)", err);
    parse(a, "sig1=" GOOD ";alg=\"hmac-sha256x\"", SIG1, &s, &n, err);
    is_int(evb_sig_check_profile(s, err, sizeof(err)), EVB_SIG_EALG,
           "alg with a suffix -> EALG");

    /* base: duplicates, parameters, names */
    parse(a, "sig1=(\"@method\" \"@target-uri\" \"@method\");created=1;"
          "keyid=\"k\"", SIG1, &s, &n, err);
    evb_buf_reset(&b);
    is_int(evb_sig_base(&b, s, resolve, &r, err, sizeof(err)),
           EVB_SIG_EMALFORMED, "duplicate component -> EMALFORMED (%s)",
           err);

    parse(a, "sig1=(\"@method\" \"content-digest\";sf);created=1",
          SIG1, &s, &n, err);
    evb_buf_reset(&b);
    is_int(evb_sig_base(&b, s, resolve, &r, err, sizeof(err)),
           EVB_SIG_ECOMPONENT, "component with ;sf -> ECOMPONENT (%s)", err);

    parse(a, "sig1=(\"content-digest\" \"content-digest\";sf)", SIG1, &s,
          &n, err);
    evb_buf_reset(&b);
    is_int(evb_sig_base(&b, s, resolve, &r, err, sizeof(err)),
           EVB_SIG_ECOMPONENT, "same name, different parameters: not a "
           "duplicate, refused for the parameters");

    parse(a, "sig1=(\"@method\";req)", SIG1, &s, &n, err);
    evb_buf_reset(&b);
    is_int(evb_sig_base(&b, s, resolve, &r, err, sizeof(err)),
           EVB_SIG_ECOMPONENT, "component with ;req -> ECOMPONENT");

    parse(a, "sig1=(\"Content-Digest\")", SIG1, &s, &n, err);
    evb_buf_reset(&b);
    is_int(evb_sig_base(&b, s, resolve, &r, err, sizeof(err)),
           EVB_SIG_ECOMPONENT, "upper-case component -> ECOMPONENT");

    parse(a, "sig1=(\"@signature-params\")", SIG1, &s, &n, err);
    evb_buf_reset(&b);
    is_int(evb_sig_base(&b, s, resolve, &r, err, sizeof(err)),
           EVB_SIG_ECOMPONENT, "@signature-params covered -> ECOMPONENT");

    parse(a, "sig1=(\"\")", SIG1, &s, &n, err);
    evb_buf_reset(&b);
    is_int(evb_sig_base(&b, s, resolve, &r, err, sizeof(err)),
           EVB_SIG_ECOMPONENT, "empty component name -> ECOMPONENT");

    parse(a, "sig1=(\"@status\")", SIG1, &s, &n, err);
    evb_buf_reset(&b);
    is_int(evb_sig_base(&b, s, resolve, &r, err, sizeof(err)),
           EVB_SIG_ECOMPONENT, "unresolvable derived component");

    parse(a, "sig1=(\"@method\" \"@path\");created=1;nonce=\"n\"", SIG1, &s,
          &n, err);
    evb_buf_reset(&b);
    is_int(evb_sig_base(&b, s, resolve, &r, err, sizeof(err)), EVB_SIG_OK,
           "simple base");
    is_str(b.data, b.len, "\"@method\": POST\n\"@path\": /y\n"
           "\"@signature-params\": (\"@method\" \"@path\");created=1;"
           "nonce=\"n\"", "simple base text");

    evb_buf_free(&b);
}


static void
test_digest(void)
{
    evb_buf_t   b;
    static const char  body[] = "{\"hello\": \"world\"}";

    evb_buf_init(&b);
    evb_digest_make(&b, body, sizeof(body) - 1);
    is_str(b.data, b.len,
           "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:",
           "digest_make of RFC 9530 example body");
    is_int(evb_digest_verify(S("sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7"
                               "kbu9DBPE=:"), body, sizeof(body) - 1),
           EVB_DIGEST_OK, "sha-256 verifies");

    is_int(evb_digest_verify(S("sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41"
                               "A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTH"
                               "WXvJwew==:"), body, sizeof(body) - 1),
           EVB_DIGEST_OK, "sha-512 (RFC 9421 example) verifies");
    is_int(evb_digest_verify(S("sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41"
                               "A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTH"
                               "WXvJwew==:"), body, sizeof(body) - 2),
           EVB_DIGEST_EMISMATCH, "sha-512 mismatch");

    is_int(evb_digest_verify(S("md5=:AAAAAAAAAAAAAAAAAAAAAA==:, sha-256=:X48E9"
                               "qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"),
                             body, sizeof(body) - 1),
           EVB_DIGEST_OK, "md5 ignored next to sha-256");
    is_int(evb_digest_verify(S("md5=:AAAAAAAAAAAAAAAAAAAAAA==:"), body,
                             sizeof(body) - 1),
           EVB_DIGEST_EMISSING, "md5 alone -> EMISSING");
    is_int(evb_digest_verify(S(""), body, sizeof(body) - 1),
           EVB_DIGEST_EMISSING, "empty header -> EMISSING");
    is_int(evb_digest_verify(S("sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7"
                               "kbu9DBPE=:, sha-512=:AAAA:"), body,
                             sizeof(body) - 1),
           EVB_DIGEST_OK, "sha-256 preferred over sha-512");
    is_int(evb_digest_verify(S("sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7"
                               "kbu9DBPE=:"), body, sizeof(body) - 2),
           EVB_DIGEST_EMISMATCH, "sha-256 mismatch");
    is_int(evb_digest_verify(S("sha-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7"
                               "kbu9DBPE="), body, sizeof(body) - 1),
           EVB_DIGEST_EMALFORMED, "not a dictionary -> EMALFORMED");
    is_int(evb_digest_verify(S("sha-256=\"X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf"
                               "7kbu9DBPE=\""), body, sizeof(body) - 1),
           EVB_DIGEST_EMALFORMED, "string value -> EMALFORMED");
    is_int(evb_digest_verify(S("sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7"
                               "kbu9DBP=:"), body, sizeof(body) - 1),
           EVB_DIGEST_EMALFORMED, "bad base64 -> EMALFORMED");
    is_int(evb_digest_verify(S("sha-256=:AAAA:"), body, sizeof(body) - 1),
           EVB_DIGEST_EMALFORMED, "wrong length -> EMALFORMED");
    is_int(evb_digest_verify(S("sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7"
                               "kbu9DBPE=:,"), body, sizeof(body) - 1),
           EVB_DIGEST_EMALFORMED, "trailing comma -> EMALFORMED");
    is_int(evb_digest_verify(S("sha-256=:AAAA:, sha-256=:X48E9qOokqqrvdts8nO"
                               "JRJN3OWDUoyWxBf7kbu9DBPE=:"), body,
                             sizeof(body) - 1),
           EVB_DIGEST_OK, "duplicate key: last wins");
    is_int(evb_digest_verify(S("sha-256=(:AAAA:)"), body, sizeof(body) - 1),
           EVB_DIGEST_EMALFORMED, "inner list -> EMALFORMED");

    evb_buf_reset(&b);
    evb_digest_make(&b, NULL, 0);
    is_str(b.data, b.len,
           "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:",
           "digest of the empty body");
    is_int(evb_digest_verify(S("sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJW"
                               "ZG3hSuFU=:"), NULL, 0), EVB_DIGEST_OK,
           "empty body verifies");

    evb_buf_free(&b);
}


int
main(void)
{
    evb_arena_t  *a;

    a = evb_arena_create(4096);
    if (a == NULL) {
        printf("Bail out! no memory\n");
        return 1;
    }

    test_b25(a);
    test_example(a);
    test_parser(a);
    test_digest();

    evb_arena_destroy(a);

    printf("1..%d\n", tap_n);

    return tap_done();
}
