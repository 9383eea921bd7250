/*
 * From meter readings to priced charging periods (see evb_meter.h).
 *
 * Exactness: readings are whole Wh at whole ms, so every reading point is
 * exact in the engine's scales.  A cut inside an interval needs one
 * rounding, and it is always taken so that the pieces still add up:
 *
 *   - at a time cut tc the energy is the linear interpolation floored to
 *     10^-9 kWh; what the floor drops lands in the next period, so the
 *     sum of the periods is the reading's energy exactly;
 *   - at a kWh threshold the energy is the threshold itself (the period
 *     after it really starts at the threshold) and the instant is the
 *     interpolated one rounded up to the ms, so the instant is never
 *     before the crossing and a time cut floored before it never sees
 *     the threshold already reached.
 *
 * Both use the same line through the two readings, so cut energies never
 * decrease along the interval.
 */

#include <string.h>

#include "evb_meter.h"


#define EVB_METER_VERSION  1

/* 10^-9 kWh per Wh */
#define EVB_NKWH_PER_WH    1000000


static int
evb_meter_energy(const evb_meter_t *m, int64_t wh, int64_t *out)
{
    int64_t  d;

    if (__builtin_sub_overflow(wh, m->meter_start_wh, &d)
        || __builtin_mul_overflow(d, (int64_t) EVB_NKWH_PER_WH, out))
    {
        return -1;
    }

    return 0;
}


static void
evb_meter_reset_dims(evb_meter_t *m)
{
    m->has_min_current = 0;
    m->has_max_current = 0;
    m->has_min_power = 0;
    m->has_max_power = 0;
    m->min_current = 0;
    m->max_current = 0;
    m->min_power = 0;
    m->max_power = 0;
}


/* A reading's measurements stand for its whole interval, so they go into
 * every period that interval touches. */
static void
evb_meter_fold(evb_meter_t *m, const evb_reading_t *r)
{
    int64_t  p;

    if (r->has_current) {
        if (!m->has_min_current || r->current_ua < m->min_current) {
            m->min_current = r->current_ua;
            m->has_min_current = 1;
        }

        if (!m->has_max_current || r->current_ua > m->max_current) {
            m->max_current = r->current_ua;
            m->has_max_current = 1;
        }
    }

    if (r->has_power) {
        /* W -> 10^-6 kW; a power beyond 9.2e15 W saturates */
        if (__builtin_mul_overflow(r->power_w, (int64_t) 1000, &p)) {
            p = r->power_w < 0 ? INT64_MIN : INT64_MAX;
        }

        if (!m->has_min_power || p < m->min_power) {
            m->min_power = p;
            m->has_min_power = 1;
        }

        if (!m->has_max_power || p > m->max_power) {
            m->max_power = p;
            m->has_max_power = 1;
        }
    }
}


static void
evb_meter_open(evb_meter_t *m, evb_msec_t t, int64_t e, int parked)
{
    m->open = 1;
    m->open_parked = parked ? 1 : 0;
    m->open_start = t;
    m->open_energy0 = e;
    evb_meter_reset_dims(m);
}


/* The open period as it stands if it ends at (t, e); 0 if it is empty
 * (no duration, no energy) and must not be rated. */
static int
evb_meter_period(const evb_meter_t *m, evb_msec_t t, int64_t e,
    evb_period_t *p)
{
    int64_t  us;

    memset(p, 0, sizeof(evb_period_t));

    if (t == m->open_start && e == m->open_energy0) {
        return 0;
    }

    us = (t - m->open_start) * 1000;

    p->start = m->open_start;
    p->energy = e - m->open_energy0;

    if (m->open_parked) {
        p->parking = us;

    } else {
        p->time = us;
    }

    p->has_min_current = m->has_min_current;
    p->has_max_current = m->has_max_current;
    p->has_min_power = m->has_min_power;
    p->has_max_power = m->has_max_power;
    p->min_current = m->min_current;
    p->max_current = m->max_current;
    p->min_power = m->min_power;
    p->max_power = m->max_power;

    return 1;
}


/* Close the open period at (t, e): rate it and hand it to cb. */
static evb_problem_e
evb_meter_close(evb_meter_t *m, const evb_rate_ctx_t *ctx, evb_msec_t t,
    int64_t e, evb_meter_period_pt cb, void *data)
{
    evb_period_t   p;
    evb_problem_e  rc;

    m->open = 0;

    if (!evb_meter_period(m, t, e, &p)) {
        return EVB_OK;
    }

    /* checked before the work: one long interval cannot cut more */
    if (ctx->policy.max_periods && m->nperiods >= ctx->policy.max_periods) {
        return EVB_P_SESSION_LIMIT;
    }

    rc = evb_rate_add(&m->rate, ctx, &p, t, NULL);
    if (rc != EVB_OK) {
        return rc;
    }

    m->nperiods++;

    if (cb) {
        cb(data, &p, t);
    }

    return EVB_OK;
}


evb_problem_e
evb_meter_init(evb_meter_t *m, const evb_rate_ctx_t *ctx,
    evb_msec_t session_start, int64_t meter_start_wh, evb_str_t tariff_id)
{
    /* zeroed, padding included, so equal histories give equal bytes */
    memset(m, 0, sizeof(evb_meter_t));

    m->version = EVB_METER_VERSION;
    m->session_start = session_start;
    m->meter_start_wh = meter_start_wh;
    m->last_t = session_start;
    m->last_energy = 0;

    return evb_rate_init(&m->rate, ctx, session_start, tariff_id, 0);
}


/*
 * The interval (last point, r] in r's state, cut wherever the price can
 * change.  (t0, e0) and (t1, e1) are the interval's ends; (cur, ecur) is
 * the last cut so far.
 */
evb_problem_e
evb_meter_reading(evb_meter_t *m, const evb_rate_ctx_t *ctx,
    const evb_reading_t *r, evb_meter_period_pt cb, void *data)
{
    int             parked;
    int64_t         e0, e1, ecur, th, ecut, ecut_t;
    evb_i128_t      num;
    evb_msec_t      t0, t1, cur, tcut, tc, te;
    evb_problem_e   rc;

    if (m->version != EVB_METER_VERSION) {
        return EVB_P_INTERNAL;
    }

    t0 = m->last_t;
    e0 = m->last_energy;
    t1 = r->timestamp;

    if (t1 < m->session_start) {
        return EVB_P_BEFORE_START;
    }

    if (t1 < t0) {
        return EVB_P_TIME_BACKWARDS;
    }

    /* durations are taken in us (and t1 + 1 below must not overflow) */
    if (t1 - m->session_start > INT64_MAX / 1000 || t1 == INT64_MAX) {
        return EVB_P_OUT_OF_RANGE;
    }

    if (evb_meter_energy(m, r->energy_wh, &e1) != 0) {
        return EVB_P_OUT_OF_RANGE;
    }

    if (e1 < e0) {
        return EVB_P_REGISTER_BACKWARDS;
    }

    parked = r->state == EVB_READING_PARKED;

    if (m->open && m->open_parked != (unsigned) parked) {
        rc = evb_meter_close(m, ctx, t0, e0, cb, data);
        if (rc != EVB_OK) {
            return rc;
        }
    }

    if (!m->open) {
        evb_meter_open(m, t0, e0, parked);
    }

    evb_meter_fold(m, r);

    cur = t0;
    ecur = e0;

    for ( ;; ) {
        /* limit t1 + 1: a change exactly at t1 is reported too, and the
         * next interval must start a new period there */
        tc = evb_rate_next_time_change(&m->rate, ctx, cur, t1 + 1);

        ecut_t = 0;

        if (tc <= t1) {
            if (t1 == t0) {
                /* cannot happen (tc > cur = t0 = t1); be safe */
                ecut_t = e1;

            } else {
                num = (evb_i128_t) (e1 - e0) * (tc - t0);
                /* floor: num >= 0, t1 - t0 > 0 */
                ecut_t = e0 + (int64_t) (num / (t1 - t0));
            }
        }

        th = e1 > ecur ? evb_rate_next_energy_change(&m->rate, ctx, ecur)
                       : INT64_MAX;

        te = t1 + 1;

        if (th <= e1) {
            /* the instant the line reaches th, rounded up to the ms */
            num = (evb_i128_t) (th - e0) * (t1 - t0);
            te = t0 + (evb_msec_t) ((num + (e1 - e0) - 1) / (e1 - e0));

            if (te < cur) {
                te = cur;
            }

            if (te > t1) {
                te = t1;
            }
        }

        if (tc > t1 && te > t1) {
            break;
        }

        if (te <= tc) {
            /* the threshold first (or both at once): energy exactly th */
            tcut = te;
            ecut = th;

        } else {
            tcut = tc;
            ecut = ecut_t;

            if (ecut < ecur) {
                ecut = ecur;
            }
        }

        rc = evb_meter_close(m, ctx, tcut, ecut, cb, data);
        if (rc != EVB_OK) {
            return rc;
        }

        evb_meter_open(m, tcut, ecut, parked);

        /* the rest of r's interval is in the new period */
        if (tcut < t1 || ecut < e1) {
            evb_meter_fold(m, r);
        }

        cur = tcut;
        ecur = ecut;
    }

    m->last_t = t1;
    m->last_energy = e1;

    if (ctx->policy.max_periods
        && evb_meter_periods(m) > ctx->policy.max_periods)
    {
        return EVB_P_SESSION_LIMIT;
    }

    return EVB_OK;
}


uint64_t
evb_meter_periods(const evb_meter_t *m)
{
    /* an open period that is still empty will not be priced */
    if (m->open
        && (m->open_start != m->last_t || m->open_energy0 != m->last_energy))
    {
        return m->nperiods + 1;
    }

    return m->nperiods;
}


evb_problem_e
evb_meter_cost(const evb_meter_t *m, const evb_rate_ctx_t *ctx,
    evb_rate_result_t *out)
{
    evb_period_t      p;
    evb_problem_e     rc;
    evb_rate_state_t  st;

    if (m->version != EVB_METER_VERSION) {
        return EVB_P_INTERNAL;
    }

    if (!m->open || !evb_meter_period(m, m->last_t, m->last_energy, &p)) {
        return evb_rate_result(&m->rate, ctx, out, NULL);
    }

    /* the open period is rated on a copy: the next reading may still
     * extend it */
    memcpy(&st, &m->rate, sizeof(evb_rate_state_t));

    rc = evb_rate_add(&st, ctx, &p, m->last_t, NULL);
    if (rc != EVB_OK) {
        return rc;
    }

    return evb_rate_result(&st, ctx, out, NULL);
}


evb_problem_e
evb_meter_finish(evb_meter_t *m, const evb_rate_ctx_t *ctx,
    evb_msec_t t, int64_t meter_stop_wh, evb_meter_period_pt cb, void *data,
    evb_rate_result_t *out)
{
    evb_reading_t   stop;
    evb_problem_e   rc;

    if (m->version != EVB_METER_VERSION) {
        return EVB_P_INTERNAL;
    }

    memset(&stop, 0, sizeof(evb_reading_t));

    stop.timestamp = t;
    stop.energy_wh = meter_stop_wh;
    stop.state = (m->open && m->open_parked) ? EVB_READING_PARKED
                                             : EVB_READING_CHARGING;

    rc = evb_meter_reading(m, ctx, &stop, cb, data);
    if (rc != EVB_OK) {
        return rc;
    }

    if (m->open) {
        rc = evb_meter_close(m, ctx, m->last_t, m->last_energy, cb, data);
        if (rc != EVB_OK) {
            return rc;
        }
    }

    return evb_rate_result(&m->rate, ctx, out, NULL);
}


int
evb_meter_current(const evb_meter_t *m)
{
    return m->version == EVB_METER_VERSION
           && evb_rate_state_current(&m->rate);
}
