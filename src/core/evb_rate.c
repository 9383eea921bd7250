/*
 * The OCPI rating engine: one incremental function prices the live
 * estimate, the CDR and the dry run.
 *
 * Exactness: every cost is kept as an integer count of "V units",
 * 10^-23 / 3600 of a currency unit.  In those units an energy cost is
 * q[10^-9 kWh] * p[10^-6/kWh] * 3600 * 10^8, a time cost is
 * q[us] * p[10^-6/h] * 1000 * 10^8 and the incl. VAT side multiplies by
 * (10^8 + vat[10^-6 %]) instead of 10^8, so sums of products are exact and
 * money is rounded once, when a result is asked for.
 *
 * The state keeps the quantity of each billed line (a category at one
 * price and VAT), not money: a line's exact amount is its quantity times
 * its price, and the rounded bill (evb_rate_round) rounds each line once,
 * as EN 16931 has invoices do, so the printed figures add up.
 */

#include <stddef.h>
#include <string.h>

#include "evb_rate.h"
#include "evb_rate_int.h"


#define EVB_MS_PER_DAY   86400000LL


_Static_assert(sizeof(evb_rate_st_t) <= EVB_RATE_STATE_SIZE,
               "rating state outgrew its stored size");


static int evb_mul(evb_i128_t a, evb_i128_t b, evb_i128_t *out);
static int evb_add(evb_i128_t *acc, evb_i128_t v);
static int evb_cost(evb_dim_e dim, int64_t q, const evb_component_t *pc,
    int tax_included, evb_i128_t *excl, evb_i128_t *incl);
static int evb_time_window(const evb_restrictions_t *r, int64_t sod_ms);
static int evb_restrictions_hold(const evb_restrictions_t *r,
    const evb_rate_local_t *l, const evb_period_t *p);
static const evb_component_t *evb_lookup(const evb_tariff_t *t,
    evb_dim_e dim, int kind, int expired, const evb_rate_local_t *l,
    const evb_period_t *p, size_t *element);
static int evb_seg_push(evb_segments_t *seg, const evb_segment_t *s);
static evb_msec_t evb_next_change(const evb_tariff_t *t, const evb_tz_t *tz,
    evb_msec_t session_start, evb_msec_t t0, evb_msec_t limit);


static int
evb_mul(evb_i128_t a, evb_i128_t b, evb_i128_t *out)
{
    return __builtin_mul_overflow(a, b, out) ? -1 : 0;
}


static int
evb_add(evb_i128_t *acc, evb_i128_t v)
{
    return __builtin_add_overflow(*acc, v, acc) ? -1 : 0;
}


static int64_t
evb_floordiv(int64_t a, int64_t b)
{
    int64_t  q;

    q = a / b;

    if ((a % b != 0) && ((a < 0) != (b < 0))) {
        q--;
    }

    return q;
}


/*
 * q units of dimension dim at the component's price, in V units.  A
 * tax-included price (2.3.0 tax_included YES) with a VAT rate gives the
 * excl. side by division, the only place a V unit is rounded.
 */
static int
evb_cost(evb_dim_e dim, int64_t q, const evb_component_t *pc,
    int tax_included, evb_i128_t *excl, evb_i128_t *incl)
{
    evb_i128_t  base, f, d, a, r;

    switch (dim) {
    case EVB_DIM_ENERGY:
        f = 3600;
        break;
    case EVB_DIM_FLAT:
        f = (evb_i128_t) 3600 * 1000000000;
        break;
    default:
        f = 1000;
        break;
    }

    if (evb_mul((evb_i128_t) q, pc->price, &base) != 0
        || evb_mul(base, f, &base) != 0)
    {
        return -1;
    }

    if (!pc->has_vat) {
        if (evb_mul(base, 100000000, excl) != 0) {
            return -1;
        }

        *incl = *excl;
        return 0;
    }

    d = (evb_i128_t) 100000000 + pc->vat;

    if (tax_included == 1) {
        if (evb_mul(base, 100000000, incl) != 0) {
            return -1;
        }

        /* excl = incl * 10^8 / d, rounded half away from zero */
        a = *incl / d;
        r = *incl % d;

        if (evb_mul(a, 100000000, excl) != 0) {
            return -1;
        }

        r = r * 100000000;
        a = r / d;

        if (2 * (r % d) >= d) {
            a++;

        } else if (2 * (r % d) <= -d) {
            a--;
        }

        return evb_add(excl, a);
    }

    if (evb_mul(base, 100000000, excl) != 0 || evb_mul(base, d, incl) != 0)
    {
        return -1;
    }

    return 0;
}


/* start_time inclusive, end_time exclusive, wrapping past midnight. */
static int
evb_time_window(const evb_restrictions_t *r, int64_t sod_ms)
{
    int64_t  s, e;

    s = (int64_t) r->start_time * 60000;
    e = (int64_t) r->end_time * 60000;

    if (r->has_start_time && r->has_end_time) {
        if (s == e) {
            return 1;               /* undefined in OCPI: whole day */
        }

        if (s < e) {
            return sod_ms >= s && sod_ms < e;
        }

        return sod_ms >= s || sod_ms < e;
    }

    if (r->has_start_time) {
        return sod_ms >= s;
    }

    if (r->has_end_time) {
        return e == 0 || sod_ms < e;    /* end 00:00 is the end of day */
    }

    return 1;
}


static int
evb_restrictions_hold(const evb_restrictions_t *r, const evb_rate_local_t *l,
    const evb_period_t *p)
{
    int64_t  v;

    if ((r->has_start_time || r->has_end_time)
        && !evb_time_window(r, l->sod_ms))
    {
        return 0;
    }

    if (r->has_start_date && l->days < r->start_date) {
        return 0;
    }

    if (r->has_end_date && l->days >= r->end_date) {
        return 0;
    }

    if (r->day_mask != 0 && !(r->day_mask & (1u << l->wday))) {
        return 0;
    }

    if (r->has_min_kwh && l->energy_before < r->min_kwh) {
        return 0;
    }

    if (r->has_max_kwh && l->energy_before >= r->max_kwh) {
        return 0;
    }

    if (r->has_min_duration && l->duration_us < r->min_duration) {
        return 0;
    }

    if (r->has_max_duration && l->duration_us >= r->max_duration) {
        return 0;
    }

    /*
     * Current and power: min_* holds when the period's peak reached it
     * (its MAX, else its MIN), max_* when the period went below it (its
     * MIN, else its MAX); without a measurement the bound cannot be
     * shown to hold.
     */
    if (r->has_min_current) {
        if (p->has_max_current) {
            v = p->max_current;
        } else if (p->has_min_current) {
            v = p->min_current;
        } else {
            return 0;
        }

        if (v < r->min_current) {
            return 0;
        }
    }

    if (r->has_max_current) {
        if (p->has_min_current) {
            v = p->min_current;
        } else if (p->has_max_current) {
            v = p->max_current;
        } else {
            return 0;
        }

        if (v >= r->max_current) {
            return 0;
        }
    }

    if (r->has_min_power) {
        if (p->has_max_power) {
            v = p->max_power;
        } else if (p->has_min_power) {
            v = p->min_power;
        } else {
            return 0;
        }

        if (v < r->min_power) {
            return 0;
        }
    }

    if (r->has_max_power) {
        if (p->has_min_power) {
            v = p->min_power;
        } else if (p->has_max_power) {
            v = p->max_power;
        } else {
            return 0;
        }

        if (v >= r->max_power) {
            return 0;
        }
    }

    return 1;
}


/*
 * The first element whose restrictions hold and which has a component of
 * dim.  kind 0 prices charging (elements without a reservation
 * restriction), kind 1 reservation time or fee: RESERVATION_EXPIRES
 * elements first when the reservation expired, RESERVATION elements as
 * the fallback for what they do not price.
 */
static const evb_component_t *
evb_lookup(const evb_tariff_t *t, evb_dim_e dim, int kind, int expired,
    const evb_rate_local_t *l, const evb_period_t *p, size_t *element)
{
    int                     pass, want;
    size_t                  i, j;
    const evb_element_t    *e;

    for (pass = 0; pass < 2; pass++) {
        if (kind == 0) {
            if (pass == 1) {
                break;
            }

            want = EVB_RESERVATION_NONE;

        } else if (pass == 0) {
            if (!expired) {
                continue;
            }

            want = EVB_RESERVATION_EXPIRES;

        } else {
            want = EVB_RESERVATION;
        }

        for (i = 0; i < t->nelements; i++) {
            e = &t->elements[i];

            if (e->r.reservation != want) {
                continue;
            }

            for (j = 0; j < e->ncomponents; j++) {
                if (e->components[j].type == dim) {
                    break;
                }
            }

            if (j == e->ncomponents) {
                continue;
            }

            if (e->has_restrictions && !evb_restrictions_hold(&e->r, l, p))
            {
                continue;
            }

            *element = i;
            return &e->components[j];
        }
    }

    return NULL;
}


static int
evb_seg_push(evb_segments_t *seg, const evb_segment_t *s)
{
    size_t          cap;
    evb_segment_t  *items;

    if (seg->n == seg->cap) {
        cap = seg->cap ? seg->cap * 2 : 16;
        items = evb_arena_alloc(seg->arena, cap * sizeof(evb_segment_t));

        if (items == NULL) {
            return -1;
        }

        if (seg->n > 0) {
            memcpy(items, seg->items, seg->n * sizeof(evb_segment_t));
        }

        seg->items = items;
        seg->cap = cap;
    }

    seg->items[seg->n++] = *s;
    return 0;
}


/* V units to 10^-6, rounded under mode. */
int
evb_rate_v_to_micro(evb_i128_t v, evb_rounding_e mode, int64_t *out)
{
    return evb_div_round(v, EVB_V_PER_MICRO, mode, out);
}


static void
evb_segment_cost(evb_segment_t *s, int tax_included)
{
    evb_i128_t       excl, incl;
    evb_component_t  pc;

    pc.type = s->dim;
    pc.price = s->price;
    pc.has_vat = s->has_vat;
    pc.vat = s->vat;
    pc.step_size = 0;

    if (evb_cost(s->dim, s->billed, &pc, tax_included, &excl, &incl) != 0
        || evb_rate_v_to_micro(excl, EVB_ROUND_HALF_EVEN, &s->cost_excl)
           != 0
        || evb_rate_v_to_micro(incl, EVB_ROUND_HALF_EVEN, &s->cost_incl)
           != 0)
    {
        s->cost_excl = INT64_MAX;
        s->cost_incl = INT64_MAX;
    }
}


static const evb_tariff_t *
evb_find_tariff(const evb_rate_ctx_t *ctx, evb_str_t id, evb_msec_t at,
    uint32_t *index)
{
    size_t  i, found;

    found = (size_t) -1;

    for (i = 0; i < ctx->ntariffs; i++) {
        if (ctx->tariffs[i].id.len != id.len
            || memcmp(ctx->tariffs[i].id.data, id.data, id.len) != 0)
        {
            continue;
        }

        /* the same id twice: the version valid at the instant wins */
        if (evb_tariff_active(&ctx->tariffs[i], at)) {
            found = i;
            break;
        }

        if (found == (size_t) -1) {
            found = i;
        }
    }

    if (found == (size_t) -1) {
        return NULL;
    }

    *index = (uint32_t) found;
    return &ctx->tariffs[found];
}


static evb_rate_st_t *
evb_st(evb_rate_state_t *st)
{
    return (evb_rate_st_t *) (void *) st->bytes;
}


static const evb_rate_st_t *
evb_cst(const evb_rate_state_t *st)
{
    return (const evb_rate_st_t *) (const void *) st->bytes;
}


static int
evb_st_valid(const evb_rate_st_t *s, const evb_rate_ctx_t *ctx)
{
    return s->magic == EVB_RATE_MAGIC && s->tariff < ctx->ntariffs
           && s->nlines <= EVB_RATE_LINES_MAX && ctx->tz != NULL;
}


evb_problem_e
evb_rate_init(evb_rate_state_t *st, const evb_rate_ctx_t *ctx,
    evb_msec_t session_start, evb_str_t tariff_id, int reservation_expired)
{
    size_t               i;
    uint32_t             idx;
    evb_rate_st_t       *s;
    const evb_tariff_t  *t;

    memset(st, 0, sizeof(*st));
    s = evb_st(st);

    if (ctx->ntariffs == 0) {
        return EVB_P_NO_TARIFF;
    }

    t = NULL;

    if (tariff_id.len > 0) {
        t = evb_find_tariff(ctx, tariff_id, session_start, &idx);

        if (t == NULL) {
            return EVB_P_NO_TARIFF;
        }

        if (!evb_tariff_active(t, session_start)) {
            s->warnings |= EVB_WARN_NO_ACTIVE_TARIFF;
        }

    } else {
        for (i = 0; i < ctx->ntariffs; i++) {
            if (evb_tariff_active(&ctx->tariffs[i], session_start)) {
                t = &ctx->tariffs[i];
                idx = (uint32_t) i;
                break;
            }
        }

        if (t == NULL) {
            return EVB_P_NO_ACTIVE_TARIFF;
        }
    }

    /* a tariff stored before the line limit may exceed it */
    if (evb_tariff_lines(t, &i, &i) > EVB_RATE_LINES_MAX) {
        return EVB_P_TARIFF_INVALID;
    }

    s->magic = EVB_RATE_MAGIC;
    s->tariff = idx;
    s->expired = reservation_expired ? 1 : 0;
    s->session_start = session_start;
    s->first_start = session_start;
    s->last_start = session_start;
    s->last_end = session_start;

    return EVB_OK;
}


/*
 * The time-based restrictions of r at local time L (ms of local wall
 * clock since 1970-01-01 00:00 local), each on its own: bit 0 the
 * start_time/end_time window, bit 1 the date range, bit 2 the weekday.
 */
static unsigned
evb_time_truth(const evb_restrictions_t *r, int64_t L)
{
    int64_t   days, sod;
    unsigned  v, wday;

    days = evb_floordiv(L, EVB_MS_PER_DAY);
    sod = L - days * EVB_MS_PER_DAY;
    wday = (unsigned) (((days % 7) + 10) % 7);  /* 1970-01-01: Thursday */
    v = 0;

    if ((!r->has_start_time && !r->has_end_time) || evb_time_window(r, sod))
    {
        v |= 1;
    }

    if ((!r->has_start_date || days >= r->start_date)
        && (!r->has_end_date || days < r->end_date))
    {
        v |= 2;
    }

    if (r->day_mask == 0 || ((r->day_mask >> wday) & 1)) {
        v |= 4;
    }

    return v;
}


static int
evb_time_based(const evb_restrictions_t *r)
{
    return r->has_start_time || r->has_end_time || r->has_start_date
           || r->has_end_date || (r->day_mask != 0 && r->day_mask != 0x7f);
}


/*
 * The first local time > L at which the wall clock, running on without
 * a jump, makes one of r's time-based restrictions change: a bound of
 * the time window, a midnight where the weekday's membership flips, the
 * start or end date.  INT64_MAX if none.
 */
static int64_t
evb_next_local_change(const evb_restrictions_t *r, int64_t L)
{
    int      k, nb, bounds[2], in0, in1, wday;
    int64_t  days, best, c;

    days = evb_floordiv(L, EVB_MS_PER_DAY);
    best = INT64_MAX;
    nb = 0;

    if (r->has_start_time && r->has_end_time) {
        if (r->start_time != r->end_time) {
            bounds[nb++] = r->start_time;
            bounds[nb++] = r->end_time;
        }

    } else if (r->has_start_time) {
        bounds[nb++] = r->start_time;
        bounds[nb++] = 0;

    } else if (r->has_end_time && r->end_time != 0) {
        bounds[nb++] = r->end_time;
        bounds[nb++] = 0;
    }

    for (k = 0; k < nb; k++) {
        c = days * EVB_MS_PER_DAY + (int64_t) bounds[k] * 60000;

        if (c <= L) {
            c += EVB_MS_PER_DAY;
        }

        if (c < best) {
            best = c;
        }
    }

    if (r->day_mask != 0 && r->day_mask != 0x7f) {
        wday = (int) (((days % 7) + 10) % 7);
        in0 = (r->day_mask >> wday) & 1;

        for (k = 1; k <= 7; k++) {
            in1 = (r->day_mask >> ((wday + k) % 7)) & 1;

            if (in0 != in1) {
                c = (days + k) * EVB_MS_PER_DAY;

                if (c < best) {
                    best = c;
                }

                break;
            }
        }
    }

    for (k = 0; k < 2; k++) {
        if (!(k == 0 ? r->has_start_date : r->has_end_date)) {
            continue;
        }

        c = (int64_t) (k == 0 ? r->start_date : r->end_date)
            * EVB_MS_PER_DAY;

        if (c > L && c < best) {
            best = c;
        }
    }

    return best;
}


/*
 * Where the price of tariff t can change by time alone: the first
 * instant in (t0, limit) at which a restriction's truth can change, else
 * limit.  Restrictions are evaluated at an instant u on the local wall
 * clock L(u) = u + offset(u), which runs on between the zone's
 * transitions and jumps at them (forward in spring, back in autumn).  So
 * the candidates are, walking from one transition to the next: every
 * instant at which the running clock reaches a bound (each occurrence
 * of a repeated local time counts), and every transition instant at
 * which some time-based restriction differs just before the jump and at
 * it.  Durations and tariff validity are elapsed time.
 */
static evb_msec_t
evb_next_change(const evb_tariff_t *t, const evb_tz_t *tz,
    evb_msec_t session_start, evb_msec_t t0, evb_msec_t limit)
{
    int                        k, timed;
    size_t                     i;
    int64_t                    c, us, off, off2, nt, tr, cand;
    evb_msec_t                 best, u;
    const evb_restrictions_t  *r;

    best = limit;

    if (limit <= t0) {
        return limit;
    }

    if (t->has_start && t->start_date_time > t0
        && t->start_date_time < best)
    {
        best = t->start_date_time;
    }

    if (t->has_end && t->end_date_time > t0 && t->end_date_time < best) {
        best = t->end_date_time;
    }

    timed = 0;

    for (i = 0; i < t->nelements; i++) {
        if (!t->elements[i].has_restrictions) {
            continue;
        }

        r = &t->elements[i].r;
        timed |= evb_time_based(r);

        for (k = 0; k < 2; k++) {
            if (!(k == 0 ? r->has_min_duration : r->has_max_duration)) {
                continue;
            }

            us = k == 0 ? r->min_duration : r->max_duration;

            /* the first millisecond whose duration reaches the bound */
            c = session_start + us / 1000 + (us % 1000 != 0);

            if (c > t0 && c < best) {
                best = c;
            }
        }
    }

    if (!timed) {
        return best;
    }

    u = t0;
    off = (int64_t) evb_tz_offset(tz, evb_floordiv(u, 1000)) * 1000;

    for ( ;; ) {
        /* the offset is off throughout [u, tr) */
        nt = evb_tz_next_transition(tz, evb_floordiv(u, 1000));
        tr = nt >= best / 1000 + 1 ? INT64_MAX : nt * 1000;
        cand = tr < best ? tr : best;

        for (i = 0; i < t->nelements; i++) {
            r = &t->elements[i].r;

            if (!t->elements[i].has_restrictions || !evb_time_based(r)) {
                continue;
            }

            c = evb_next_local_change(r, u + off);

            if (c != INT64_MAX && c - off < cand) {
                cand = c - off;
            }
        }

        if (cand < tr) {
            return cand;            /* a bound, or best */
        }

        /* the jump at tr: the clock reads tr - 1 + off, then tr + off2 */
        off2 = (int64_t) evb_tz_offset(tz, nt) * 1000;

        for (i = 0; i < t->nelements; i++) {
            r = &t->elements[i].r;

            if (t->elements[i].has_restrictions && evb_time_based(r)
                && evb_time_truth(r, tr - 1 + off)
                   != evb_time_truth(r, tr + off2))
            {
                return tr;
            }
        }

        u = tr;
        off = off2;
    }
}


evb_msec_t
evb_rate_next_time_change(const evb_rate_state_t *st,
    const evb_rate_ctx_t *ctx, evb_msec_t t, evb_msec_t limit)
{
    const evb_rate_st_t  *s;

    s = evb_cst(st);

    if (!evb_st_valid(s, ctx)) {
        return limit;
    }

    return evb_next_change(&ctx->tariffs[s->tariff], ctx->tz,
                           s->session_start, t, limit);
}


static int64_t
evb_next_energy(const evb_tariff_t *t, int64_t e)
{
    size_t                     i;
    int64_t                    best;
    const evb_restrictions_t  *r;

    best = INT64_MAX;

    for (i = 0; i < t->nelements; i++) {
        r = &t->elements[i].r;

        if (!t->elements[i].has_restrictions) {
            continue;
        }

        if (r->has_min_kwh && r->min_kwh > e && r->min_kwh < best) {
            best = r->min_kwh;
        }

        if (r->has_max_kwh && r->max_kwh > e && r->max_kwh < best) {
            best = r->max_kwh;
        }
    }

    return best;
}


int64_t
evb_rate_next_energy_change(const evb_rate_state_t *st,
    const evb_rate_ctx_t *ctx, int64_t e)
{
    const evb_rate_st_t  *s;

    s = evb_cst(st);

    if (!evb_st_valid(s, ctx)) {
        return INT64_MAX;
    }

    return evb_next_energy(&ctx->tariffs[s->tariff], e);
}


int
evb_rate_state_current(const evb_rate_state_t *st)
{
    return evb_cst(st)->magic == EVB_RATE_MAGIC;
}


int64_t
evb_rate_energy_so_far(const evb_rate_state_t *st)
{
    return evb_cst(st)->energy;
}


/*
 * The zone's UTC offset at t.  It holds until the zone's next
 * transition: the state remembers that span and later periods of the
 * session skip the zone lookup.
 */
static int32_t
evb_rate_offset(evb_rate_st_t *s, const evb_tz_t *tz, evb_msec_t t)
{
    int64_t  sec, nt;
    int32_t  off;

    if (s->off_cached && t >= s->off_lo && t <= s->off_hi) {
        return s->off;
    }

    sec = evb_floordiv(t, 1000);
    off = evb_tz_offset(tz, sec);
    nt = evb_tz_next_transition(tz, sec);

    s->off_cached = 1;
    s->off = off;
    s->off_lo = sec * 1000;
    s->off_hi = nt > INT64_MAX / 1000 ? INT64_MAX : nt * 1000 - 1;

    return off;
}


/* The cost category a component prices (it prices exactly one). */
static int
evb_line_cat(const evb_element_t *e, const evb_component_t *pc)
{
    int  res;

    res = e->r.reservation != EVB_RESERVATION_NONE;

    switch (pc->type) {
    case EVB_DIM_ENERGY:
        return EVB_CAT_ENERGY;
    case EVB_DIM_PARKING_TIME:
        return EVB_CAT_PARKING;
    case EVB_DIM_FLAT:
        return res ? EVB_CAT_RES_FLAT : EVB_CAT_FLAT;
    default:
        return res ? EVB_CAT_RES_TIME : EVB_CAT_TIME;
    }
}


/* The component a stored line names, or NULL if it names none. */
static const evb_component_t *
evb_line_comp(const evb_rate_ctx_t *ctx, const evb_rate_sline_t *l,
    int *cat, int *tax_included)
{
    const evb_tariff_t   *t;
    const evb_element_t  *e;

    if (l->tariff >= ctx->ntariffs) {
        return NULL;
    }

    t = &ctx->tariffs[l->tariff];

    if (l->element >= t->nelements) {
        return NULL;
    }

    e = &t->elements[l->element];

    if (l->comp >= e->ncomponents) {
        return NULL;
    }

    *cat = evb_line_cat(e, &e->components[l->comp]);
    *tax_included = t->tax_included == 1 && e->components[l->comp].has_vat;

    return &e->components[l->comp];
}


/* The line of (cat, pc) in the state, a new one if there is none yet;
 * -1 when the table is full. */
static int
evb_line_find(evb_rate_st_t *s, const evb_rate_ctx_t *ctx, int cat,
    uint32_t tidx, size_t el, size_t j, int hint)
{
    int                     i, k, c, ti, tax_in;
    evb_rate_sline_t       *l;
    const evb_component_t  *pc, *lc;

    pc = &ctx->tariffs[tidx].elements[el].components[j];
    tax_in = ctx->tariffs[tidx].tax_included == 1 && pc->has_vat;

    /* the hint (the quantity's last line) is the usual answer */
    for (i = -1; i < (int) s->nlines; i++) {
        k = i;

        if (i < 0) {
            if (hint < 0 || hint >= (int) s->nlines) {
                continue;
            }

            k = hint;
        }

        lc = evb_line_comp(ctx, &s->line[k], &c, &ti);

        if (lc != NULL && c == cat && lc->price == pc->price
            && lc->has_vat == pc->has_vat
            && (!pc->has_vat || (lc->vat == pc->vat && ti == tax_in)))
        {
            return k;
        }
    }

    if (s->nlines >= EVB_RATE_LINES_MAX || tidx > UINT16_MAX
        || j > UINT16_MAX || el > UINT32_MAX)
    {
        return -1;
    }

    l = &s->line[s->nlines];
    l->qty = 0;
    l->tariff = (uint16_t) tidx;
    l->element = (uint32_t) el;
    l->comp = (uint16_t) j;

    return s->nlines++;
}


/* Price one quantity of one period and account for it: -1 overflow,
 * -2 more lines than the state holds. */
static int
evb_price_qty(evb_rate_st_t *s, const evb_rate_ctx_t *ctx,
    const evb_tariff_t *t, uint32_t tidx, int cat, evb_dim_e dim, int kind,
    int64_t q, const evb_rate_local_t *l, const evb_period_t *p,
    evb_segments_t *seg)
{
    int                     li;
    size_t                  el;
    evb_segment_t           sg;
    evb_rate_group_t       *g;
    const evb_component_t  *pc;

    pc = evb_lookup(t, dim, kind, s->expired, l, p, &el);

    if (pc == NULL) {
        return 0;                   /* no matching element: free */
    }

    g = dim == EVB_DIM_FLAT ? NULL : &s->grp[cat];

    li = evb_line_find(s, ctx, cat, tidx, el,
                       (size_t) (pc - t->elements[el].components),
                       g != NULL && g->used ? g->line : -1);

    if (li < 0) {
        return -2;
    }

    if (__builtin_add_overflow(s->line[li].qty, q, &s->line[li].qty)) {
        return -1;
    }

    if (dim == EVB_DIM_FLAT) {
        if (cat == EVB_CAT_FLAT) {
            s->flat_done = 1;

        } else {
            s->res_flat_done = 1;
        }

    } else {
        if (__builtin_add_overflow(g->qty, q, &g->qty)) {
            return -1;
        }

        /* steps are Wh or s; 10^6 makes them 10^-9 kWh or us */
        g->step = pc->step_size * 1000000;
        g->line = (uint16_t) li;
        g->used = 1;
        g->period = s->nperiods;
    }

    if (seg == NULL) {
        return 0;
    }

    memset(&sg, 0, sizeof(sg));
    sg.period = s->nperiods;
    sg.element = el;
    sg.dim = dim;
    sg.reservation = kind != 0;
    sg.has_vat = pc->has_vat;
    sg.measured = dim == EVB_DIM_FLAT ? 1 : q;
    sg.billed = sg.measured;
    sg.price = pc->price;
    sg.vat = pc->vat;
    evb_segment_cost(&sg, t->tax_included);

    return evb_seg_push(seg, &sg);
}


evb_problem_e
evb_rate_add_period(evb_rate_state_t *st, const evb_rate_ctx_t *ctx,
    const evb_period_t *p, evb_msec_t end, evb_segments_t *seg,
    unsigned *flags)
{
    int                  charging, rc;
    int32_t              off;
    int64_t              local, days;
    uint32_t             tidx;
    evb_rate_st_t       *s;
    evb_rate_local_t     l;
    const evb_tariff_t  *t;

    s = evb_st(st);
    *flags = 0;

    if (!evb_st_valid(s, ctx)) {
        return EVB_P_INTERNAL;
    }

    tidx = s->tariff;
    t = &ctx->tariffs[tidx];

    if (p->tariff_id.len > 0
        && (p->tariff_id.len != t->id.len
            || memcmp(p->tariff_id.data, t->id.data, t->id.len) != 0))
    {
        t = evb_find_tariff(ctx, p->tariff_id, p->start, &tidx);

        if (t == NULL) {
            return EVB_P_UNKNOWN_TARIFF;
        }

        if (strcmp(t->currency, ctx->tariffs[s->tariff].currency) != 0) {
            return EVB_P_TARIFF_INVALID;
        }

        if (!evb_tariff_active(t, p->start)) {
            *flags |= EVB_WARN_NO_ACTIVE_TARIFF;
        }
    }

    if (s->nperiods > 0 && p->start < s->last_start) {
        *flags |= EVB_WARN_OUT_OF_ORDER;
    }

    if (p->start < s->session_start) {
        *flags |= EVB_WARN_OUTSIDE_SESSION;
    }

    /*
     * The local context every restriction is evaluated in.  The UTC
     * offset at a period's end is kept: it is the next period's start.
     */
    off = evb_rate_offset(s, ctx->tz, p->start);

    local = p->start + (int64_t) off * 1000;
    days = evb_floordiv(local, EVB_MS_PER_DAY);
    l.sod_ms = local - days * EVB_MS_PER_DAY;
    l.days = (int32_t) days;
    l.wday = (int) (((days % 7) + 10) % 7);    /* 1970-01-01: Thursday */
    l.energy_before = s->energy;
    l.duration_us = (p->start - s->session_start) * 1000;

    if (end > p->start
        && evb_next_change(t, ctx->tz, s->session_start, p->start, end)
           < end)
    {
        *flags |= EVB_WARN_SPANS_PRICE_CHANGE;
    }

    if (p->energy > 0
        && evb_next_energy(t, s->energy) < s->energy + p->energy)
    {
        *flags |= EVB_WARN_SPANS_PRICE_CHANGE;
    }

    rc = 0;

    if (p->energy != 0) {
        rc = evb_price_qty(s, ctx, t, tidx, EVB_CAT_ENERGY, EVB_DIM_ENERGY,
                           0, p->energy, &l, p, seg);
    }

    if (rc == 0 && p->time != 0) {
        rc = evb_price_qty(s, ctx, t, tidx, EVB_CAT_TIME, EVB_DIM_TIME, 0,
                           p->time, &l, p, seg);
    }

    if (rc == 0 && p->parking != 0) {
        rc = evb_price_qty(s, ctx, t, tidx, EVB_CAT_PARKING,
                           EVB_DIM_PARKING_TIME, 0, p->parking, &l, p, seg);
    }

    if (rc == 0 && p->reservation != 0) {
        rc = evb_price_qty(s, ctx, t, tidx, EVB_CAT_RES_TIME, EVB_DIM_TIME,
                           1, p->reservation, &l, p, seg);
    }

    /* FLAT once for charging, once for a reservation (the spec's own
     * reservation example bills both) */
    charging = p->reservation == 0 || p->energy != 0 || p->time != 0
               || p->parking != 0;

    if (rc == 0 && charging && !s->flat_done) {
        rc = evb_price_qty(s, ctx, t, tidx, EVB_CAT_FLAT, EVB_DIM_FLAT, 0, 1,
                           &l, p, seg);
    }

    if (rc == 0 && p->reservation != 0 && !s->res_flat_done) {
        rc = evb_price_qty(s, ctx, t, tidx, EVB_CAT_RES_FLAT, EVB_DIM_FLAT,
                           1, 1, &l, p, seg);
    }

    if (rc == -2) {
        *flags |= EVB_RATE_FAIL_LINES;
        return EVB_P_TARIFF_INVALID;
    }

    if (rc != 0) {
        return EVB_P_OUT_OF_RANGE;
    }

    if (__builtin_add_overflow(s->energy, p->energy, &s->energy)
        || __builtin_add_overflow(s->charging, p->time, &s->charging)
        || __builtin_add_overflow(s->parking, p->parking, &s->parking)
        || __builtin_add_overflow(s->reservation, p->reservation,
                                  &s->reservation))
    {
        return EVB_P_OUT_OF_RANGE;
    }

    if (s->nperiods == 0 || p->start < s->first_start) {
        s->first_start = p->start;
    }

    if (p->start > s->last_start || s->nperiods == 0) {
        s->last_start = p->start;
    }

    if (end > s->last_end) {
        s->last_end = end;
    }

    s->nperiods++;
    s->warnings |= *flags;

    return EVB_OK;
}


evb_problem_e
evb_rate_add(evb_rate_state_t *st, const evb_rate_ctx_t *ctx,
    const evb_period_t *p, evb_msec_t end, evb_segments_t *seg)
{
    unsigned  flags;

    return evb_rate_add_period(st, ctx, p, end, seg, &flags);
}


/* Round a step group's total up to its step; returns the surplus. */
static int64_t
evb_surplus(const evb_rate_group_t *g)
{
    int64_t  r;

    if (!g->used || g->step <= 0 || g->qty <= 0) {
        return 0;
    }

    r = g->qty % g->step;

    return r == 0 ? 0 : g->step - r;
}


/* (a * b) / c for non-negative values below 2^127, rounded half up,
 * with a 256-bit product; the incl. side of a clamped total. */
static evb_i128_t
evb_muldiv(evb_i128_t a, evb_i128_t b, evb_i128_t c)
{
    int                  i;
    unsigned __int128    al, ah, bl, bh, lo, hi, mid1, mid2, t, q, r;
    const unsigned __int128  M = ((unsigned __int128) 1 << 64) - 1;

    al = (unsigned __int128) a & M;
    ah = (unsigned __int128) a >> 64;
    bl = (unsigned __int128) b & M;
    bh = (unsigned __int128) b >> 64;

    lo = al * bl;
    mid1 = al * bh;
    mid2 = ah * bl;
    hi = ah * bh;

    t = (lo >> 64) + (mid1 & M) + (mid2 & M);
    lo = (lo & M) | ((t & M) << 64);
    hi += (mid1 >> 64) + (mid2 >> 64) + (t >> 64);

    /* long division of hi:lo by c, bit by bit (rare path) */
    q = 0;
    r = 0;

    for (i = 255; i >= 0; i--) {
        r <<= 1;
        r |= (i >= 128 ? (hi >> (i - 128)) : (lo >> i)) & 1;
        q <<= 1;

        if (r >= (unsigned __int128) c) {
            r -= (unsigned __int128) c;
            q |= 1;
        }
    }

    if (2 * r >= (unsigned __int128) c) {
        q++;
    }

    return (evb_i128_t) q;
}


/* A line's exact amount in V units, and the rational its excl. side is
 * rounded from (so a tax-included line is rounded once, from
 * gross / (1 + vat), not from a V unit already rounded). */
static int
evb_vline_cost(evb_rate_vline_t *vl)
{
    evb_i128_t  base, f;

    if (evb_cost(vl->pc->type, vl->qty, vl->pc, vl->tax_included, &vl->excl,
                 &vl->incl) != 0)
    {
        return -1;
    }

    if (!vl->tax_included) {
        vl->excl_num = vl->excl;
        vl->excl_den = EVB_V_PER_MICRO;
        return 0;
    }

    /* excl = base * 10^16 / d V units = base / (d * 36000) micro units */
    f = vl->pc->type == EVB_DIM_ENERGY ? 3600
        : vl->pc->type == EVB_DIM_FLAT ? (evb_i128_t) 3600 * 1000000000
        : 1000;

    if (evb_mul((evb_i128_t) vl->qty, vl->pc->price, &base) != 0
        || evb_mul(base, f, &base) != 0)
    {
        return -1;
    }

    vl->excl_num = base;
    vl->excl_den = ((evb_i128_t) 100000000 + vl->pc->vat) * 36000;

    return 0;
}


evb_problem_e
evb_rate_result_v(const evb_rate_state_t *st, const evb_rate_ctx_t *ctx,
    evb_rate_totals_t *v, evb_segments_t *seg)
{
    int                      c, has_incl_bound;
    size_t                   i;
    int64_t                  sur;
    evb_i128_t               excl, incl, e0, lim;
    evb_rate_vline_t        *vl;
    const evb_rate_st_t     *s;
    const evb_tariff_t      *t;
    const evb_rate_group_t  *g;

    s = evb_cst(st);

    if (!evb_st_valid(s, ctx)) {
        return EVB_P_INTERNAL;
    }

    t = &ctx->tariffs[s->tariff];
    memset(v, 0, offsetof(evb_rate_totals_t, line));
    v->nlines = s->nlines;

    for (i = 0; i < s->nlines; i++) {
        vl = &v->line[i];
        vl->qty = s->line[i].qty;
        vl->pc = evb_line_comp(ctx, &s->line[i], &vl->cat,
                               &vl->tax_included);

        if (vl->pc == NULL) {
            return EVB_P_INTERNAL;
        }
    }

    /*
     * step_size, once per session: ENERGY on its own; TIME and
     * PARKING_TIME share one rounding, parking's when any parking was
     * priced; reservation time on its own.  The surplus is billed on the
     * line of the group's last component.
     */
    for (c = 0; c < EVB_CAT_FLAT; c++) {
        g = &s->grp[c];
        v->billed[c] = g->qty;

        if (ctx->policy.no_step_size) {
            continue;
        }

        if (c == EVB_CAT_TIME && s->grp[EVB_CAT_PARKING].used) {
            continue;
        }

        sur = evb_surplus(g);

        if (sur == 0) {
            continue;
        }

        if (g->line >= s->nlines) {
            return EVB_P_INTERNAL;
        }

        vl = &v->line[g->line];

        if (__builtin_add_overflow(vl->qty, sur, &vl->qty)) {
            return EVB_P_OUT_OF_RANGE;
        }

        v->billed[c] += sur;

        /* the surplus is billed on the last segment of that quantity */
        if (seg != NULL) {
            for (i = seg->n; i > 0; i--) {
                evb_segment_t  *sg = &seg->items[i - 1];

                if (sg->dim == vl->pc->type && sg->period == g->period
                    && sg->reservation == (c == EVB_CAT_RES_TIME))
                {
                    sg->billed += sur;
                    evb_segment_cost(sg, vl->tax_included ? 1 : 0);
                    break;
                }
            }
        }
    }

    for (i = 0; i < v->nlines; i++) {
        vl = &v->line[i];

        if (evb_vline_cost(vl) != 0
            || evb_add(&v->acc[vl->cat].excl, vl->excl) != 0
            || evb_add(&v->acc[vl->cat].incl, vl->incl) != 0)
        {
            return EVB_P_OUT_OF_RANGE;
        }

        if (vl->pc->has_vat) {
            v->vat_in |= 1u << vl->cat;
        }
    }

    excl = 0;
    incl = 0;

    for (c = 0; c < EVB_CAT_N; c++) {
        if (evb_add(&excl, v->acc[c].excl) != 0
            || evb_add(&incl, v->acc[c].incl) != 0)
        {
            return EVB_P_OUT_OF_RANGE;
        }
    }

    v->has_incl = v->vat_in != 0;

    /*
     * min_price / max_price: the excl. total to the excl. bound and the
     * incl. total to the incl. bound; a bound without an incl. value
     * scales the incl. total by the factor the excl. total moved.
     */
    if (!ctx->policy.ignore_min_max) {
        for (c = 0; c < 2; c++) {
            const evb_price_limit_t  *pl;
            int                       has;

            has = c == 0 ? t->has_min_price : t->has_max_price;
            pl = c == 0 ? &t->min_price : &t->max_price;

            if (!has) {
                continue;
            }

            has_incl_bound = pl->has_incl;
            e0 = excl;

            if (pl->has_excl) {
                lim = (evb_i128_t) pl->excl * EVB_V_PER_MICRO;

                if ((c == 0 && excl < lim) || (c == 1 && excl > lim)) {
                    excl = lim;

                    if (!has_incl_bound) {
                        if (e0 > 0 && incl >= 0) {
                            incl = evb_muldiv(incl, lim, e0);

                        } else {
                            incl = lim;     /* no tax to carry over */
                        }
                    }
                }
            }

            if (has_incl_bound) {
                lim = (evb_i128_t) pl->incl * EVB_V_PER_MICRO;

                if ((c == 0 && incl < lim) || (c == 1 && incl > lim)) {
                    incl = lim;
                    v->has_incl = 1;
                }
            }
        }
    }

    v->excl = excl;
    v->incl = incl;

    return EVB_OK;
}


evb_problem_e
evb_rate_result_detail(const evb_rate_state_t *st, const evb_rate_ctx_t *ctx,
    evb_rate_result_t *out, evb_segments_t *seg, evb_bill_detail_t *detail)
{
    evb_problem_e         rc;
    evb_rounding_e        mode;
    evb_bill_detail_t     own;
    evb_rate_totals_t     v;
    const evb_rate_st_t  *s;
    const evb_tariff_t   *t;

    rc = evb_rate_result_v(st, ctx, &v, seg);

    if (rc != EVB_OK) {
        return rc;
    }

    s = evb_cst(st);
    t = &ctx->tariffs[s->tariff];
    mode = ctx->policy.rounding;

    memset(out, 0, sizeof(*out));
    memcpy(out->currency, t->currency, 4);
    out->exponent = t->exponent;
    out->tariff_id = t->id;
    out->total_energy = s->energy;
    out->total_time = (s->last_end - (s->first_start < s->session_start
                                      ? s->first_start : s->session_start))
                      * 1000;
    out->total_parking_time = s->parking;
    out->total_reservation_time = s->reservation;
    out->warnings = s->warnings;

#define EVB_CAT_VAT(c)  ((v.vat_in >> (c)) & 1)

    if (evb_rate_exact(v.excl, v.incl, v.has_incl, mode, &out->total_cost) != 0
        || evb_rate_exact(v.acc[EVB_CAT_ENERGY].excl, v.acc[EVB_CAT_ENERGY].incl,
                     EVB_CAT_VAT(EVB_CAT_ENERGY), mode,
                     &out->total_energy_cost) != 0
        || evb_rate_exact(v.acc[EVB_CAT_TIME].excl, v.acc[EVB_CAT_TIME].incl,
                     EVB_CAT_VAT(EVB_CAT_TIME), mode, &out->total_time_cost)
           != 0
        || evb_rate_exact(v.acc[EVB_CAT_PARKING].excl,
                     v.acc[EVB_CAT_PARKING].incl,
                     EVB_CAT_VAT(EVB_CAT_PARKING), mode,
                     &out->total_parking_cost) != 0
        || evb_rate_exact(v.acc[EVB_CAT_FLAT].excl, v.acc[EVB_CAT_FLAT].incl,
                     EVB_CAT_VAT(EVB_CAT_FLAT), mode, &out->total_fixed_cost)
           != 0
        || evb_rate_exact(v.acc[EVB_CAT_RES_TIME].excl
                     + v.acc[EVB_CAT_RES_FLAT].excl,
                     v.acc[EVB_CAT_RES_TIME].incl
                     + v.acc[EVB_CAT_RES_FLAT].incl,
                     EVB_CAT_VAT(EVB_CAT_RES_TIME)
                     | EVB_CAT_VAT(EVB_CAT_RES_FLAT), mode,
                     &out->total_reservation_cost) != 0
        || evb_rate_round(&v, t, &ctx->policy, t->exponent, out,
                          detail != NULL ? detail : &own) != 0)
    {
        return EVB_P_OUT_OF_RANGE;
    }

#undef EVB_CAT_VAT

    return EVB_OK;
}


evb_problem_e
evb_rate_result(const evb_rate_state_t *st, const evb_rate_ctx_t *ctx,
    evb_rate_result_t *out, evb_segments_t *seg)
{
    return evb_rate_result_detail(st, ctx, out, seg, NULL);
}


void
evb_render_amount(evb_buf_t *b, const evb_amount_t *a,
    unsigned min_decimals)
{
    evb_buf_appends(b, "{\"excl_vat\":");
    evb_buf_append_decimal(b, a->excl, 6, min_decimals);

    if (a->has_incl) {
        evb_buf_appends(b, ",\"incl_vat\":");
        evb_buf_append_decimal(b, a->incl, 6, min_decimals);
    }

    evb_buf_appends(b, "}");
}
