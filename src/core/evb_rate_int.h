/*
 * Private to the rating engine (evb_rate*.c): the layout of the stored
 * state and the helpers the dry run shares with it.
 */

#ifndef EVB_RATE_INT_H
#define EVB_RATE_INT_H

#include "evb_rate.h"


/* V units: an exact amount is an integer count of 10^-23/3600 currency
 * units, so that kWh x price and us x price/h add up without loss */
#define EVB_V_PER_MICRO  ((evb_i128_t) 360000000000000000LL * 1000)


/* bumped whenever the layout below changes: a stored state of another
 * layout is refused rather than misread */
#define EVB_RATE_MAGIC  0x45425232u     /* "EBR2": billed lines */


/* cost categories; the first four have a step_size group */
enum {
    EVB_CAT_ENERGY = 0,
    EVB_CAT_TIME,
    EVB_CAT_PARKING,
    EVB_CAT_RES_TIME,
    EVB_CAT_FLAT,
    EVB_CAT_RES_FLAT,
    EVB_CAT_N
};


typedef struct {
    evb_i128_t           excl;               /* V units, see evb_rate.c */
    evb_i128_t           incl;
} evb_rate_acc_t;


/*
 * One billed line: a quantity priced by one component.  Components with
 * the same category, price, VAT and tax_included share a line (the first
 * one found names it), so a line is "a dimension at one price".
 */
typedef struct {
    int64_t              qty;                /* 10^-9 kWh, us or count */
    uint32_t             element;
    uint16_t             tariff;             /* index in the context */
    uint16_t             comp;
} evb_rate_sline_t;


/* The priced total of one quantity and the line of its last component. */
typedef struct {
    int64_t              qty;                /* 10^-9 kWh or us */
    int64_t              step;               /* same scale; 0 none */
    uint32_t             period;             /* of the last segment */
    uint16_t             line;
    uint8_t              used;
    uint8_t              pad;
} evb_rate_group_t;


typedef struct {
    uint32_t             magic;
    uint32_t             tariff;             /* index in the context */
    uint32_t             nperiods;
    uint32_t             warnings;           /* EVB_WARN_* */
    uint8_t              expired;
    uint8_t              flat_done;
    uint8_t              res_flat_done;
    uint8_t              off_cached;
    uint16_t             nlines;
    uint8_t              pad[2];
    int32_t              off;                /* a cache: the UTC offset */
    int32_t              pad2;
    evb_msec_t           off_lo;             /* (s) throughout off_lo .. */
    evb_msec_t           off_hi;             /* .. off_hi */
    evb_msec_t           session_start;
    evb_msec_t           first_start;
    evb_msec_t           last_start;
    evb_msec_t           last_end;
    int64_t              energy;             /* 10^-9 kWh, all periods */
    int64_t              charging;           /* us */
    int64_t              parking;
    int64_t              reservation;
    evb_rate_group_t     grp[EVB_CAT_FLAT];
    evb_rate_sline_t     line[EVB_RATE_LINES_MAX];
} evb_rate_st_t;


/* What restrictions are evaluated against at a period's start. */
typedef struct {
    int64_t              sod_ms;             /* local ms of the day */
    int32_t              days;               /* local date */
    int                  wday;               /* 0 Monday */
    int64_t              energy_before;
    int64_t              duration_us;        /* since session start */
} evb_rate_local_t;


/* A line's exact amount: qty after step_size, excl. and incl. in V
 * units, and the rational excl_num / excl_den (micro units) it is
 * rounded from. */
typedef struct {
    int                  cat;
    int                  tax_included;       /* 1: YES with a VAT */
    const evb_component_t  *pc;
    int64_t              qty;
    evb_i128_t           excl;
    evb_i128_t           incl;
    evb_i128_t           excl_num;
    evb_i128_t           excl_den;
} evb_rate_vline_t;


/* Exact totals (V units) with step_size and min/max applied. */
typedef struct {
    evb_rate_acc_t       acc[EVB_CAT_N];     /* per category, unclamped */
    int64_t              billed[EVB_CAT_FLAT];
    evb_i128_t           excl;               /* total, clamped */
    evb_i128_t           incl;
    unsigned             has_incl:1;
    unsigned             vat_in;
    size_t               nlines;
    evb_rate_vline_t     line[EVB_RATE_LINES_MAX];
} evb_rate_totals_t;


/* set in evb_rate_add_period's flags when it failed because the
 * session's tariffs price more than EVB_RATE_LINES_MAX lines */
#define EVB_RATE_FAIL_LINES  0x100


/* evb_rate_add that also says which EVB_WARN_* this period raised. */
evb_problem_e evb_rate_add_period(evb_rate_state_t *st,
    const evb_rate_ctx_t *ctx, const evb_period_t *p, evb_msec_t end,
    evb_segments_t *seg, unsigned *flags);

evb_problem_e evb_rate_result_v(const evb_rate_state_t *st,
    const evb_rate_ctx_t *ctx, evb_rate_totals_t *v, evb_segments_t *seg);

int evb_rate_v_to_micro(evb_i128_t v, evb_rounding_e mode, int64_t *out);

/* evb_rate_round.c: an exact amount at 10^-6, and the rounded bill by
 * the billing rule (d may be NULL) */
int evb_rate_exact(evb_i128_t excl, evb_i128_t incl, int has_incl,
    evb_rounding_e mode, evb_amount_t *exact);
int evb_rate_round(const evb_rate_totals_t *v, const evb_tariff_t *t,
    const evb_policy_t *policy, int exponent, evb_rate_result_t *out,
    evb_bill_detail_t *d);


#endif /* EVB_RATE_INT_H */
