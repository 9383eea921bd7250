/*
 * The rating engine: one function prices the live estimate, the CDR and
 * the dry run, so they never disagree.
 *
 * Rating is incremental: a state is fed charging periods in order and can
 * be asked for the totals at any time (step_size and min/max applied to a
 * copy, the state itself unchanged).  The state is a plain fixed-size
 * value without pointers, so the store keeps it with the session and a
 * reading costs the same whether it is the 3rd or the 30,000th.
 */

#ifndef EVB_RATE_H
#define EVB_RATE_H

#include "evb_core.h"
#include "evb_json.h"
#include "evb_money.h"
#include "evb_tariff.h"
#include "evb_tz.h"


typedef struct {
    evb_rounding_e       rounding;
    unsigned             no_step_size:1;     /* OCPI 3.0 style */
    unsigned             ignore_min_max:1;
    /* bounds on the work of rating one session (0: none), from
     * evbill_session_max_duration and evbill_session_max_periods: the
     * meter refuses to cut more periods (EVB_P_SESSION_LIMIT), the dry
     * run refuses a longer or larger session; a request's "policy"
     * cannot change them */
    evb_msec_t           max_duration;       /* ms */
    uint64_t             max_periods;
} evb_policy_t;


/* One charging period, as an OCPI CDR carries it (scales: evb_money.h). */
typedef struct {
    evb_msec_t           start;
    int64_t              energy;             /* 10^-9 kWh */
    int64_t              time;               /* us charging */
    int64_t              parking;            /* us not charging */
    int64_t              reservation;        /* us reserved */
    unsigned             has_min_current:1;
    unsigned             has_max_current:1;
    unsigned             has_min_power:1;
    unsigned             has_max_power:1;
    int64_t              min_current;        /* 10^-6 A */
    int64_t              max_current;
    int64_t              min_power;          /* 10^-6 kW */
    int64_t              max_power;
    evb_str_t            tariff_id;          /* len 0: the session's */
} evb_period_t;


/* What rating needs besides the state; not stored. */
typedef struct {
    const evb_tariff_t  *tariffs;
    size_t               ntariffs;
    const evb_tz_t      *tz;
    evb_policy_t         policy;
} evb_rate_ctx_t;


/* An amount: exact to 10^-6 (correctly rounded there), and rounded to
 * the currency's minor unit under the policy. */
typedef struct {
    int64_t              excl;               /* 10^-6 currency */
    int64_t              incl;
    unsigned             has_incl:1;         /* some component had VAT */
} evb_amount_t;


#define EVB_WARN_SPANS_PRICE_CHANGE   0x01
#define EVB_WARN_OUT_OF_ORDER         0x02
#define EVB_WARN_OUTSIDE_SESSION      0x04
#define EVB_WARN_NO_ACTIVE_TARIFF     0x08


typedef struct {
    char                 currency[4];
    int                  exponent;
    evb_str_t            tariff_id;          /* the session's tariff */
    int64_t              total_energy;       /* 10^-9 kWh */
    int64_t              total_time;         /* us, whole session */
    int64_t              total_parking_time; /* us */
    int64_t              total_reservation_time;
    evb_amount_t         total_cost;
    evb_amount_t         total_energy_cost;
    evb_amount_t         total_time_cost;
    evb_amount_t         total_parking_cost;
    evb_amount_t         total_fixed_cost;
    evb_amount_t         total_reservation_cost;
    evb_amount_t         rounded_cost;       /* minor unit, policy */
    evb_amount_t         rounded_energy_cost;
    evb_amount_t         rounded_time_cost;
    evb_amount_t         rounded_parking_cost;
    evb_amount_t         rounded_fixed_cost;
    evb_amount_t         rounded_reservation_cost;
    unsigned             warnings;           /* EVB_WARN_* */
} evb_rate_result_t;


/*
 * The rounded bill (EN 16931): each billed line (a dimension at one
 * price: category, price, VAT, tax_included) rounded to the minor unit;
 * dimensions and the net total are sums of rounded lines; VAT once per
 * rate on the rate's net sum; min/max as a net adjustment spread over
 * the rates.  All amounts in 10^-6, multiples of the minor unit except
 * cost (exact).  See docs/rating.md.
 */
#define EVB_RATE_LINES_MAX  EVB_TARIFF_LINES_MAX

typedef struct {
    evb_dim_e            dim;
    unsigned             reservation:1;
    unsigned             has_vat:1;
    unsigned             tax_included:1;     /* price is gross */
    int64_t              price;
    int64_t              vat;                /* 10^-6 % */
    int64_t              quantity;           /* billed, after step_size */
    evb_amount_t         cost;               /* exact, 10^-6 */
    int64_t              amount;             /* rounded, excl. VAT */
    int64_t              vat_amount;         /* its share of its rate's
                                                VAT (dimension incl.) */
} evb_bill_line_t;

typedef struct {
    unsigned             has_vat:1;          /* 0: lines without VAT */
    int64_t              vat;                /* 10^-6 % */
    int64_t              lines;              /* sum of its lines */
    int64_t              adjustment;         /* min/max, excl. VAT */
    int64_t              taxable;            /* lines + adjustment */
    int64_t              amount;             /* its VAT */
} evb_bill_vat_t;

typedef struct {
    size_t               nlines;
    evb_bill_line_t      lines[EVB_RATE_LINES_MAX];
    size_t               nvat;
    evb_bill_vat_t       vat[EVB_RATE_LINES_MAX + 1];
} evb_bill_detail_t;


/* One priced piece, for audit (dry run "segments", CDR breakdown). */
typedef struct {
    size_t               period;
    size_t               element;
    evb_dim_e            dim;
    unsigned             reservation:1;
    unsigned             has_vat:1;
    int64_t              measured;           /* dimension's scale */
    int64_t              billed;             /* after step_size */
    int64_t              price;
    int64_t              vat;
    int64_t              cost_excl;          /* 10^-6, rounded half-even
                                                for display only */
    int64_t              cost_incl;
} evb_segment_t;

typedef struct {
    evb_segment_t       *items;              /* arena-grown */
    size_t               n;
    size_t               cap;
    evb_arena_t         *arena;
} evb_segments_t;


/*
 * The running state.  Its layout belongs to evb_rate.c; callers treat it
 * as an opaque value of this size (it is stored as bytes).
 */
#define EVB_RATE_STATE_SIZE  1024

typedef struct {
    _Alignas(16) unsigned char  bytes[EVB_RATE_STATE_SIZE];
} evb_rate_state_t;


/*
 * Start rating a session: picks the session's tariff (the given id, or
 * the first tariff active at session_start) and remembers it by index.
 * EVB_P_NO_TARIFF when none applies.
 */
evb_problem_e evb_rate_init(evb_rate_state_t *st, const evb_rate_ctx_t *ctx,
    evb_msec_t session_start, evb_str_t tariff_id, int reservation_expired);

/* Add the next period; end is its end (the next period's start or the
 * session end), used for warnings.  seg may be NULL. */
evb_problem_e evb_rate_add(evb_rate_state_t *st, const evb_rate_ctx_t *ctx,
    const evb_period_t *p, evb_msec_t end, evb_segments_t *seg);

/* The totals as if the session ended now (state unchanged). */
evb_problem_e evb_rate_result(const evb_rate_state_t *st,
    const evb_rate_ctx_t *ctx, evb_rate_result_t *out, evb_segments_t *seg);

/* evb_rate_result, and the rounded bill line by line (detail). */
evb_problem_e evb_rate_result_detail(const evb_rate_state_t *st,
    const evb_rate_ctx_t *ctx, evb_rate_result_t *out, evb_segments_t *seg,
    evb_bill_detail_t *detail);

/*
 * Where the price can change, for cutting periods from meter readings:
 * the first instant in (t, limit) at which a restriction of the session's
 * tariff can change its outcome by time alone (time of day, date,
 * duration from session start, tariff validity), else limit; and the
 * smallest min_kwh/max_kwh threshold strictly above energy e, else
 * INT64_MAX.
 */
evb_msec_t evb_rate_next_time_change(const evb_rate_state_t *st,
    const evb_rate_ctx_t *ctx, evb_msec_t t, evb_msec_t limit);
int64_t evb_rate_next_energy_change(const evb_rate_state_t *st,
    const evb_rate_ctx_t *ctx, int64_t e);

/* Is st a state of this build's layout (not one stored by an older
 * build, which is refused rather than misread)? */
int evb_rate_state_current(const evb_rate_state_t *st);

/* Energy before the next period (10^-9 kWh), for callers cutting. */
int64_t evb_rate_energy_so_far(const evb_rate_state_t *st);


/*
 * The dry run: {"time_zone", "tariffs": [...], "session":
 * {"start_date_time", "end_date_time", "charging_periods": [...],
 * "x_reservation_expired"?}, "policy"?: {"rounding", "no_step_size",
 * "ignore_min_max"}} -> the answer documented in docs/rating.md.  Used
 * by the admin API (POST rate) and by evbill-rate.  On a problem, detail
 * says why and errors/nerrors list bad tariff fields.
 */
evb_problem_e evb_rate_dry_run(evb_arena_t *a, const evb_json_t *root,
    const evb_policy_t *deflt, evb_buf_t *out, evb_tariff_error_t *errors,
    size_t *nerrors, char *detail, size_t len);

/* Amount renderers shared by the dry run, the CDR and live cost:
 * {"excl_vat": 1.23, "incl_vat": 1.49} (incl_vat left out without VAT). */
void evb_render_amount(evb_buf_t *b, const evb_amount_t *a,
    unsigned min_decimals);


#endif /* EVB_RATE_H */
