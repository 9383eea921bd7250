/*
 * A strict JSON reader on top of yajl 2's callback parser.
 *
 * yajl lexes; the tree is built here in the caller's arena.  Each open
 * container collects its children in a malloc'ed growable array that is
 * copied into the arena when the container closes, so the arena holds
 * exactly the final tree.
 *
 * yajl 2.1's own UTF-8 check lets through overlong forms, encoded
 * surrogates and code points above U+10FFFF, and it turns unpaired
 * \uD800-style escapes into '?' or into invalid UTF-8.  So every decoded
 * string is validated again here, and the raw text is scanned for
 * unpaired surrogate escapes before parsing.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "evb_json.h"


/* objects up to this size are checked for duplicates key by key */
#define EVB_JSON_DUP_LINEAR  32


typedef struct {
    evb_json_t         *node;
    void               *items;      /* evb_json_t * or evb_json_member_t */
    size_t              n;
    size_t              cap;
    evb_str_t           key;        /* pending key in an object */
} evb_json_frame_t;


typedef struct {
    evb_arena_t        *arena;
    evb_json_frame_t   *frames;
    size_t              depth;
    size_t              nframes;
    unsigned            max_depth;
    evb_json_t         *root;
    evb_json_err_e      err;
    const char         *why;        /* for EENCODING and EDUPKEY */
    const char         *dupkey;
} evb_json_ctx_t;


/* Strict UTF-8 (RFC 3629): no overlongs, surrogates or > U+10FFFF. */
static int
evb_utf8_valid(const unsigned char *s, size_t len)
{
    size_t         i, n, k;
    uint32_t       cp, min;
    unsigned char  c;

    i = 0;

    while (i < len) {
        c = s[i];

        if (c < 0x80) {
            i++;
            continue;
        }

        if ((c & 0xe0) == 0xc0) {
            n = 1;
            cp = c & 0x1f;
            min = 0x80;

        } else if ((c & 0xf0) == 0xe0) {
            n = 2;
            cp = c & 0x0f;
            min = 0x800;

        } else if ((c & 0xf8) == 0xf0) {
            n = 3;
            cp = c & 0x07;
            min = 0x10000;

        } else {
            return 0;
        }

        if (len - i - 1 < n) {
            return 0;
        }

        for (k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80) {
                return 0;
            }

            cp = (cp << 6) | (s[i + k] & 0x3f);
        }

        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            return 0;
        }

        i += n + 1;
    }

    return 1;
}


static int
evb_hex4(const char *p, uint32_t *v)
{
    int       i;
    uint32_t  r;
    char      c;

    r = 0;

    for (i = 0; i < 4; i++) {
        c = p[i];

        if (c >= '0' && c <= '9') {
            r = r * 16 + (uint32_t) (c - '0');

        } else if (c >= 'a' && c <= 'f') {
            r = r * 16 + (uint32_t) (c - 'a' + 10);

        } else if (c >= 'A' && c <= 'F') {
            r = r * 16 + (uint32_t) (c - 'A' + 10);

        } else {
            return -1;
        }
    }

    *v = r;

    return 0;
}


/*
 * The offset of the first \u escape that is an unpaired UTF-16
 * surrogate, or len if there is none.  Malformed escapes are left to
 * yajl to report.
 */
static size_t
evb_json_scan_surrogates(const char *p, size_t len)
{
    size_t    i;
    uint32_t  hi, lo;
    int       in_str;

    in_str = 0;

    for (i = 0; i < len; i++) {
        if (!in_str) {
            if (p[i] == '"') {
                in_str = 1;
            }

            continue;
        }

        if (p[i] == '"') {
            in_str = 0;
            continue;
        }

        if (p[i] != '\\' || i + 1 >= len) {
            continue;
        }

        if (p[i + 1] != 'u' || len - i < 6 || evb_hex4(p + i + 2, &hi)) {
            i++;
            continue;
        }

        if (hi >= 0xdc00 && hi <= 0xdfff) {
            return i;
        }

        if (hi >= 0xd800 && hi <= 0xdbff) {
            if (len - i < 12 || p[i + 6] != '\\' || p[i + 7] != 'u'
                || evb_hex4(p + i + 8, &lo) || lo < 0xdc00 || lo > 0xdfff)
            {
                return i;
            }

            i += 6;
        }

        i += 5;
    }

    return len;
}


static void *
evb_json_frame_push_item(evb_json_ctx_t *ctx, evb_json_frame_t *f,
    size_t size)
{
    void    *p;
    size_t   cap;

    if (f->n == f->cap) {
        cap = f->cap ? f->cap * 2 : 8;

        if (cap > SIZE_MAX / size) {
            ctx->err = EVB_JSON_ENOMEM;
            return NULL;
        }

        p = realloc(f->items, cap * size);
        if (p == NULL) {
            ctx->err = EVB_JSON_ENOMEM;
            return NULL;
        }

        f->items = p;
        f->cap = cap;
    }

    return (char *) f->items + f->n++ * size;
}


static int
evb_json_add(evb_json_ctx_t *ctx, evb_json_t *v)
{
    evb_json_t         **slot;
    evb_json_frame_t    *f;
    evb_json_member_t   *m;

    if (ctx->depth == 0) {
        ctx->root = v;
        return 1;
    }

    f = &ctx->frames[ctx->depth - 1];

    if (f->node->type == EVB_JSON_ARRAY) {
        slot = evb_json_frame_push_item(ctx, f, sizeof(evb_json_t *));
        if (slot == NULL) {
            return 0;
        }

        *slot = v;
        return 1;
    }

    m = evb_json_frame_push_item(ctx, f, sizeof(evb_json_member_t));
    if (m == NULL) {
        return 0;
    }

    m->key = f->key;
    m->value = v;

    return 1;
}


static evb_json_t *
evb_json_node(evb_json_ctx_t *ctx, evb_json_type_e type)
{
    evb_json_t  *v;

    v = evb_arena_alloc(ctx->arena, sizeof(evb_json_t));
    if (v == NULL) {
        ctx->err = EVB_JSON_ENOMEM;
        return NULL;
    }

    memset(v, 0, sizeof(evb_json_t));
    v->type = type;

    return v;
}


static int
evb_json_on_null(void *c)
{
    evb_json_t  *v;

    v = evb_json_node(c, EVB_JSON_NULL);

    return v != NULL && evb_json_add(c, v);
}


static int
evb_json_on_bool(void *c, int b)
{
    evb_json_t  *v;

    v = evb_json_node(c, EVB_JSON_BOOL);
    if (v == NULL) {
        return 0;
    }

    v->u.boolean = b ? 1 : 0;

    return evb_json_add(c, v);
}


static int
evb_json_on_number(void *c, const char *s, size_t len)
{
    evb_json_t      *v;
    evb_json_ctx_t  *ctx;

    ctx = c;

    v = evb_json_node(ctx, EVB_JSON_NUMBER);
    if (v == NULL) {
        return 0;
    }

    v->u.str.data = evb_arena_strdup(ctx->arena, s, len);
    if (v->u.str.data == NULL) {
        ctx->err = EVB_JSON_ENOMEM;
        return 0;
    }

    v->u.str.len = len;

    return evb_json_add(ctx, v);
}


/* A decoded string or key: valid UTF-8 without NUL, copied to the arena. */
static int
evb_json_str(evb_json_ctx_t *ctx, const unsigned char *s, size_t len,
    evb_str_t *out)
{
    if (memchr(s, '\0', len) != NULL) {
        ctx->err = EVB_JSON_EENCODING;
        ctx->why = "a string contains a NUL character";
        return 0;
    }

    if (!evb_utf8_valid(s, len)) {
        ctx->err = EVB_JSON_EENCODING;
        ctx->why = "invalid UTF-8 in a string";
        return 0;
    }

    out->data = evb_arena_strdup(ctx->arena, (const char *) s, len);
    if (out->data == NULL) {
        ctx->err = EVB_JSON_ENOMEM;
        return 0;
    }

    out->len = len;

    return 1;
}


static int
evb_json_on_string(void *c, const unsigned char *s, size_t len)
{
    evb_json_t  *v;

    v = evb_json_node(c, EVB_JSON_STRING);
    if (v == NULL) {
        return 0;
    }

    if (!evb_json_str(c, s, len, &v->u.str)) {
        return 0;
    }

    return evb_json_add(c, v);
}


static int
evb_json_on_key(void *c, const unsigned char *s, size_t len)
{
    size_t              i;
    evb_json_ctx_t     *ctx;
    evb_json_frame_t   *f;
    evb_json_member_t  *m;

    ctx = c;
    f = &ctx->frames[ctx->depth - 1];

    if (!evb_json_str(ctx, s, len, &f->key)) {
        return 0;
    }

    /* small objects: find a duplicate right here, at its offset;
     * larger ones are sorted and checked when they close */
    if (f->n < EVB_JSON_DUP_LINEAR) {
        m = f->items;

        for (i = 0; i < f->n; i++) {
            if (m[i].key.len == len && memcmp(m[i].key.data, s, len) == 0) {
                ctx->err = EVB_JSON_EDUPKEY;
                ctx->dupkey = f->key.data;
                return 0;
            }
        }
    }

    return 1;
}


static int
evb_json_open(evb_json_ctx_t *ctx, evb_json_type_e type)
{
    size_t             n;
    evb_json_t        *v;
    evb_json_frame_t  *f;

    if (ctx->depth >= ctx->max_depth) {
        ctx->err = EVB_JSON_EDEPTH;
        return 0;
    }

    v = evb_json_node(ctx, type);
    if (v == NULL) {
        return 0;
    }

    if (!evb_json_add(ctx, v)) {
        return 0;
    }

    if (ctx->depth == ctx->nframes) {
        n = ctx->nframes ? ctx->nframes * 2 : 8;

        f = realloc(ctx->frames, n * sizeof(evb_json_frame_t));
        if (f == NULL) {
            ctx->err = EVB_JSON_ENOMEM;
            return 0;
        }

        ctx->frames = f;
        ctx->nframes = n;
    }

    f = &ctx->frames[ctx->depth++];
    memset(f, 0, sizeof(evb_json_frame_t));
    f->node = v;

    return 1;
}


static int
evb_json_on_start_map(void *c)
{
    return evb_json_open(c, EVB_JSON_OBJECT);
}


static int
evb_json_on_start_array(void *c)
{
    return evb_json_open(c, EVB_JSON_ARRAY);
}


static int
evb_json_member_cmp(const void *a, const void *b)
{
    const evb_json_member_t  *x = a, *y = b;

    if (x->key.len != y->key.len) {
        return x->key.len < y->key.len ? -1 : 1;
    }

    return memcmp(x->key.data, y->key.data, x->key.len);
}


static int
evb_json_check_dups(evb_json_ctx_t *ctx, evb_json_frame_t *f)
{
    size_t              i;
    evb_json_member_t  *m;

    m = malloc(f->n * sizeof(evb_json_member_t));
    if (m == NULL) {
        ctx->err = EVB_JSON_ENOMEM;
        return 0;
    }

    memcpy(m, f->items, f->n * sizeof(evb_json_member_t));
    qsort(m, f->n, sizeof(evb_json_member_t), evb_json_member_cmp);

    for (i = 1; i < f->n; i++) {
        if (evb_json_member_cmp(&m[i - 1], &m[i]) == 0) {
            ctx->err = EVB_JSON_EDUPKEY;
            ctx->dupkey = m[i].key.data;
            free(m);
            return 0;
        }
    }

    free(m);

    return 1;
}


static int
evb_json_close(evb_json_ctx_t *ctx)
{
    size_t             size;
    void              *p;
    evb_json_frame_t  *f;

    f = &ctx->frames[ctx->depth - 1];

    if (f->node->type == EVB_JSON_OBJECT) {
        if (f->n > EVB_JSON_DUP_LINEAR && !evb_json_check_dups(ctx, f)) {
            return 0;
        }

        size = sizeof(evb_json_member_t);

    } else {
        size = sizeof(evb_json_t *);
    }

    p = NULL;

    if (f->n) {
        p = evb_arena_alloc(ctx->arena, f->n * size);
        if (p == NULL) {
            ctx->err = EVB_JSON_ENOMEM;
            return 0;
        }

        memcpy(p, f->items, f->n * size);
    }

    if (f->node->type == EVB_JSON_OBJECT) {
        f->node->u.obj.members = p;
        f->node->u.obj.n = f->n;

    } else {
        f->node->u.arr.items = p;
        f->node->u.arr.n = f->n;
    }

    free(f->items);
    f->items = NULL;
    ctx->depth--;

    return 1;
}


static int
evb_json_on_end(void *c)
{
    return evb_json_close(c);
}


static const yajl_callbacks  evb_json_callbacks = {
    evb_json_on_null,
    evb_json_on_bool,
    NULL,                       /* integers arrive as raw numbers */
    NULL,
    evb_json_on_number,
    evb_json_on_string,
    evb_json_on_start_map,
    evb_json_on_key,
    evb_json_on_end,
    evb_json_on_start_array,
    evb_json_on_end
};


/* yajl's one-line message without its "xxx error: " prefix and the
 * trailing period and newline */
static void
evb_json_yajl_reason(yajl_handle h, const char *text, size_t len,
    char *out, size_t outlen)
{
    size_t          n;
    const char     *p, *colon;
    unsigned char  *e;

    out[0] = '\0';

    e = yajl_get_error(h, 0, (const unsigned char *) text, len);
    if (e == NULL) {
        return;
    }

    p = (const char *) e;
    colon = strstr(p, "error: ");

    if (colon != NULL) {
        p = colon + 7;
    }

    n = strlen(p);

    while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '.' || p[n - 1] == ' '))
    {
        n--;
    }

    if (n >= outlen) {
        n = outlen - 1;
    }

    memcpy(out, p, n);
    out[n] = '\0';

    yajl_free_error(h, e);
}


static int
evb_json_printable_key(const char *k)
{
    size_t  n;

    n = strlen(k);

    if (n == 0 || n > 64) {
        return 0;
    }

    while (*k) {
        if (*k < 0x20 || *k > 0x7e || *k == '"' || *k == '\\') {
            return 0;
        }

        k++;
    }

    return 1;
}


evb_json_err_e
evb_json_parse(evb_arena_t *a, const char *text, size_t len,
    unsigned max_depth, evb_json_t **out, char *errbuf, size_t errlen)
{
    char              reason[128], *eb, dummy[1];
    size_t            i, off, bad;
    yajl_handle       h;
    yajl_status       st;
    evb_json_ctx_t    ctx;
    evb_json_err_e    err;

    if (errbuf == NULL || errlen == 0) {
        eb = dummy;
        errlen = sizeof(dummy);

    } else {
        eb = errbuf;
    }

    eb[0] = '\0';
    *out = NULL;
    reason[0] = '\0';

    memset(&ctx, 0, sizeof(evb_json_ctx_t));
    ctx.arena = a;
    ctx.max_depth = max_depth;

    bad = evb_json_scan_surrogates(text, len);

    h = yajl_alloc(&evb_json_callbacks, NULL, &ctx);
    if (h == NULL) {
        snprintf(eb, errlen, "out of memory");
        return EVB_JSON_ENOMEM;
    }

    off = len;
    st = yajl_parse(h, (const unsigned char *) text, len);

    if (st != yajl_status_ok) {
        off = yajl_get_bytes_consumed(h);

    } else {
        st = yajl_complete_parse(h);
    }

    err = EVB_JSON_OK;

    if (st == yajl_status_client_canceled) {
        err = ctx.err;

    } else if (st == yajl_status_error) {
        evb_json_yajl_reason(h, text, len, reason, sizeof(reason));
        err = strstr(reason, "UTF8") ? EVB_JSON_EENCODING : EVB_JSON_ESYNTAX;
    }

    yajl_free(h);

    for (i = 0; i < ctx.depth; i++) {
        free(ctx.frames[i].items);
    }

    free(ctx.frames);

    /* an unpaired surrogate escape that comes before any other error */
    if (bad < len && (err == EVB_JSON_OK || bad < off)) {
        err = EVB_JSON_EENCODING;
        off = bad;
        ctx.why = "unpaired UTF-16 surrogate escape";
    }

    switch (err) {

    case EVB_JSON_OK:
        *out = ctx.root;
        return EVB_JSON_OK;

    case EVB_JSON_ESYNTAX:
        if (reason[0]) {
            snprintf(eb, errlen, "malformed JSON at byte %zu: %s", off,
                     reason);
        } else {
            snprintf(eb, errlen, "malformed JSON at byte %zu", off);
        }
        break;

    case EVB_JSON_EENCODING:
        snprintf(eb, errlen, "%s at byte %zu",
                 ctx.why ? ctx.why : "invalid UTF-8", off);
        break;

    case EVB_JSON_EDUPKEY:
        if (ctx.dupkey && evb_json_printable_key(ctx.dupkey)) {
            snprintf(eb, errlen, "duplicate key \"%s\" at byte %zu",
                     ctx.dupkey, off);
        } else {
            snprintf(eb, errlen, "duplicate key at byte %zu", off);
        }
        break;

    case EVB_JSON_EDEPTH:
        snprintf(eb, errlen, "nesting deeper than %u levels at byte %zu",
                 max_depth, off);
        break;

    default:
        err = EVB_JSON_ENOMEM;
        snprintf(eb, errlen, "out of memory");
    }

    return err;
}


evb_json_t *
evb_json_get(const evb_json_t *obj, const char *key)
{
    size_t  i, n;

    if (obj == NULL || obj->type != EVB_JSON_OBJECT) {
        return NULL;
    }

    n = strlen(key);

    for (i = 0; i < obj->u.obj.n; i++) {
        if (obj->u.obj.members[i].key.len == n
            && memcmp(obj->u.obj.members[i].key.data, key, n) == 0)
        {
            return obj->u.obj.members[i].value;
        }
    }

    return NULL;
}


/* numbers */

typedef struct {
    int          neg;
    const char  *ip;        /* integer digits */
    size_t       ni;
    const char  *fp;        /* fraction digits */
    size_t       nf;
    int64_t      exp;       /* saturated at +-EVB_JSON_EXP_MAX */
    int          has_frac;
    int          has_exp;
} evb_json_num_t;

#define EVB_JSON_EXP_MAX  1000000000


/* Split a JSON number literal; -1 if it is not one. */
static int
evb_json_num_split(const evb_str_t *s, evb_json_num_t *n)
{
    int          eneg;
    const char  *p, *end;

    memset(n, 0, sizeof(evb_json_num_t));

    p = s->data;
    end = p + s->len;

    if (p < end && *p == '-') {
        n->neg = 1;
        p++;
    }

    n->ip = p;

    while (p < end && *p >= '0' && *p <= '9') {
        p++;
    }

    n->ni = p - n->ip;

    if (n->ni == 0 || (n->ni > 1 && n->ip[0] == '0')) {
        return -1;
    }

    if (p < end && *p == '.') {
        n->has_frac = 1;
        n->fp = ++p;

        while (p < end && *p >= '0' && *p <= '9') {
            p++;
        }

        n->nf = p - n->fp;

        if (n->nf == 0) {
            return -1;
        }
    }

    if (p < end && (*p == 'e' || *p == 'E')) {
        n->has_exp = 1;
        p++;
        eneg = 0;

        if (p < end && (*p == '+' || *p == '-')) {
            eneg = *p == '-';
            p++;
        }

        if (p == end) {
            return -1;
        }

        while (p < end && *p >= '0' && *p <= '9') {
            if (n->exp < EVB_JSON_EXP_MAX) {
                n->exp = n->exp * 10 + (*p - '0');
            }

            p++;
        }

        if (n->exp > EVB_JSON_EXP_MAX) {
            n->exp = EVB_JSON_EXP_MAX;
        }

        if (eneg) {
            n->exp = -n->exp;
        }
    }

    return p == end ? 0 : -1;
}


/* magnitude into int64 with the sign; 2^63 is allowed when negative */
static evb_num_err_e
evb_json_num_sign(uint64_t mag, int neg, int64_t *out)
{
    if (neg) {
        if (mag > (uint64_t) INT64_MAX + 1) {
            return EVB_NUM_RANGE;
        }

        *out = mag == (uint64_t) INT64_MAX + 1
               ? INT64_MIN : -(int64_t) mag;
        return EVB_NUM_OK;
    }

    if (mag > (uint64_t) INT64_MAX) {
        return EVB_NUM_RANGE;
    }

    *out = (int64_t) mag;

    return EVB_NUM_OK;
}


static int
evb_mag_push(uint64_t *mag, unsigned digit)
{
    if (*mag > (UINT64_MAX - digit) / 10) {
        return -1;
    }

    *mag = *mag * 10 + digit;

    return 0;
}


evb_num_err_e
evb_json_int64(const evb_json_t *v, int64_t *out)
{
    size_t          i;
    uint64_t        mag;
    evb_json_num_t  n;

    if (v == NULL || v->type != EVB_JSON_NUMBER) {
        return EVB_NUM_NOT_NUMBER;
    }

    if (evb_json_num_split(&v->u.str, &n) != 0) {
        return EVB_NUM_NOT_NUMBER;
    }

    if (n.has_frac || n.has_exp) {
        return EVB_NUM_NOT_INTEGER;
    }

    mag = 0;

    for (i = 0; i < n.ni; i++) {
        if (evb_mag_push(&mag, (unsigned) (n.ip[i] - '0')) != 0) {
            return EVB_NUM_RANGE;
        }
    }

    return evb_json_num_sign(mag, n.neg, out);
}


evb_num_err_e
evb_json_fixed(const evb_json_t *v, unsigned scale, int64_t *out)
{
    char            c;
    size_t          i, total, keep;
    int64_t         k;
    uint64_t        mag;
    evb_json_num_t  n;

    if (v == NULL || v->type != EVB_JSON_NUMBER) {
        return EVB_NUM_NOT_NUMBER;
    }

    if (evb_json_num_split(&v->u.str, &n) != 0) {
        return EVB_NUM_NOT_NUMBER;
    }

    /*
     * The value is D * 10^(exp - nf) where D is the integer and fraction
     * digits run together; scaled it is D * 10^k.  With k < 0 the last
     * -k digits of D are dropped and must be zero.
     */
    total = n.ni + n.nf;
    k = n.exp - (int64_t) n.nf + (int64_t) scale;

    if (k >= 0) {
        keep = total;

    } else if ((uint64_t) -k >= total) {
        keep = 0;

    } else {
        keep = total - (size_t) -k;
    }

    mag = 0;

    for (i = 0; i < total; i++) {
        c = i < n.ni ? n.ip[i] : n.fp[i - n.ni];

        if (i >= keep) {
            if (c != '0') {
                return EVB_NUM_PRECISION;
            }

            continue;
        }

        if (evb_mag_push(&mag, (unsigned) (c - '0')) != 0) {
            return EVB_NUM_RANGE;
        }
    }

    /* zero stays zero whatever the exponent; otherwise stops at overflow */
    while (k > 0 && mag != 0) {
        if (evb_mag_push(&mag, 0) != 0) {
            return EVB_NUM_RANGE;
        }

        k--;
    }

    return evb_json_num_sign(mag, n.neg, out);
}


/* writer */

void
evb_json_write(evb_buf_t *b, const evb_json_t *v)
{
    size_t  i;

    if (v == NULL) {
        evb_buf_append(b, "null", 4);
        return;
    }

    switch (v->type) {

    case EVB_JSON_NULL:
        evb_buf_append(b, "null", 4);
        break;

    case EVB_JSON_BOOL:
        evb_buf_appends(b, v->u.boolean ? "true" : "false");
        break;

    case EVB_JSON_NUMBER:
        evb_buf_append(b, v->u.str.data, v->u.str.len);
        break;

    case EVB_JSON_STRING:
        evb_buf_append_json_str(b, v->u.str.data, v->u.str.len);
        break;

    case EVB_JSON_ARRAY:
        evb_buf_append(b, "[", 1);

        for (i = 0; i < v->u.arr.n; i++) {
            if (i) {
                evb_buf_append(b, ",", 1);
            }

            evb_json_write(b, v->u.arr.items[i]);
        }

        evb_buf_append(b, "]", 1);
        break;

    case EVB_JSON_OBJECT:
        evb_buf_append(b, "{", 1);

        for (i = 0; i < v->u.obj.n; i++) {
            if (i) {
                evb_buf_append(b, ",", 1);
            }

            evb_buf_append_json_str(b, v->u.obj.members[i].key.data,
                                    v->u.obj.members[i].key.len);
            evb_buf_append(b, ":", 1);
            evb_json_write(b, v->u.obj.members[i].value);
        }

        evb_buf_append(b, "}", 1);
        break;
    }
}
