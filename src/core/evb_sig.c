/*
 * RFC 9421 HTTP Message Signatures (hmac-sha256) and RFC 9530
 * Content-Digest, with the RFC 8941 structured field parsing they need.
 *
 * The structured field parser works on a cursor and never allocates: a
 * dictionary is walked member by member, each member is validated in full
 * and its value's text kept, so that a second pass can extract what is
 * needed.  Content-Digest is checked without any allocation at all.
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "evb_sig.h"


#define EVB_SF_MAX_PARAMS    32     /* parameters kept per item or list */
#define EVB_SF_MAX_MEMBERS   64     /* signatures per Signature-Input */
#define EVB_SF_MAX_DIGEST_B64  128  /* longest digest text decoded */


typedef struct {
    const char     *start;
    const char     *p;
    const char     *end;
} evb_sf_cur_t;


typedef enum {
    EVB_SF_INTEGER = 0,
    EVB_SF_DECIMAL,
    EVB_SF_STRING,
    EVB_SF_TOKEN,
    EVB_SF_BYTES,
    EVB_SF_BOOLEAN
} evb_sf_type_e;


typedef struct {
    evb_sf_type_e   type;
    int64_t         num;    /* integer; decimal in thousandths; boolean */
    evb_str_t       raw;    /* string without quotes (escapes kept),
                               token, base64 text without colons */
} evb_sf_bare_t;


typedef struct {
    evb_str_t       key;
    evb_sf_bare_t   value;
} evb_sf_param_t;


typedef enum {
    EVB_SF_MEMBER_TRUE = 0,     /* "key;params": Boolean true */
    EVB_SF_MEMBER_ITEM,
    EVB_SF_MEMBER_LIST
} evb_sf_kind_e;


typedef struct {
    evb_str_t       key;
    evb_sf_kind_e   kind;
    evb_str_t       value;      /* text of the value and its parameters */
} evb_sf_member_t;


static void evb_sig_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));


static void
evb_sig_errf(char *err, size_t errlen, const char *fmt, ...)
{
    va_list  args;

    if (err == NULL || errlen == 0) {
        return;
    }

    va_start(args, fmt);
    vsnprintf(err, errlen, fmt, args);
    va_end(args);
}


/* RFC 8941 primitives */

static int
evb_sf_is_digit(int c)
{
    return c >= '0' && c <= '9';
}


static int
evb_sf_is_lcalpha(int c)
{
    return c >= 'a' && c <= 'z';
}


static int
evb_sf_is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}


static int
evb_sf_is_tchar(int c)
{
    return evb_sf_is_alpha(c) || evb_sf_is_digit(c)
           || (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}


static int
evb_sf_is_b64(int c)
{
    return evb_sf_is_alpha(c) || evb_sf_is_digit(c)
           || c == '+' || c == '/' || c == '=';
}


static void
evb_sf_skip_sp(evb_sf_cur_t *c)
{
    while (c->p < c->end && *c->p == ' ') {
        c->p++;
    }
}


static void
evb_sf_skip_ows(evb_sf_cur_t *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t')) {
        c->p++;
    }
}


static int
evb_sf_key(evb_sf_cur_t *c, evb_str_t *key)
{
    const char  *start;
    int          ch;

    if (c->p == c->end) {
        return -1;
    }

    ch = (unsigned char) *c->p;
    if (!evb_sf_is_lcalpha(ch) && ch != '*') {
        return -1;
    }

    start = c->p++;

    while (c->p < c->end) {
        ch = (unsigned char) *c->p;

        if (!evb_sf_is_lcalpha(ch) && !evb_sf_is_digit(ch)
            && ch != '_' && ch != '-' && ch != '.' && ch != '*')
        {
            break;
        }

        c->p++;
    }

    key->data = start;
    key->len = c->p - start;

    return 0;
}


static int
evb_sf_number(evb_sf_cur_t *c, evb_sf_bare_t *v)
{
    int      neg, decimal;
    size_t   ndigits, nfrac;
    int64_t  ipart, fpart;

    neg = 0;

    if (*c->p == '-') {
        neg = 1;
        c->p++;
    }

    if (c->p == c->end || !evb_sf_is_digit((unsigned char) *c->p)) {
        return -1;
    }

    decimal = 0;
    ndigits = 0;
    nfrac = 0;
    ipart = 0;
    fpart = 0;

    /* RFC 8941 4.2.4: at most 15 integer digits, or 12 + "." + 3 */
    while (c->p < c->end) {
        if (evb_sf_is_digit((unsigned char) *c->p)) {
            if (decimal) {
                if (++nfrac > 3) {
                    return -1;
                }

                fpart = fpart * 10 + (*c->p - '0');

            } else {
                if (++ndigits > 15) {
                    return -1;
                }

                ipart = ipart * 10 + (*c->p - '0');
            }

        } else if (*c->p == '.' && !decimal) {
            if (ndigits > 12) {
                return -1;
            }

            decimal = 1;

        } else {
            break;
        }

        c->p++;
    }

    if (!decimal) {
        v->type = EVB_SF_INTEGER;
        v->num = neg ? -ipart : ipart;
        return 0;
    }

    if (nfrac == 0) {
        return -1;
    }

    while (nfrac < 3) {
        fpart *= 10;
        nfrac++;
    }

    v->type = EVB_SF_DECIMAL;
    v->num = ipart * 1000 + fpart;

    if (neg) {
        v->num = -v->num;
    }

    return 0;
}


static int
evb_sf_bare(evb_sf_cur_t *c, evb_sf_bare_t *v)
{
    int          ch;
    const char  *start;

    if (c->p == c->end) {
        return -1;
    }

    ch = (unsigned char) *c->p;

    if (ch == '-' || evb_sf_is_digit(ch)) {
        return evb_sf_number(c, v);
    }

    if (ch == '"') {
        start = ++c->p;

        for ( ;; ) {
            if (c->p == c->end) {
                return -1;
            }

            ch = (unsigned char) *c->p++;

            if (ch == '\\') {
                if (c->p == c->end || (*c->p != '"' && *c->p != '\\')) {
                    return -1;
                }

                c->p++;

            } else if (ch == '"') {
                break;

            } else if (ch < 0x20 || ch > 0x7e) {
                return -1;
            }
        }

        v->type = EVB_SF_STRING;
        v->raw.data = start;
        v->raw.len = c->p - 1 - start;
        return 0;
    }

    if (ch == ':') {
        start = ++c->p;

        while (c->p < c->end && *c->p != ':') {
            if (!evb_sf_is_b64((unsigned char) *c->p)) {
                return -1;
            }

            c->p++;
        }

        if (c->p == c->end) {
            return -1;
        }

        v->type = EVB_SF_BYTES;
        v->raw.data = start;
        v->raw.len = c->p++ - start;
        return 0;
    }

    if (ch == '?') {
        c->p++;

        if (c->p == c->end || (*c->p != '0' && *c->p != '1')) {
            return -1;
        }

        v->type = EVB_SF_BOOLEAN;
        v->num = *c->p++ - '0';
        return 0;
    }

    if (evb_sf_is_alpha(ch) || ch == '*') {
        start = c->p++;

        while (c->p < c->end) {
            ch = (unsigned char) *c->p;

            if (!evb_sf_is_tchar(ch) && ch != ':' && ch != '/') {
                break;
            }

            c->p++;
        }

        v->type = EVB_SF_TOKEN;
        v->raw.data = start;
        v->raw.len = c->p - start;
        return 0;
    }

    return -1;
}


/*
 * Parameters; with "out" set they are kept, a repeated key overwriting
 * the earlier value in its place (RFC 8941 4.2.3.2).  Returns 0, -1 if
 * malformed, -2 if there are more than EVB_SF_MAX_PARAMS.
 */
static int
evb_sf_params(evb_sf_cur_t *c, evb_sf_param_t *out, size_t *nout)
{
    size_t          i;
    evb_sf_param_t  prm;

    if (nout) {
        *nout = 0;
    }

    while (c->p < c->end && *c->p == ';') {
        c->p++;
        evb_sf_skip_sp(c);

        if (evb_sf_key(c, &prm.key) != 0) {
            return -1;
        }

        prm.value.type = EVB_SF_BOOLEAN;
        prm.value.num = 1;
        prm.value.raw.data = NULL;
        prm.value.raw.len = 0;

        if (c->p < c->end && *c->p == '=') {
            c->p++;

            if (evb_sf_bare(c, &prm.value) != 0) {
                return -1;
            }
        }

        if (out == NULL) {
            continue;
        }

        for (i = 0; i < *nout; i++) {
            if (out[i].key.len == prm.key.len
                && memcmp(out[i].key.data, prm.key.data, prm.key.len) == 0)
            {
                break;
            }
        }

        if (i == *nout) {
            if (*nout == EVB_SF_MAX_PARAMS) {
                return -2;
            }

            (*nout)++;
        }

        out[i] = prm;
    }

    return 0;
}


/* An item or inner list with its parameters, validated and skipped. */
static int
evb_sf_skip_value(evb_sf_cur_t *c, evb_sf_kind_e *kind)
{
    evb_sf_bare_t  v;

    if (c->p < c->end && *c->p == '(') {
        c->p++;

        for ( ;; ) {
            evb_sf_skip_sp(c);

            if (c->p == c->end) {
                return -1;
            }

            if (*c->p == ')') {
                c->p++;
                break;
            }

            if (evb_sf_bare(c, &v) != 0 || evb_sf_params(c, NULL, NULL) != 0) {
                return -1;
            }

            if (c->p == c->end || (*c->p != ' ' && *c->p != ')')) {
                return -1;
            }
        }

        *kind = EVB_SF_MEMBER_LIST;

    } else {
        if (evb_sf_bare(c, &v) != 0) {
            return -1;
        }

        *kind = EVB_SF_MEMBER_ITEM;
    }

    return evb_sf_params(c, NULL, NULL);
}


/*
 * The next dictionary member (RFC 8941 4.2.2).  "first" starts at 1.
 * Returns 1 with a member, 0 at the end, -1 if malformed.
 */
static int
evb_sf_dict_next(evb_sf_cur_t *c, int *first, evb_sf_member_t *m)
{
    const char  *start;

    if (*first) {
        *first = 0;
        evb_sf_skip_sp(c);

        if (c->p == c->end) {
            return 0;
        }

    } else {
        evb_sf_skip_ows(c);

        if (c->p == c->end) {
            return 0;
        }

        if (*c->p != ',') {
            return -1;
        }

        c->p++;
        evb_sf_skip_ows(c);

        /* a trailing comma */
        if (c->p == c->end) {
            return -1;
        }
    }

    if (evb_sf_key(c, &m->key) != 0) {
        return -1;
    }

    if (c->p < c->end && *c->p == '=') {
        c->p++;
        start = c->p;

        if (evb_sf_skip_value(c, &m->kind) != 0) {
            return -1;
        }

    } else {
        start = c->p;
        m->kind = EVB_SF_MEMBER_TRUE;

        if (evb_sf_params(c, NULL, NULL) != 0) {
            return -1;
        }
    }

    m->value.data = start;
    m->value.len = c->p - start;

    return 1;
}


static void
evb_sf_cur_init(evb_sf_cur_t *c, evb_str_t s)
{
    c->start = s.data;
    c->p = s.data;
    c->end = s.data + s.len;
}


/* Counts the members of a whole dictionary: >= 0, or -1 if malformed. */
static long
evb_sf_dict_validate(evb_str_t s, size_t *errpos)
{
    int              first, rc;
    long             n;
    evb_sf_cur_t     c;
    evb_sf_member_t  m;

    evb_sf_cur_init(&c, s);
    first = 1;
    n = 0;

    while ((rc = evb_sf_dict_next(&c, &first, &m)) == 1) {
        n++;
    }

    if (rc < 0) {
        *errpos = c.p - c.start;
        return -1;
    }

    return n;
}


/*
 * Decodes sf-binary text.  "=" padding may be missing (RFC 8941 4.2.7:
 * parsers SHOULD NOT fail then).  scratch holds raw.len + 3 bytes, dst
 * (raw.len + 3) / 4 * 3.  Returns 0 or -1.
 */
static int
evb_sf_b64_decode(evb_str_t raw, char *scratch, unsigned char *dst,
    size_t *len)
{
    size_t  n, pad, i, r;

    n = raw.len;
    *len = 0;

    if (n == 0) {
        return 0;
    }

    pad = 0;

    while (pad < n && raw.data[n - 1 - pad] == '=') {
        pad++;
    }

    if (pad > 2) {
        return -1;
    }

    for (i = 0; i < n - pad; i++) {
        if (raw.data[i] == '=') {
            return -1;
        }
    }

    memcpy(scratch, raw.data, n);

    if (pad) {
        if (n % 4 != 0) {
            return -1;
        }

    } else if (n % 4 == 1) {
        return -1;

    } else {
        while (n % 4 != 0) {
            scratch[n++] = '=';
        }
    }

    r = evb_base64_decode(scratch, n, dst);
    if (r == (size_t) -1) {
        return -1;
    }

    *len = r;

    return 0;
}


/* RFC 8941 4.1 serialisation */

static int
evb_sf_serialize_bare(evb_arena_t *a, evb_buf_t *b, const evb_sf_bare_t *v)
{
    char           *scratch, *enc, digits[3];
    size_t          n, len;
    int64_t         num, frac;
    unsigned char  *dec;

    switch (v->type) {

    case EVB_SF_INTEGER:
        evb_buf_append_i64(b, v->num);
        return 0;

    case EVB_SF_DECIMAL:
        num = v->num < 0 ? -v->num : v->num;

        if (v->num < 0) {
            evb_buf_append(b, "-", 1);
        }

        evb_buf_append_i64(b, num / 1000);
        evb_buf_append(b, ".", 1);

        /* the shortest fraction, at least one digit */
        frac = num % 1000;
        digits[0] = (char) ('0' + frac / 100);
        digits[1] = (char) ('0' + frac / 10 % 10);
        digits[2] = (char) ('0' + frac % 10);
        n = 3;

        while (n > 1 && digits[n - 1] == '0') {
            n--;
        }

        evb_buf_append(b, digits, n);
        return 0;

    case EVB_SF_STRING:
        /* only \" and \\ are escapes: the text is canonical as it is */
        evb_buf_append(b, "\"", 1);
        evb_buf_append(b, v->raw.data, v->raw.len);
        evb_buf_append(b, "\"", 1);
        return 0;

    case EVB_SF_TOKEN:
        evb_buf_append(b, v->raw.data, v->raw.len);
        return 0;

    case EVB_SF_BYTES:
        n = v->raw.len;
        scratch = evb_arena_alloc(a, n + 3);
        dec = evb_arena_alloc(a, (n + 3) / 4 * 3 + 1);

        if (scratch == NULL || dec == NULL) {
            return -2;
        }

        if (evb_sf_b64_decode(v->raw, scratch, dec, &len) != 0) {
            return -1;
        }

        enc = evb_arena_alloc(a, evb_base64_encoded_len(len) + 1);
        if (enc == NULL) {
            return -2;
        }

        evb_buf_append(b, ":", 1);
        evb_buf_append(b, enc, evb_base64_encode(dec, len, enc));
        evb_buf_append(b, ":", 1);
        return 0;

    case EVB_SF_BOOLEAN:
        evb_buf_append(b, v->num ? "?1" : "?0", 2);
        return 0;
    }

    return -1;
}


static int
evb_sf_serialize_params(evb_arena_t *a, evb_buf_t *b,
    const evb_sf_param_t *params, size_t n)
{
    int     rc;
    size_t  i;

    for (i = 0; i < n; i++) {
        evb_buf_append(b, ";", 1);
        evb_buf_append(b, params[i].key.data, params[i].key.len);

        if (params[i].value.type == EVB_SF_BOOLEAN && params[i].value.num) {
            continue;
        }

        evb_buf_append(b, "=", 1);

        rc = evb_sf_serialize_bare(a, b, &params[i].value);
        if (rc != 0) {
            return rc;
        }
    }

    return 0;
}


/* An sf-string's value, unescaped, NUL-terminated, in the arena. */
static char *
evb_sf_unescape(evb_arena_t *a, evb_str_t raw, size_t *len)
{
    char    *s;
    size_t   i, n;

    s = evb_arena_alloc(a, raw.len + 1);
    if (s == NULL) {
        return NULL;
    }

    for (i = 0, n = 0; i < raw.len; i++) {
        if (raw.data[i] == '\\') {
            i++;
        }

        s[n++] = raw.data[i];
    }

    s[n] = '\0';
    *len = n;

    return s;
}


static int
evb_sf_key_is(evb_str_t key, const char *name)
{
    size_t  n;

    n = strlen(name);

    return key.len == n && memcmp(key.data, name, n) == 0;
}


/* signature parsing */

/*
 * One Signature-Input member value: an inner list of sf-strings with
 * parameters.  Fills the components, the signature parameters and the
 * canonical "params".
 */
static evb_sig_err_e
evb_sig_parse_input(evb_arena_t *a, const evb_sf_member_t *m, evb_sig_t *s,
    evb_buf_t *b, char *err, size_t errlen)
{
    int             rc;
    char           *p;
    size_t          i, n, nparams;
    evb_sf_cur_t    c;
    evb_sf_bare_t   v;
    evb_sf_param_t  params[EVB_SF_MAX_PARAMS];
    const char     *item;

    if (m->kind != EVB_SF_MEMBER_LIST) {
        evb_sig_errf(err, errlen, "Signature-Input member \"%.*s\" is not "
                     "an inner list", (int) m->key.len, m->key.data);
        return EVB_SIG_EMALFORMED;
    }

    evb_buf_reset(b);
    evb_sf_cur_init(&c, m->value);
    c.p++;

    evb_buf_append(b, "(", 1);

    /* the member was validated as a whole: only semantics can fail here */
    for ( ;; ) {
        evb_sf_skip_sp(&c);

        if (*c.p == ')') {
            c.p++;
            break;
        }

        item = c.p;

        if (evb_sf_bare(&c, &v) != 0) {
            goto malformed;
        }

        if (v.type != EVB_SF_STRING) {
            evb_sig_errf(err, errlen, "signature \"%.*s\": covered component "
                         "\"%.*s\" is not a string", (int) m->key.len,
                         m->key.data, (int) (c.p - item), item);
            return EVB_SIG_EMALFORMED;
        }

        if (s->ncomponents == EVB_SIG_MAX_COMPONENTS) {
            evb_sig_errf(err, errlen, "signature \"%.*s\" covers more than "
                         "%d components", (int) m->key.len, m->key.data,
                         EVB_SIG_MAX_COMPONENTS);
            return EVB_SIG_EMALFORMED;
        }

        p = evb_sf_unescape(a, v.raw, &n);
        if (p == NULL) {
            return EVB_SIG_ENOMEM;
        }

        s->components[s->ncomponents].data = p;
        s->components[s->ncomponents].len = n;
        s->ncomponents++;

        if (evb_sf_params(&c, params, &nparams) != 0) {
            goto toomany;
        }

        if (s->ncomponents > 1) {
            evb_buf_append(b, " ", 1);
        }

        evb_sf_serialize_bare(a, b, &v);

        rc = evb_sf_serialize_params(a, b, params, nparams);
        if (rc != 0) {
            goto serialize;
        }
    }

    evb_buf_append(b, ")", 1);

    if (evb_sf_params(&c, params, &nparams) != 0) {
        goto toomany;
    }

    for (i = 0; i < nparams; i++) {
        v = params[i].value;

        if (evb_sf_key_is(params[i].key, "created")
            || evb_sf_key_is(params[i].key, "expires"))
        {
            if (v.type != EVB_SF_INTEGER) {
                goto type;
            }

            if (params[i].key.data[0] == 'c') {
                s->has_created = 1;
                s->created = v.num;

            } else {
                s->has_expires = 1;
                s->expires = v.num;
            }

        } else if (evb_sf_key_is(params[i].key, "keyid")
                   || evb_sf_key_is(params[i].key, "alg"))
        {
            if (v.type != EVB_SF_STRING) {
                goto type;
            }

            p = evb_sf_unescape(a, v.raw, &n);
            if (p == NULL) {
                return EVB_SIG_ENOMEM;
            }

            if (params[i].key.data[0] == 'k') {
                s->keyid.data = p;
                s->keyid.len = n;

            } else {
                s->alg.data = p;
                s->alg.len = n;
            }

        } else if (evb_sf_key_is(params[i].key, "nonce")
                   || evb_sf_key_is(params[i].key, "tag"))
        {
            if (v.type != EVB_SF_STRING) {
                goto type;
            }
        }
    }

    rc = evb_sf_serialize_params(a, b, params, nparams);
    if (rc != 0) {
        goto serialize;
    }

    if (b->oom) {
        return EVB_SIG_ENOMEM;
    }

    p = evb_arena_strdup(a, b->data, b->len);
    if (p == NULL) {
        return EVB_SIG_ENOMEM;
    }

    s->params.data = p;
    s->params.len = b->len;

    return EVB_SIG_OK;

toomany:

    evb_sig_errf(err, errlen, "signature \"%.*s\" has more than %d "
                 "parameters on one item", (int) m->key.len, m->key.data,
                 EVB_SF_MAX_PARAMS);
    return EVB_SIG_EMALFORMED;

serialize:

    if (rc == -2) {
        return EVB_SIG_ENOMEM;
    }

    evb_sig_errf(err, errlen, "signature \"%.*s\": a parameter byte "
                 "sequence is not valid base64", (int) m->key.len,
                 m->key.data);
    return EVB_SIG_EMALFORMED;

type:

    evb_sig_errf(err, errlen, "signature \"%.*s\": parameter \"%.*s\" has "
                 "the wrong type", (int) m->key.len, m->key.data,
                 (int) params[i].key.len, params[i].key.data);
    return EVB_SIG_EMALFORMED;

malformed:

    evb_sig_errf(err, errlen, "Signature-Input member \"%.*s\" is malformed",
                 (int) m->key.len, m->key.data);
    return EVB_SIG_EMALFORMED;
}


/* The Signature member for a label; the last one wins. */
static evb_sig_err_e
evb_sig_parse_value(evb_str_t signature, evb_sig_t *s, char *err,
    size_t errlen)
{
    int              first, found;
    char             scratch[4 * ((EVB_SIG_MAX_MAC + 2) / 3) + 3];
    size_t           len;
    evb_sf_cur_t     c;
    evb_sf_bare_t    v;
    evb_sf_member_t  m, last;
    unsigned char    dec[sizeof(scratch) / 4 * 3 + 3];

    memset(&last, 0, sizeof(last));
    evb_sf_cur_init(&c, signature);
    first = 1;
    found = 0;

    while (evb_sf_dict_next(&c, &first, &m) == 1) {
        if (m.key.len == s->label.len
            && memcmp(m.key.data, s->label.data, m.key.len) == 0)
        {
            last = m;
            found = 1;
        }
    }

    if (!found) {
        evb_sig_errf(err, errlen, "signature \"%.*s\" is in Signature-Input "
                     "but not in Signature", (int) s->label.len,
                     s->label.data);
        return EVB_SIG_EMALFORMED;
    }

    if (last.kind != EVB_SF_MEMBER_ITEM) {
        goto notbytes;
    }

    evb_sf_cur_init(&c, last.value);

    if (evb_sf_bare(&c, &v) != 0 || v.type != EVB_SF_BYTES) {
        goto notbytes;
    }

    if (v.raw.len > sizeof(scratch) - 3) {
        evb_sig_errf(err, errlen, "signature \"%.*s\" is longer than %d "
                     "bytes", (int) s->label.len, s->label.data,
                     EVB_SIG_MAX_MAC);
        return EVB_SIG_EMALFORMED;
    }

    if (evb_sf_b64_decode(v.raw, scratch, dec, &len) != 0) {
        evb_sig_errf(err, errlen, "signature \"%.*s\" is not valid base64",
                     (int) s->label.len, s->label.data);
        return EVB_SIG_EMALFORMED;
    }

    if (len > EVB_SIG_MAX_MAC) {
        evb_sig_errf(err, errlen, "signature \"%.*s\" is longer than %d "
                     "bytes", (int) s->label.len, s->label.data,
                     EVB_SIG_MAX_MAC);
        return EVB_SIG_EMALFORMED;
    }

    memcpy(s->mac, dec, len);
    s->maclen = len;

    return EVB_SIG_OK;

notbytes:

    evb_sig_errf(err, errlen, "Signature member \"%.*s\" is not a byte "
                 "sequence", (int) s->label.len, s->label.data);
    return EVB_SIG_EMALFORMED;
}


evb_sig_err_e
evb_sig_parse(evb_arena_t *a, evb_str_t signature_input,
    evb_str_t signature, evb_sig_t **sigs, size_t *nsigs,
    char *err, size_t errlen)
{
    int               first;
    long              nin, nsig;
    char             *label;
    size_t            i, n, pos;
    evb_buf_t         b;
    evb_sig_t        *s;
    evb_sf_cur_t      c;
    evb_sig_err_e     rc;
    evb_sf_member_t   m, *members;

    *sigs = NULL;
    *nsigs = 0;

    if (signature_input.len == 0 || signature.len == 0) {
        evb_sig_errf(err, errlen, "%s header is missing",
                     signature_input.len == 0 ? "Signature-Input"
                                              : "Signature");
        return EVB_SIG_EMISSING;
    }

    nin = evb_sf_dict_validate(signature_input, &pos);
    if (nin < 0) {
        evb_sig_errf(err, errlen, "Signature-Input is not a structured "
                     "field dictionary (error at offset %zu)", pos);
        return EVB_SIG_EMALFORMED;
    }

    nsig = evb_sf_dict_validate(signature, &pos);
    if (nsig < 0) {
        evb_sig_errf(err, errlen, "Signature is not a structured field "
                     "dictionary (error at offset %zu)", pos);
        return EVB_SIG_EMALFORMED;
    }

    if (nin == 0 || nsig == 0) {
        evb_sig_errf(err, errlen, "%s header is empty",
                     nin == 0 ? "Signature-Input" : "Signature");
        return EVB_SIG_EMISSING;
    }

    if (nin > EVB_SF_MAX_MEMBERS) {
        evb_sig_errf(err, errlen, "Signature-Input holds more than %d "
                     "signatures", EVB_SF_MAX_MEMBERS);
        return EVB_SIG_EMALFORMED;
    }

    members = evb_arena_alloc(a, nin * sizeof(evb_sf_member_t));
    s = evb_arena_alloc(a, nin * sizeof(evb_sig_t));

    if (members == NULL || s == NULL) {
        return EVB_SIG_ENOMEM;
    }

    /*
     * Labels in order; a repeated label keeps its first place and takes
     * the last value (RFC 8941 4.2.2), so only that value is interpreted.
     */
    evb_sf_cur_init(&c, signature_input);
    first = 1;
    n = 0;

    while (evb_sf_dict_next(&c, &first, &m) == 1) {
        for (i = 0; i < n; i++) {
            if (members[i].key.len == m.key.len
                && memcmp(members[i].key.data, m.key.data, m.key.len) == 0)
            {
                break;
            }
        }

        members[i] = m;

        if (i == n) {
            n++;
        }
    }

    /* a Signature member without its Signature-Input cannot be checked */
    evb_sf_cur_init(&c, signature);
    first = 1;

    while (evb_sf_dict_next(&c, &first, &m) == 1) {
        for (i = 0; i < n; i++) {
            if (members[i].key.len == m.key.len
                && memcmp(members[i].key.data, m.key.data, m.key.len) == 0)
            {
                break;
            }
        }

        if (i == n) {
            evb_sig_errf(err, errlen, "signature \"%.*s\" is in Signature "
                         "but not in Signature-Input", (int) m.key.len,
                         m.key.data);
            return EVB_SIG_EMALFORMED;
        }
    }

    evb_buf_init(&b);

    for (i = 0; i < n; i++) {
        memset(&s[i], 0, sizeof(evb_sig_t));

        label = evb_arena_strdup(a, members[i].key.data, members[i].key.len);
        if (label == NULL) {
            rc = EVB_SIG_ENOMEM;
            goto done;
        }

        s[i].label.data = label;
        s[i].label.len = members[i].key.len;

        rc = evb_sig_parse_input(a, &members[i], &s[i], &b, err, errlen);
        if (rc != EVB_SIG_OK) {
            goto done;
        }

        rc = evb_sig_parse_value(signature, &s[i], err, errlen);
        if (rc != EVB_SIG_OK) {
            goto done;
        }
    }

    *sigs = s;
    *nsigs = n;
    rc = EVB_SIG_OK;

done:

    evb_buf_free(&b);

    return rc;
}


/* profile and time */

static int
evb_sig_covers(const evb_sig_t *s, const char *name)
{
    size_t  i;

    for (i = 0; i < s->ncomponents; i++) {
        if (evb_sf_key_is(s->components[i], name)) {
            return 1;
        }
    }

    return 0;
}


evb_sig_err_e
evb_sig_check_profile(const evb_sig_t *s, char *err, size_t errlen)
{
    static const char  alg[] = "hmac-sha256";

    if (s->alg.len
        && !(s->alg.len == sizeof(alg) - 1
             && memcmp(s->alg.data, alg, sizeof(alg) - 1) == 0))
    {
        evb_sig_errf(err, errlen, "signature algorithm \"%.*s\" is not "
                     "hmac-sha256", (int) s->alg.len, s->alg.data);
        return EVB_SIG_EALG;
    }

    if (!evb_sig_covers(s, "@method")) {
        evb_sig_errf(err, errlen, "covered components must include "
                     "@method");
        return EVB_SIG_EINCOMPLETE;
    }

    if (!evb_sig_covers(s, "@target-uri")
        && !(evb_sig_covers(s, "@authority") && evb_sig_covers(s, "@path")))
    {
        evb_sig_errf(err, errlen, "covered components must include "
                     "@target-uri, or @authority and @path");
        return EVB_SIG_EINCOMPLETE;
    }

    if (!evb_sig_covers(s, "content-digest")) {
        evb_sig_errf(err, errlen, "covered components must include "
                     "content-digest");
        return EVB_SIG_EINCOMPLETE;
    }

    if (s->keyid.len == 0) {
        evb_sig_errf(err, errlen, "signature parameters must include keyid");
        return EVB_SIG_EINCOMPLETE;
    }

    if (!s->has_created) {
        evb_sig_errf(err, errlen, "signature parameters must include "
                     "created");
        return EVB_SIG_EINCOMPLETE;
    }

    return EVB_SIG_OK;
}


evb_sig_err_e
evb_sig_check_time(const evb_sig_t *s, int64_t now, int64_t window,
    char *err, size_t errlen)
{
    if (!s->has_created) {
        evb_sig_errf(err, errlen, "signature has no created time");
        return EVB_SIG_ETIME;
    }

    if (window < 0) {
        window = 0;
    }

    /* unsigned differences: exact for any pair of int64 values */
    if (s->created < now
        && (uint64_t) now - (uint64_t) s->created > (uint64_t) window)
    {
        evb_sig_errf(err, errlen, "signature created %llu s ago, more than "
                     "the allowed %lld s",
                     (unsigned long long) ((uint64_t) now
                                           - (uint64_t) s->created),
                     (long long) window);
        return EVB_SIG_ETIME;
    }

    if (s->created > now
        && (uint64_t) s->created - (uint64_t) now > (uint64_t) window)
    {
        evb_sig_errf(err, errlen, "signature created %llu s in the future, "
                     "more than the allowed %lld s",
                     (unsigned long long) ((uint64_t) s->created
                                           - (uint64_t) now),
                     (long long) window);
        return EVB_SIG_ETIME;
    }

    if (s->has_expires && now > s->expires) {
        evb_sig_errf(err, errlen, "signature expired at %lld, now is %lld",
                     (long long) s->expires, (long long) now);
        return EVB_SIG_ETIME;
    }

    return EVB_SIG_OK;
}


/* signature base */

/* A component name we can put in a base line: a lower-case field name or
 * a derived component name. */
static int
evb_sig_name_valid(evb_str_t name)
{
    size_t  i;
    int     ch;

    if (name.len == 0) {
        return 0;
    }

    for (i = 0; i < name.len; i++) {
        ch = (unsigned char) name.data[i];

        if (i == 0 && ch == '@' && name.len > 1) {
            continue;
        }

        if (!evb_sf_is_tchar(ch) || (ch >= 'A' && ch <= 'Z')) {
            return 0;
        }
    }

    return 1;
}


evb_sig_err_e
evb_sig_base(evb_buf_t *out, const evb_sig_t *s,
    evb_sig_resolve_pt resolve, void *ctx, char *err, size_t errlen)
{
    int            hasparams[EVB_SIG_MAX_COMPONENTS];
    size_t         i, j, n;
    evb_str_t      items[EVB_SIG_MAX_COMPONENTS], raws[EVB_SIG_MAX_COMPONENTS];
    evb_str_t      name, value;
    const char    *start;
    evb_sf_cur_t   c;
    evb_sf_bare_t  v;

    /*
     * Per-component parameters live only in "params" (evb_sig_t has no
     * field for them), so walk it: each item's text with its parameters
     * is its identifier.
     */
    evb_sf_cur_init(&c, s->params);
    n = 0;

    if (c.p == c.end || *c.p != '(') {
        goto inconsistent;
    }

    c.p++;

    for ( ;; ) {
        evb_sf_skip_sp(&c);

        if (c.p == c.end) {
            goto inconsistent;
        }

        if (*c.p == ')') {
            break;
        }

        if (n == EVB_SIG_MAX_COMPONENTS) {
            goto inconsistent;
        }

        start = c.p;

        if (evb_sf_bare(&c, &v) != 0 || v.type != EVB_SF_STRING) {
            goto inconsistent;
        }

        raws[n] = v.raw;
        hasparams[n] = c.p < c.end && *c.p == ';';

        if (evb_sf_params(&c, NULL, NULL) != 0) {
            goto inconsistent;
        }

        items[n].data = start;
        items[n].len = c.p - start;
        n++;
    }

    if (n != s->ncomponents) {
        goto inconsistent;
    }

    for (i = 0; i < n; i++) {
        for (j = 0; j < i; j++) {
            if (items[i].len == items[j].len
                && memcmp(items[i].data, items[j].data, items[i].len) == 0)
            {
                evb_sig_errf(err, errlen, "covered component %.*s is listed "
                             "twice", (int) items[i].len, items[i].data);
                return EVB_SIG_EMALFORMED;
            }
        }
    }

    for (i = 0; i < n; i++) {
        name = s->components[i];

        if (hasparams[i]) {
            evb_sig_errf(err, errlen, "covered component %.*s has parameters,"
                         " which are not supported", (int) items[i].len,
                         items[i].data);
            return EVB_SIG_ECOMPONENT;
        }

        if (!evb_sig_name_valid(name)
            || evb_sf_key_is(name, "@signature-params"))
        {
            evb_sig_errf(err, errlen, "covered component \"%.*s\" is not a "
                         "lower-case field name or a derived component",
                         (int) name.len, name.data);
            return EVB_SIG_ECOMPONENT;
        }

        if (raws[i].len != name.len
            || memcmp(raws[i].data, name.data, name.len) != 0)
        {
            goto inconsistent;
        }

        value.data = NULL;
        value.len = 0;

        if (resolve(ctx, name.data, name.len, &value) != 0) {
            evb_sig_errf(err, errlen, "covered component \"%.*s\" is not in "
                         "the request", (int) name.len, name.data);
            return EVB_SIG_ECOMPONENT;
        }

        /* a line break in a value would let one base stand for two
         * different requests */
        for (j = 0; j < value.len; j++) {
            if (value.data[j] == '\n' || value.data[j] == '\r') {
                evb_sig_errf(err, errlen, "covered component \"%.*s\" holds "
                             "a line break", (int) name.len, name.data);
                return EVB_SIG_ECOMPONENT;
            }
        }

        evb_buf_append(out, "\"", 1);
        evb_buf_append(out, name.data, name.len);
        evb_buf_append(out, "\": ", 3);
        evb_buf_append(out, value.data, value.len);
        evb_buf_append(out, "\n", 1);
    }

    evb_buf_appends(out, "\"@signature-params\": ");
    evb_buf_append(out, s->params.data, s->params.len);

    if (out->oom) {
        return EVB_SIG_ENOMEM;
    }

    return EVB_SIG_OK;

inconsistent:

    evb_sig_errf(err, errlen, "signature parameters do not match the "
                 "covered components");
    return EVB_SIG_EMALFORMED;
}


evb_sig_err_e
evb_sig_verify_hmac(const evb_sig_t *s,
    const unsigned char *key, size_t keylen, const char *base, size_t len)
{
    int            eq;
    unsigned int   mdlen;
    unsigned char  md[EVP_MAX_MD_SIZE];

    if (keylen > 0x7fffffff || s->maclen != 32) {
        return EVB_SIG_EINVALID;
    }

    if (HMAC(EVP_sha256(), key ? (const void *) key : "", (int) keylen,
             (const unsigned char *) (base ? base : ""), len, md, &mdlen)
        == NULL || mdlen != s->maclen)
    {
        OPENSSL_cleanse(md, sizeof(md));
        return EVB_SIG_EINVALID;
    }

    eq = CRYPTO_memcmp(md, s->mac, mdlen) == 0;

    OPENSSL_cleanse(md, sizeof(md));

    return eq ? EVB_SIG_OK : EVB_SIG_EINVALID;
}


/* Content-Digest */

evb_digest_err_e
evb_digest_verify(evb_str_t header, const void *body, size_t len)
{
    int               first, rc, found256, found512;
    char              scratch[EVB_SF_MAX_DIGEST_B64 + 3];
    size_t            dlen, want;
    unsigned int      mdlen;
    evb_sf_cur_t      c;
    const EVP_MD     *md;
    evb_sf_bare_t     v;
    evb_sf_member_t   m, m256, m512, *use;
    unsigned char     dec[sizeof(scratch) / 4 * 3 + 3];
    unsigned char     hash[EVP_MAX_MD_SIZE];

    if (header.len == 0) {
        return EVB_DIGEST_EMISSING;
    }

    memset(&m256, 0, sizeof(m256));
    memset(&m512, 0, sizeof(m512));
    evb_sf_cur_init(&c, header);
    first = 1;
    found256 = 0;
    found512 = 0;

    while ((rc = evb_sf_dict_next(&c, &first, &m)) == 1) {
        if (evb_sf_key_is(m.key, "sha-256")) {
            m256 = m;
            found256 = 1;

        } else if (evb_sf_key_is(m.key, "sha-512")) {
            m512 = m;
            found512 = 1;
        }
    }

    if (rc < 0) {
        return EVB_DIGEST_EMALFORMED;
    }

    if (found256) {
        use = &m256;
        md = EVP_sha256();
        want = 32;

    } else if (found512) {
        use = &m512;
        md = EVP_sha512();
        want = 64;

    } else {
        return EVB_DIGEST_EMISSING;
    }

    if (use->kind != EVB_SF_MEMBER_ITEM) {
        return EVB_DIGEST_EMALFORMED;
    }

    evb_sf_cur_init(&c, use->value);

    if (evb_sf_bare(&c, &v) != 0 || v.type != EVB_SF_BYTES
        || v.raw.len > EVB_SF_MAX_DIGEST_B64
        || evb_sf_b64_decode(v.raw, scratch, dec, &dlen) != 0
        || dlen != want)
    {
        return EVB_DIGEST_EMALFORMED;
    }

    if (EVP_Digest(body ? body : "", len, hash, &mdlen, md, NULL) != 1
        || mdlen != want)
    {
        return EVB_DIGEST_EMISMATCH;
    }

    return CRYPTO_memcmp(hash, dec, want) == 0 ? EVB_DIGEST_OK
                                               : EVB_DIGEST_EMISMATCH;
}


void
evb_digest_make(evb_buf_t *out, const void *body, size_t len)
{
    char           b64[48];
    unsigned int   mdlen;
    unsigned char  hash[EVP_MAX_MD_SIZE];

    if (EVP_Digest(body ? body : "", len, hash, &mdlen, EVP_sha256(), NULL)
        != 1)
    {
        /* nothing sensible to send: the buffer's error flag says so */
        out->oom = 1;
        return;
    }

    evb_buf_appends(out, "sha-256=:");
    evb_buf_append(out, b64, evb_base64_encode(hash, mdlen, b64));
    evb_buf_appends(out, ":");
}
