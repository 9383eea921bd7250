/*
 * The store's invoices and credit notes: see evb_store_invoice.h for the
 * databases and their keys.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "evb_store.h"
#include "evb_codec.h"
#include "evb_store_int.h"
#include "evb_store_invoice.h"


/* numbers and credit ids are ids: at most EVB_ID_MAX bytes */
#define EVB_INV_KEY_MAX  (2 * EVB_ID_MAX + 2)


static int
evb_inv_key_ok(evb_str_t s)
{
    return s.len > 0 && s.len <= EVB_ID_MAX;
}


static size_t
evb_inv_pair(unsigned char *buf, evb_str_t a, evb_str_t b)
{
    memcpy(buf, a.data, a.len);
    buf[a.len] = '\0';
    memcpy(buf + a.len + 1, b.data, b.len);

    return a.len + 1 + b.len;
}


static int
evb_inv_copy(evb_arena_t *a, const MDB_val *v, evb_str_t *out)
{
    out->len = v->mv_size;
    out->data = evb_arena_strdup(a, v->mv_data, v->mv_size);

    return out->data ? 0 : ENOMEM;
}


int
evb_tx_inv_next(evb_wtxn_t *tx, char kind, uint32_t year, uint64_t *n)
{
    int            rc;
    MDB_val        v;
    MDB_dbi        dbi;
    unsigned char  k[5], b[8];

    dbi = evb_tx_dbi(tx, EVB_DB_INV_COUNTERS);
    k[0] = (unsigned char) kind;
    evb_put_be32(k + 1, year);

    rc = evb_get(evb_tx_mdb(tx), dbi, k, 5, &v);

    if (rc == MDB_NOTFOUND) {
        *n = 1;

    } else if (rc != 0) {
        return rc;

    } else if (v.mv_size != 8) {
        return EVB_RC_CORRUPT;

    } else {
        *n = evb_get_be64(v.mv_data) + 1;
    }

    evb_put_be64(b, *n);

    return evb_put(evb_tx_mdb(tx), dbi, k, 5, b, 8);
}


int
evb_tx_inv_put(evb_wtxn_t *tx, int credit_note, evb_str_t number,
    evb_str_t record)
{
    int      rc;
    MDB_val  k, v;

    if (!evb_inv_key_ok(number)) {
        return EINVAL;
    }

    k.mv_data = (void *) number.data;
    k.mv_size = number.len;
    v.mv_data = (void *) record.data;
    v.mv_size = record.len;

    /* a number is issued once: never overwrite a document */
    rc = mdb_put(evb_tx_mdb(tx),
                 evb_tx_dbi(tx, credit_note ? EVB_DB_CREDIT_NOTES
                                            : EVB_DB_INVOICES),
                 &k, &v, MDB_NOOVERWRITE);

    return rc ? rc : evb_tx_feed(tx, credit_note ? EVB_FEED_SRC_NOTE
                                                 : EVB_FEED_SRC_INVOICE,
                                 number.data, number.len);
}


int
evb_tx_inv_get(evb_wtxn_t *tx, evb_arena_t *a, int credit_note,
    evb_str_t number, evb_str_t *record)
{
    int      rc;
    MDB_val  v;

    if (!evb_inv_key_ok(number)) {
        return MDB_NOTFOUND;
    }

    rc = evb_get(evb_tx_mdb(tx),
                 evb_tx_dbi(tx, credit_note ? EVB_DB_CREDIT_NOTES
                                            : EVB_DB_INVOICES),
                 number.data, number.len, &v);

    return rc ? rc : evb_inv_copy(a, &v, record);
}


int
evb_tx_inv_index(evb_wtxn_t *tx, evb_msec_t issued_at, evb_str_t customer_id,
    evb_str_t number)
{
    int            rc;
    size_t         plen;
    uint64_t       serial;
    unsigned char  k[EVB_ID_MAX + 1 + 16];

    rc = evb_tx_inv_next(tx, 'S', 0, &serial);
    if (rc != 0) {
        return rc;
    }

    evb_put_be64(k, evb_time_key(issued_at));
    evb_put_be64(k + 8, serial);

    rc = evb_put(evb_tx_mdb(tx), evb_tx_dbi(tx, EVB_DB_INVOICE_TIME), k, 16,
                 number.data, number.len);

    if (rc != 0 || customer_id.len == 0) {
        return rc;
    }

    if (customer_id.len > EVB_ID_MAX) {
        return EINVAL;
    }

    memcpy(k, customer_id.data, customer_id.len);
    k[customer_id.len] = '\0';
    plen = customer_id.len + 1;
    evb_put_be64(k + plen, evb_time_key(issued_at));
    evb_put_be64(k + plen + 8, serial);

    return evb_put(evb_tx_mdb(tx), evb_tx_dbi(tx, EVB_DB_CUSTOMER_INVOICES),
                   k, plen + 16, number.data, number.len);
}


int
evb_tx_session_invoice_put(evb_wtxn_t *tx, uint64_t sid, char what,
    evb_str_t text)
{
    int            rc;
    unsigned char  k[8], *v;

    evb_put_be64(k, sid);

    v = malloc(text.len + 1);
    if (v == NULL) {
        return ENOMEM;
    }

    v[0] = (unsigned char) what;
    memcpy(v + 1, text.data, text.len);

    rc = evb_put(evb_tx_mdb(tx), evb_tx_dbi(tx, EVB_DB_SESSION_INVOICES), k,
                 8, v, text.len + 1);
    free(v);

    return rc;
}


static int
evb_session_invoice_val(evb_arena_t *a, const MDB_val *v, char *what,
    evb_str_t *text)
{
    MDB_val  t;

    if (v->mv_size < 1) {
        return EVB_RC_CORRUPT;
    }

    *what = *(char *) v->mv_data;
    t.mv_data = (char *) v->mv_data + 1;
    t.mv_size = v->mv_size - 1;

    return evb_inv_copy(a, &t, text);
}


int
evb_tx_session_invoice_get(evb_wtxn_t *tx, evb_arena_t *a, uint64_t sid,
    char *what, evb_str_t *text)
{
    int            rc;
    MDB_val        v;
    unsigned char  k[8];

    evb_put_be64(k, sid);

    rc = evb_get(evb_tx_mdb(tx), evb_tx_dbi(tx, EVB_DB_SESSION_INVOICES), k,
                 8, &v);

    return rc ? rc : evb_session_invoice_val(a, &v, what, text);
}


int
evb_tx_get_cdr(evb_wtxn_t *tx, evb_arena_t *a, uint64_t sid, evb_str_t *cdr)
{
    int            rc;
    MDB_val        v;
    unsigned char  k[8];

    evb_put_be64(k, sid);

    rc = evb_get(evb_tx_mdb(tx), evb_tx_dbi(tx, EVB_DB_CDRS), k, 8, &v);

    return rc ? rc : evb_inv_copy(a, &v, cdr);
}


int
evb_tx_credit_get(evb_wtxn_t *tx, evb_arena_t *a, evb_str_t invoice,
    evb_str_t credit_id, evb_str_t *request, evb_str_t *number)
{
    int            rc;
    size_t         n;
    MDB_val        v, part;
    unsigned char  k[EVB_INV_KEY_MAX];

    if (!evb_inv_key_ok(invoice) || !evb_inv_key_ok(credit_id)) {
        return MDB_NOTFOUND;
    }

    rc = evb_get(evb_tx_mdb(tx), evb_tx_dbi(tx, EVB_DB_INVOICE_CREDITS), k,
                 evb_inv_pair(k, invoice, credit_id), &v);
    if (rc != 0) {
        return rc;
    }

    if (v.mv_size < 4) {
        return EVB_RC_CORRUPT;
    }

    n = evb_get_be32(v.mv_data);
    if (n > v.mv_size - 4) {
        return EVB_RC_CORRUPT;
    }

    part.mv_data = (char *) v.mv_data + 4;
    part.mv_size = n;
    rc = evb_inv_copy(a, &part, request);

    if (rc == 0) {
        part.mv_data = (char *) v.mv_data + 4 + n;
        part.mv_size = v.mv_size - 4 - n;
        rc = evb_inv_copy(a, &part, number);
    }

    return rc;
}


int
evb_tx_credit_put(evb_wtxn_t *tx, evb_str_t invoice, evb_str_t credit_id,
    evb_str_t request, evb_str_t number)
{
    int            rc;
    unsigned char  k[EVB_INV_KEY_MAX], *v;

    if (!evb_inv_key_ok(invoice) || !evb_inv_key_ok(credit_id)) {
        return EINVAL;
    }

    v = malloc(4 + request.len + number.len);
    if (v == NULL) {
        return ENOMEM;
    }

    evb_put_be32(v, (uint32_t) request.len);
    memcpy(v + 4, request.data, request.len);
    memcpy(v + 4 + request.len, number.data, number.len);

    rc = evb_put(evb_tx_mdb(tx), evb_tx_dbi(tx, EVB_DB_INVOICE_CREDITS), k,
                 evb_inv_pair(k, invoice, credit_id), v,
                 4 + request.len + number.len);
    free(v);

    return rc;
}


/* the credit notes of an invoice, through invoice_credits */
static int
evb_credit_notes(MDB_txn *txn, MDB_dbi credits, MDB_dbi notes,
    evb_arena_t *a, evb_str_t invoice, size_t max, evb_str_t **records,
    size_t *n)
{
    int            rc;
    size_t         cnt;
    MDB_val        k, v, nk, nv;
    MDB_cursor    *cur;
    evb_str_t     *list;
    unsigned char  seek[EVB_ID_MAX + 1];

    *n = 0;
    *records = NULL;

    if (!evb_inv_key_ok(invoice)) {
        return 0;
    }

    list = evb_arena_alloc(a, sizeof(evb_str_t) * (max ? max : 1));
    if (list == NULL) {
        return ENOMEM;
    }

    memcpy(seek, invoice.data, invoice.len);
    seek[invoice.len] = '\0';

    rc = mdb_cursor_open(txn, credits, &cur);
    if (rc != 0) {
        return rc;
    }

    k.mv_data = seek;
    k.mv_size = invoice.len + 1;
    cnt = 0;

    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
         rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        if (k.mv_size <= invoice.len + 1
            || memcmp(k.mv_data, seek, invoice.len + 1) != 0)
        {
            break;
        }

        if (v.mv_size < 4 || evb_get_be32(v.mv_data) > v.mv_size - 4) {
            rc = EVB_RC_CORRUPT;
            break;
        }

        if (cnt == max) {
            rc = E2BIG;
            break;
        }

        nk.mv_size = v.mv_size - 4 - evb_get_be32(v.mv_data);
        nk.mv_data = (char *) v.mv_data + 4 + evb_get_be32(v.mv_data);

        rc = mdb_get(txn, notes, &nk, &nv);
        if (rc == MDB_NOTFOUND) {
            rc = EVB_RC_CORRUPT;
        }

        if (rc == 0) {
            rc = evb_inv_copy(a, &nv, &list[cnt]);
        }

        if (rc != 0) {
            break;
        }

        cnt++;
    }

    mdb_cursor_close(cur);

    if (rc == MDB_NOTFOUND) {
        rc = 0;
    }

    *records = list;
    *n = cnt;

    return rc;
}


int
evb_tx_credit_notes(evb_wtxn_t *tx, evb_arena_t *a, evb_str_t invoice,
    size_t max, evb_str_t **records, size_t *n)
{
    return evb_credit_notes(evb_tx_mdb(tx),
                            evb_tx_dbi(tx, EVB_DB_INVOICE_CREDITS),
                            evb_tx_dbi(tx, EVB_DB_CREDIT_NOTES), a, invoice,
                            max, records, n);
}


int
evb_tx_put_credit_cdr(evb_wtxn_t *tx, evb_str_t number, char which,
    evb_str_t cdr)
{
    int            rc, fresh;
    size_t         klen;
    MDB_dbi        dbi;
    MDB_val        v;
    evb_str_t      w;
    unsigned char  k[EVB_INV_KEY_MAX];

    if (!evb_inv_key_ok(number)) {
        return EINVAL;
    }

    w.data = &which;
    w.len = 1;
    klen = evb_inv_pair(k, number, w);
    dbi = evb_tx_dbi(tx, EVB_DB_CREDIT_CDRS);

    /* announced once, like a CDR */
    rc = evb_get(evb_tx_mdb(tx), dbi, k, klen, &v);
    if (rc != 0 && rc != MDB_NOTFOUND) {
        return rc;
    }

    fresh = (rc == MDB_NOTFOUND);

    rc = evb_put(evb_tx_mdb(tx), dbi, k, klen, cdr.data, cdr.len);

    if (rc != 0 || !fresh) {
        return rc;
    }

    return evb_tx_feed(tx, which == 'r' ? EVB_FEED_SRC_CORRECTED
                                        : EVB_FEED_SRC_CREDIT, k, klen);
}


int
evb_tx_credit_cdr_get(evb_wtxn_t *tx, evb_arena_t *a, evb_str_t number,
    char which, evb_str_t *cdr)
{
    int            rc;
    MDB_val        v;
    evb_str_t      w;
    unsigned char  k[EVB_INV_KEY_MAX];

    if (!evb_inv_key_ok(number)) {
        return MDB_NOTFOUND;
    }

    w.data = &which;
    w.len = 1;

    rc = evb_get(evb_tx_mdb(tx), evb_tx_dbi(tx, EVB_DB_CREDIT_CDRS), k,
                 evb_inv_pair(k, number, w), &v);

    return rc ? rc : evb_inv_copy(a, &v, cdr);
}


/* reads */

evb_problem_e
evb_store_get_invoice(evb_store_t *store, evb_arena_t *a, int credit_note,
    evb_str_t number, evb_str_t *record, evb_str_t **credits,
    size_t *ncredits, size_t max)
{
    int       rc;
    MDB_val   v;
    MDB_txn  *txn;

    *ncredits = 0;
    *credits = NULL;

    if (!evb_inv_key_ok(number)) {
        return credit_note ? EVB_P_UNKNOWN_CREDIT_NOTE
                           : EVB_P_UNKNOWN_INVOICE;
    }

    rc = evb_read_begin(store, &txn);
    if (rc != 0) {
        return evb_rc_problem(rc);
    }

    rc = evb_get(txn, evb_store_dbi(store, credit_note ? EVB_DB_CREDIT_NOTES
                                                       : EVB_DB_INVOICES),
                 number.data, number.len, &v);

    if (rc == 0) {
        rc = evb_inv_copy(a, &v, record);
    }

    if (rc == 0 && !credit_note) {
        rc = evb_credit_notes(txn,
                              evb_store_dbi(store, EVB_DB_INVOICE_CREDITS),
                              evb_store_dbi(store, EVB_DB_CREDIT_NOTES), a,
                              number, max, credits, ncredits);
        if (rc == E2BIG) {
            rc = 0;
        }
    }

    evb_read_end(store, txn);

    if (rc == MDB_NOTFOUND) {
        return credit_note ? EVB_P_UNKNOWN_CREDIT_NOTE
                           : EVB_P_UNKNOWN_INVOICE;
    }

    return evb_rc_problem(rc);
}


evb_problem_e
evb_store_list_invoices(evb_store_t *store, evb_arena_t *a,
    const evb_invoice_query_t *q, evb_str_t **records, size_t *n,
    char next[EVB_CURSOR_LEN + 1])
{
    int            rc, more;
    size_t         limit, plen, count;
    uint64_t       tk;
    MDB_dbi        dbi, inv;
    MDB_val        k, v, nk, nv;
    MDB_txn       *txn;
    MDB_cursor    *cur;
    evb_str_t     *list;
    unsigned char  seek[EVB_ID_MAX + 1 + 16], last[16];

    *records = NULL;
    *n = 0;
    next[0] = '\0';

    if (q->customer_id.len) {
        if (q->customer_id.len > EVB_ID_MAX) {
            return EVB_OK;
        }

        dbi = evb_store_dbi(store, EVB_DB_CUSTOMER_INVOICES);
        memcpy(seek, q->customer_id.data, q->customer_id.len);
        seek[q->customer_id.len] = '\0';
        plen = q->customer_id.len + 1;

    } else {
        dbi = evb_store_dbi(store, EVB_DB_INVOICE_TIME);
        plen = 0;
    }

    if (q->after.len) {
        if (q->after.len != EVB_CURSOR_LEN
            || evb_hex_decode(q->after.data, q->after.len, seek + plen)
               != EVB_CURSOR_LEN / 2)
        {
            return EVB_P_INVALID_QUERY;
        }

    } else if (q->to) {
        /* below the first instant not listed */
        evb_put_be64(seek + plen, evb_time_key(q->to));
        memset(seek + plen + 8, 0, 8);

    } else {
        memset(seek + plen, 0xff, 16);
    }

    limit = q->limit ? q->limit : EVB_LIST_LIMIT_DEFAULT;
    if (limit > EVB_LIST_LIMIT_MAX) {
        limit = EVB_LIST_LIMIT_MAX;
    }

    list = evb_arena_alloc(a, limit * sizeof(evb_str_t));
    if (list == NULL) {
        return EVB_P_INTERNAL;
    }

    rc = evb_read_begin(store, &txn);
    if (rc != 0) {
        return evb_rc_problem(rc);
    }

    inv = evb_store_dbi(store, EVB_DB_INVOICES);

    rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc != 0) {
        evb_read_end(store, txn);
        return evb_rc_problem(rc);
    }

    k.mv_data = seek;
    k.mv_size = plen + 16;

    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    if (rc == 0) {
        rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);

    } else if (rc == MDB_NOTFOUND) {
        rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    }

    count = 0;
    more = 0;

    for (/* void */; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_PREV)) {
        if (k.mv_size != plen + 16 || memcmp(k.mv_data, seek, plen) != 0) {
            rc = MDB_NOTFOUND;
            break;
        }

        tk = evb_get_be64((unsigned char *) k.mv_data + plen);

        if (q->to && tk >= evb_time_key(q->to)) {
            continue;
        }

        if (tk < evb_time_key(q->from)) {
            rc = MDB_NOTFOUND;
            break;
        }

        if (count == limit) {
            more = 1;
            break;
        }

        nk = v;
        rc = mdb_get(txn, inv, &nk, &nv);
        if (rc == MDB_NOTFOUND) {
            rc = EVB_RC_CORRUPT;
        }

        if (rc == 0) {
            rc = evb_inv_copy(a, &nv, &list[count]);
        }

        if (rc != 0) {
            break;
        }

        count++;
        memcpy(last, (unsigned char *) k.mv_data + plen, 16);
    }

    mdb_cursor_close(cur);
    evb_read_end(store, txn);

    if (rc != 0 && rc != MDB_NOTFOUND) {
        return evb_rc_problem(rc);
    }

    if (more) {
        evb_hex_encode(last, 16, next);
        next[EVB_CURSOR_LEN] = '\0';
    }

    *records = list;
    *n = count;

    return EVB_OK;
}


evb_problem_e
evb_store_session_invoice(evb_store_t *store, evb_arena_t *a,
    evb_str_t charger_id, evb_str_t session_id, char *what, evb_str_t *text)
{
    int            rc;
    MDB_val        v;
    MDB_txn       *txn;
    unsigned char  k[EVB_INV_KEY_MAX];

    *what = 0;
    text->data = "";
    text->len = 0;

    if (!evb_inv_key_ok(charger_id) || !evb_inv_key_ok(session_id)) {
        return EVB_OK;
    }

    rc = evb_read_begin(store, &txn);
    if (rc != 0) {
        return evb_rc_problem(rc);
    }

    rc = evb_get(txn, evb_store_dbi(store, EVB_DB_SESSION_NAMES), k,
                 evb_inv_pair(k, charger_id, session_id), &v);

    if (rc == 0 && v.mv_size != 8) {
        rc = EVB_RC_CORRUPT;
    }

    if (rc == 0) {
        rc = evb_get(txn, evb_store_dbi(store, EVB_DB_SESSION_INVOICES),
                     v.mv_data, 8, &v);
    }

    if (rc == 0) {
        rc = evb_session_invoice_val(a, &v, what, text);
    }

    evb_read_end(store, txn);

    return rc == MDB_NOTFOUND ? EVB_OK : evb_rc_problem(rc);
}


evb_problem_e
evb_store_credit_cdrs(evb_store_t *store, evb_arena_t *a, evb_str_t number,
    evb_str_t *credit, evb_str_t *corrected)
{
    int            i, rc;
    MDB_val        v;
    MDB_txn       *txn;
    evb_str_t      w, *out[2];
    unsigned char  k[EVB_INV_KEY_MAX];
    char           which[2] = { 'c', 'r' };

    out[0] = credit;
    out[1] = corrected;
    credit->data = "";
    credit->len = 0;
    *corrected = *credit;

    if (!evb_inv_key_ok(number)) {
        return EVB_OK;
    }

    rc = evb_read_begin(store, &txn);
    if (rc != 0) {
        return evb_rc_problem(rc);
    }

    for (i = 0; i < 2; i++) {
        w.data = &which[i];
        w.len = 1;

        rc = evb_get(txn, evb_store_dbi(store, EVB_DB_CREDIT_CDRS), k,
                     evb_inv_pair(k, number, w), &v);
        if (rc == 0) {
            rc = evb_inv_copy(a, &v, out[i]);
        }

        if (rc != 0 && rc != MDB_NOTFOUND) {
            break;
        }

        rc = 0;
    }

    evb_read_end(store, txn);

    return evb_rc_problem(rc);
}


evb_problem_e
evb_store_invoice_counts(evb_store_t *store, uint64_t *invoices,
    uint64_t *credit_notes)
{
    int        rc;
    MDB_txn   *txn;
    MDB_stat   ms;

    *invoices = 0;
    *credit_notes = 0;

    rc = evb_read_begin(store, &txn);
    if (rc != 0) {
        return evb_rc_problem(rc);
    }

    rc = mdb_stat(txn, evb_store_dbi(store, EVB_DB_INVOICES), &ms);
    if (rc == 0) {
        *invoices = ms.ms_entries;
        rc = mdb_stat(txn, evb_store_dbi(store, EVB_DB_CREDIT_NOTES), &ms);
    }

    if (rc == 0) {
        *credit_notes = ms.ms_entries;
    }

    evb_read_end(store, txn);

    return evb_rc_problem(rc);
}


/* evbill-store check: the invoices' numbers, documents and indexes */

static void
evb_inv_problem(void (*problem)(void *, const char *), void *data, long *n,
    const char *what)
{
    (*n)++;

    if (problem) {
        problem(data, what);
    }
}


/* each value of dbi names a document in docs */
static int
evb_inv_refs(MDB_txn *txn, MDB_dbi dbi, MDB_dbi docs, size_t skip,
    int credits, const char *index, void (*problem)(void *, const char *),
    void *data, long *n, uint64_t *entries)
{
    int          rc;
    MDB_val      k, v, x;
    MDB_cursor  *cur;
    char         buf[256];

    *entries = 0;

    rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc != 0) {
        return rc;
    }

    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
         rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        (*entries)++;

        /* session_invoices: 'I' number, or 'N' why none */
        if (skip && (v.mv_size < 1 || *(char *) v.mv_data != 'I')) {
            continue;
        }

        /* invoice_credits: BE32 n, request, number */
        if (credits) {
            if (v.mv_size < 4 || evb_get_be32(v.mv_data) > v.mv_size - 4) {
                snprintf(buf, sizeof(buf), "%s: a malformed entry", index);
                evb_inv_problem(problem, data, n, buf);
                continue;
            }

            skip = 4 + evb_get_be32(v.mv_data);
        }

        x.mv_data = (char *) v.mv_data + skip;
        x.mv_size = v.mv_size - skip;

        if (mdb_get(txn, docs, &x, &v) != 0) {
            snprintf(buf, sizeof(buf), "%s: %.*s has no document", index,
                     (int) (x.mv_size > 64 ? 64 : x.mv_size),
                     (char *) x.mv_data);
            evb_inv_problem(problem, data, n, buf);
        }

        if (credits) {
            skip = 0;
        }
    }

    mdb_cursor_close(cur);

    return rc == MDB_NOTFOUND ? 0 : rc;
}


int
evb_store_invoice_verify(MDB_txn *txn, void (*problem)(void *, const char *),
    void *data, long *n)
{
    int          i, rc;
    MDB_dbi      dbi[EVB_DB_CREDIT_CDRS - EVB_DB_INV_COUNTERS + 1];
    MDB_val      k, v;
    MDB_stat     ms;
    uint64_t     issued[2], stored[2], listed;
    MDB_cursor  *cur;
    char         buf[256];

    for (i = EVB_DB_INV_COUNTERS; i <= EVB_DB_CREDIT_CDRS; i++) {
        rc = mdb_dbi_open(txn, evb_db_names[i], 0,
                          &dbi[i - EVB_DB_INV_COUNTERS]);
        if (rc == MDB_NOTFOUND) {
            return 0;               /* no invoice was ever made */
        }

        if (rc != 0) {
            return rc;
        }
    }

#define EVB_IDB(x)  dbi[(x) - EVB_DB_INV_COUNTERS]

    /* gapless: each number a counter issued has its document */
    issued[0] = 0;
    issued[1] = 0;

    rc = mdb_cursor_open(txn, EVB_IDB(EVB_DB_INV_COUNTERS), &cur);
    if (rc != 0) {
        return rc;
    }

    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
         rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        if (k.mv_size != 5 || v.mv_size != 8) {
            evb_inv_problem(problem, data, n, "invoice counters: a malformed "
                            "entry");
            continue;
        }

        if (*(char *) k.mv_data == 'I') {
            issued[0] += evb_get_be64(v.mv_data);

        } else if (*(char *) k.mv_data == 'C') {
            issued[1] += evb_get_be64(v.mv_data);
        }
    }

    mdb_cursor_close(cur);

    if (rc != MDB_NOTFOUND) {
        return rc;
    }

    for (i = 0; i < 2; i++) {
        rc = mdb_stat(txn, EVB_IDB(i ? EVB_DB_CREDIT_NOTES : EVB_DB_INVOICES),
                      &ms);
        if (rc != 0) {
            return rc;
        }

        stored[i] = ms.ms_entries;

        if (stored[i] != issued[i]) {
            snprintf(buf, sizeof(buf), "%s: %llu stored, the counters issued "
                     "%llu numbers", i ? "credit notes" : "invoices",
                     (unsigned long long) stored[i],
                     (unsigned long long) issued[i]);
            evb_inv_problem(problem, data, n, buf);
        }
    }

    rc = evb_inv_refs(txn, EVB_IDB(EVB_DB_SESSION_INVOICES),
                      EVB_IDB(EVB_DB_INVOICES), 1, 0, "session invoices",
                      problem, data, n, &listed);

    if (rc == 0) {
        rc = evb_inv_refs(txn, EVB_IDB(EVB_DB_INVOICE_TIME),
                          EVB_IDB(EVB_DB_INVOICES), 0, 0, "invoice list",
                          problem, data, n, &listed);
    }

    if (rc == 0 && listed != stored[0]) {
        snprintf(buf, sizeof(buf), "invoice list: %llu entries for %llu "
                 "invoices", (unsigned long long) listed,
                 (unsigned long long) stored[0]);
        evb_inv_problem(problem, data, n, buf);
    }

    if (rc == 0) {
        rc = evb_inv_refs(txn, EVB_IDB(EVB_DB_INVOICE_CREDITS),
                          EVB_IDB(EVB_DB_CREDIT_NOTES), 0, 1, "credits",
                          problem, data, n, &listed);
    }

#undef EVB_IDB

    return rc;
}
