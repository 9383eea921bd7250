/*
 * Private to lmdb/: what the store (evb_store.c) and its offline
 * maintenance (evb_schema.c: schema steps, upgrade, verify) share.
 */

#ifndef EVB_STORE_INT_H
#define EVB_STORE_INT_H

#include <lmdb.h>

#include "evb_store.h"


/* our own result codes next to LMDB's (which are -30799..-30780) */
#define EVB_RC_CORRUPT     (-30600)

#define EVB_PAIR_MAX       (2 * EVB_ID_MAX + 1)


enum {
    EVB_DB_META = 0,
    EVB_DB_CHARGERS,
    EVB_DB_KEYS,
    EVB_DB_CHARGER_KEYS,
    EVB_DB_SESSIONS,
    EVB_DB_SESSION_NAMES,
    EVB_DB_SESSION_TIME,
    EVB_DB_CHARGER_TIME,
    EVB_DB_ACTIVE,
    EVB_DB_TARIFFS,
    EVB_DB_TARIFF_VERSIONS,
    EVB_DB_CDRS,
    EVB_DB_ACTIVITY,                   /* schema 2 */
    EVB_DB_CUSTOMERS,                  /* schema 3: who is billed */
    EVB_DB_TOKENS,
    EVB_DB_SESSION_STARTS,
    EVB_DB_INV_COUNTERS,               /* schema 4: invoices */
    EVB_DB_INVOICES,
    EVB_DB_CREDIT_NOTES,
    EVB_DB_SESSION_INVOICES,
    EVB_DB_INVOICE_TIME,
    EVB_DB_CUSTOMER_INVOICES,
    EVB_DB_INVOICE_CREDITS,
    EVB_DB_CREDIT_CDRS,
    EVB_DB_READING_LOG,                /* schema 5 (replaces readings) */
    EVB_DB_READING_INDEX,
    EVB_DB_SESSION_LIVE,
    EVB_DB_PERIODS,
    EVB_DB_CUSTOMER_SESSIONS,          /* schema 6: driver API */
    EVB_DB_FEED,                       /* schema 7: evb_store_feed.h */
    EVB_DB_MONTH_PENDING,              /* schema 8: billing runs */
    EVB_DB_BILLING_RUNS,
    EVB_DB_PAYMENTS,                   /* schema 9: payments (issue 11) */
    EVB_DB_PAYMENT_LINKS,
    EVB_DB_PAYMENT_OUTBOX,
    EVB_DB_PAYMENT_EVENTS,
    EVB_DB_CHARGER_DOCS,               /* schema 10: start records' docs */
    EVB_DB_COUNT
};

extern const char  *const evb_db_names[EVB_DB_COUNT];


/* a codec result as an errno-style code (ENOMEM, EVB_RC_CORRUPT) */
int evb_dec_rc(int drc);

int evb_get(MDB_txn *txn, MDB_dbi dbi, const void *k, size_t klen,
    MDB_val *v);
int evb_put(MDB_txn *txn, MDB_dbi dbi, const void *k, size_t klen,
    const void *v, size_t vlen);

/* For the store's other files (evb_store_parties.c, evb_store_invoice.c):
 * the LMDB handles behind a write transaction and the event loop's read
 * transactions. */
MDB_txn *evb_tx_mdb(evb_wtxn_t *tx);
MDB_dbi evb_tx_dbi(evb_wtxn_t *tx, int db);
evb_buf_t *evb_tx_enc(evb_wtxn_t *tx);
MDB_dbi evb_store_dbi(evb_store_t *st, int db);
int evb_read_begin(evb_store_t *st, MDB_txn **txn);
void evb_read_end(evb_store_t *st, MDB_txn *txn);
evb_problem_e evb_rc_problem(int rc);

/* evbill-store check of the invoice databases (evb_store_invoice.c):
 * problems counted in *n, each told to problem(); 0 or an LMDB error */
int evb_store_invoice_verify(MDB_txn *txn,
    void (*problem)(void *data, const char *what), void *data, long *n);

/* the reading log (evb_store_log.c); an index entry every
 * EVB_LOG_SKIP readings of a session bounds a seq's search */
#define EVB_LOG_SKIP       32

/* Append r to s's chain (its EVB_LOG_SKIP-th readings also to the
 * index; s->nreadings counts those before r) and set s->log_last. */
int evb_log_append(MDB_txn *txn, MDB_dbi log, MDB_dbi index, evb_buf_t *enc,
    evb_session_t *s, const evb_reading_t *r);
/* s's reading seq as a view into the store (strings unowned). */
int evb_log_find(MDB_txn *txn, MDB_dbi log, MDB_dbi index,
    const evb_session_t *s, uint64_t seq, evb_reading_t *r);
/* s's readings in seq order, copied into a. */
int evb_log_load(MDB_txn *txn, MDB_dbi log, evb_arena_t *a,
    const evb_session_t *s, evb_reading_t **readings, size_t *n);

/* s (its cold record decoded) with its live record applied, if any */
int evb_live_apply(MDB_txn *txn, MDB_dbi live, evb_arena_t *a,
    evb_session_t *s);

/* a session by sid, its live record applied (evb_store.c) */
int evb_store_load_sid(evb_store_t *st, MDB_txn *txn, evb_arena_t *a,
    uint64_t sid, evb_session_t *s);
/* a session start record (evb_store_parties.c) */
int evb_dec_session_start(evb_arena_t *a, const MDB_val *v,
    evb_session_start_t *st);
/* ref NULL: version 1 (the document inline); else version 2 with the
 * document's 12-byte charger_docs key */
void evb_enc_session_start(evb_buf_t *e, const evb_session_start_t *st,
    const unsigned char *ref);
/* version 2 records: *has_ref set, the charger_docs key in ref[12] */
int evb_dec_session_start_ref(evb_arena_t *a, const MDB_val *v,
    evb_session_start_t *st, unsigned char *ref, int *has_ref);
/* schema step 5 -> 6: customer_sessions from the start records
 * (evb_store_driver.c) */
int evb_step_customer_sessions(MDB_txn *txn, unsigned long *items);
/* evbill-store check of customer_sessions against the start records */
int evb_store_driver_verify(MDB_txn *txn,
    void (*problem)(void *data, const char *what), void *data, long *n);
/* the feed (evb_store_feed.c): entry sources, see evb_store_feed.h */
#define EVB_FEED_SRC_CDR        'S'
#define EVB_FEED_SRC_CREDIT     'c'
#define EVB_FEED_SRC_CORRECTED  'r'
#define EVB_FEED_SRC_INVOICE    'I'
#define EVB_FEED_SRC_NOTE       'N'

/* Announce a new document of src under key ref in tx's feed. */
int evb_tx_feed(evb_wtxn_t *tx, char src, const void *ref, size_t rlen);
/* The schema step's: announce every document stored before (CDRs, then
 * invoices in issue order, then each credit note with its CDRs) unless
 * the feed has entries already. */
int evb_feed_backfill(MDB_txn *txn, unsigned long *items);
/* evbill-store check of the feed: numbers without gaps, each entry's
 * document there, one entry per document */
int evb_store_feed_verify(MDB_txn *txn,
    void (*problem)(void *data, const char *what), void *data, long *n);

/* the sentence for a store of another schema version */
void evb_schema_error(char *err, size_t errlen, const char *path,
    unsigned version);


#endif /* EVB_STORE_INT_H */
