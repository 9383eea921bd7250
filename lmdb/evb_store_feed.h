/*
 * The feed for downstream systems (schema 6): every document the store
 * takes, announced in the write transaction that stores it.
 *
 *   feed     no BE64 -> src (1 byte) || at BE64 (ms) || ref
 *
 * no counts 1, 2, 3 ... without gaps (MDB_APPEND after the last entry,
 * in the same transaction, so a reader's snapshot sees a prefix of the
 * feed and commit order is feed order).  An entry is a reference, not a
 * copy (the documents are immutable): src names the database and ref
 * its key:
 *
 *   'S'  cdrs, sid BE64                              kind cdr
 *   'c'  credit_cdrs, number \0 'c' (a credit CDR)   kind credit_cdr
 *   'r'  credit_cdrs, number \0 'r' (the corrected   kind cdr
 *        CDR of a partial credit note)
 *   'I'  invoices, number                            kind invoice
 *   'N'  credit_notes, number                        kind credit_note
 *
 * The puts of lmdb/ add the entries (evb_tx_put_cdr, evb_tx_inv_put,
 * evb_tx_put_credit_cdr), so every path that stores a document announces
 * it; a put over a document already stored (the CDR that gets its
 * invoice's reference in the same op) announces nothing new.
 */

#ifndef EVB_STORE_FEED_H
#define EVB_STORE_FEED_H

#include "evb_store.h"
#include "../src/core/evb_feed.h"


/*
 * The entries after feed number after (0: from the first), at most limit
 * (0: EVB_FEED_LIMIT_DEFAULT; clamped to EVB_FEED_LIMIT_MAX) and at most
 * EVB_FEED_BYTES_MAX bytes of documents (one at least), with their
 * documents copied into a, in one read transaction.  *last gets the
 * feed's last number.  EVB_P_INVALID_QUERY when after is beyond it (a
 * cursor of another store, or of this one before a restore).
 */
evb_problem_e evb_store_read_feed(evb_store_t *store, evb_arena_t *a,
    uint64_t after, size_t limit, evb_feed_item_t **items, size_t *n,
    uint64_t *last);


#endif /* EVB_STORE_FEED_H */
