/*
 * OCPI 2.2.1 tariffs (and 2.3.0's tax_included / before_taxes and
 * after_taxes), parsed and validated into exact fixed point.  Scales are
 * those of evb_money.h.
 */

#ifndef EVB_TARIFF_H
#define EVB_TARIFF_H

#include "evb_core.h"
#include "evb_json.h"
#include "evb_money.h"
#include "evb_problem.h"


typedef enum {
    EVB_DIM_ENERGY = 0,
    EVB_DIM_FLAT,
    EVB_DIM_PARKING_TIME,
    EVB_DIM_TIME,
    EVB_DIM_COUNT
} evb_dim_e;


typedef struct {
    evb_dim_e        type;
    int64_t          price;          /* 10^-6 currency per kWh/h/session */
    unsigned         has_vat:1;
    int64_t          vat;            /* 10^-6 percent */
    int64_t          step_size;      /* Wh for ENERGY, s for times */
} evb_component_t;


#define EVB_RESERVATION_NONE     0
#define EVB_RESERVATION          1
#define EVB_RESERVATION_EXPIRES  2

typedef struct {
    unsigned         has_start_time:1;
    unsigned         has_end_time:1;
    unsigned         has_start_date:1;
    unsigned         has_end_date:1;
    unsigned         has_min_kwh:1;
    unsigned         has_max_kwh:1;
    unsigned         has_min_current:1;
    unsigned         has_max_current:1;
    unsigned         has_min_power:1;
    unsigned         has_max_power:1;
    unsigned         has_min_duration:1;
    unsigned         has_max_duration:1;
    int              start_time;     /* minute of day, local */
    int              end_time;
    int32_t          start_date;     /* local date, days since epoch */
    int32_t          end_date;
    int64_t          min_kwh;        /* 10^-9 kWh */
    int64_t          max_kwh;
    int64_t          min_current;    /* 10^-6 A */
    int64_t          max_current;
    int64_t          min_power;      /* 10^-6 kW */
    int64_t          max_power;
    int64_t          min_duration;   /* microseconds */
    int64_t          max_duration;
    unsigned         day_mask;       /* bit 0 Monday .. bit 6 Sunday; 0 any */
    int              reservation;    /* EVB_RESERVATION_* */
} evb_restrictions_t;


typedef struct {
    evb_component_t     *components;
    size_t               ncomponents;
    unsigned             has_restrictions:1;
    evb_restrictions_t   r;
} evb_element_t;


typedef struct {
    unsigned         has_excl:1;     /* excl_vat / before_taxes */
    unsigned         has_incl:1;     /* incl_vat / after_taxes */
    int64_t          excl;           /* 10^-6 currency */
    int64_t          incl;
} evb_price_limit_t;


typedef struct {
    evb_str_t            id;
    evb_str_t            country_code;
    evb_str_t            party_id;
    char                 currency[4];
    int                  exponent;       /* ISO 4217 minor unit */
    unsigned             has_start:1;
    unsigned             has_end:1;
    unsigned             has_min_price:1;
    unsigned             has_max_price:1;
    evb_msec_t           start_date_time;
    evb_msec_t           end_date_time;
    evb_price_limit_t    min_price;
    evb_price_limit_t    max_price;
    int                  tax_included;   /* 2.3.0: 1 YES, 0 NO or absent,
                                            -1 N/A */
    evb_element_t       *elements;
    size_t               nelements;
} evb_tariff_t;


/* One offending field: the body reader's (evb_problem.h). */
typedef evb_field_error_t  evb_tariff_error_t;

#define EVB_TARIFF_ERRORS_MAX  EVB_FIELD_ERRORS_MAX

/*
 * At most this many billed lines (distinct category, price and VAT) in a
 * tariff: the rating state keeps one accumulator per line in a fixed
 * table (evb_rate.h), so a tariff with more is refused.
 */
#define EVB_TARIFF_LINES_MAX   48


/*
 * Parse and validate one OCPI Tariff object.  On failure returns the
 * first error's problem (one of the EVB_P_TARIFF_* types, or a generic
 * JSON-shape one) and fills errors[0..*nerrors) with every offending
 * field found (at most EVB_TARIFF_ERRORS_MAX).
 */
evb_problem_e evb_tariff_parse(evb_arena_t *a, const evb_json_t *root,
    evb_tariff_t *out, evb_tariff_error_t *errors, size_t *nerrors);

/*
 * The number of distinct billed lines the tariff can price (category:
 * the component's type, reservation elements apart; price; VAT), and,
 * if it is above EVB_TARIFF_LINES_MAX, where the first line too many is.
 */
size_t evb_tariff_lines(const evb_tariff_t *t, size_t *element,
    size_t *component);

/* Is the tariff valid (start_date_time <= t < end_date_time) at t? */
int evb_tariff_active(const evb_tariff_t *t, evb_msec_t at);


#endif /* EVB_TARIFF_H */
