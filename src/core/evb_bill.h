/*
 * Billing a stored session: the glue between the store's records and the
 * rating engine.  The store calls these inside its write transaction
 * (live cost at every batch of readings, the final cost and the CDR at
 * stop), so every price comes from the same engine and the same tariff
 * version.
 */

#ifndef EVB_BILL_H
#define EVB_BILL_H

#include "evb_core.h"
#include "evb_model.h"
#include "evb_rate.h"
#include "evb_meter.h"
#include "evb_cdr.h"
#include "evb_party.h"


/* evbill_node_id: short, so that CDR ids (<= 36) and invoice numbers
 * (<= 39) built with it keep OCPI's lengths */
#define EVB_NODE_ID_MAX  8

/* Deployment settings the store passes through. */
typedef struct {
    evb_policy_t         policy;          /* evbill_rounding */
    evb_str_t            cpo_country;     /* evbill_cpo */
    evb_str_t            cpo_party;
    evb_str_t            node_id;         /* evbill_node_id; len 0: none */
    /* evbill_seller_file and the number formats; NULL: no invoices */
    const struct evb_invoice_conf_s  *invoice;
} evb_bill_conf_t;


/* The rounded bill at stop, for the invoice (evb_invoice_make.h). */
typedef struct {
    unsigned             set:1;           /* filled by evb_bill_final */
    char                 cdr_id[40];      /* the CDR's id */
    evb_rate_result_t    result;
    evb_bill_detail_t    detail;
} evb_bill_out_t;


/*
 * Parsed tariffs by (id, version), so a batch of readings does not parse
 * its tariff again.  Versions are immutable, so entries never go stale.
 * Not thread-safe: the store uses it under its write lock only.
 */
typedef struct evb_bill_cache_s  evb_bill_cache_t;

evb_bill_cache_t *evb_bill_cache_create(void);
void evb_bill_cache_free(evb_bill_cache_t *c);


/* What one session is rated with. */
typedef struct {
    evb_str_t            tariff_id;
    uint32_t             tariff_version;
    evb_str_t            tariff_json;     /* that version, verbatim */
    evb_str_t            time_zone;       /* the charger's location */
    const evb_bill_conf_t  *conf;
    evb_bill_cache_t    *cache;           /* NULL: parse every time */
    const evb_session_start_t  *start;    /* the session's start record
                                             (token, location); NULL:
                                             none (stored before it) */
    evb_str_t            invoice_reference_id;   /* the CDR's; len 0:
                                                    not invoiced */
    evb_bill_out_t      *out;             /* at stop, may be NULL */
} evb_bill_t;


/* A new session: the initial meter state (bytes in *meter, arena). */
evb_problem_e evb_bill_start(evb_arena_t *a, const evb_bill_t *b,
    const evb_session_t *s, evb_str_t *meter, evb_str_t *cost,
    char *detail, size_t len);

/* The charging periods that rating closes, in order, encoded for the
 * store (evb_bill_period_enc): first is the number of the first. */
typedef struct {
    evb_arena_t         *arena;
    evb_str_t           *items;
    size_t               n;
    size_t               cap;
    uint64_t             first;
    int                  oom;
} evb_bill_closed_t;

/* New readings (in order, checked): advance the stored meter state and
 * price the session as if it stopped at the last one; the periods they
 * close go to closed (may be NULL). */
evb_problem_e evb_bill_readings(evb_arena_t *a, const evb_bill_t *b,
    evb_str_t *meter, const evb_reading_t *r, size_t n, evb_str_t *cost,
    evb_bill_closed_t *closed, char *detail, size_t len);

/*
 * The session closed (s->state STOPPED, stopped_at, meter_stop_wh set):
 * the final cost, the OCPI CDR, the final result and the rounded bill
 * (res, bill: for the invoice).
 *
 * evb_bill_final_state: from the rating state kept with the session
 * (s->meter) and the periods it closed (closed[0..n), as stored), with
 * no reading read again; evb_bill_state_usable says whether they are
 * complete (a state of this build, n its closed periods).
 *
 * evb_bill_final: rate it once more from its raw readings (a session
 * without a usable state: unrated while open, or older data).
 *
 * Both give the same bytes: the state is what replaying the readings
 * computes, through the same code.
 */
int evb_bill_state_usable(const evb_session_t *s, size_t n);

evb_problem_e evb_bill_final_state(evb_arena_t *a, const evb_bill_t *b,
    const evb_session_t *s, const evb_charger_t *c, const evb_str_t *closed,
    size_t n, evb_str_t *cost, evb_str_t *cdr, evb_rate_result_t *res,
    evb_bill_detail_t *bill, char *detail, size_t len);

evb_problem_e evb_bill_final(evb_arena_t *a, const evb_bill_t *b,
    const evb_session_t *s, const evb_charger_t *c,
    const evb_reading_t *r, size_t n, evb_str_t *cost, evb_str_t *cdr,
    evb_rate_result_t *res, evb_bill_detail_t *bill, char *detail,
    size_t len);

/* A closed period as the store keeps it, and back (0 or -1). */
int evb_bill_period_enc(evb_arena_t *a, const evb_period_t *p,
    evb_str_t *out);
int evb_bill_period_dec(evb_arena_t *a, evb_str_t in, evb_period_t *p);

/* {"currency", "tariff_id", "tariff_version", "total_cost", ...,
 *  "total_energy", "total_time", "total_parking_time", "rounded": {...}} */
void evb_bill_render_cost(evb_buf_t *out, const evb_bill_t *b,
    const evb_rate_result_t *res);


#endif /* EVB_BILL_H */
