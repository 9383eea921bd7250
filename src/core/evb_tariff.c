/*
 * OCPI 2.2.1 / 2.3.0 tariff parsing and validation into exact fixed point.
 *
 * Every fault is collected (not just the first) so an operator fixing a
 * tariff sees all of them at once; each is named by a JSON Pointer.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "evb_tariff.h"
#include "evb_tz.h"


typedef struct {
    evb_tariff_error_t  *errors;
    size_t              *nerrors;
    evb_problem_e        first;
} evb_tctx_t;


static void evb_terr(evb_tctx_t *c, evb_problem_e p, const char *detail,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static evb_json_t *evb_tget(evb_tctx_t *c, const evb_json_t *obj,
    const char *key, evb_json_type_e type, int required, const char *ptr);
static int evb_tfixed(evb_tctx_t *c, const evb_json_t *v, unsigned scale,
    int negative_problem, int64_t *out, const char *ptr);
static int evb_parse_hhmm(const evb_str_t *s, int *out);
static int evb_parse_date(const evb_str_t *s, int32_t *out);
static void evb_parse_component(evb_tctx_t *c, const evb_json_t *v,
    evb_component_t *pc, const char *ptr);
static void evb_parse_restrictions(evb_tctx_t *c, const evb_json_t *v,
    evb_restrictions_t *r, const char *ptr);
static void evb_parse_limit(evb_tctx_t *c, const evb_json_t *v,
    evb_price_limit_t *l, const char *ptr);
static void evb_ptr(char *dst, size_t size, const char *base,
    const char *name, size_t idx, int with_idx);


/* JSON Pointers are built with this rather than snprintf: a pointer too
 * long for the error record is cut, never overflowing. */
static void
evb_ptr(char *dst, size_t size, const char *base, const char *name,
    size_t idx, int with_idx)
{
    size_t  n, k;
    char    num[24];

    n = strlen(base);
    n = n < size - 1 ? n : size - 1;
    memmove(dst, base, n);

    if (name != NULL && n < size - 1) {
        dst[n++] = '/';
        k = strlen(name);
        k = k < size - 1 - n ? k : size - 1 - n;
        memcpy(dst + n, name, k);
        n += k;
    }

    if (with_idx && n < size - 1) {
        k = (size_t) snprintf(num, sizeof(num), "/%zu", idx);
        k = k < size - 1 - n ? k : size - 1 - n;
        memcpy(dst + n, num, k);
        n += k;
    }

    dst[n] = '\0';
}


static void
evb_terr(evb_tctx_t *c, evb_problem_e p, const char *detail,
    const char *fmt, ...)
{
    char     ptr[sizeof(((evb_field_error_t *) 0)->pointer)];
    va_list  ap;

    if (c->first == EVB_OK) {
        c->first = p;
    }

    va_start(ap, fmt);
    vsnprintf(ptr, sizeof(ptr), fmt, ap);
    va_end(ap);

    /* the one list every body reader fills (evb_problem.h) */
    evb_field_error_add(c->errors, c->nerrors, p, ptr, detail);
}


/* A member of the expected JSON type, or NULL (absent, or an error). */
static evb_json_t *
evb_tget(evb_tctx_t *c, const evb_json_t *obj, const char *key,
    evb_json_type_e type, int required, const char *ptr)
{
    evb_json_t  *v;
    char         detail[96];

    v = evb_json_get(obj, key);

    if (v == NULL || v->type == EVB_JSON_NULL) {
        if (required) {
            snprintf(detail, sizeof(detail), "%s is required", key);
            evb_terr(c, EVB_P_TARIFF_MISSING, detail, "%s/%s", ptr, key);
        }

        return NULL;
    }

    if (v->type != type) {
        snprintf(detail, sizeof(detail), "%s has the wrong JSON type", key);
        evb_terr(c, EVB_P_INVALID_TYPE, detail, "%s/%s", ptr, key);
        return NULL;
    }

    return v;
}


/* A decimal at 10^-scale; negatives refused with the given problem. */
static int
evb_tfixed(evb_tctx_t *c, const evb_json_t *v, unsigned scale,
    int negative_problem, int64_t *out, const char *ptr)
{
    char  detail[96];

    switch (evb_json_fixed(v, scale, out)) {

    case EVB_NUM_OK:
        break;

    case EVB_NUM_RANGE:
    case EVB_NUM_PRECISION:
        snprintf(detail, sizeof(detail),
                 "out of range or more than %u decimals", scale);
        evb_terr(c, EVB_P_TARIFF_INVALID, detail, "%s", ptr);
        return -1;

    default:
        evb_terr(c, EVB_P_INVALID_TYPE, "must be a number", "%s", ptr);
        return -1;
    }

    if (*out < 0) {
        evb_terr(c, (evb_problem_e) negative_problem, "must not be negative",
                 "%s", ptr);
        return -1;
    }

    return 0;
}


/* OCPI time: ([0-1][0-9]|2[0-3]):[0-5][0-9] */
static int
evb_parse_hhmm(const evb_str_t *s, int *out)
{
    const char  *p;
    int          h, m;

    p = s->data;

    if (s->len != 5 || p[2] != ':') {
        return -1;
    }

    if (p[0] < '0' || p[0] > '2' || p[1] < '0' || p[1] > '9'
        || p[3] < '0' || p[3] > '5' || p[4] < '0' || p[4] > '9')
    {
        return -1;
    }

    h = (p[0] - '0') * 10 + (p[1] - '0');
    m = (p[3] - '0') * 10 + (p[4] - '0');

    if (h > 23) {
        return -1;
    }

    *out = h * 60 + m;
    return 0;
}


/* OCPI date: YYYY-MM-DD, a real calendar day. */
static int
evb_parse_date(const evb_str_t *s, int32_t *out)
{
    const char  *p;
    int          i, y, mo, d, yy, mm, dd;
    int32_t      days;

    p = s->data;

    if (s->len != 10 || p[4] != '-' || p[7] != '-') {
        return -1;
    }

    for (i = 0; i < 10; i++) {
        if (i != 4 && i != 7 && (p[i] < '0' || p[i] > '9')) {
            return -1;
        }
    }

    y = (p[0] - '0') * 1000 + (p[1] - '0') * 100 + (p[2] - '0') * 10
        + (p[3] - '0');
    mo = (p[5] - '0') * 10 + (p[6] - '0');
    d = (p[8] - '0') * 10 + (p[9] - '0');

    if (mo < 1 || mo > 12 || d < 1 || d > 31) {
        return -1;
    }

    /* round trip refuses 2023-02-30 */
    days = evb_days_from_civil(y, mo, d);
    evb_civil_from_days(days, &yy, &mm, &dd);

    if (yy != y || mm != mo || dd != d) {
        return -1;
    }

    *out = days;
    return 0;
}


static void
evb_parse_component(evb_tctx_t *c, const evb_json_t *v, evb_component_t *pc,
    const char *ptr)
{
    int64_t      step;
    char         p[96];
    evb_json_t  *t, *n;

    memset(pc, 0, sizeof(*pc));

    if (v->type != EVB_JSON_OBJECT) {
        evb_terr(c, EVB_P_INVALID_TYPE, "a price component is an object",
                 "%s", ptr);
        return;
    }

    /*
     * GIREVE's OCPI 2.1.1 extensions change how a price is rounded; a bill
     * computed without them would silently differ, so refuse them.
     */
    if (evb_json_get(v, "price_round") != NULL
        || evb_json_get(v, "step_round") != NULL
        || evb_json_get(v, "exact_price_component") != NULL)
    {
        evb_terr(c, EVB_P_TARIFF_INVALID,
                 "non-standard GIREVE rounding extension (price_round, "
                 "step_round, exact_price_component) is not supported",
                 "%s/%s", ptr,
                 evb_json_get(v, "price_round") ? "price_round"
                 : evb_json_get(v, "step_round") ? "step_round"
                 : "exact_price_component");
    }

    t = evb_tget(c, v, "type", EVB_JSON_STRING, 1, ptr);

    if (t != NULL) {
        if (strcmp(t->u.str.data, "ENERGY") == 0) {
            pc->type = EVB_DIM_ENERGY;

        } else if (strcmp(t->u.str.data, "FLAT") == 0) {
            pc->type = EVB_DIM_FLAT;

        } else if (strcmp(t->u.str.data, "PARKING_TIME") == 0) {
            pc->type = EVB_DIM_PARKING_TIME;

        } else if (strcmp(t->u.str.data, "TIME") == 0) {
            pc->type = EVB_DIM_TIME;

        } else {
            evb_terr(c, EVB_P_TARIFF_DIMENSION,
                     "type must be ENERGY, FLAT, PARKING_TIME or TIME",
                     "%s/type", ptr);
        }
    }

    n = evb_json_get(v, "price");
    evb_ptr(p, sizeof(p), ptr, "price", 0, 0);

    if (n == NULL || n->type == EVB_JSON_NULL) {
        evb_terr(c, EVB_P_TARIFF_MISSING, "price is required", "%s", p);

    } else {
        (void) evb_tfixed(c, n, 6, EVB_P_TARIFF_NEGATIVE, &pc->price, p);
    }

    n = evb_json_get(v, "vat");

    if (n != NULL && n->type != EVB_JSON_NULL) {
        evb_ptr(p, sizeof(p), ptr, "vat", 0, 0);

        if (evb_tfixed(c, n, 6, EVB_P_TARIFF_NEGATIVE, &pc->vat, p) == 0) {
            pc->has_vat = 1;
        }
    }

    n = evb_json_get(v, "step_size");
    evb_ptr(p, sizeof(p), ptr, "step_size", 0, 0);

    if (n == NULL || n->type == EVB_JSON_NULL) {
        evb_terr(c, EVB_P_TARIFF_MISSING, "step_size is required", "%s", p);
        return;
    }

    switch (evb_json_int64(n, &step)) {

    case EVB_NUM_OK:
        break;

    case EVB_NUM_NOT_NUMBER:
        evb_terr(c, EVB_P_INVALID_TYPE, "step_size must be an integer",
                 "%s", p);
        return;

    default:
        evb_terr(c, EVB_P_TARIFF_INVALID,
                 "step_size must be a whole number of Wh or seconds",
                 "%s", p);
        return;
    }

    /* stored steps are multiplied into 10^-9 kWh or us later */
    if (step < 0 || step > 1000000000) {
        evb_terr(c, EVB_P_TARIFF_INVALID,
                 "step_size must be between 0 and 1000000000", "%s", p);
        return;
    }

    pc->step_size = step;
}


static void
evb_parse_restrictions(evb_tctx_t *c, const evb_json_t *v,
    evb_restrictions_t *r, const char *ptr)
{
    size_t       i, k;
    char         p[96];
    int64_t      d;
    evb_json_t  *n, *a;

    static const char  *days[] = { "MONDAY", "TUESDAY", "WEDNESDAY",
        "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY" };

    static const struct {
        const char  *name;
        unsigned     scale;
        size_t       off;
        int          min;
    } nums[] = {
        { "min_kwh", 9, offsetof(evb_restrictions_t, min_kwh), 1 },
        { "max_kwh", 9, offsetof(evb_restrictions_t, max_kwh), 0 },
        { "min_current", 6, offsetof(evb_restrictions_t, min_current), 1 },
        { "max_current", 6, offsetof(evb_restrictions_t, max_current), 0 },
        { "min_power", 6, offsetof(evb_restrictions_t, min_power), 1 },
        { "max_power", 6, offsetof(evb_restrictions_t, max_power), 0 },
        { "min_duration", 6, offsetof(evb_restrictions_t, min_duration), 1 },
        { "max_duration", 6, offsetof(evb_restrictions_t, max_duration), 0 },
    };

    memset(r, 0, sizeof(*r));

    if (v->type != EVB_JSON_OBJECT) {
        evb_terr(c, EVB_P_INVALID_TYPE, "restrictions is an object",
                 "%s", ptr);
        return;
    }

    n = evb_tget(c, v, "start_time", EVB_JSON_STRING, 0, ptr);

    if (n != NULL) {
        if (evb_parse_hhmm(&n->u.str, &r->start_time) == 0) {
            r->has_start_time = 1;

        } else {
            evb_terr(c, EVB_P_TARIFF_TIME_FORMAT,
                     "start_time must be HH:MM (00:00 to 23:59)",
                     "%s/start_time", ptr);
        }
    }

    n = evb_tget(c, v, "end_time", EVB_JSON_STRING, 0, ptr);

    if (n != NULL) {
        if (evb_parse_hhmm(&n->u.str, &r->end_time) == 0) {
            r->has_end_time = 1;

        } else {
            evb_terr(c, EVB_P_TARIFF_TIME_FORMAT,
                     "end_time must be HH:MM (00:00 to 23:59)",
                     "%s/end_time", ptr);
        }
    }

    n = evb_tget(c, v, "start_date", EVB_JSON_STRING, 0, ptr);

    if (n != NULL) {
        if (evb_parse_date(&n->u.str, &r->start_date) == 0) {
            r->has_start_date = 1;

        } else {
            evb_terr(c, EVB_P_TARIFF_TIME_FORMAT,
                     "start_date must be a date YYYY-MM-DD",
                     "%s/start_date", ptr);
        }
    }

    n = evb_tget(c, v, "end_date", EVB_JSON_STRING, 0, ptr);

    if (n != NULL) {
        if (evb_parse_date(&n->u.str, &r->end_date) == 0) {
            r->has_end_date = 1;

        } else {
            evb_terr(c, EVB_P_TARIFF_TIME_FORMAT,
                     "end_date must be a date YYYY-MM-DD",
                     "%s/end_date", ptr);
        }
    }

    if (r->has_start_date && r->has_end_date
        && r->end_date < r->start_date)
    {
        evb_terr(c, EVB_P_TARIFF_END_BEFORE, "end_date is before start_date",
                 "%s/end_date", ptr);
    }

    for (i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
        n = evb_json_get(v, nums[i].name);

        if (n == NULL || n->type == EVB_JSON_NULL) {
            continue;
        }

        evb_ptr(p, sizeof(p), ptr, nums[i].name, 0, 0);

        if (evb_tfixed(c, n, nums[i].scale, EVB_P_TARIFF_INVALID, &d, p)
            != 0)
        {
            continue;
        }

        if (nums[i].off == offsetof(evb_restrictions_t, min_duration)
            || nums[i].off == offsetof(evb_restrictions_t, max_duration))
        {
            /* seconds at 10^-6 are microseconds already */
            if (d > INT64_MAX / 2) {
                evb_terr(c, EVB_P_TARIFF_INVALID, "out of range", "%s", p);
                continue;
            }
        }

        *(int64_t *) ((char *) r + nums[i].off) = d;

        switch (i) {
        case 0: r->has_min_kwh = 1; break;
        case 1: r->has_max_kwh = 1; break;
        case 2: r->has_min_current = 1; break;
        case 3: r->has_max_current = 1; break;
        case 4: r->has_min_power = 1; break;
        case 5: r->has_max_power = 1; break;
        case 6: r->has_min_duration = 1; break;
        default: r->has_max_duration = 1; break;
        }
    }

    if (r->has_min_kwh && r->has_max_kwh && r->max_kwh < r->min_kwh) {
        evb_terr(c, EVB_P_TARIFF_END_BEFORE, "max_kwh is below min_kwh",
                 "%s/max_kwh", ptr);
    }

    if (r->has_min_current && r->has_max_current
        && r->max_current < r->min_current)
    {
        evb_terr(c, EVB_P_TARIFF_END_BEFORE,
                 "max_current is below min_current", "%s/max_current", ptr);
    }

    if (r->has_min_power && r->has_max_power && r->max_power < r->min_power)
    {
        evb_terr(c, EVB_P_TARIFF_END_BEFORE, "max_power is below min_power",
                 "%s/max_power", ptr);
    }

    if (r->has_min_duration && r->has_max_duration
        && r->max_duration < r->min_duration)
    {
        evb_terr(c, EVB_P_TARIFF_END_BEFORE,
                 "max_duration is below min_duration", "%s/max_duration",
                 ptr);
    }

    a = evb_tget(c, v, "day_of_week", EVB_JSON_ARRAY, 0, ptr);

    if (a != NULL) {
        for (i = 0; i < a->u.arr.n; i++) {
            n = a->u.arr.items[i];

            for (k = 0; k < 7; k++) {
                if (n->type == EVB_JSON_STRING
                    && strcmp(n->u.str.data, days[k]) == 0)
                {
                    break;
                }
            }

            if (k == 7) {
                evb_terr(c, EVB_P_TARIFF_INVALID,
                         "day_of_week must be MONDAY .. SUNDAY",
                         "%s/day_of_week/%zu", ptr, i);
                continue;
            }

            r->day_mask |= 1u << k;
        }
    }

    n = evb_tget(c, v, "reservation", EVB_JSON_STRING, 0, ptr);

    if (n != NULL) {
        if (strcmp(n->u.str.data, "RESERVATION") == 0) {
            r->reservation = EVB_RESERVATION;

        } else if (strcmp(n->u.str.data, "RESERVATION_EXPIRES") == 0) {
            r->reservation = EVB_RESERVATION_EXPIRES;

        } else {
            evb_terr(c, EVB_P_TARIFF_INVALID,
                     "reservation must be RESERVATION or "
                     "RESERVATION_EXPIRES", "%s/reservation", ptr);
        }
    }
}


/* Price (2.2.1: excl_vat, incl_vat) or PriceLimit (2.3.0: before_taxes,
 * after_taxes). */
static void
evb_parse_limit(evb_tctx_t *c, const evb_json_t *v, evb_price_limit_t *l,
    const char *ptr)
{
    char         p[96];
    const char  *k;
    evb_json_t  *n;

    memset(l, 0, sizeof(*l));

    if (v->type != EVB_JSON_OBJECT) {
        evb_terr(c, EVB_P_INVALID_TYPE, "a price is an object", "%s", ptr);
        return;
    }

    k = "excl_vat";
    n = evb_json_get(v, k);

    if (n == NULL) {
        k = "before_taxes";
        n = evb_json_get(v, k);
    }

    if (n == NULL || n->type == EVB_JSON_NULL) {
        evb_terr(c, EVB_P_TARIFF_MISSING,
                 "excl_vat (or before_taxes) is required", "%s/excl_vat",
                 ptr);

    } else {
        evb_ptr(p, sizeof(p), ptr, k, 0, 0);

        if (evb_tfixed(c, n, 6, EVB_P_TARIFF_NEGATIVE, &l->excl, p) == 0) {
            l->has_excl = 1;
        }
    }

    k = "incl_vat";
    n = evb_json_get(v, k);

    if (n == NULL) {
        k = "after_taxes";
        n = evb_json_get(v, k);
    }

    if (n != NULL && n->type != EVB_JSON_NULL) {
        evb_ptr(p, sizeof(p), ptr, k, 0, 0);

        if (evb_tfixed(c, n, 6, EVB_P_TARIFF_NEGATIVE, &l->incl, p) == 0) {
            l->has_incl = 1;
        }
    }
}


evb_problem_e
evb_tariff_parse(evb_arena_t *a, const evb_json_t *root, evb_tariff_t *out,
    evb_tariff_error_t *errors, size_t *nerrors)
{
    int             exp;
    size_t          i, j;
    char            p[96];
    evb_json_t     *v, *els, *pcs, *el;
    evb_tctx_t      c;
    evb_element_t  *e;

    static const char  *idf[] = { "country_code", "party_id", "id" };
    static const size_t idmax[] = { 2, 3, 36 };

    memset(out, 0, sizeof(*out));
    *nerrors = 0;
    c.errors = errors;
    c.nerrors = nerrors;
    c.first = EVB_OK;

    if (root == NULL || root->type != EVB_JSON_OBJECT) {
        evb_terr(&c, EVB_P_INVALID_TYPE, "a tariff is a JSON object", "%s",
                 "");
        return c.first;
    }

    for (i = 0; i < 3; i++) {
        v = evb_tget(&c, root, idf[i], EVB_JSON_STRING, 1, "");

        if (v == NULL) {
            continue;
        }

        if (v->u.str.len == 0 || v->u.str.len > idmax[i]) {
            snprintf(p, sizeof(p), "%s must be 1 to %zu characters", idf[i],
                     idmax[i]);
            evb_terr(&c, EVB_P_TARIFF_INVALID, p, "/%s", idf[i]);
            continue;
        }

        if (i == 0) {
            out->country_code = v->u.str;

        } else if (i == 1) {
            out->party_id = v->u.str;

        } else {
            out->id = v->u.str;
        }
    }

    v = evb_tget(&c, root, "currency", EVB_JSON_STRING, 1, "");

    if (v != NULL) {
        exp = evb_currency_exponent(v->u.str.data, v->u.str.len);

        if (exp < 0) {
            evb_terr(&c, EVB_P_TARIFF_CURRENCY,
                     "currency is not a known ISO 4217 code", "/currency");

        } else {
            memcpy(out->currency, v->u.str.data, 3);
            out->currency[3] = '\0';
            out->exponent = exp;
        }
    }

    v = evb_tget(&c, root, "last_updated", EVB_JSON_STRING, 1, "");

    if (v != NULL) {
        evb_msec_t  t;

        if (evb_time_parse_rfc3339(v->u.str.data, v->u.str.len, &t) != 0) {
            evb_terr(&c, EVB_P_TARIFF_TIME_FORMAT,
                     "last_updated must be an RFC 3339 date-time",
                     "/last_updated");
        }
    }

    v = evb_tget(&c, root, "type", EVB_JSON_STRING, 0, "");

    if (v != NULL
        && strcmp(v->u.str.data, "AD_HOC_PAYMENT") != 0
        && strcmp(v->u.str.data, "PROFILE_CHEAP") != 0
        && strcmp(v->u.str.data, "PROFILE_FAST") != 0
        && strcmp(v->u.str.data, "PROFILE_GREEN") != 0
        && strcmp(v->u.str.data, "REGULAR") != 0)
    {
        evb_terr(&c, EVB_P_TARIFF_INVALID, "type is not a TariffType",
                 "/type");
    }

    v = evb_tget(&c, root, "tax_included", EVB_JSON_STRING, 0, "");

    if (v != NULL) {
        if (strcmp(v->u.str.data, "YES") == 0) {
            out->tax_included = 1;

        } else if (strcmp(v->u.str.data, "N/A") == 0) {
            out->tax_included = -1;

        } else if (strcmp(v->u.str.data, "NO") != 0) {
            evb_terr(&c, EVB_P_TARIFF_INVALID,
                     "tax_included must be YES, NO or N/A", "/tax_included");
        }
    }

    v = evb_tget(&c, root, "start_date_time", EVB_JSON_STRING, 0, "");

    if (v != NULL) {
        if (evb_time_parse_rfc3339(v->u.str.data, v->u.str.len,
                                   &out->start_date_time) == 0)
        {
            out->has_start = 1;

        } else {
            evb_terr(&c, EVB_P_TARIFF_TIME_FORMAT,
                     "start_date_time must be an RFC 3339 date-time",
                     "/start_date_time");
        }
    }

    v = evb_tget(&c, root, "end_date_time", EVB_JSON_STRING, 0, "");

    if (v != NULL) {
        if (evb_time_parse_rfc3339(v->u.str.data, v->u.str.len,
                                   &out->end_date_time) == 0)
        {
            out->has_end = 1;

        } else {
            evb_terr(&c, EVB_P_TARIFF_TIME_FORMAT,
                     "end_date_time must be an RFC 3339 date-time",
                     "/end_date_time");
        }
    }

    if (out->has_start && out->has_end
        && out->end_date_time < out->start_date_time)
    {
        evb_terr(&c, EVB_P_TARIFF_END_BEFORE,
                 "end_date_time is before start_date_time",
                 "/end_date_time");
    }

    v = evb_tget(&c, root, "min_price", EVB_JSON_OBJECT, 0, "");

    if (v != NULL) {
        evb_parse_limit(&c, v, &out->min_price, "/min_price");
        out->has_min_price = out->min_price.has_excl
                             || out->min_price.has_incl;
    }

    v = evb_tget(&c, root, "max_price", EVB_JSON_OBJECT, 0, "");

    if (v != NULL) {
        evb_parse_limit(&c, v, &out->max_price, "/max_price");
        out->has_max_price = out->max_price.has_excl
                             || out->max_price.has_incl;
    }

    if (out->has_min_price && out->has_max_price) {
        if ((out->min_price.has_excl && out->max_price.has_excl
             && out->max_price.excl < out->min_price.excl)
            || (out->min_price.has_incl && out->max_price.has_incl
                && out->max_price.incl < out->min_price.incl))
        {
            evb_terr(&c, EVB_P_TARIFF_END_BEFORE,
                     "max_price is below min_price", "/max_price");
        }
    }

    els = evb_tget(&c, root, "elements", EVB_JSON_ARRAY, 1, "");

    if (els == NULL) {
        return c.first;
    }

    if (els->u.arr.n == 0) {
        evb_terr(&c, EVB_P_TARIFF_MISSING,
                 "elements must hold at least one element", "/elements");
        return c.first;
    }

    out->elements = evb_arena_alloc(a, els->u.arr.n * sizeof(evb_element_t));

    if (out->elements == NULL) {
        evb_terr(&c, EVB_P_INTERNAL, "out of memory", "%s", "");
        return c.first;
    }

    out->nelements = els->u.arr.n;

    for (i = 0; i < els->u.arr.n; i++) {
        el = els->u.arr.items[i];
        e = &out->elements[i];
        memset(e, 0, sizeof(*e));
        evb_ptr(p, sizeof(p), "", "elements", i, 1);

        if (el->type != EVB_JSON_OBJECT) {
            evb_terr(&c, EVB_P_INVALID_TYPE, "an element is an object",
                     "%s", p);
            continue;
        }

        pcs = evb_tget(&c, el, "price_components", EVB_JSON_ARRAY, 1, p);

        if (pcs != NULL && pcs->u.arr.n == 0) {
            evb_terr(&c, EVB_P_TARIFF_MISSING,
                     "price_components must hold at least one component",
                     "%s/price_components", p);
        }

        if (pcs != NULL && pcs->u.arr.n > 0) {
            e->components = evb_arena_alloc(a,
                                pcs->u.arr.n * sizeof(evb_component_t));

            if (e->components == NULL) {
                evb_terr(&c, EVB_P_INTERNAL, "out of memory", "%s", "");
                return c.first;
            }

            e->ncomponents = pcs->u.arr.n;

            for (j = 0; j < pcs->u.arr.n; j++) {
                char  pp[96];

                evb_ptr(pp, sizeof(pp), p, "price_components", j, 1);
                evb_parse_component(&c, pcs->u.arr.items[j],
                                    &e->components[j], pp);
            }
        }

        v = evb_json_get(el, "restrictions");

        if (v != NULL && v->type != EVB_JSON_NULL) {
            char  pp[96];

            evb_ptr(pp, sizeof(pp), p, "restrictions", 0, 0);
            evb_parse_restrictions(&c, v, &e->r, pp);
            e->has_restrictions = 1;
        }
    }

    /* the rating state keeps a fixed table of lines (evb_rate.h) */
    if (c.first == EVB_OK
        && evb_tariff_lines(out, &i, &j) > EVB_TARIFF_LINES_MAX)
    {
        char  pp[96];

        evb_ptr(p, sizeof(p), "", "elements", i, 1);
        evb_ptr(pp, sizeof(pp), p, "price_components", j, 1);
        evb_terr(&c, EVB_P_TARIFF_INVALID,
                 "more than 48 distinct billed lines (dimension, price, "
                 "VAT) in one tariff", "%s", pp);
    }

    return c.first;
}


/* Two components bill on the same line: same category, price and VAT. */
static int
evb_tariff_same_line(const evb_element_t *ea, const evb_component_t *a,
    const evb_element_t *eb, const evb_component_t *b)
{
    return a->type == b->type && a->price == b->price
           && a->has_vat == b->has_vat && (!a->has_vat || a->vat == b->vat)
           && (ea->r.reservation != EVB_RESERVATION_NONE)
              == (eb->r.reservation != EVB_RESERVATION_NONE);
}


size_t
evb_tariff_lines(const evb_tariff_t *t, size_t *element, size_t *component)
{
    size_t                  i, j, k, n;
    const evb_element_t    *e, *re[EVB_TARIFF_LINES_MAX];
    const evb_component_t  *pc, *rc[EVB_TARIFF_LINES_MAX];

    /* compared with one component per line found: linear in the size */
    n = 0;

    for (i = 0; i < t->nelements; i++) {
        e = &t->elements[i];

        for (j = 0; j < e->ncomponents; j++) {
            pc = &e->components[j];

            for (k = 0; k < n; k++) {
                if (evb_tariff_same_line(re[k], rc[k], e, pc)) {
                    break;
                }
            }

            if (k < n) {
                continue;
            }

            if (n == EVB_TARIFF_LINES_MAX) {
                *element = i;
                *component = j;
                return n + 1;
            }

            re[n] = e;
            rc[n] = pc;
            n++;
        }
    }

    return n;
}


int
evb_tariff_active(const evb_tariff_t *t, evb_msec_t at)
{
    if (t->has_start && at < t->start_date_time) {
        return 0;
    }

    if (t->has_end && at >= t->end_date_time) {
        return 0;
    }

    return 1;
}
