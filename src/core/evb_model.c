/*
 * evbill records: request parsers, idempotency comparisons, renderers.
 *
 * Parsers check what can be checked without the store and name the
 * offending field in the problem detail.  An optional field given as
 * JSON null counts as absent; a required field given as null is of the
 * wrong type.
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "evb_model.h"
#include "evb_pan.h"
#include "evb_party.h"


#define EVB_KEYS_MAX          64      /* keys in one PUT chargers/{id} */
#define EVB_ZONEINFO          "/usr/share/zoneinfo/"


/*
 * A parse: the first refusal's sentence goes to detail ("readings[3].seq:
 * must be ..."), every refusal to errors with its JSON Pointer
 * ("/readings/3/seq"); parsers go on after a bad field so that the
 * caller learns of every one.
 */
typedef struct {
    char               *detail;
    size_t              len;
    const char         *prefix;    /* "readings[3]." or "" */
    evb_field_error_t  *errors;    /* NULL: the first refusal only */
    size_t             *nerrors;
    evb_problem_e       first;
    size_t              nfail;     /* refusals so far */
} evb_pctx_t;


#define evb_pctx(detail, len, errors, nerrors)                               \
    { detail, len, "", errors, nerrors, EVB_OK, 0 }


typedef struct {
    const char    *name;
    int            value;
} evb_enum_t;


static const evb_enum_t  evb_token_types[] = {
    { "RFID", EVB_TOKEN_RFID },
    { "APP_USER", EVB_TOKEN_APP_USER },
    { "AD_HOC_USER", EVB_TOKEN_AD_HOC_USER },
    { "OTHER", EVB_TOKEN_OTHER },
    { NULL, 0 }
};

static const evb_enum_t  evb_reading_states[] = {
    { "charging", EVB_READING_CHARGING },
    { "parked", EVB_READING_PARKED },
    { NULL, 0 }
};

static const evb_enum_t  evb_connector_formats[] = {
    { "SOCKET", 0 },
    { "CABLE", 1 },
    { NULL, 0 }
};

static const evb_enum_t  evb_power_types[] = {
    { "AC_1_PHASE", 0 },
    { "AC_2_PHASE", 1 },
    { "AC_2_PHASE_SPLIT", 2 },
    { "AC_3_PHASE", 3 },
    { "DC", 4 },
    { NULL, 0 }
};


static void evb_pointer(char *dst, size_t size, const char *prefix,
    const char *field);


#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static evb_problem_e
evb_fail(evb_pctx_t *ctx, evb_problem_e p, const char *field,
    const char *fmt, ...)
{
    int      n;
    char     msg[160], ptr[96];
    va_list  args;

    ctx->nfail++;

    va_start(args, fmt);
    vsnprintf(msg, sizeof(msg), fmt, args);
    va_end(args);

    if (ctx->first == EVB_OK) {
        ctx->first = p;

        if (ctx->detail != NULL && ctx->len != 0) {
            n = snprintf(ctx->detail, ctx->len, "%s%s: ", ctx->prefix,
                         field);

            if (n >= 0 && (size_t) n < ctx->len) {
                snprintf(ctx->detail + n, ctx->len - n, "%s", msg);
            }
        }
    }

    if (ctx->errors != NULL && p != EVB_P_INTERNAL) {
        evb_pointer(ptr, sizeof(ptr), ctx->prefix, field);
        evb_field_error_add(ctx->errors, ctx->nerrors, p, ptr, msg);
    }

    return p;
}


/*
 * The detail's field name as an RFC 6901 pointer: "readings[3]." and
 * "seq" become "/readings/3/seq".  Field names are the parser's own
 * literals, without '~' or '/', so nothing needs escaping.
 */
static void
evb_pointer(char *dst, size_t size, const char *prefix, const char *field)
{
    int          i;
    size_t       n;
    const char  *parts[2], *p;

    if (size < 2) {
        return;
    }

    parts[0] = prefix;
    parts[1] = field;
    n = 0;
    dst[n++] = '/';

    for (i = 0; i < 2; i++) {
        for (p = parts[i]; *p && n + 1 < size; p++) {
            if (*p == '.' || *p == '[') {
                dst[n++] = '/';

            } else if (*p != ']') {
                dst[n++] = *p;
            }
        }
    }

    dst[n] = '\0';
}


static int
evb_str_eq(evb_str_t a, evb_str_t b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0);
}


static int
evb_str_is(evb_str_t a, const char *s)
{
    size_t  n;

    n = strlen(s);

    return a.len == n && memcmp(a.data, s, n) == 0;
}


/*
 * The value of a field: NULL with EVB_OK if an optional field is absent
 * (or null), a problem if a required one is.
 */
static evb_problem_e
evb_field(evb_pctx_t *ctx, const evb_json_t *obj, const char *name,
    int required, evb_json_t **out)
{
    evb_json_t  *v;

    v = evb_json_get(obj, name);
    *out = NULL;

    if (v == NULL) {
        if (required) {
            return evb_fail(ctx, EVB_P_MISSING_FIELD, name, "is required");
        }

        return EVB_OK;
    }

    if (v->type == EVB_JSON_NULL && !required) {
        return EVB_OK;
    }

    *out = v;

    return EVB_OK;
}


static evb_problem_e
evb_get_str(evb_pctx_t *ctx, const evb_json_t *obj, const char *name,
    int required, size_t min, size_t max, evb_str_t *out)
{
    evb_json_t     *v;
    evb_problem_e   rc;

    out->data = NULL;
    out->len = 0;

    rc = evb_field(ctx, obj, name, required, &v);
    if (rc != EVB_OK || v == NULL) {
        return rc;
    }

    if (v->type != EVB_JSON_STRING) {
        return evb_fail(ctx, EVB_P_INVALID_TYPE, name, "must be a string");
    }

    if (v->u.str.len < min || v->u.str.len > max) {
        return evb_fail(ctx, EVB_P_INVALID_VALUE, name,
                        "must be a string of %zu to %zu bytes", min, max);
    }

    *out = v->u.str;

    return EVB_OK;
}


static evb_problem_e
evb_get_id(evb_pctx_t *ctx, const evb_json_t *obj, const char *name,
    int required, evb_str_t *out)
{
    evb_problem_e  rc;

    rc = evb_get_str(ctx, obj, name, required, 0, SIZE_MAX, out);
    if (rc != EVB_OK || out->data == NULL) {
        return rc;
    }

    if (!evb_id_valid(out->data, out->len)) {
        return evb_fail(ctx, EVB_P_INVALID_VALUE, name,
                        "must be 1 to 64 printable ASCII characters "
                        "without '/'");
    }

    return EVB_OK;
}


static evb_problem_e
evb_get_int(evb_pctx_t *ctx, const evb_json_t *obj, const char *name,
    int required, int64_t min, int64_t max, int64_t *out, int *present)
{
    char            range[64];
    evb_json_t     *v;
    evb_problem_e   rc;
    evb_num_err_e   e;

    *out = 0;

    if (present) {
        *present = 0;
    }

    rc = evb_field(ctx, obj, name, required, &v);
    if (rc != EVB_OK || v == NULL) {
        return rc;
    }

    if (max == INT64_MAX) {
        snprintf(range, sizeof(range), ">= %lld", (long long) min);

    } else {
        snprintf(range, sizeof(range), "from %lld to %lld",
                 (long long) min, (long long) max);
    }

    e = evb_json_int64(v, out);

    switch (e) {

    case EVB_NUM_OK:
        break;

    case EVB_NUM_NOT_INTEGER:
        return evb_fail(ctx, EVB_P_NOT_AN_INTEGER, name,
                        "must be an integer %s", range);

    case EVB_NUM_RANGE:
        return evb_fail(ctx, EVB_P_OUT_OF_RANGE, name,
                        "must be an integer %s", range);

    default:
        return evb_fail(ctx, EVB_P_INVALID_TYPE, name,
                        "must be an integer %s", range);
    }

    if (*out < min) {
        return evb_fail(ctx, EVB_P_INVALID_VALUE, name,
                        "must be an integer %s", range);
    }

    if (*out > max) {
        return evb_fail(ctx, EVB_P_OUT_OF_RANGE, name,
                        "must be an integer %s", range);
    }

    if (present) {
        *present = 1;
    }

    return EVB_OK;
}


static evb_problem_e
evb_get_time(evb_pctx_t *ctx, const evb_json_t *obj, const char *name,
    evb_msec_t *out)
{
    evb_json_t     *v;
    evb_problem_e   rc;

    rc = evb_field(ctx, obj, name, 1, &v);
    if (rc != EVB_OK) {
        return rc;
    }

    if (v->type != EVB_JSON_STRING) {
        return evb_fail(ctx, EVB_P_INVALID_TYPE, name,
                        "must be an RFC 3339 date-time string");
    }

    if (evb_time_parse_rfc3339(v->u.str.data, v->u.str.len, out) != 0) {
        return evb_fail(ctx, EVB_P_INVALID_VALUE, name,
                        "must be an RFC 3339 date-time with offset");
    }

    return EVB_OK;
}


/* *out keeps its default when an optional field is absent */
static evb_problem_e
evb_get_enum(evb_pctx_t *ctx, const evb_json_t *obj, const char *name,
    int required, const evb_enum_t *e, int *out)
{
    char            list[160];
    size_t          n;
    evb_str_t       s;
    evb_problem_e   rc;
    const evb_enum_t  *p;

    rc = evb_get_str(ctx, obj, name, required, 0, SIZE_MAX, &s);
    if (rc != EVB_OK || s.data == NULL) {
        return rc;
    }

    for (p = e; p->name; p++) {
        if (evb_str_is(s, p->name)) {
            *out = p->value;
            return EVB_OK;
        }
    }

    list[0] = '\0';
    n = 0;

    for (p = e; p->name && n < sizeof(list); p++) {
        n += snprintf(list + n, sizeof(list) - n, "%s\"%s\"",
                      p == e ? "" : ", ", p->name);
    }

    return evb_fail(ctx, EVB_P_INVALID_VALUE, name, "must be one of %s",
                    list);
}


static evb_problem_e
evb_get_obj(evb_pctx_t *ctx, const evb_json_t *obj, const char *name,
    int required, evb_json_t **out)
{
    evb_problem_e  rc;

    rc = evb_field(ctx, obj, name, required, out);
    if (rc != EVB_OK || *out == NULL) {
        return rc;
    }

    if ((*out)->type != EVB_JSON_OBJECT) {
        return evb_fail(ctx, EVB_P_INVALID_TYPE, name, "must be an object");
    }

    return EVB_OK;
}


static evb_problem_e
evb_root(evb_pctx_t *ctx, const evb_json_t *root)
{
    if (root == NULL || root->type != EVB_JSON_OBJECT) {
        ctx->nfail++;

        if (ctx->first == EVB_OK) {
            ctx->first = EVB_P_INVALID_TYPE;

            if (ctx->detail && ctx->len) {
                snprintf(ctx->detail, ctx->len,
                         "the body must be a JSON object");
            }
        }

        /* "": the whole body */
        evb_field_error_add(ctx->errors, ctx->nerrors, EVB_P_INVALID_TYPE,
                            "", "must be a JSON object");

        return EVB_P_INVALID_TYPE;
    }

    return EVB_OK;
}


/* POST sessions */

evb_problem_e
evb_parse_start(evb_arena_t *a, const evb_json_t *root, evb_start_t *out,
    char *detail, size_t len, evb_field_error_t *errors, size_t *nerrors)
{
    int             tt;
    int64_t         v;
    evb_pctx_t      ctx = evb_pctx(detail, len, errors, nerrors);

    (void) a;    /* nothing to allocate; strings point into the tree */

    memset(out, 0, sizeof(evb_start_t));

    if (evb_root(&ctx, root) != EVB_OK) {
        return ctx.first;
    }

    /* every field is read even after a bad one: all are reported;
     * session_id and id_token reach the CDR: OCPI CiString(36) */
    if (evb_get_id(&ctx, root, "session_id", 1, &out->session_id) == EVB_OK
        && out->session_id.len > EVB_OCPI_ID_MAX)
    {
        (void) evb_fail(&ctx, EVB_P_INVALID_VALUE, "session_id",
                        "must be 1 to %d printable ASCII characters "
                        "without '/' (OCPI CiString(36))", EVB_OCPI_ID_MAX);
    }

    if (evb_get_int(&ctx, root, "connector_id", 1, 1, UINT32_MAX, &v, NULL)
        == EVB_OK)
    {
        out->connector_id = (uint32_t) v;
    }

    if (evb_get_str(&ctx, root, "id_token", 1, 1, EVB_TOKEN_MAX,
                    &out->id_token)
        == EVB_OK
        && !evb_ocpi_string_ok(out->id_token, EVB_OCPI_ID_MAX))
    {
        (void) evb_fail(&ctx, EVB_P_INVALID_VALUE, "id_token",
                        "must be 1 to %d printable ASCII characters "
                        "(OCPI CiString(36))", EVB_OCPI_ID_MAX);
    }

    tt = EVB_TOKEN_RFID;

    if (evb_get_enum(&ctx, root, "token_type", 0, evb_token_types, &tt)
        == EVB_OK)
    {
        out->token_type = (evb_token_type_e) tt;
    }

    (void) evb_get_time(&ctx, root, "timestamp", &out->timestamp);

    (void) evb_get_int(&ctx, root, "meter_start_wh", 1, 0,
                       EVB_REGISTER_MAX_WH, &out->meter_start_wh, NULL);

    /* a tariff id is a CiString(36): no stored tariff has a longer one */
    if (evb_get_id(&ctx, root, "tariff_id", 0, &out->tariff_id) == EVB_OK
        && out->tariff_id.len > EVB_OCPI_ID_MAX)
    {
        (void) evb_fail(&ctx, EVB_P_INVALID_VALUE, "tariff_id",
                        "must be 1 to %d printable ASCII characters "
                        "without '/' (OCPI CiString(36))", EVB_OCPI_ID_MAX);
    }

    (void) evb_get_str(&ctx, root, "ocmf", 0, 1, EVB_OCMF_MAX, &out->ocmf);

    return ctx.first;
}


/* readings */

static void
evb_parse_reading(evb_pctx_t *ctx, const evb_json_t *obj, evb_reading_t *r)
{
    int             st, has;
    int64_t         v;
    evb_json_t     *cur;
    evb_num_err_e   e;

    memset(r, 0, sizeof(evb_reading_t));

    if (evb_get_int(ctx, obj, "seq", 1, 1, INT64_MAX, &v, NULL) == EVB_OK) {
        r->seq = (uint64_t) v;
    }

    (void) evb_get_time(ctx, obj, "timestamp", &r->timestamp);

    (void) evb_get_int(ctx, obj, "energy_wh", 1, 0, EVB_REGISTER_MAX_WH,
                       &r->energy_wh, NULL);

    st = EVB_READING_CHARGING;

    if (evb_get_enum(ctx, obj, "state", 0, evb_reading_states, &st)
        == EVB_OK)
    {
        r->state = (evb_reading_state_e) st;
    }

    if (evb_get_int(ctx, obj, "power_w", 0, 0, INT64_MAX, &r->power_w, &has)
        == EVB_OK)
    {
        r->has_power = has ? 1 : 0;
    }

    if (evb_field(ctx, obj, "current_a", 0, &cur) == EVB_OK && cur != NULL) {
        e = evb_json_fixed(cur, 6, &r->current_ua);

        if (e == EVB_NUM_NOT_NUMBER) {
            (void) evb_fail(ctx, EVB_P_INVALID_TYPE, "current_a",
                            "must be a number >= 0");

        /* as for prices: more decimals break the field's rule, a value
         * too large for 64 bits is out of range */
        } else if (e == EVB_NUM_PRECISION) {
            (void) evb_fail(ctx, EVB_P_INVALID_VALUE, "current_a",
                            "must be a number >= 0 with at most 6 "
                            "decimals");

        } else if (e == EVB_NUM_RANGE) {
            (void) evb_fail(ctx, EVB_P_OUT_OF_RANGE, "current_a",
                            "must be a number >= 0 with at most 6 "
                            "decimals");

        } else if (r->current_ua < 0) {
            (void) evb_fail(ctx, EVB_P_INVALID_VALUE, "current_a",
                            "must be a number >= 0");

        } else {
            r->has_current = 1;
        }
    }

    (void) evb_get_str(ctx, obj, "ocmf", 0, 1, EVB_OCMF_MAX, &r->ocmf);
}


evb_problem_e
evb_parse_readings(evb_arena_t *a, const evb_json_t *root,
    evb_reading_t **out, size_t *n, char *detail, size_t len,
    evb_field_error_t *errors, size_t *nerrors)
{
    char            prefix[32];
    size_t          i, cnt, before;
    evb_json_t     *arr;
    evb_pctx_t      ctx = evb_pctx(detail, len, errors, nerrors);
    evb_reading_t  *r;
    unsigned char  *ok;

    *out = NULL;
    *n = 0;

    if (evb_root(&ctx, root) != EVB_OK) {
        return ctx.first;
    }

    arr = evb_json_get(root, "readings");

    if (arr == NULL) {
        r = evb_arena_alloc(a, sizeof(evb_reading_t));
        if (r == NULL) {
            return evb_fail(&ctx, EVB_P_INTERNAL, "readings", "out of memory");
        }

        evb_parse_reading(&ctx, root, r);

        if (ctx.first != EVB_OK) {
            return ctx.first;
        }

        *out = r;
        *n = 1;

        return EVB_OK;
    }

    if (arr->type != EVB_JSON_ARRAY) {
        return evb_fail(&ctx, EVB_P_INVALID_TYPE, "readings",
                        "must be an array");
    }

    cnt = arr->u.arr.n;

    if (cnt < 1 || cnt > EVB_BATCH_MAX) {
        return evb_fail(&ctx, EVB_P_INVALID_VALUE, "readings",
                        "must hold 1 to %d readings", EVB_BATCH_MAX);
    }

    r = evb_arena_alloc(a, cnt * sizeof(evb_reading_t));
    ok = evb_arena_alloc(a, cnt);
    if (r == NULL || ok == NULL) {
        return evb_fail(&ctx, EVB_P_INTERNAL, "readings", "out of memory");
    }

    for (i = 0; i < cnt; i++) {
        ok[i] = 0;
        snprintf(prefix, sizeof(prefix), "readings[%zu]", i);

        if (arr->u.arr.items[i]->type != EVB_JSON_OBJECT) {
            (void) evb_fail(&ctx, EVB_P_INVALID_TYPE, prefix,
                            "must be an object");
            continue;
        }

        snprintf(prefix, sizeof(prefix), "readings[%zu].", i);
        ctx.prefix = prefix;
        before = ctx.nfail;

        evb_parse_reading(&ctx, arr->u.arr.items[i], &r[i]);

        ok[i] = (ctx.nfail == before);

        /* the order of two readings that were read well */
        if (i > 0 && ok[i] && ok[i - 1] && r[i].seq <= r[i - 1].seq) {
            (void) evb_fail(&ctx, EVB_P_SEQ_ORDER, "seq",
                            "%llu is not greater than the previous seq "
                            "%llu in the batch",
                            (unsigned long long) r[i].seq,
                            (unsigned long long) r[i - 1].seq);
        }

        ctx.prefix = "";
    }

    if (ctx.first != EVB_OK) {
        return ctx.first;
    }

    *out = r;
    *n = cnt;

    return EVB_OK;
}


/* POST sessions/{id}/stop */

static int
evb_printable_ascii(evb_str_t s)
{
    size_t  i;

    for (i = 0; i < s.len; i++) {
        if (s.data[i] < 0x20 || s.data[i] > 0x7e) {
            return 0;
        }
    }

    return 1;
}


evb_problem_e
evb_parse_stop(evb_arena_t *a, const evb_json_t *root, evb_stop_t *out,
    char *detail, size_t len, evb_field_error_t *errors, size_t *nerrors)
{
    evb_pctx_t      ctx = evb_pctx(detail, len, errors, nerrors);

    (void) a;    /* nothing to allocate; strings point into the tree */

    memset(out, 0, sizeof(evb_stop_t));

    if (evb_root(&ctx, root) != EVB_OK) {
        return ctx.first;
    }

    (void) evb_get_time(&ctx, root, "timestamp", &out->timestamp);

    (void) evb_get_int(&ctx, root, "meter_stop_wh", 1, 0,
                       EVB_REGISTER_MAX_WH, &out->meter_stop_wh, NULL);

    if (evb_get_str(&ctx, root, "reason", 0, 1, EVB_REASON_MAX, &out->reason)
        == EVB_OK
        && !evb_printable_ascii(out->reason))
    {
        (void) evb_fail(&ctx, EVB_P_INVALID_VALUE, "reason",
                        "must be 1 to %d printable ASCII characters",
                        EVB_REASON_MAX);
    }

    (void) evb_get_str(&ctx, root, "ocmf", 0, 1, EVB_OCMF_MAX, &out->ocmf);

    return ctx.first;
}


/* PUT chargers/{id} */

/* -?[0-9]{1,maxint}\.[0-9]{5,7}, and within +-limit degrees */
static int
evb_coordinate_valid(evb_str_t s, size_t maxint, int limit)
{
    int          deg;
    size_t       i, ni, nf;
    const char  *p;

    p = s.data;
    i = 0;

    if (i < s.len && p[i] == '-') {
        i++;
    }

    deg = 0;
    ni = 0;

    while (i < s.len && p[i] >= '0' && p[i] <= '9') {
        deg = deg * 10 + (p[i] - '0');
        ni++;
        i++;

        if (ni > maxint) {
            return 0;
        }
    }

    if (ni == 0 || i == s.len || p[i] != '.') {
        return 0;
    }

    i++;
    nf = 0;

    while (i < s.len && p[i] >= '0' && p[i] <= '9') {
        if (p[i] != '0' && deg == limit) {
            return 0;
        }

        nf++;
        i++;
    }

    return i == s.len && nf >= 5 && nf <= 7 && deg <= limit;
}


/*
 * An IANA zone name that names a TZif file: only [A-Za-z0-9_+-/],
 * no empty, "." or ".." segment, and a regular file under zoneinfo.
 */
static int
evb_time_zone_valid(evb_str_t s)
{
    char         path[sizeof(EVB_ZONEINFO) + 64];
    size_t       i, seg;
    struct stat  st;
    char         c;

    if (s.len < 1 || s.len > 64) {
        return 0;
    }

    seg = 0;

    for (i = 0; i <= s.len; i++) {
        c = i < s.len ? s.data[i] : '/';

        if (c == '/') {
            if (seg == 0) {
                return 0;
            }

            seg = 0;
            continue;
        }

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
              || (c >= '0' && c <= '9') || c == '_' || c == '+' || c == '-'))
        {
            return 0;
        }

        seg++;
    }

    memcpy(path, EVB_ZONEINFO, sizeof(EVB_ZONEINFO) - 1);
    memcpy(path + sizeof(EVB_ZONEINFO) - 1, s.data, s.len);
    path[sizeof(EVB_ZONEINFO) - 1 + s.len] = '\0';

    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}


static void
evb_parse_location(evb_pctx_t *ctx, const evb_json_t *loc, evb_buf_t *doc,
    evb_str_t *tz)
{
    size_t          i, before;
    evb_str_t       s[6], lat = { NULL, 0 }, lon = { NULL, 0 };
    evb_json_t     *coord;

    /* OCPI 2.2.1's limits: what reaches the CDR stays valid there */
    static const struct {
        const char  *name;
        size_t       max;
    } fields[] = {
        { "id", EVB_OCPI_ID_MAX },
        { "name", EVB_OCPI_NAME_MAX },
        { "address", EVB_OCPI_ADDRESS_MAX },
        { "city", EVB_OCPI_CITY_MAX },
        { "postal_code", EVB_OCPI_POSTAL_MAX },
    };

    before = ctx->nfail;
    ctx->prefix = "location.";

    for (i = 0; i < 5; i++) {
        if (evb_get_str(ctx, loc, fields[i].name, 1, 0, SIZE_MAX, &s[i])
            != EVB_OK)
        {
            continue;
        }

        if (i == 0 && !evb_ocpi_string_ok(s[i], fields[i].max)) {
            (void) evb_fail(ctx, EVB_P_INVALID_VALUE, fields[i].name,
                            "must be 1 to %zu printable ASCII characters "
                            "(OCPI CiString)", fields[i].max);

        } else if (i > 0 && !evb_text_ok(s[i], fields[i].max)) {
            (void) evb_fail(ctx, EVB_P_INVALID_VALUE, fields[i].name,
                            "must be 1 to %zu characters without control "
                            "characters (OCPI)", fields[i].max);

        } else if (i > 0 && evb_pan_in(s[i])) {
            /* free text of the location: never a card number */
            (void) evb_fail(ctx, EVB_P_CARD_DATA, fields[i].name, "%s",
                            EVB_PAN_REFUSED);
        }
    }

    if (evb_get_str(ctx, loc, "country", 1, 0, SIZE_MAX, &s[5]) == EVB_OK
        && (s[5].len != 3
            || s[5].data[0] < 'A' || s[5].data[0] > 'Z'
            || s[5].data[1] < 'A' || s[5].data[1] > 'Z'
            || s[5].data[2] < 'A' || s[5].data[2] > 'Z'))
    {
        (void) evb_fail(ctx, EVB_P_INVALID_VALUE, "country",
                        "must be an ISO 3166-1 alpha-3 code");
    }

    if (evb_get_obj(ctx, loc, "coordinates", 1, &coord) == EVB_OK) {
        ctx->prefix = "location.coordinates.";

        if (evb_get_str(ctx, coord, "latitude", 1, 0, SIZE_MAX, &lat)
            == EVB_OK
            && !evb_coordinate_valid(lat, 2, 90))
        {
            (void) evb_fail(ctx, EVB_P_INVALID_VALUE, "latitude",
                            "must be decimal degrees like \"50.93812\"");
        }

        if (evb_get_str(ctx, coord, "longitude", 1, 0, SIZE_MAX, &lon)
            == EVB_OK
            && !evb_coordinate_valid(lon, 3, 180))
        {
            (void) evb_fail(ctx, EVB_P_INVALID_VALUE, "longitude",
                            "must be decimal degrees like \"-6.94321\"");
        }

        ctx->prefix = "location.";
    }

    if (evb_get_str(ctx, loc, "time_zone", 1, 0, SIZE_MAX, tz) == EVB_OK
        && !evb_time_zone_valid(*tz))
    {
        (void) evb_fail(ctx, EVB_P_INVALID_VALUE, "time_zone",
                        "must be a known IANA time zone name");
    }

    ctx->prefix = "";

    if (ctx->nfail != before) {
        return;
    }

    evb_buf_appends(doc, "\"location\":{");

    for (i = 0; i < 6; i++) {
        evb_buf_appends(doc, i ? ",\"" : "\"");
        evb_buf_appends(doc, i < 5 ? fields[i].name : "country");
        evb_buf_appends(doc, "\":");
        evb_buf_append_json_str(doc, s[i].data, s[i].len);
    }

    evb_buf_appends(doc, ",\"coordinates\":{\"latitude\":");
    evb_buf_append_json_str(doc, lat.data, lat.len);
    evb_buf_appends(doc, ",\"longitude\":");
    evb_buf_append_json_str(doc, lon.data, lon.len);
    evb_buf_appends(doc, "},\"time_zone\":");
    evb_buf_append_json_str(doc, tz->data, tz->len);
    evb_buf_appends(doc, "}");
}


static void
evb_parse_connector(evb_pctx_t *ctx, const evb_json_t *con, evb_buf_t *doc)
{
    int             fmt, pt;
    size_t          before;
    int64_t         power;
    evb_str_t       standard;

    before = ctx->nfail;
    ctx->prefix = "connector.";

    if (evb_get_str(ctx, con, "standard", 1, 0, SIZE_MAX, &standard)
        == EVB_OK
        && !evb_connector_standard_ok(standard))
    {
        (void) evb_fail(ctx, EVB_P_INVALID_VALUE, "standard",
                        "must be an OCPI 2.2.1 ConnectorType "
                        "(\"IEC_62196_T2\", \"CHADEMO\", ...)");
    }

    fmt = 0;
    pt = 0;

    (void) evb_get_enum(ctx, con, "format", 1, evb_connector_formats, &fmt);
    (void) evb_get_enum(ctx, con, "power_type", 1, evb_power_types, &pt);
    (void) evb_get_int(ctx, con, "max_electric_power", 1, 0, INT64_MAX,
                       &power, NULL);

    ctx->prefix = "";

    if (ctx->nfail != before) {
        return;
    }

    evb_buf_appends(doc, ",\"connector\":{\"standard\":");
    evb_buf_append_json_str(doc, standard.data, standard.len);
    evb_buf_appends(doc, ",\"format\":\"");
    evb_buf_appends(doc, evb_connector_formats[fmt].name);
    evb_buf_appends(doc, "\",\"power_type\":\"");
    evb_buf_appends(doc, evb_power_types[pt].name);
    evb_buf_appends(doc, "\",\"max_electric_power\":");
    evb_buf_append_i64(doc, power);
    evb_buf_appends(doc, "}");
}


/* {"secret": base64} decoded into a key; ctx->prefix names the object */
static evb_problem_e
evb_parse_secret(evb_pctx_t *ctx, const evb_json_t *obj, evb_key_t *k)
{
    size_t          n;
    evb_str_t       s;
    evb_problem_e   rc;
    unsigned char   tmp[EVB_SECRET_MAX + 3];

    rc = evb_get_str(ctx, obj, "secret", 1, 0, SIZE_MAX, &s);
    if (rc != EVB_OK) {
        return rc;
    }

    n = (size_t) -1;

    /* the longest encoding of EVB_SECRET_MAX bytes; longer is refused
     * before decoding so tmp cannot overflow */
    if (s.len <= evb_base64_encoded_len(EVB_SECRET_MAX)) {
        n = evb_base64_decode(s.data, s.len, tmp);
    }

    if (n == (size_t) -1 || n < EVB_SECRET_MIN || n > EVB_SECRET_MAX) {
        memset(tmp, 0, sizeof(tmp));
        return evb_fail(ctx, EVB_P_INVALID_VALUE, "secret",
                        "must be base64 (padded) of %d to %d bytes",
                        EVB_SECRET_MIN, EVB_SECRET_MAX);
    }

    memcpy(k->secret, tmp, n);
    k->secret_len = n;
    memset(tmp, 0, sizeof(tmp));

    return EVB_OK;
}


static evb_problem_e
evb_parse_keys(evb_arena_t *a, evb_pctx_t *ctx, const evb_json_t *arr,
    evb_charger_t *out)
{
    char            prefix[32];
    size_t          i, j, cnt;
    evb_key_t      *k;
    evb_json_t     *obj;

    if (arr->type != EVB_JSON_ARRAY) {
        return evb_fail(ctx, EVB_P_INVALID_TYPE, "keys", "must be an array");
    }

    cnt = arr->u.arr.n;

    if (cnt > EVB_KEYS_MAX) {
        return evb_fail(ctx, EVB_P_INVALID_VALUE, "keys",
                        "must hold at most %d keys", EVB_KEYS_MAX);
    }

    if (cnt == 0) {
        return EVB_OK;
    }

    k = evb_arena_alloc(a, cnt * sizeof(evb_key_t));
    if (k == NULL) {
        return evb_fail(ctx, EVB_P_INTERNAL, "keys", "out of memory");
    }

    memset(k, 0, cnt * sizeof(evb_key_t));

    for (i = 0; i < cnt; i++) {
        obj = arr->u.arr.items[i];

        snprintf(prefix, sizeof(prefix), "keys[%zu]", i);

        if (obj->type != EVB_JSON_OBJECT) {
            (void) evb_fail(ctx, EVB_P_INVALID_TYPE, prefix,
                            "must be an object");
            continue;
        }

        snprintf(prefix, sizeof(prefix), "keys[%zu].", i);
        ctx->prefix = prefix;

        if (evb_get_id(ctx, obj, "id", 1, &k[i].key_id) == EVB_OK) {
            for (j = 0; j < i; j++) {
                if (k[j].key_id.len && evb_str_eq(k[j].key_id, k[i].key_id))
                {
                    (void) evb_fail(ctx, EVB_P_INVALID_VALUE, "id",
                                    "repeats the id of keys[%zu]", j);
                    break;
                }
            }
        }

        (void) evb_parse_secret(ctx, obj, &k[i]);

        ctx->prefix = "";
    }

    /* the caller wipes the secrets on a refusal */
    out->keys = k;
    out->nkeys = cnt;

    return ctx->first;
}


evb_problem_e
evb_parse_charger(evb_arena_t *a, const evb_json_t *root,
    evb_str_t charger_id, evb_charger_t *out, char *detail, size_t len,
    evb_field_error_t *errors, size_t *nerrors)
{
    char           *p;
    evb_buf_t       doc;
    evb_str_t       uid, eid;
    evb_json_t     *loc, *con, *keys;
    evb_pctx_t      ctx = evb_pctx(detail, len, NULL, NULL);
    evb_problem_e   rc;

    memset(out, 0, sizeof(evb_charger_t));

    /* from the path, not the body: no pointer */
    if (!evb_id_valid(charger_id.data, charger_id.len)) {
        return evb_fail(&ctx, EVB_P_INVALID_VALUE, "charger_id",
                        "must be 1 to 64 printable ASCII characters "
                        "without '/'");
    }

    ctx.errors = errors;
    ctx.nerrors = nerrors;
    out->charger_id = charger_id;

    if (evb_root(&ctx, root) != EVB_OK) {
        return ctx.first;
    }

    evb_buf_init(&doc);
    evb_buf_appends(&doc, "{");

    /* every field is read even after a bad one: all are reported */
    if (evb_get_obj(&ctx, root, "location", 1, &loc) == EVB_OK) {
        evb_parse_location(&ctx, loc, &doc, &out->time_zone);
    }

    if (evb_get_str(&ctx, root, "evse_uid", 1, 0, SIZE_MAX, &uid) == EVB_OK)
    {
        if (!evb_ocpi_string_ok(uid, EVB_OCPI_ID_MAX)) {
            (void) evb_fail(&ctx, EVB_P_INVALID_VALUE, "evse_uid",
                            "must be 1 to %d printable ASCII characters "
                            "(OCPI CiString(36))", EVB_OCPI_ID_MAX);
        }

        evb_buf_appends(&doc, ",\"evse_uid\":");
        evb_buf_append_json_str(&doc, uid.data, uid.len);
    }

    if (evb_get_str(&ctx, root, "evse_id", 1, 0, SIZE_MAX, &eid) == EVB_OK)
    {
        if (!evb_ocpi_string_ok(eid, EVB_OCPI_EVSE_ID_MAX)) {
            (void) evb_fail(&ctx, EVB_P_INVALID_VALUE, "evse_id",
                            "must be 1 to %d printable ASCII characters "
                            "(OCPI CiString(48))", EVB_OCPI_EVSE_ID_MAX);
        }

        evb_buf_appends(&doc, ",\"evse_id\":");
        evb_buf_append_json_str(&doc, eid.data, eid.len);
    }

    if (evb_get_obj(&ctx, root, "connector", 1, &con) == EVB_OK) {
        evb_parse_connector(&ctx, con, &doc);
    }

    if (evb_get_id(&ctx, root, "tariff_id", 0, &out->tariff_id) == EVB_OK) {
        if (out->tariff_id.len > EVB_OCPI_ID_MAX) {
            (void) evb_fail(&ctx, EVB_P_INVALID_VALUE, "tariff_id",
                            "must be 1 to %d printable ASCII characters "
                            "without '/' (OCPI CiString(36))",
                            EVB_OCPI_ID_MAX);
        }

        evb_buf_appends(&doc, ",\"tariff_id\":");

        if (out->tariff_id.len) {
            evb_buf_append_json_str(&doc, out->tariff_id.data,
                                    out->tariff_id.len);

        } else {
            evb_buf_appends(&doc, "null");
        }
    }

    evb_buf_appends(&doc, "}");

    if (evb_field(&ctx, root, "keys", 0, &keys) == EVB_OK && keys) {
        (void) evb_parse_keys(a, &ctx, keys, out);
    }

    /* the doc is whole only when every field was good */
    if (ctx.first != EVB_OK) {
        rc = ctx.first;
        goto done;
    }

    if (doc.oom) {
        rc = evb_fail(&ctx, EVB_P_INTERNAL, "charger", "out of memory");
        goto done;
    }

    p = evb_arena_strdup(a, doc.data, doc.len);
    if (p == NULL) {
        rc = evb_fail(&ctx, EVB_P_INTERNAL, "charger", "out of memory");
        goto done;
    }

    out->doc.data = p;
    out->doc.len = doc.len;
    rc = EVB_OK;

done:

    evb_buf_free(&doc);

    if (rc != EVB_OK && out->keys) {
        memset(out->keys, 0, out->nkeys * sizeof(evb_key_t));
        out->keys = NULL;
        out->nkeys = 0;
    }

    return rc;
}


evb_problem_e
evb_parse_key(evb_arena_t *a, const evb_json_t *root, evb_str_t key_id,
    evb_key_t *out, char *detail, size_t len, evb_field_error_t *errors,
    size_t *nerrors)
{
    evb_pctx_t      ctx = evb_pctx(detail, len, NULL, NULL);

    (void) a;    /* nothing to allocate; strings point into the tree */

    memset(out, 0, sizeof(evb_key_t));

    if (!evb_id_valid(key_id.data, key_id.len)) {
        return evb_fail(&ctx, EVB_P_INVALID_VALUE, "key_id",
                        "must be 1 to 64 printable ASCII characters "
                        "without '/'");
    }

    ctx.errors = errors;
    ctx.nerrors = nerrors;

    if (evb_root(&ctx, root) != EVB_OK) {
        return ctx.first;
    }

    out->key_id = key_id;

    return evb_parse_secret(&ctx, root, out);
}


/* idempotency */

int
evb_start_matches(const evb_start_t *req, const evb_session_t *s)
{
    if (req->connector_id != s->connector_id
        || !evb_str_eq(req->id_token, s->id_token)
        || req->token_type != s->token_type
        || req->timestamp != s->started_at
        || req->meter_start_wh != s->meter_start_wh
        || !evb_str_eq(req->ocmf, s->start_ocmf))
    {
        return 0;
    }

    /* a tariff named in the request must be the one stored from it; a
     * tariff the charger default supplied is not a request tariff */
    if (req->tariff_id.len) {
        return s->tariff_from_request
               && evb_str_eq(req->tariff_id, s->tariff_id);
    }

    return !s->tariff_from_request;
}


int
evb_stop_matches(const evb_stop_t *req, const evb_session_t *s)
{
    static const evb_str_t  local = evb_str_lit("local");

    if (s->state != EVB_SESSION_STOPPED
        || req->timestamp != s->stopped_at
        || req->meter_stop_wh != s->meter_stop_wh
        || !evb_str_eq(req->ocmf, s->stop_ocmf))
    {
        return 0;
    }

    return evb_str_eq(req->reason.len ? req->reason : local, s->stop_reason);
}


int
evb_reading_equal(const evb_reading_t *a, const evb_reading_t *b)
{
    return a->seq == b->seq
           && a->timestamp == b->timestamp
           && a->energy_wh == b->energy_wh
           && a->state == b->state
           && a->has_power == b->has_power
           && a->has_current == b->has_current
           && (!a->has_power || a->power_w == b->power_w)
           && (!a->has_current || a->current_ua == b->current_ua)
           && evb_str_eq(a->ocmf, b->ocmf);
}


/* renderers */

const char *
evb_token_type_name(evb_token_type_e t)
{
    const evb_enum_t  *p;

    for (p = evb_token_types; p->name; p++) {
        if (p->value == (int) t) {
            return p->name;
        }
    }

    return "OTHER";
}


static void
evb_render_key(evb_buf_t *b, const char *key, int first)
{
    evb_buf_appends(b, first ? "\"" : ",\"");
    evb_buf_appends(b, key);
    evb_buf_appends(b, "\":");
}


static void
evb_render_str(evb_buf_t *b, const char *key, evb_str_t s)
{
    evb_render_key(b, key, 0);
    evb_buf_append_json_str(b, s.data, s.len);
}


static void
evb_render_str_or_null(evb_buf_t *b, const char *key, evb_str_t s)
{
    if (s.len == 0) {
        evb_render_key(b, key, 0);
        evb_buf_appends(b, "null");
        return;
    }

    evb_render_str(b, key, s);
}


static void
evb_render_i64(evb_buf_t *b, const char *key, int64_t v)
{
    evb_render_key(b, key, 0);
    evb_buf_append_i64(b, v);
}


static void
evb_render_time(evb_buf_t *b, const char *key, evb_msec_t t)
{
    evb_render_key(b, key, 0);
    evb_buf_append_json_time(b, t);
}


/* micro-units as an exact JSON number without trailing zeros */
static void
evb_render_micro(evb_buf_t *b, int64_t v)
{
    int       i;
    char      frac[8];
    uint64_t  mag, f;

    if (v < 0) {
        evb_buf_append(b, "-", 1);
        mag = (uint64_t) 0 - (uint64_t) v;

    } else {
        mag = (uint64_t) v;
    }

    evb_buf_append_u64(b, mag / 1000000);

    f = mag % 1000000;

    if (f == 0) {
        return;
    }

    for (i = 5; i >= 0; i--) {
        frac[i] = (char) ('0' + f % 10);
        f /= 10;
    }

    i = 6;

    while (frac[i - 1] == '0') {
        i--;
    }

    evb_buf_append(b, ".", 1);
    evb_buf_append(b, frac, i);
}


void
evb_render_reading(evb_buf_t *b, const evb_reading_t *r)
{
    evb_buf_appends(b, "{\"seq\":");
    evb_buf_append_u64(b, r->seq);
    evb_render_time(b, "timestamp", r->timestamp);
    evb_render_i64(b, "energy_wh", r->energy_wh);
    evb_render_key(b, "state", 0);
    evb_buf_appends(b, r->state == EVB_READING_PARKED
                       ? "\"parked\"" : "\"charging\"");

    if (r->has_power) {
        evb_render_i64(b, "power_w", r->power_w);
    }

    if (r->has_current) {
        evb_render_key(b, "current_a", 0);
        evb_render_micro(b, r->current_ua);
    }

    if (r->ocmf.len) {
        evb_render_str(b, "ocmf", r->ocmf);
    }

    evb_buf_appends(b, "}");
}


void
evb_render_session(evb_buf_t *b, evb_view_e view, const evb_session_t *s,
    const evb_reading_t *readings, size_t nreadings, int with_readings)
{
    int         stopped;
    size_t      i;
    evb_str_t   reason;

    static const evb_str_t  local = evb_str_lit("local");

    stopped = s->state == EVB_SESSION_STOPPED;

    evb_buf_appends(b, "{\"charger_id\":");
    evb_buf_append_json_str(b, s->charger_id.data, s->charger_id.len);
    evb_render_str(b, "session_id", s->session_id);
    evb_render_key(b, "state", 0);
    evb_buf_appends(b, stopped ? "\"stopped\"" : "\"active\"");
    evb_render_i64(b, "connector_id", s->connector_id);
    evb_render_str(b, "id_token", s->id_token);
    evb_render_key(b, "token_type", 0);
    evb_buf_appends(b, "\"");
    evb_buf_appends(b, evb_token_type_name(s->token_type));
    evb_buf_appends(b, "\"");
    evb_render_str_or_null(b, "tariff_id", s->tariff_id);
    evb_render_time(b, "started_at", s->started_at);

    if (stopped) {
        reason = s->stop_reason.len ? s->stop_reason : local;

        evb_render_time(b, "stopped_at", s->stopped_at);
        evb_render_str(b, "stop_reason", reason);

    } else {
        evb_buf_appends(b, ",\"stopped_at\":null,\"stop_reason\":null");
    }

    evb_render_i64(b, "meter_start_wh", s->meter_start_wh);

    if (stopped) {
        evb_render_i64(b, "meter_stop_wh", s->meter_stop_wh);
        evb_render_i64(b, "energy_wh", s->meter_stop_wh - s->meter_start_wh);

    } else {
        evb_buf_appends(b, ",\"meter_stop_wh\":null");
        evb_render_i64(b, "energy_wh", s->last_energy_wh - s->meter_start_wh);
    }

    evb_render_key(b, "last_seq", 0);
    evb_buf_append_u64(b, s->last_seq);

    if (s->start_ocmf.len) {
        evb_render_str(b, "start_ocmf", s->start_ocmf);
    }

    if (s->stop_ocmf.len) {
        evb_render_str(b, "stop_ocmf", s->stop_ocmf);
    }

    /* the price as the store computed it (evb_bill.c), verbatim */
    evb_render_key(b, "cost", 0);

    if (s->cost.len) {
        evb_buf_append(b, s->cost.data, s->cost.len);

    } else {
        evb_buf_appends(b, "null");
    }

    if (s->cost_error.len) {
        evb_render_str(b, "cost_error", s->cost_error);
    }

    if (s->void_reason.len) {
        evb_render_str(b, "void_reason", s->void_reason);
    }

    if (s->sweep_error.len) {
        evb_render_str(b, "sweep_error", s->sweep_error);
    }

    if (with_readings) {
        evb_buf_appends(b, ",\"readings\":[");

        for (i = 0; i < nreadings; i++) {
            if (i) {
                evb_buf_append(b, ",", 1);
            }

            evb_render_reading(b, &readings[i]);
        }

        evb_buf_appends(b, "]");
    }

    evb_buf_appends(b, "}");
}


void
evb_render_charger(evb_buf_t *b, evb_view_e view, const evb_charger_t *c,
    const evb_key_record_t *keys, size_t nkeys)
{
    size_t       i, start, end;
    const char  *d;

    evb_buf_appends(b, "{\"charger_id\":");
    evb_buf_append_json_str(b, c->charger_id.data, c->charger_id.len);

    /* splice the members of the stored object: drop its braces */
    d = c->doc.data;
    start = 0;
    end = c->doc.len;

    while (start < end && d[start] != '{') {
        start++;
    }

    while (end > start && d[end - 1] != '}') {
        end--;
    }

    if (end - start > 2) {
        evb_buf_append(b, ",", 1);
        evb_buf_append(b, d + start + 1, end - start - 2);
    }

    evb_render_key(b, "retired", 0);
    evb_buf_appends(b, c->retired ? "true" : "false");
    evb_render_time(b, "created_at", c->created_at);
    evb_render_time(b, "updated_at", c->updated_at);
    evb_buf_appends(b, ",\"keys\":[");

    for (i = 0; i < nkeys; i++) {
        evb_buf_appends(b, i ? ",{\"id\":" : "{\"id\":");
        evb_buf_append_json_str(b, keys[i].key_id.data, keys[i].key_id.len);
        evb_render_key(b, "state", 0);
        evb_buf_appends(b, keys[i].retired ? "\"retired\"" : "\"active\"");
        evb_render_time(b, "created_at", keys[i].created_at);

        if (keys[i].retired) {
            evb_render_time(b, "retired_at", keys[i].retired_at);
        }

        evb_buf_appends(b, "}");
    }

    evb_buf_appends(b, "]}");
}
