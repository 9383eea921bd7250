/*
 * The dry run: a conformance-case-shaped request in, the OCPI CDR totals,
 * a per-segment breakdown and warnings out.  Shared by the admin API
 * (POST rate) and evbill-rate, through the same engine as live rating.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evb_rate.h"
#include "evb_rate_int.h"


/* the refusal's detail names the limit */
_Static_assert(EVB_RATE_LINES_MAX == 48, "update the 48 in the detail");


typedef struct {
    evb_msec_t   start;
    size_t       index;                  /* in the request */
} evb_dry_order_t;


static int
evb_dry_cmp(const void *a, const void *b)
{
    const evb_dry_order_t  *x = a, *y = b;

    if (x->start != y->start) {
        return x->start < y->start ? -1 : 1;
    }

    return x->index < y->index ? -1 : (x->index > y->index);
}


/*
 * Hours as a JSON number into microseconds, snapped to the millisecond
 * (half-even).  Readings and period bounds are whole milliseconds, so
 * every time volume the module prices is one; a CDR prints them rounded
 * to 10^-9 h, and the snap recovers the exact duration, so a re-rate
 * cannot bill a step more than the CDR did.
 */
static int
evb_dry_hours(const evb_json_t *v, int64_t *us)
{
    int64_t     h, ms;
    evb_i128_t  den;

    /* 10^-12 h = 36 / 10^7 ms; 10^-8 h (for larger values) = 36 / 1000 */
    if (evb_json_fixed(v, 12, &h) == EVB_NUM_OK) {
        den = 10000000;

    } else if (evb_json_fixed(v, 8, &h) == EVB_NUM_OK) {
        den = 1000;

    } else {
        return -1;
    }

    if (evb_div_round((evb_i128_t) h * 36, den, EVB_ROUND_HALF_EVEN, &ms)
        != 0
        || __builtin_mul_overflow(ms, 1000, us))
    {
        return -1;
    }

    return 0;
}


/* where the dry run's refusals go */
typedef struct {
    evb_tariff_error_t  *errors;
    size_t              *nerrors;
    char                *detail;
    size_t               len;
} evb_dry_err_t;


/*
 * A refusal: detail is "where: msg" as it always was; errors gets the
 * field's JSON Pointer, "/where/field" (where is a pointer without its
 * leading '/'), unless both are NULL (no field to blame).
 */
static evb_problem_e
evb_dry_fail(evb_dry_err_t *e, evb_problem_e p, const char *msg,
    const char *where, const char *field)
{
    char  ptr[96];

    if (where != NULL) {
        snprintf(e->detail, e->len, "%s: %s", where, msg);

    } else {
        snprintf(e->detail, e->len, "%s", msg);
    }

    if (where != NULL || field != NULL) {
        snprintf(ptr, sizeof(ptr), "%s%s%s%s",
                 where ? "/" : "", where ? where : "",
                 field ? "/" : "", field ? field : "");
        evb_field_error_add(e->errors, e->nerrors, p, ptr, msg);
    }

    return p;
}


/*
 * The dry run runs on the event loop: a session longer than max_duration
 * or with more than max_periods periods is refused, with a pointer to the
 * field that goes past the bound.
 */
static evb_problem_e
evb_dry_bound(evb_dry_err_t *e, const char *pointer, const char *msg)
{
    evb_field_error_add(e->errors, e->nerrors, EVB_P_INVALID_VALUE, pointer,
                        msg);

    snprintf(e->detail, e->len, "%s: %s", pointer, msg);

    return EVB_P_INVALID_VALUE;
}


static evb_problem_e
evb_dry_time(evb_dry_err_t *e, const evb_json_t *obj, const char *key,
    evb_msec_t *out, const char *where)
{
    char         msg[96];
    evb_json_t  *v;

    v = evb_json_get(obj, key);

    if (v == NULL) {
        snprintf(msg, sizeof(msg), "%s is required", key);
        return evb_dry_fail(e, EVB_P_MISSING_FIELD, msg, where, key);
    }

    if (v->type != EVB_JSON_STRING
        || evb_time_parse_rfc3339(v->u.str.data, v->u.str.len, out) != 0)
    {
        snprintf(msg, sizeof(msg), "%s must be an RFC 3339 date-time", key);
        return evb_dry_fail(e, EVB_P_INVALID_VALUE, msg, where, key);
    }

    return EVB_OK;
}


static evb_problem_e
evb_dry_period(evb_dry_err_t *e, const evb_json_t *v, evb_period_t *p,
    const char *where)
{
    size_t         i;
    int64_t        x;
    evb_problem_e  rc;
    evb_json_t    *dims, *d, *type, *vol, *tid;
    const char    *ty;
    char           dim[40];

    memset(p, 0, sizeof(*p));

    if (v->type != EVB_JSON_OBJECT) {
        return evb_dry_fail(e, EVB_P_INVALID_TYPE,
                            "a charging period is an object", where, NULL);
    }

    rc = evb_dry_time(e, v, "start_date_time", &p->start, where);

    if (rc != EVB_OK) {
        return rc;
    }

    tid = evb_json_get(v, "tariff_id");

    if (tid != NULL && tid->type != EVB_JSON_NULL) {
        if (tid->type != EVB_JSON_STRING) {
            return evb_dry_fail(e, EVB_P_INVALID_TYPE,
                                "tariff_id must be a string", where,
                                "tariff_id");
        }

        p->tariff_id = tid->u.str;
    }

    dims = evb_json_get(v, "dimensions");

    if (dims == NULL) {
        return evb_dry_fail(e, EVB_P_MISSING_FIELD,
                            "dimensions is required", where, "dimensions");
    }

    if (dims->type != EVB_JSON_ARRAY) {
        return evb_dry_fail(e, EVB_P_INVALID_TYPE,
                            "dimensions must be an array", where,
                            "dimensions");
    }

    for (i = 0; i < dims->u.arr.n; i++) {
        d = dims->u.arr.items[i];
        type = evb_json_get(d, "type");
        vol = evb_json_get(d, "volume");

        snprintf(dim, sizeof(dim), "dimensions/%zu", i);

        if (type == NULL || type->type != EVB_JSON_STRING || vol == NULL
            || vol->type != EVB_JSON_NUMBER)
        {
            return evb_dry_fail(e, EVB_P_INVALID_TYPE,
                                "a dimension is {\"type\": string, "
                                "\"volume\": number}", where, dim);
        }

        ty = type->u.str.data;

        snprintf(dim, sizeof(dim), "dimensions/%zu/volume", i);

        if (strcmp(ty, "ENERGY") == 0) {
            if (evb_json_fixed(vol, 9, &x) != EVB_NUM_OK
                || __builtin_add_overflow(p->energy, x, &p->energy))
            {
                return evb_dry_fail(e, EVB_P_OUT_OF_RANGE,
                                    "ENERGY volume out of range or finer "
                                    "than 10^-9 kWh", where, dim);
            }

        } else if (strcmp(ty, "TIME") == 0
                   || strcmp(ty, "PARKING_TIME") == 0
                   || strcmp(ty, "RESERVATION_TIME") == 0)
        {
            int64_t  *dst;

            dst = ty[0] == 'T' ? &p->time
                  : ty[0] == 'P' ? &p->parking : &p->reservation;

            if (evb_dry_hours(vol, &x) != 0
                || __builtin_add_overflow(*dst, x, dst))
            {
                return evb_dry_fail(e, EVB_P_OUT_OF_RANGE,
                                    "time volume (hours) out of range",
                                    where, dim);
            }

        } else if (strcmp(ty, "MIN_CURRENT") == 0
                   || strcmp(ty, "MAX_CURRENT") == 0
                   || strcmp(ty, "MIN_POWER") == 0
                   || strcmp(ty, "MAX_POWER") == 0)
        {
            if (evb_json_fixed(vol, 6, &x) != EVB_NUM_OK) {
                return evb_dry_fail(e, EVB_P_OUT_OF_RANGE,
                                    "current/power volume out of range or "
                                    "finer than 10^-6", where, dim);
            }

            if (strcmp(ty, "MIN_CURRENT") == 0) {
                p->has_min_current = 1;
                p->min_current = x;

            } else if (strcmp(ty, "MAX_CURRENT") == 0) {
                p->has_max_current = 1;
                p->max_current = x;

            } else if (strcmp(ty, "MIN_POWER") == 0) {
                p->has_min_power = 1;
                p->min_power = x;

            } else {
                p->has_max_power = 1;
                p->max_power = x;
            }
        }

        /* CURRENT, POWER, STATE_OF_CHARGE...: informative, not priced */
    }

    return EVB_OK;
}


static void
evb_dry_hours_out(evb_buf_t *b, int64_t us)
{
    int64_t  nh;

    /* 10^-9 h; exact for any input volume of up to 8 decimals */
    if (evb_div_round((evb_i128_t) us * 10, 36, EVB_ROUND_HALF_EVEN, &nh)
        != 0)
    {
        nh = 0;
    }

    evb_buf_append_decimal(b, nh, 9, 0);
}


static void
evb_dry_warn(evb_buf_t *b, int *first, const char *code, long period,
    const char *detail)
{
    evb_buf_appends(b, *first ? "{\"code\":" : ",{\"code\":");
    *first = 0;
    evb_buf_append_json_str(b, code, strlen(code));

    if (period >= 0) {
        evb_buf_appends(b, ",\"period\":");
        evb_buf_append_i64(b, period);
    }

    evb_buf_appends(b, ",\"detail\":");
    evb_buf_append_json_str(b, detail, strlen(detail));
    evb_buf_appends(b, "}");
}


static const char *
evb_dim_name(evb_dim_e d)
{
    switch (d) {
    case EVB_DIM_ENERGY:
        return "ENERGY";
    case EVB_DIM_FLAT:
        return "FLAT";
    case EVB_DIM_PARKING_TIME:
        return "PARKING_TIME";
    default:
        return "TIME";
    }
}


static void
evb_dry_qty(evb_buf_t *b, evb_dim_e d, int64_t q)
{
    if (d == EVB_DIM_ENERGY) {
        evb_buf_append_decimal(b, q, 9, 0);

    } else if (d == EVB_DIM_FLAT) {
        evb_buf_append_i64(b, q);

    } else {
        evb_dry_hours_out(b, q);
    }
}


/*
 * The rounded bill line by line: "lines" (each billed line: dimension,
 * price, VAT, billed quantity, exact cost, rounded amount) and "vat"
 * (per VAT rate: its lines, the min/max adjustment, the taxable amount
 * and the VAT), what an invoice prints.
 */
static void
evb_dry_lines(evb_buf_t *b, const evb_bill_detail_t *d, unsigned dec)
{
    size_t                  i;
    const evb_bill_line_t  *l;
    const evb_bill_vat_t   *v;

    evb_buf_appends(b, ",\"lines\":[");

    for (i = 0; i < d->nlines; i++) {
        l = &d->lines[i];
        evb_buf_appends(b, i ? ",{\"dimension\":\"" : "{\"dimension\":\"");
        evb_buf_appends(b, evb_dim_name(l->dim));
        evb_buf_appends(b, "\"");

        if (l->reservation) {
            evb_buf_appends(b, ",\"reservation\":true");
        }

        evb_buf_appends(b, ",\"price\":");
        evb_buf_append_decimal(b, l->price, 6, 0);

        if (l->has_vat) {
            evb_buf_appends(b, ",\"vat\":");
            evb_buf_append_decimal(b, l->vat, 6, 0);
        }

        if (l->tax_included) {
            evb_buf_appends(b, ",\"tax_included\":true");
        }

        evb_buf_appends(b, ",\"quantity\":");
        evb_dry_qty(b, l->dim, l->quantity);
        evb_buf_appends(b, ",\"cost\":");
        evb_render_amount(b, &l->cost, 0);
        evb_buf_appends(b, ",\"amount\":");
        evb_buf_append_decimal(b, l->amount, 6, dec);
        evb_buf_appends(b, "}");
    }

    evb_buf_appends(b, "],\"vat\":[");

    for (i = 0; i < d->nvat; i++) {
        v = &d->vat[i];
        evb_buf_appends(b, i ? ",{" : "{");

        if (v->has_vat) {
            evb_buf_appends(b, "\"vat\":");
            evb_buf_append_decimal(b, v->vat, 6, 0);
            evb_buf_appends(b, ",");
        }

        evb_buf_appends(b, "\"lines\":");
        evb_buf_append_decimal(b, v->lines, 6, dec);
        evb_buf_appends(b, ",\"adjustment\":");
        evb_buf_append_decimal(b, v->adjustment, 6, dec);
        evb_buf_appends(b, ",\"taxable\":");
        evb_buf_append_decimal(b, v->taxable, 6, dec);

        /* lines without VAT have none, unless an incl_vat bound put tax
         * there that no rate explains */
        if (v->has_vat || v->amount != 0) {
            evb_buf_appends(b, ",\"amount\":");
            evb_buf_append_decimal(b, v->amount, 6, dec);
        }

        evb_buf_appends(b, "}");
    }

    evb_buf_appends(b, "]");
}


/* A dry-run request, parsed and checked. */
typedef struct {
    evb_rate_ctx_t       ctx;            /* zone, tariffs, policy */
    size_t               incomplete;     /* bit i: tariff i lacks metadata */
    evb_msec_t           start;
    evb_msec_t           end;
    evb_period_t        *periods;
    size_t               nperiods;
    int                  reservation_expired;
} evb_dry_req_t;

/* What rating it yields. */
typedef struct {
    evb_dry_order_t     *order;          /* the periods in time order */
    unsigned            *flags;          /* per rated period */
    evb_segments_t       seg;
    evb_rate_result_t    res;
    evb_bill_detail_t   *bill;
} evb_dry_rated_t;


static evb_problem_e
evb_dry_parse_policy(evb_dry_err_t *e, const evb_json_t *root,
    evb_policy_t *policy)
{
    evb_json_t  *v, *pol;

    pol = evb_json_get(root, "policy");

    if (pol == NULL || pol->type == EVB_JSON_NULL) {
        return EVB_OK;
    }

    if (pol->type != EVB_JSON_OBJECT) {
        return evb_dry_fail(e, EVB_P_INVALID_TYPE, "policy must be an object",
                            NULL, "policy");
    }

    v = evb_json_get(pol, "rounding");

    if (v != NULL) {
        if (v->type == EVB_JSON_STRING
            && strcmp(v->u.str.data, "half_up") == 0)
        {
            policy->rounding = EVB_ROUND_HALF_UP;

        } else if (v->type == EVB_JSON_STRING
                   && strcmp(v->u.str.data, "half_even") == 0)
        {
            policy->rounding = EVB_ROUND_HALF_EVEN;

        } else {
            return evb_dry_fail(e, EVB_P_INVALID_VALUE,
                                "rounding must be half_up or half_even",
                                "policy", "rounding");
        }
    }

    v = evb_json_get(pol, "no_step_size");

    if (v != NULL) {
        if (v->type != EVB_JSON_BOOL) {
            return evb_dry_fail(e, EVB_P_INVALID_TYPE,
                                "no_step_size must be a boolean", "policy",
                                "no_step_size");
        }

        policy->no_step_size = v->u.boolean ? 1 : 0;
    }

    v = evb_json_get(pol, "ignore_min_max");

    if (v != NULL) {
        if (v->type != EVB_JSON_BOOL) {
            return evb_dry_fail(e, EVB_P_INVALID_TYPE,
                                "ignore_min_max must be a boolean", "policy",
                                "ignore_min_max");
        }

        policy->ignore_min_max = v->u.boolean ? 1 : 0;
    }

    return EVB_OK;
}


static evb_problem_e
evb_dry_parse_tariffs(evb_arena_t *a, evb_dry_err_t *e,
    const evb_json_t *root, evb_dry_req_t *req)
{
    int                 lenient;
    char                msg[256];
    size_t              i, j, k, nt, nerr;
    evb_problem_e       rc;
    evb_json_t         *tariffs;
    evb_tariff_t       *ts;
    evb_tariff_error_t  terr[EVB_TARIFF_ERRORS_MAX];

    tariffs = evb_json_get(root, "tariffs");

    if (tariffs == NULL) {
        return evb_dry_fail(e, EVB_P_MISSING_FIELD, "tariffs is required",
                            NULL, "tariffs");
    }

    if (tariffs->type != EVB_JSON_ARRAY) {
        return evb_dry_fail(e, EVB_P_INVALID_TYPE, "tariffs must be an array",
                            NULL, "tariffs");
    }

    nt = tariffs->u.arr.n;

    if (nt == 0) {
        return evb_dry_fail(e, EVB_P_NO_TARIFF, "tariffs is empty", NULL,
                            "tariffs");
    }

    ts = evb_arena_alloc(a, nt * sizeof(evb_tariff_t));

    if (ts == NULL) {
        return evb_dry_fail(e, EVB_P_INTERNAL, "out of memory", NULL, NULL);
    }

    for (i = 0; i < nt; i++) {
        rc = evb_tariff_parse(a, tariffs->u.arr.items[i], &ts[i], terr,
                              &nerr);

        if (rc == EVB_OK) {
            continue;
        }

        /*
         * A CDR being audited may come with a tariff that lacks only the
         * identifying metadata (country_code, party_id, last_updated):
         * price it, and say so.  Admin PUT stays strict.
         */
        lenient = 1;
        k = 0;

        for (j = 0; j < nerr; j++) {
            if (terr[j].problem != EVB_P_TARIFF_MISSING
                || (strcmp(terr[j].pointer, "/country_code") != 0
                    && strcmp(terr[j].pointer, "/party_id") != 0
                    && strcmp(terr[j].pointer, "/last_updated") != 0))
            {
                /* the detail names the first fault that matters */
                if (lenient) {
                    k = j;
                    rc = terr[j].problem;
                }

                lenient = 0;
            }
        }

        if (lenient && nerr > 0) {
            req->incomplete |= (size_t) 1 << (i < 63 ? i : 63);
            continue;
        }

        for (j = 0; j < nerr && *e->nerrors < EVB_TARIFF_ERRORS_MAX; j++) {
            evb_tariff_error_t  *te = &e->errors[(*e->nerrors)++];

            *te = terr[j];
            snprintf(te->pointer, sizeof(te->pointer), "/tariffs/%zu%.60s",
                     i, terr[j].pointer);
        }

        snprintf(msg, sizeof(msg), "tariff %zu is invalid: %.60s: %.150s",
                 i, nerr > 0 ? terr[k].pointer : "", nerr > 0
                 ? terr[k].detail : "");

        /* the tariff's own errors are in the list already */
        snprintf(e->detail, e->len, "%s", msg);

        return rc;
    }

    req->ctx.tariffs = ts;
    req->ctx.ntariffs = nt;

    return EVB_OK;
}


static evb_problem_e
evb_dry_parse_session(evb_arena_t *a, evb_dry_err_t *e,
    const evb_json_t *root, evb_dry_req_t *req)
{
    char                where[96], msg[256];
    size_t              i, n;
    evb_msec_t          lo, hi;
    evb_problem_e       rc;
    evb_json_t         *session, *periods, *v;
    const evb_policy_t *policy;

    policy = &req->ctx.policy;

    session = evb_json_get(root, "session");

    if (session == NULL) {
        return evb_dry_fail(e, EVB_P_MISSING_FIELD, "session is required",
                            NULL, "session");
    }

    if (session->type != EVB_JSON_OBJECT) {
        return evb_dry_fail(e, EVB_P_INVALID_TYPE, "session must be an object",
                            NULL, "session");
    }

    rc = evb_dry_time(e, session, "start_date_time", &req->start, "session");

    if (rc == EVB_OK) {
        rc = evb_dry_time(e, session, "end_date_time", &req->end,
                          "session");
    }

    if (rc != EVB_OK) {
        return rc;
    }

    if (req->end < req->start) {
        return evb_dry_fail(e, EVB_P_INVALID_VALUE,
                            "end_date_time is before start_date_time",
                            "session", "end_date_time");
    }

    if (policy->max_duration
        && req->end - req->start > policy->max_duration)
    {
        snprintf(msg, sizeof(msg), "the session spans more than %lld s "
                 "(evbill_session_max_duration, --max-duration)",
                 (long long) (policy->max_duration / 1000));
        return evb_dry_bound(e, "/session/end_date_time", msg);
    }

    periods = evb_json_get(session, "charging_periods");

    if (periods == NULL) {
        return evb_dry_fail(e, EVB_P_MISSING_FIELD,
                            "charging_periods is required", "session",
                            "charging_periods");
    }

    if (periods->type != EVB_JSON_ARRAY) {
        return evb_dry_fail(e, EVB_P_INVALID_TYPE,
                            "charging_periods must be an array", "session",
                            "charging_periods");
    }

    n = periods->u.arr.n;

    if (policy->max_periods && n > policy->max_periods) {
        snprintf(msg, sizeof(msg), "more than %llu charging periods "
                 "(evbill_session_max_periods, --max-periods)",
                 (unsigned long long) policy->max_periods);
        return evb_dry_bound(e, "/session/charging_periods", msg);
    }

    req->periods = evb_arena_alloc(a, (n + 1) * sizeof(evb_period_t));

    if (req->periods == NULL) {
        return evb_dry_fail(e, EVB_P_INTERNAL, "out of memory", NULL, NULL);
    }

    req->nperiods = n;
    lo = req->start;
    hi = req->end;

    for (i = 0; i < n; i++) {
        snprintf(where, sizeof(where), "session/charging_periods/%zu", i);
        rc = evb_dry_period(e, periods->u.arr.items[i], &req->periods[i],
                            where);

        if (rc != EVB_OK) {
            return rc;
        }

        /* periods outside the session are rated too: they count */
        lo = req->periods[i].start < lo ? req->periods[i].start : lo;
        hi = req->periods[i].start > hi ? req->periods[i].start : hi;

        if (policy->max_duration && hi - lo > policy->max_duration) {
            snprintf(where, sizeof(where),
                     "/session/charging_periods/%zu/start_date_time", i);
            snprintf(msg, sizeof(msg), "the session and its periods span "
                     "more than %lld s (evbill_session_max_duration, "
                     "--max-duration)",
                     (long long) (policy->max_duration / 1000));
            return evb_dry_bound(e, where, msg);
        }
    }

    v = evb_json_get(session, "x_reservation_expired");

    req->reservation_expired = v != NULL && v->type == EVB_JSON_BOOL
                               && v->u.boolean;

    return EVB_OK;
}


/* The request: policy, zone, tariffs, session; no rating yet. */
static evb_problem_e
evb_dry_parse(evb_arena_t *a, evb_dry_err_t *e, const evb_json_t *root,
    const evb_policy_t *deflt, evb_dry_req_t *req)
{
    char           msg[256], zerr[128];
    evb_json_t    *tz;
    evb_problem_e  rc;

    memset(req, 0, sizeof(*req));

    if (root == NULL || root->type != EVB_JSON_OBJECT) {
        evb_field_error_add(e->errors, e->nerrors, EVB_P_INVALID_TYPE, "",
                            "the request is a JSON object");
        return evb_dry_fail(e, EVB_P_INVALID_TYPE,
                            "the request is a JSON object", NULL, NULL);
    }

    /* policy: the deployment's, overridden per call */
    req->ctx.policy = *deflt;

    rc = evb_dry_parse_policy(e, root, &req->ctx.policy);
    if (rc != EVB_OK) {
        return rc;
    }

    tz = evb_json_get(root, "time_zone");

    if (tz == NULL) {
        return evb_dry_fail(e, EVB_P_MISSING_FIELD,
                            "time_zone (the Location's IANA zone) is "
                            "required", NULL, "time_zone");
    }

    if (tz->type != EVB_JSON_STRING) {
        return evb_dry_fail(e, EVB_P_INVALID_TYPE,
                            "time_zone must be a string", NULL, "time_zone");
    }

    req->ctx.tz = evb_tz_get(tz->u.str.data, zerr, sizeof(zerr));

    if (req->ctx.tz == NULL) {
        snprintf(msg, sizeof(msg), "time_zone: %.200s", zerr);
        evb_field_error_add(e->errors, e->nerrors, EVB_P_UNKNOWN_TIME_ZONE,
                            "/time_zone", zerr);
        return evb_dry_fail(e, EVB_P_UNKNOWN_TIME_ZONE, msg, NULL, NULL);
    }

    rc = evb_dry_parse_tariffs(a, e, root, req);
    if (rc != EVB_OK) {
        return rc;
    }

    return evb_dry_parse_session(a, e, root, req);
}


/* Rates the periods in time order through the live engine. */
static evb_problem_e
evb_dry_rate(evb_arena_t *a, evb_dry_err_t *e, const evb_dry_req_t *req,
    evb_dry_rated_t *out)
{
    char                where[96], msg[256];
    size_t              i, j, n;
    evb_msec_t          end;
    evb_str_t           sid;
    evb_problem_e       rc;
    evb_rate_state_t    st;
    const evb_period_t *ps;

    n = req->nperiods;
    ps = req->periods;

    out->order = evb_arena_alloc(a, (n + 1) * sizeof(evb_dry_order_t));
    out->flags = evb_arena_alloc(a, (n + 1) * sizeof(unsigned));

    if (out->order == NULL || out->flags == NULL) {
        return evb_dry_fail(e, EVB_P_INTERNAL, "out of memory", NULL, NULL);
    }

    for (i = 0; i < n; i++) {
        out->order[i].start = ps[i].start;
        out->order[i].index = i;
    }

    /* periods are rated in time order; the request's order is reported */
    qsort(out->order, n, sizeof(evb_dry_order_t), evb_dry_cmp);

    sid.data = NULL;
    sid.len = 0;

    if (n > 0) {
        sid = ps[out->order[0].index].tariff_id;
    }

    rc = evb_rate_init(&st, &req->ctx, req->start, sid,
                       req->reservation_expired);

    if (rc != EVB_OK) {
        snprintf(msg, sizeof(msg), "%s",
                 rc == EVB_P_NO_ACTIVE_TARIFF
                 ? "no tariff is valid at the session's start"
                 : "no tariff with the period's tariff_id");
        return evb_dry_fail(e, rc, msg, NULL, NULL);
    }

    out->seg.items = NULL;
    out->seg.n = 0;
    out->seg.cap = 0;
    out->seg.arena = a;

    for (i = 0; i < n; i++) {
        j = out->order[i].index;
        end = i + 1 < n ? out->order[i + 1].start : req->end;

        if (end < ps[j].start) {
            end = ps[j].start;
        }

        out->flags[i] = 0;

        rc = evb_rate_add_period(&st, &req->ctx, &ps[j], end, &out->seg,
                                 &out->flags[i]);

        if (rc != EVB_OK) {
            snprintf(where, sizeof(where), "session/charging_periods/%zu",
                     j);
            /* like an unknown tariff_id on the first period: the request
             * is well-formed, but names a tariff it does not carry */
            return evb_dry_fail(e, rc == EVB_P_UNKNOWN_TARIFF
                                   ? EVB_P_NO_TARIFF : rc,
                                rc == EVB_P_UNKNOWN_TARIFF
                                ? "tariff_id names no tariff of the request"
                                : out->flags[i] & EVB_RATE_FAIL_LINES
                                ? "the session's tariffs price more than 48 "
                                  "distinct lines (dimension, price, VAT)"
                                : rc == EVB_P_TARIFF_INVALID
                                ? "the period's tariff has another currency"
                                : "amount out of range", where,
                                rc == EVB_P_UNKNOWN_TARIFF ? "tariff_id"
                                                          : NULL);
        }

        if (ps[j].start < req->start || ps[j].start > req->end
            || end > req->end)
        {
            out->flags[i] |= EVB_WARN_OUTSIDE_SESSION;
        }

        if (j != i) {
            out->flags[i] |= EVB_WARN_OUT_OF_ORDER;
        }
    }

    out->bill = evb_arena_alloc(a, sizeof(evb_bill_detail_t));

    if (out->bill == NULL) {
        return evb_dry_fail(e, EVB_P_INTERNAL, "out of memory", NULL, NULL);
    }

    rc = evb_rate_result_detail(&st, &req->ctx, &out->res, &out->seg,
                                out->bill);

    if (rc != EVB_OK) {
        return evb_dry_fail(e, rc, "amount out of range", NULL, NULL);
    }

    return EVB_OK;
}


/* The answer: OCPI CDR totals, the rounded bill, segments, warnings. */
static void
evb_dry_render(evb_buf_t *out, const evb_dry_req_t *req,
    const evb_dry_rated_t *rated)
{
    int                       first;
    char                      msg[256];
    size_t                    i, n, nt;
    const evb_rate_result_t  *res;
    const evb_dry_order_t    *order;
    const unsigned           *flags;

    res = &rated->res;
    order = rated->order;
    flags = rated->flags;
    n = req->nperiods;
    nt = req->ctx.ntariffs;

    /* the answer */
    evb_buf_appends(out, "{\"currency\":");
    evb_buf_append_json_str(out, res->currency, strlen(res->currency));
    evb_buf_appends(out, ",\"tariff_id\":");
    evb_buf_append_json_str(out, res->tariff_id.data, res->tariff_id.len);

    evb_buf_appends(out, ",\"total_cost\":");
    evb_render_amount(out, &res->total_cost, 0);
    evb_buf_appends(out, ",\"total_energy\":");
    evb_buf_append_decimal(out, res->total_energy, 9, 0);
    evb_buf_appends(out, ",\"total_energy_cost\":");
    evb_render_amount(out, &res->total_energy_cost, 0);
    evb_buf_appends(out, ",\"total_time\":");
    evb_dry_hours_out(out, res->total_time);
    evb_buf_appends(out, ",\"total_time_cost\":");
    evb_render_amount(out, &res->total_time_cost, 0);
    evb_buf_appends(out, ",\"total_parking_time\":");
    evb_dry_hours_out(out, res->total_parking_time);
    evb_buf_appends(out, ",\"total_parking_cost\":");
    evb_render_amount(out, &res->total_parking_cost, 0);
    evb_buf_appends(out, ",\"total_fixed_cost\":");
    evb_render_amount(out, &res->total_fixed_cost, 0);
    evb_buf_appends(out, ",\"total_reservation_cost\":");
    evb_render_amount(out, &res->total_reservation_cost, 0);

    evb_buf_appends(out, ",\"rounded\":{\"total_cost\":");
    evb_render_amount(out, &res->rounded_cost, (unsigned) res->exponent);
    evb_buf_appends(out, ",\"total_energy_cost\":");
    evb_render_amount(out, &res->rounded_energy_cost,
                      (unsigned) res->exponent);
    evb_buf_appends(out, ",\"total_time_cost\":");
    evb_render_amount(out, &res->rounded_time_cost,
                      (unsigned) res->exponent);
    evb_buf_appends(out, ",\"total_parking_cost\":");
    evb_render_amount(out, &res->rounded_parking_cost,
                      (unsigned) res->exponent);
    evb_buf_appends(out, ",\"total_fixed_cost\":");
    evb_render_amount(out, &res->rounded_fixed_cost,
                      (unsigned) res->exponent);
    evb_buf_appends(out, ",\"total_reservation_cost\":");
    evb_render_amount(out, &res->rounded_reservation_cost,
                      (unsigned) res->exponent);
    evb_buf_appends(out, ",\"rounding\":");
    evb_buf_appends(out, req->ctx.policy.rounding == EVB_ROUND_HALF_EVEN
                         ? "\"half_even\"" : "\"half_up\"");
    evb_dry_lines(out, rated->bill, (unsigned) res->exponent);
    evb_buf_appends(out, "}");

    evb_buf_appends(out, ",\"segments\":[");

    for (i = 0; i < rated->seg.n; i++) {
        evb_segment_t  *s = &rated->seg.items[i];
        evb_amount_t    c;

        evb_buf_appends(out, i ? ",{\"period\":" : "{\"period\":");
        evb_buf_append_u64(out, s->period < n ? order[s->period].index : 0);
        evb_buf_appends(out, ",\"element\":");
        evb_buf_append_u64(out, s->element);
        evb_buf_appends(out, ",\"dimension\":\"");
        evb_buf_appends(out, evb_dim_name(s->dim));
        evb_buf_appends(out, "\"");

        if (s->reservation) {
            evb_buf_appends(out, ",\"reservation\":true");
        }

        evb_buf_appends(out, ",\"measured\":");
        evb_dry_qty(out, s->dim, s->measured);
        evb_buf_appends(out, ",\"billed\":");
        evb_dry_qty(out, s->dim, s->billed);
        evb_buf_appends(out, ",\"price\":");
        evb_buf_append_decimal(out, s->price, 6, 0);

        if (s->has_vat) {
            evb_buf_appends(out, ",\"vat\":");
            evb_buf_append_decimal(out, s->vat, 6, 0);
        }

        c.excl = s->cost_excl;
        c.incl = s->cost_incl;
        c.has_incl = s->has_vat;
        evb_buf_appends(out, ",\"cost\":");
        evb_render_amount(out, &c, 0);
        evb_buf_appends(out, "}");
    }

    evb_buf_appends(out, "],\"warnings\":[");
    first = 1;

    for (i = 0; i < nt && i < 64; i++) {
        if (req->incomplete & ((size_t) 1 << i)) {
            snprintf(msg, sizeof(msg),
                     "tariff %zu lacks country_code, party_id or "
                     "last_updated; priced anyway", i);
            evb_dry_warn(out, &first, "tariff_incomplete", -1, msg);
        }
    }

    if (res->warnings & EVB_WARN_NO_ACTIVE_TARIFF) {
        evb_dry_warn(out, &first, "no_active_tariff", -1,
                     "a named tariff is outside its validity window; "
                     "priced with it anyway");
    }

    for (i = 0; i < n; i++) {
        if (flags[i] & EVB_WARN_OUT_OF_ORDER) {
            evb_dry_warn(out, &first, "periods_out_of_order", -1,
                         "charging periods are not in time order; rated in "
                         "time order");
            break;
        }
    }

    for (i = 0; i < n; i++) {
        if (flags[i] & EVB_WARN_OUTSIDE_SESSION) {
            evb_dry_warn(out, &first, "periods_outside_start_end_date_time",
                         (long) order[i].index,
                         "the period lies (partly) outside the session's "
                         "start_date_time .. end_date_time");
        }
    }

    for (i = 0; i < n; i++) {
        if (flags[i] & EVB_WARN_SPANS_PRICE_CHANGE) {
            evb_dry_warn(out, &first, "period_spans_price_change",
                         (long) order[i].index,
                         "a tariff boundary (time of day, date, duration "
                         "or kWh) falls inside the period; priced at the "
                         "rate valid at its start");
        }
    }

    evb_buf_appends(out, "]}");
}


evb_problem_e
evb_rate_dry_run(evb_arena_t *a, const evb_json_t *root,
    const evb_policy_t *deflt, evb_buf_t *out, evb_tariff_error_t *errors,
    size_t *nerrors, char *detail, size_t len)
{
    evb_problem_e    rc;
    evb_dry_err_t    e;
    evb_dry_req_t    req;
    evb_dry_rated_t  rated;

    *nerrors = 0;
    detail[0] = '\0';

    e.errors = errors;
    e.nerrors = nerrors;
    e.detail = detail;
    e.len = len;

    rc = evb_dry_parse(a, &e, root, deflt, &req);
    if (rc != EVB_OK) {
        return rc;
    }

    memset(&rated, 0, sizeof(rated));

    rc = evb_dry_rate(a, &e, &req, &rated);
    if (rc != EVB_OK) {
        return rc;
    }

    evb_dry_render(out, &req, &rated);

    if (out->oom) {
        return evb_dry_fail(&e, EVB_P_INTERNAL, "out of memory", NULL, NULL);
    }

    return EVB_OK;
}
