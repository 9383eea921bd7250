/*
 * From meter readings to priced charging periods.
 *
 * Readings are whole Wh at millisecond times.  Periods are cut exactly
 * where the price can change: a time-of-day or date boundary, a duration
 * threshold, a kWh threshold (the instant found by linear interpolation
 * between the readings around it), tariff validity, and a switch between
 * charging and parked.  The interval between two readings takes the state
 * of the later reading; the first interval, from the session start, that
 * of the first reading.
 *
 * The same code serves the live cost (the state is kept with the session
 * in the store, one reading at a time) and the CDR at stop (all readings
 * replayed from the start, periods collected), so both agree exactly.
 */

#ifndef EVB_METER_H
#define EVB_METER_H

#include "evb_core.h"
#include "evb_model.h"
#include "evb_rate.h"


/* Pointer-free, fixed size: stored as bytes with the session. */
typedef struct {
    evb_rate_state_t     rate;          /* closed periods */
    uint32_t             version;
    unsigned             open:1;        /* a period is open */
    unsigned             open_parked:1;
    unsigned             has_min_current:1;
    unsigned             has_max_current:1;
    unsigned             has_min_power:1;
    unsigned             has_max_power:1;
    evb_msec_t           session_start;
    int64_t              meter_start_wh;
    evb_msec_t           open_start;    /* the open period's start */
    int64_t              open_energy0;  /* 10^-9 kWh since session start
                                           at the open period's start */
    int64_t              min_current;   /* of the open period, 10^-6 A */
    int64_t              max_current;
    int64_t              min_power;     /* 10^-6 kW */
    int64_t              max_power;
    evb_msec_t           last_t;        /* the last reading */
    int64_t              last_energy;   /* 10^-9 kWh since session start */
    uint64_t             nperiods;      /* closed so far */
} evb_meter_t;


/* Called for every closed period, in order (the CDR collects them). */
typedef void (*evb_meter_period_pt)(void *data, const evb_period_t *p,
    evb_msec_t end);


evb_problem_e evb_meter_init(evb_meter_t *m, const evb_rate_ctx_t *ctx,
    evb_msec_t session_start, int64_t meter_start_wh, evb_str_t tariff_id);

/* One reading, in order, already checked (time and register do not go
 * backwards).  Closes the periods it crosses.  EVB_P_SESSION_LIMIT when
 * the session would have more than ctx->policy.max_periods periods (the
 * state is then spoilt: callers drop it). */
evb_problem_e evb_meter_reading(evb_meter_t *m, const evb_rate_ctx_t *ctx,
    const evb_reading_t *r, evb_meter_period_pt cb, void *data);

/* Is m a state of this build's layout (bytes kept by an older build are
 * not)? */
int evb_meter_current(const evb_meter_t *m);

/* The periods so far: the closed ones and the open one if not empty. */
uint64_t evb_meter_periods(const evb_meter_t *m);

/* The price as if the session stopped at the last reading. */
evb_problem_e evb_meter_cost(const evb_meter_t *m, const evb_rate_ctx_t *ctx,
    evb_rate_result_t *out);

/* Close the session at (t, meter_stop_wh) — the stop is a last reading in
 * the state of the last one — and return the final price; every period,
 * including the last, goes through cb. */
evb_problem_e evb_meter_finish(evb_meter_t *m, const evb_rate_ctx_t *ctx,
    evb_msec_t t, int64_t meter_stop_wh, evb_meter_period_pt cb, void *data,
    evb_rate_result_t *out);


#endif /* EVB_METER_H */
