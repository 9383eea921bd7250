/*
 * Monthly invoices (billing runs, issue 10): what a monthly customer's
 * session keeps for its month's invoice, the invoice of several sessions
 * under the billing rule applied to all its lines, and a run's record.
 * Plain C: no nginx, no LMDB.  See docs/invoicing.md, "Monthly invoices
 * (billing runs)".
 */

#ifndef EVB_INVOICE_MONTH_H
#define EVB_INVOICE_MONTH_H

#include "evb_core.h"
#include "evb_problem.h"
#include "evb_rate.h"
#include "evb_tz.h"
#include "evb_invoice.h"
#include "evb_invoice_make.h"


/* customers per POST billing-runs call: default and most */
#define EVB_RUN_LIMIT_DEFAULT  100
#define EVB_RUN_LIMIT_MAX      1000

/* a session's pending record: its lines and its min/max per rate */
#define EVB_MONTH_ITEM_V1      1
/* a run's record */
#define EVB_MONTH_RUN_V1       1




/* One session waiting for its month's invoice. */
typedef struct {
    evb_str_t            session;            /* "charger_id/session_id" */
    evb_str_t            cdr_id;
    char                 period[8];          /* "2026-11": the month of
                                                its end, seller's zone */
    evb_msec_t           end;
    char                 currency[4];
    int                  exponent;
    size_t               nlines;
    evb_doc_line_t      *lines;              /* ids 0; session set */
    size_t               nvat;
    evb_doc_vat_t       *vat;                /* per rate: only
                                                allowance and charge
                                                (its min/max) are used */
} evb_month_item_t;


/* The month of t in tz as "YYYY-MM". */
void evb_month_of(const evb_tz_t *tz, evb_msec_t t, char out[8]);

/* "YYYY-MM" with a month 01..12 and a year 1970..9999. */
int evb_month_period_ok(evb_str_t p);

/* The pending record of a stopped session from its rounded bill.
 * 0 or -1 (out of memory). */
int evb_month_item_make(evb_arena_t *a, evb_str_t charger_id,
    evb_str_t session_id, evb_str_t cdr_id, const char period[8],
    evb_msec_t end, const evb_rate_result_t *res,
    const evb_bill_detail_t *d, evb_month_item_t *item);

void evb_month_item_encode(evb_buf_t *b, const evb_month_item_t *item);
int evb_month_item_decode(evb_arena_t *a, const char *data, size_t len,
    evb_month_item_t *item);

/*
 * The monthly invoice of items (one currency, exponent <= 2), late[i]
 * marking the lines of item i late.  Each session's lines become lines
 * naming it; per VAT category and rate: the lines' sum, the sessions'
 * min/max as allowance and charge, VAT once on the taxable amount under
 * mode.  The document names no session itself.  0 or -1 with err.
 */
int evb_month_build(evb_arena_t *a, const evb_invoice_conf_t *conf,
    const evb_invoice_buyer_t *buyer, evb_str_t number,
    evb_msec_t issued_at, evb_rounding_e mode,
    const evb_month_item_t *items, const unsigned char *late, size_t n,
    evb_invoice_t *inv, char *err, size_t errlen);


/* A billing run of one month. */
typedef struct {
    unsigned             done:1;
    evb_str_t            cursor;             /* the last customer done;
                                                len 0: none yet */
    evb_msec_t           started;
    evb_msec_t           updated;
    size_t               n;                  /* invoices made */
    evb_str_t           *numbers;            /* their numbers: not in the
                                                record (the store keeps
                                                one entry each, so a
                                                chunk writes only its
                                                own) */
} evb_month_run_t;

/* The run's record: all but the numbers (decode leaves numbers NULL). */
void evb_month_run_encode(evb_buf_t *b, const evb_month_run_t *run);
int evb_month_run_decode(evb_arena_t *a, const char *data, size_t len,
    evb_month_run_t *run);

/* {"period", "limit"?} -> period (in the body), limit.  EVB_OK or the
 * problem with detail. */
evb_problem_e evb_month_run_parse(evb_arena_t *a, const char *json,
    size_t len, evb_str_t *period, size_t *limit, char *detail,
    size_t dlen);

/* {"period", "invoices": [...], "done", "made"?, "cursor"?, "started",
 * "updated"}: made < 0 leaves it out (GET) */
void evb_month_run_render(evb_buf_t *b, evb_str_t period,
    const evb_month_run_t *run, long made);


#endif /* EVB_INVOICE_MONTH_H */
