/*
 * The driver API's index (schema 6): a customer's sessions, newest
 * first, so that a driver's list reads only their own range.
 *
 *   customer_sessions  customer_id \0 T || sid BE64 -> ""
 *
 * T is started_at as a time key, as in session_time; a list cursor is
 * the hex of T || sid.  Written with the session's start record, in the
 * same transaction (src/ops/evb_ops_party.c).
 */

#ifndef EVB_STORE_DRIVER_H
#define EVB_STORE_DRIVER_H

#include "evb_store.h"


int evb_tx_customer_session_put(evb_wtxn_t *tx, evb_str_t customer_id,
    evb_msec_t started_at, uint64_t sid);

/* Newest first; after as a cursor this returned (len 0: from the
 * newest); next as evb_store_list_sessions().  EVB_P_INVALID_QUERY for
 * a cursor that is not one. */
evb_problem_e evb_store_list_customer_sessions(evb_store_t *store,
    evb_arena_t *a, evb_str_t customer_id, evb_str_t after, size_t limit,
    evb_session_t **items, size_t *n, char next[EVB_CURSOR_LEN + 1]);


#endif /* EVB_STORE_DRIVER_H */
