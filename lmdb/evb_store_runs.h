/*
 * The store's monthly billing (schema 6).  Storage only: the records are
 * opaque (src/core/evb_invoice_month.c encodes them); which sessions a
 * run invoices is a rule of src/ops/evb_ops_runs.c.
 *
 *   month_pending   customer_id \0 T(end) BE64 || sid BE64 -> the
 *                   session's pending record (its rounded lines)
 *   billing_runs    "YYYY-MM" -> the run's record (done, cursor, count);
 *                   "YYYY-MM" || BE32 i -> its i-th invoice number (one
 *                   entry each: a chunk writes only what it made)
 *
 * T is a time key (sign bit flipped): a customer's sessions in end order.
 */

#ifndef EVB_STORE_RUNS_H
#define EVB_STORE_RUNS_H

#include "evb_store.h"


/* what a customer's pending entry is, as read back */
typedef struct {
    uint64_t             sid;
    evb_msec_t           end;
    evb_str_t            key;                /* to delete it */
    evb_str_t            record;
} evb_pending_t;


int evb_tx_pending_put(evb_wtxn_t *tx, evb_str_t customer_id,
    evb_msec_t end, uint64_t sid, evb_str_t record);
int evb_tx_pending_del(evb_wtxn_t *tx, evb_str_t key);

/* The first customer with pending sessions after the customer id after
 * (len 0: the first); EVB_ST_NOTFOUND when none. */
int evb_tx_pending_next_customer(evb_wtxn_t *tx, evb_arena_t *a,
    evb_str_t after, evb_str_t *customer_id);

/* A customer's pending sessions in end order, at most max (more: E2BIG). */
int evb_tx_pending_list(evb_wtxn_t *tx, evb_arena_t *a,
    evb_str_t customer_id, size_t max, evb_pending_t **items, size_t *n);

int evb_tx_run_get(evb_wtxn_t *tx, evb_arena_t *a, evb_str_t period,
    evb_str_t *record);
int evb_tx_run_put(evb_wtxn_t *tx, evb_str_t period, evb_str_t record);
int evb_tx_run_number_put(evb_wtxn_t *tx, evb_str_t period, uint32_t i,
    evb_str_t number);
/* The run's numbers 0..n-1 (fewer or more stored: EVB_RC_CORRUPT). */
int evb_tx_run_numbers(evb_wtxn_t *tx, evb_arena_t *a, evb_str_t period,
    size_t n, evb_str_t **numbers);

/* A run's record and all its numbers in a read transaction.
 * EVB_P_UNKNOWN_RUN when none. */
evb_problem_e evb_store_get_run(evb_store_t *store, evb_arena_t *a,
    evb_str_t period, evb_str_t *record, evb_str_t **numbers, size_t *n);


#endif /* EVB_STORE_RUNS_H */
