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


static evb_problem_e
evb_dry_fail(evb_problem_e p, char *detail, size_t len, const char *msg,
    const char *where)
{
    if (where != NULL) {
        snprintf(detail, len, "%s: %s", where, msg);

    } else {
        snprintf(detail, len, "%s", msg);
    }

    return p;
}


/*
 * The dry run runs on the event loop: a session longer than max_duration
 * or with more than max_periods periods is refused, with a pointer to the
 * field that goes past the bound.
 */
static evb_problem_e
evb_dry_bound(evb_tariff_error_t *errors, size_t *nerrors, char *detail,
    size_t len, const char *pointer, const char *msg)
{
    evb_tariff_error_t  *e;

    e = &errors[0];
    e->problem = EVB_P_INVALID_VALUE;
    snprintf(e->pointer, sizeof(e->pointer), "%s", pointer);
    snprintf(e->detail, sizeof(e->detail), "%s", msg);
    *nerrors = 1;

    snprintf(detail, len, "%s: %s", pointer, msg);

    return EVB_P_INVALID_VALUE;
}


static evb_problem_e
evb_dry_time(const evb_json_t *obj, const char *key, evb_msec_t *out,
    char *detail, size_t len, const char *where)
{
    char         msg[96];
    evb_json_t  *v;

    v = evb_json_get(obj, key);

    if (v == NULL) {
        snprintf(msg, sizeof(msg), "%s is required", key);
        return evb_dry_fail(EVB_P_MISSING_FIELD, detail, len, msg, where);
    }

    if (v->type != EVB_JSON_STRING
        || evb_time_parse_rfc3339(v->u.str.data, v->u.str.len, out) != 0)
    {
        snprintf(msg, sizeof(msg), "%s must be an RFC 3339 date-time", key);
        return evb_dry_fail(EVB_P_INVALID_VALUE, detail, len, msg, where);
    }

    return EVB_OK;
}


static evb_problem_e
evb_dry_period(const evb_json_t *v, evb_period_t *p, char *detail,
    size_t len, const char *where)
{
    size_t         i;
    int64_t        x;
    evb_problem_e  rc;
    evb_json_t    *dims, *d, *type, *vol, *tid;
    const char    *ty;

    memset(p, 0, sizeof(*p));

    if (v->type != EVB_JSON_OBJECT) {
        return evb_dry_fail(EVB_P_INVALID_TYPE, detail, len,
                            "a charging period is an object", where);
    }

    rc = evb_dry_time(v, "start_date_time", &p->start, detail, len, where);

    if (rc != EVB_OK) {
        return rc;
    }

    tid = evb_json_get(v, "tariff_id");

    if (tid != NULL && tid->type != EVB_JSON_NULL) {
        if (tid->type != EVB_JSON_STRING) {
            return evb_dry_fail(EVB_P_INVALID_TYPE, detail, len,
                                "tariff_id must be a string", where);
        }

        p->tariff_id = tid->u.str;
    }

    dims = evb_json_get(v, "dimensions");

    if (dims == NULL) {
        return evb_dry_fail(EVB_P_MISSING_FIELD, detail, len,
                            "dimensions is required", where);
    }

    if (dims->type != EVB_JSON_ARRAY) {
        return evb_dry_fail(EVB_P_INVALID_TYPE, detail, len,
                            "dimensions must be an array", where);
    }

    for (i = 0; i < dims->u.arr.n; i++) {
        d = dims->u.arr.items[i];
        type = evb_json_get(d, "type");
        vol = evb_json_get(d, "volume");

        if (type == NULL || type->type != EVB_JSON_STRING || vol == NULL
            || vol->type != EVB_JSON_NUMBER)
        {
            return evb_dry_fail(EVB_P_INVALID_TYPE, detail, len,
                                "a dimension is {\"type\": string, "
                                "\"volume\": number}", where);
        }

        ty = type->u.str.data;

        if (strcmp(ty, "ENERGY") == 0) {
            if (evb_json_fixed(vol, 9, &x) != EVB_NUM_OK
                || __builtin_add_overflow(p->energy, x, &p->energy))
            {
                return evb_dry_fail(EVB_P_OUT_OF_RANGE, detail, len,
                                    "ENERGY volume out of range or finer "
                                    "than 10^-9 kWh", where);
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
                return evb_dry_fail(EVB_P_OUT_OF_RANGE, detail, len,
                                    "time volume (hours) out of range",
                                    where);
            }

        } else if (strcmp(ty, "MIN_CURRENT") == 0
                   || strcmp(ty, "MAX_CURRENT") == 0
                   || strcmp(ty, "MIN_POWER") == 0
                   || strcmp(ty, "MAX_POWER") == 0)
        {
            if (evb_json_fixed(vol, 6, &x) != EVB_NUM_OK) {
                return evb_dry_fail(EVB_P_OUT_OF_RANGE, detail, len,
                                    "current/power volume out of range or "
                                    "finer than 10^-6", where);
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


evb_problem_e
evb_rate_dry_run(evb_arena_t *a, const evb_json_t *root,
    const evb_policy_t *deflt, evb_buf_t *out, evb_tariff_error_t *errors,
    size_t *nerrors, char *detail, size_t len)
{
    int                 first, lenient;
    char                where[96], msg[256], zerr[128];
    size_t              i, j, k, n, nt, nerr, incomplete;
    unsigned           *flags;
    evb_msec_t          sstart, send, end, lo, hi;
    evb_str_t           sid;
    evb_problem_e       rc;
    evb_json_t         *v, *tz, *tariffs, *session, *periods, *pol;
    evb_policy_t        policy;
    evb_period_t       *ps;
    evb_tariff_t       *ts;
    evb_rate_ctx_t      ctx;
    evb_dry_order_t    *order;
    evb_segments_t      seg;
    evb_rate_state_t    st;
    evb_rate_result_t   res;
    evb_bill_detail_t  *bill;
    evb_tariff_error_t  terr[EVB_TARIFF_ERRORS_MAX];

    *nerrors = 0;
    detail[0] = '\0';
    incomplete = 0;

    if (root == NULL || root->type != EVB_JSON_OBJECT) {
        return evb_dry_fail(EVB_P_INVALID_TYPE, detail, len,
                            "the request is a JSON object", NULL);
    }

    /* policy: the deployment's, overridden per call */
    policy = *deflt;
    pol = evb_json_get(root, "policy");

    if (pol != NULL && pol->type != EVB_JSON_NULL) {
        if (pol->type != EVB_JSON_OBJECT) {
            return evb_dry_fail(EVB_P_INVALID_TYPE, detail, len,
                                "policy must be an object", NULL);
        }

        v = evb_json_get(pol, "rounding");

        if (v != NULL) {
            if (v->type == EVB_JSON_STRING
                && strcmp(v->u.str.data, "half_up") == 0)
            {
                policy.rounding = EVB_ROUND_HALF_UP;

            } else if (v->type == EVB_JSON_STRING
                       && strcmp(v->u.str.data, "half_even") == 0)
            {
                policy.rounding = EVB_ROUND_HALF_EVEN;

            } else {
                return evb_dry_fail(EVB_P_INVALID_VALUE, detail, len,
                                    "rounding must be half_up or half_even",
                                    "policy");
            }
        }

        v = evb_json_get(pol, "no_step_size");

        if (v != NULL) {
            if (v->type != EVB_JSON_BOOL) {
                return evb_dry_fail(EVB_P_INVALID_TYPE, detail, len,
                                    "no_step_size must be a boolean",
                                    "policy");
            }

            policy.no_step_size = v->u.boolean ? 1 : 0;
        }

        v = evb_json_get(pol, "ignore_min_max");

        if (v != NULL) {
            if (v->type != EVB_JSON_BOOL) {
                return evb_dry_fail(EVB_P_INVALID_TYPE, detail, len,
                                    "ignore_min_max must be a boolean",
                                    "policy");
            }

            policy.ignore_min_max = v->u.boolean ? 1 : 0;
        }
    }

    tz = evb_json_get(root, "time_zone");

    if (tz == NULL) {
        return evb_dry_fail(EVB_P_MISSING_FIELD, detail, len,
                            "time_zone (the Location's IANA zone) is "
                            "required", NULL);
    }

    if (tz->type != EVB_JSON_STRING) {
        return evb_dry_fail(EVB_P_INVALID_TYPE, detail, len,
                            "time_zone must be a string", NULL);
    }

    ctx.tz = evb_tz_get(tz->u.str.data, zerr, sizeof(zerr));

    if (ctx.tz == NULL) {
        snprintf(msg, sizeof(msg), "time_zone: %.200s", zerr);
        return evb_dry_fail(EVB_P_UNKNOWN_TIME_ZONE, detail, len, msg, NULL);
    }

    tariffs = evb_json_get(root, "tariffs");

    if (tariffs == NULL) {
        return evb_dry_fail(EVB_P_MISSING_FIELD, detail, len,
                            "tariffs is required", NULL);
    }

    if (tariffs->type != EVB_JSON_ARRAY) {
        return evb_dry_fail(EVB_P_INVALID_TYPE, detail, len,
                            "tariffs must be an array", NULL);
    }

    nt = tariffs->u.arr.n;

    if (nt == 0) {
        return evb_dry_fail(EVB_P_NO_TARIFF, detail, len,
                            "tariffs is empty", NULL);
    }

    ts = evb_arena_alloc(a, nt * sizeof(evb_tariff_t));

    if (ts == NULL) {
        return evb_dry_fail(EVB_P_INTERNAL, detail, len, "out of memory",
                            NULL);
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
            incomplete |= (size_t) 1 << (i < 63 ? i : 63);
            continue;
        }

        for (j = 0; j < nerr && *nerrors < EVB_TARIFF_ERRORS_MAX; j++) {
            evb_tariff_error_t  *e = &errors[(*nerrors)++];

            *e = terr[j];
            snprintf(e->pointer, sizeof(e->pointer), "/tariffs/%zu%.60s", i,
                     terr[j].pointer);
        }

        snprintf(msg, sizeof(msg), "tariff %zu is invalid: %.60s: %.150s",
                 i, nerr > 0 ? terr[k].pointer : "", nerr > 0
                 ? terr[k].detail : "");

        return evb_dry_fail(rc, detail, len, msg, NULL);
    }

    ctx.tariffs = ts;
    ctx.ntariffs = nt;
    ctx.policy = policy;

    session = evb_json_get(root, "session");

    if (session == NULL) {
        return evb_dry_fail(EVB_P_MISSING_FIELD, detail, len,
                            "session is required", NULL);
    }

    if (session->type != EVB_JSON_OBJECT) {
        return evb_dry_fail(EVB_P_INVALID_TYPE, detail, len,
                            "session must be an object", NULL);
    }

    rc = evb_dry_time(session, "start_date_time", &sstart, detail, len,
                      "session");

    if (rc == EVB_OK) {
        rc = evb_dry_time(session, "end_date_time", &send, detail, len,
                          "session");
    }

    if (rc != EVB_OK) {
        return rc;
    }

    if (send < sstart) {
        return evb_dry_fail(EVB_P_INVALID_VALUE, detail, len,
                            "end_date_time is before start_date_time",
                            "session");
    }

    if (policy.max_duration && send - sstart > policy.max_duration) {
        snprintf(msg, sizeof(msg), "the session spans more than %lld s "
                 "(evbill_session_max_duration, --max-duration)",
                 (long long) (policy.max_duration / 1000));
        return evb_dry_bound(errors, nerrors, detail, len,
                             "/session/end_date_time", msg);
    }

    periods = evb_json_get(session, "charging_periods");

    if (periods == NULL) {
        return evb_dry_fail(EVB_P_MISSING_FIELD, detail, len,
                            "charging_periods is required", "session");
    }

    if (periods->type != EVB_JSON_ARRAY) {
        return evb_dry_fail(EVB_P_INVALID_TYPE, detail, len,
                            "charging_periods must be an array", "session");
    }

    n = periods->u.arr.n;

    if (policy.max_periods && n > policy.max_periods) {
        snprintf(msg, sizeof(msg), "more than %llu charging periods "
                 "(evbill_session_max_periods, --max-periods)",
                 (unsigned long long) policy.max_periods);
        return evb_dry_bound(errors, nerrors, detail, len,
                             "/session/charging_periods", msg);
    }

    ps = evb_arena_alloc(a, (n + 1) * sizeof(evb_period_t));
    order = evb_arena_alloc(a, (n + 1) * sizeof(evb_dry_order_t));
    flags = evb_arena_alloc(a, (n + 1) * sizeof(unsigned));

    if (ps == NULL || order == NULL || flags == NULL) {
        return evb_dry_fail(EVB_P_INTERNAL, detail, len, "out of memory",
                            NULL);
    }

    lo = sstart;
    hi = send;

    for (i = 0; i < n; i++) {
        snprintf(where, sizeof(where), "session/charging_periods/%zu", i);
        rc = evb_dry_period(periods->u.arr.items[i], &ps[i], detail, len,
                            where);

        if (rc != EVB_OK) {
            return rc;
        }

        /* periods outside the session are rated too: they count */
        lo = ps[i].start < lo ? ps[i].start : lo;
        hi = ps[i].start > hi ? ps[i].start : hi;

        if (policy.max_duration && hi - lo > policy.max_duration) {
            snprintf(where, sizeof(where),
                     "/session/charging_periods/%zu/start_date_time", i);
            snprintf(msg, sizeof(msg), "the session and its periods span "
                     "more than %lld s (evbill_session_max_duration, "
                     "--max-duration)",
                     (long long) (policy.max_duration / 1000));
            return evb_dry_bound(errors, nerrors, detail, len, where, msg);
        }

        order[i].start = ps[i].start;
        order[i].index = i;
    }

    /* periods are rated in time order; the request's order is reported */
    qsort(order, n, sizeof(evb_dry_order_t), evb_dry_cmp);

    v = evb_json_get(session, "x_reservation_expired");

    sid.data = NULL;
    sid.len = 0;

    if (n > 0) {
        sid = ps[order[0].index].tariff_id;
    }

    rc = evb_rate_init(&st, &ctx, sstart, sid,
                       v != NULL && v->type == EVB_JSON_BOOL
                       && v->u.boolean);

    if (rc != EVB_OK) {
        snprintf(msg, sizeof(msg), "%s",
                 rc == EVB_P_NO_ACTIVE_TARIFF
                 ? "no tariff is valid at the session's start"
                 : "no tariff with the period's tariff_id");
        return evb_dry_fail(rc, detail, len, msg, NULL);
    }

    seg.items = NULL;
    seg.n = 0;
    seg.cap = 0;
    seg.arena = a;

    for (i = 0; i < n; i++) {
        j = order[i].index;
        end = i + 1 < n ? order[i + 1].start : send;

        if (end < ps[j].start) {
            end = ps[j].start;
        }

        rc = evb_rate_add_period(&st, &ctx, &ps[j], end, &seg, &flags[i]);

        if (rc != EVB_OK) {
            snprintf(where, sizeof(where), "session/charging_periods/%zu",
                     j);
            /* like an unknown tariff_id on the first period: the request
             * is well-formed, but names a tariff it does not carry */
            return evb_dry_fail(rc == EVB_P_UNKNOWN_TARIFF ? EVB_P_NO_TARIFF
                                                          : rc,
                                detail, len,
                                rc == EVB_P_UNKNOWN_TARIFF
                                ? "tariff_id names no tariff of the request"
                                : flags[i] & EVB_RATE_FAIL_LINES
                                ? "the session's tariffs price more than 48 "
                                  "distinct lines (dimension, price, VAT)"
                                : rc == EVB_P_TARIFF_INVALID
                                ? "the period's tariff has another currency"
                                : "amount out of range", where);
        }

        if (ps[j].start < sstart || ps[j].start > send || end > send) {
            flags[i] |= EVB_WARN_OUTSIDE_SESSION;
        }

        if (j != i) {
            flags[i] |= EVB_WARN_OUT_OF_ORDER;
        }
    }

    bill = evb_arena_alloc(a, sizeof(evb_bill_detail_t));

    if (bill == NULL) {
        return evb_dry_fail(EVB_P_INTERNAL, detail, len, "out of memory",
                            NULL);
    }

    rc = evb_rate_result_detail(&st, &ctx, &res, &seg, bill);

    if (rc != EVB_OK) {
        return evb_dry_fail(rc, detail, len, "amount out of range", NULL);
    }

    /* the answer */
    evb_buf_appends(out, "{\"currency\":");
    evb_buf_append_json_str(out, res.currency, strlen(res.currency));
    evb_buf_appends(out, ",\"tariff_id\":");
    evb_buf_append_json_str(out, res.tariff_id.data, res.tariff_id.len);

    evb_buf_appends(out, ",\"total_cost\":");
    evb_render_amount(out, &res.total_cost, 0);
    evb_buf_appends(out, ",\"total_energy\":");
    evb_buf_append_decimal(out, res.total_energy, 9, 0);
    evb_buf_appends(out, ",\"total_energy_cost\":");
    evb_render_amount(out, &res.total_energy_cost, 0);
    evb_buf_appends(out, ",\"total_time\":");
    evb_dry_hours_out(out, res.total_time);
    evb_buf_appends(out, ",\"total_time_cost\":");
    evb_render_amount(out, &res.total_time_cost, 0);
    evb_buf_appends(out, ",\"total_parking_time\":");
    evb_dry_hours_out(out, res.total_parking_time);
    evb_buf_appends(out, ",\"total_parking_cost\":");
    evb_render_amount(out, &res.total_parking_cost, 0);
    evb_buf_appends(out, ",\"total_fixed_cost\":");
    evb_render_amount(out, &res.total_fixed_cost, 0);
    evb_buf_appends(out, ",\"total_reservation_cost\":");
    evb_render_amount(out, &res.total_reservation_cost, 0);

    evb_buf_appends(out, ",\"rounded\":{\"total_cost\":");
    evb_render_amount(out, &res.rounded_cost, (unsigned) res.exponent);
    evb_buf_appends(out, ",\"total_energy_cost\":");
    evb_render_amount(out, &res.rounded_energy_cost,
                      (unsigned) res.exponent);
    evb_buf_appends(out, ",\"total_time_cost\":");
    evb_render_amount(out, &res.rounded_time_cost, (unsigned) res.exponent);
    evb_buf_appends(out, ",\"total_parking_cost\":");
    evb_render_amount(out, &res.rounded_parking_cost,
                      (unsigned) res.exponent);
    evb_buf_appends(out, ",\"total_fixed_cost\":");
    evb_render_amount(out, &res.rounded_fixed_cost, (unsigned) res.exponent);
    evb_buf_appends(out, ",\"total_reservation_cost\":");
    evb_render_amount(out, &res.rounded_reservation_cost,
                      (unsigned) res.exponent);
    evb_buf_appends(out, ",\"rounding\":");
    evb_buf_appends(out, policy.rounding == EVB_ROUND_HALF_EVEN
                         ? "\"half_even\"" : "\"half_up\"");
    evb_dry_lines(out, bill, (unsigned) res.exponent);
    evb_buf_appends(out, "}");

    evb_buf_appends(out, ",\"segments\":[");

    for (i = 0; i < seg.n; i++) {
        evb_segment_t  *s = &seg.items[i];
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
        if (incomplete & ((size_t) 1 << i)) {
            snprintf(msg, sizeof(msg),
                     "tariff %zu lacks country_code, party_id or "
                     "last_updated; priced anyway", i);
            evb_dry_warn(out, &first, "tariff_incomplete", -1, msg);
        }
    }

    if (res.warnings & EVB_WARN_NO_ACTIVE_TARIFF) {
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

    if (out->oom) {
        return evb_dry_fail(EVB_P_INTERNAL, detail, len, "out of memory",
                            NULL);
    }

    return EVB_OK;
}
