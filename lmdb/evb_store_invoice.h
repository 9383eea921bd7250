/*
 * The store's invoices and credit notes (schema 3).  Storage only: the
 * documents are opaque records (src/core/evb_invoice_doc.c encodes
 * them); numbering, who is invoiced and what may be credited are rules
 * of src/ops/evb_ops_invoice.c.
 *
 *   inv_counters       kind (1 byte) || year BE32 -> BE64 last number;
 *                      "S" -> BE64 the listing serial
 *   invoices           number -> invoice record
 *   credit_notes       number -> credit note record
 *   session_invoices   sid BE64 -> 'I' number | 'N' why none
 *   invoice_time       T || serial BE64 -> number      (newest first)
 *   customer_invoices  customer_id \0 T || serial BE64 -> number
 *   invoice_credits    invoice number \0 credit_id -> BE32 n || request
 *                      (n bytes) || credit note number
 *   credit_cdrs        credit note number \0 "c" | "r" -> CDR JSON (the
 *                      credit CDR, and the corrected one of a partial
 *                      credit)
 *
 * T is the issue instant as a time key (sign bit flipped), so byte order
 * is time order; a listing cursor is the hex of T || serial.
 */

#ifndef EVB_STORE_INVOICE_H
#define EVB_STORE_INVOICE_H

#include "evb_store.h"


/* the counter of a series: the next number, stored */
int evb_tx_inv_next(evb_wtxn_t *tx, char kind, uint32_t year, uint64_t *n);

/* a new document under its number; a number taken already is
 * EVB_ST_EXISTS (never overwritten) */
#define EVB_ST_EXISTS        (-30799)    /* MDB_KEYEXIST */

int evb_tx_inv_put(evb_wtxn_t *tx, int credit_note, evb_str_t number,
    evb_str_t record);
int evb_tx_inv_get(evb_wtxn_t *tx, evb_arena_t *a, int credit_note,
    evb_str_t number, evb_str_t *record);

/* list the invoice under its issue time (and its customer's) */
int evb_tx_inv_index(evb_wtxn_t *tx, evb_msec_t issued_at,
    evb_str_t customer_id, evb_str_t number);

/* the session's invoice ('I') or why it has none ('N') */
int evb_tx_session_invoice_put(evb_wtxn_t *tx, uint64_t sid, char what,
    evb_str_t text);
int evb_tx_session_invoice_get(evb_wtxn_t *tx, evb_arena_t *a, uint64_t sid,
    char *what, evb_str_t *text);

int evb_tx_get_cdr(evb_wtxn_t *tx, evb_arena_t *a, uint64_t sid,
    evb_str_t *cdr);

/* a credit of an invoice under the client's credit_id */
int evb_tx_credit_get(evb_wtxn_t *tx, evb_arena_t *a, evb_str_t invoice,
    evb_str_t credit_id, evb_str_t *request, evb_str_t *number);
int evb_tx_credit_put(evb_wtxn_t *tx, evb_str_t invoice, evb_str_t credit_id,
    evb_str_t request, evb_str_t number);
/* the credit note records of an invoice, at most max (more: E2BIG) */
int evb_tx_credit_notes(evb_wtxn_t *tx, evb_arena_t *a, evb_str_t invoice,
    size_t max, evb_str_t **records, size_t *n);
int evb_tx_put_credit_cdr(evb_wtxn_t *tx, evb_str_t number, char which,
    evb_str_t cdr);
int evb_tx_credit_cdr_get(evb_wtxn_t *tx, evb_arena_t *a, evb_str_t number,
    char which, evb_str_t *cdr);


/* Reads, each in a read transaction of its own. */

/* A document and, for an invoice, its credit notes' records (at most
 * max).  EVB_P_UNKNOWN_INVOICE / EVB_P_UNKNOWN_CREDIT_NOTE. */
evb_problem_e evb_store_get_invoice(evb_store_t *store, evb_arena_t *a,
    int credit_note, evb_str_t number, evb_str_t *record,
    evb_str_t **credits, size_t *ncredits, size_t max);

typedef struct {
    evb_str_t            customer_id;    /* len 0: all */
    evb_msec_t           from;           /* issued at >= from */
    evb_msec_t           to;             /* issued at < to; 0: no bound */
    evb_str_t            after;          /* cursor; len 0: from newest */
    size_t               limit;
} evb_invoice_query_t;

/* Newest first; next as evb_store_list_sessions(). */
evb_problem_e evb_store_list_invoices(evb_store_t *store, evb_arena_t *a,
    const evb_invoice_query_t *q, evb_str_t **records, size_t *n,
    char next[EVB_CURSOR_LEN + 1]);

/* The session's invoice link: *what 'I' (text: the number), 'N' (text:
 * why none) or 0 (nothing recorded). */
evb_problem_e evb_store_session_invoice(evb_store_t *store, evb_arena_t *a,
    evb_str_t charger_id, evb_str_t session_id, char *what,
    evb_str_t *text);

/* The CDRs a credit note made ("" when none). */
evb_problem_e evb_store_credit_cdrs(evb_store_t *store, evb_arena_t *a,
    evb_str_t number, evb_str_t *credit, evb_str_t *corrected);

/* How many invoices and credit notes (GET store). */
evb_problem_e evb_store_invoice_counts(evb_store_t *store, uint64_t *invoices,
    uint64_t *credit_notes);


#endif /* EVB_STORE_INVOICE_H */
