/*
 * The store's payments (schema 6).  Storage only: a payment is an opaque
 * record (src/core/evb_payment.c encodes it); what may happen to it is
 * the rule of src/ops/evb_ops_payment.c.
 *
 *   payments         payment_id -> payment record (with its outbox call)
 *   payment_links    'K' key      -> payment_id  (the app's Idempotency-Key)
 *                    'S' sid BE64 -> payment_id  (the session it pays)
 *                    'I' number   -> payment_id  (the invoice it pays)
 *                    'H' charger  -> "MICRO CUR" (a charger's own hold)
 *   payment_outbox   payment_id -> "" while a gateway call is pending or
 *                    its outcome unknown (what reconcile runs)
 *   payment_events   event id -> BE64 when it was applied (de-duplication)
 */

#ifndef EVB_STORE_PAYMENT_H
#define EVB_STORE_PAYMENT_H

#include "evb_store.h"


int evb_tx_pay_get(evb_wtxn_t *tx, evb_arena_t *a, evb_str_t id,
    evb_str_t *record);
int evb_tx_pay_put(evb_wtxn_t *tx, evb_str_t id, evb_str_t record);

/* kind 'K' (key: an Idempotency-Key) or 'S' (key: a sid as BE64) */
int evb_tx_pay_link_get(evb_wtxn_t *tx, evb_arena_t *a, char kind,
    evb_str_t key, evb_str_t *payment_id);
int evb_tx_pay_link_put(evb_wtxn_t *tx, char kind, evb_str_t key,
    evb_str_t payment_id);

int evb_tx_pay_link_del(evb_wtxn_t *tx, char kind, evb_str_t key);

/* on: in the outbox; off: out of it (not there is no error) */
int evb_tx_pay_outbox(evb_wtxn_t *tx, evb_str_t id, int on);

/* an event id seen before is EVB_ST_EXISTS; otherwise it is stored */
int evb_tx_pay_event(evb_wtxn_t *tx, evb_str_t event_id, evb_msec_t now);


/* Reads, each in a read transaction of its own. */

/* EVB_P_UNKNOWN_PAYMENT */
evb_problem_e evb_store_pay_get(evb_store_t *store, evb_arena_t *a,
    evb_str_t id, evb_str_t *record);
/* evb_store_pay_link: the payment of a link, EVB_P_UNKNOWN_PAYMENT */
evb_problem_e evb_store_pay_link(evb_store_t *store, evb_arena_t *a,
    char kind, evb_str_t key, evb_str_t *payment_id);
/* up to max payment ids in the outbox, after `after` (len 0: first) */
evb_problem_e evb_store_pay_outbox(evb_store_t *store, evb_arena_t *a,
    evb_str_t after, size_t max, evb_str_t **ids, size_t *n);


#endif /* EVB_STORE_PAYMENT_H */
