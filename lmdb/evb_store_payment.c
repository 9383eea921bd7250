/*
 * The store's payments (evb_store_payment.h): records, links, the
 * outbox and seen webhook events.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "evb_store.h"
#include "evb_codec.h"
#include "evb_store_int.h"
#include "evb_store_payment.h"
#include "evb_store_invoice.h"     /* EVB_ST_EXISTS */


#define EVB_PAY_KEY_MAX   256


static int
evb_pay_copy(evb_arena_t *a, const MDB_val *v, evb_str_t *out)
{
    out->len = v->mv_size;
    out->data = evb_arena_strdup(a, v->mv_data, v->mv_size);

    return out->data ? 0 : ENOMEM;
}


static int
evb_pay_key_ok(evb_str_t k)
{
    return k.len > 0 && k.len < EVB_PAY_KEY_MAX;
}


int
evb_tx_pay_get(evb_wtxn_t *tx, evb_arena_t *a, evb_str_t id,
    evb_str_t *record)
{
    int      rc;
    MDB_val  v;

    if (!evb_pay_key_ok(id)) {
        return EVB_ST_NOTFOUND;
    }

    rc = evb_get(evb_tx_mdb(tx), evb_tx_dbi(tx, EVB_DB_PAYMENTS), id.data,
                 id.len, &v);

    return rc ? rc : evb_pay_copy(a, &v, record);
}


int
evb_tx_pay_put(evb_wtxn_t *tx, evb_str_t id, evb_str_t record)
{
    if (!evb_pay_key_ok(id)) {
        return EINVAL;
    }

    return evb_put(evb_tx_mdb(tx), evb_tx_dbi(tx, EVB_DB_PAYMENTS), id.data,
                   id.len, record.data, record.len);
}


static size_t
evb_pay_link_key(char kind, evb_str_t key, unsigned char *k)
{
    k[0] = (unsigned char) kind;
    memcpy(k + 1, key.data, key.len);

    return key.len + 1;
}


int
evb_tx_pay_link_get(evb_wtxn_t *tx, evb_arena_t *a, char kind,
    evb_str_t key, evb_str_t *payment_id)
{
    int            rc;
    size_t         klen;
    MDB_val        v;
    unsigned char  k[EVB_PAY_KEY_MAX + 1];

    if (!evb_pay_key_ok(key)) {
        return EVB_ST_NOTFOUND;
    }

    klen = evb_pay_link_key(kind, key, k);

    rc = evb_get(evb_tx_mdb(tx), evb_tx_dbi(tx, EVB_DB_PAYMENT_LINKS), k,
                 klen, &v);

    return rc ? rc : evb_pay_copy(a, &v, payment_id);
}


int
evb_tx_pay_link_put(evb_wtxn_t *tx, char kind, evb_str_t key,
    evb_str_t payment_id)
{
    size_t         klen;
    unsigned char  k[EVB_PAY_KEY_MAX + 1];

    if (!evb_pay_key_ok(key)) {
        return EINVAL;
    }

    klen = evb_pay_link_key(kind, key, k);

    return evb_put(evb_tx_mdb(tx), evb_tx_dbi(tx, EVB_DB_PAYMENT_LINKS), k,
                   klen, payment_id.data, payment_id.len);
}


int
evb_tx_pay_link_del(evb_wtxn_t *tx, char kind, evb_str_t key)
{
    int            rc;
    MDB_val        k;
    unsigned char  kb[EVB_PAY_KEY_MAX + 1];

    if (!evb_pay_key_ok(key)) {
        return EINVAL;
    }

    k.mv_size = evb_pay_link_key(kind, key, kb);
    k.mv_data = kb;

    rc = mdb_del(evb_tx_mdb(tx), evb_tx_dbi(tx, EVB_DB_PAYMENT_LINKS), &k,
                 NULL);

    return rc == MDB_NOTFOUND ? 0 : rc;
}


int
evb_tx_pay_outbox(evb_wtxn_t *tx, evb_str_t id, int on)
{
    int      rc;
    MDB_val  key;

    if (!evb_pay_key_ok(id)) {
        return EINVAL;
    }

    if (on) {
        return evb_put(evb_tx_mdb(tx), evb_tx_dbi(tx, EVB_DB_PAYMENT_OUTBOX),
                       id.data, id.len, "", 0);
    }

    key.mv_data = (void *) id.data;
    key.mv_size = id.len;

    rc = mdb_del(evb_tx_mdb(tx), evb_tx_dbi(tx, EVB_DB_PAYMENT_OUTBOX), &key,
                 NULL);

    return rc == MDB_NOTFOUND ? 0 : rc;
}


int
evb_tx_pay_event(evb_wtxn_t *tx, evb_str_t event_id, evb_msec_t now)
{
    int            rc;
    MDB_val        v;
    unsigned char  b[8];

    if (!evb_pay_key_ok(event_id)) {
        return EINVAL;
    }

    rc = evb_get(evb_tx_mdb(tx), evb_tx_dbi(tx, EVB_DB_PAYMENT_EVENTS),
                 event_id.data, event_id.len, &v);
    if (rc == 0) {
        return EVB_ST_EXISTS;
    }

    if (rc != MDB_NOTFOUND) {
        return rc;
    }

    evb_put_be64(b, (uint64_t) now);

    return evb_put(evb_tx_mdb(tx), evb_tx_dbi(tx, EVB_DB_PAYMENT_EVENTS),
                   event_id.data, event_id.len, b, 8);
}


evb_problem_e
evb_store_pay_get(evb_store_t *store, evb_arena_t *a, evb_str_t id,
    evb_str_t *record)
{
    int       rc;
    MDB_val   v;
    MDB_txn  *txn;

    if (!evb_pay_key_ok(id)) {
        return EVB_P_UNKNOWN_PAYMENT;
    }

    rc = evb_read_begin(store, &txn);
    if (rc != 0) {
        return evb_rc_problem(rc);
    }

    rc = evb_get(txn, evb_store_dbi(store, EVB_DB_PAYMENTS), id.data, id.len,
                 &v);
    if (rc == 0) {
        rc = evb_pay_copy(a, &v, record);
    }

    evb_read_end(store, txn);

    return rc == MDB_NOTFOUND ? EVB_P_UNKNOWN_PAYMENT : evb_rc_problem(rc);
}


evb_problem_e
evb_store_pay_link(evb_store_t *store, evb_arena_t *a, char kind,
    evb_str_t key, evb_str_t *payment_id)
{
    int            rc;
    size_t         klen;
    MDB_val        v;
    MDB_txn       *txn;
    unsigned char  k[EVB_PAY_KEY_MAX + 1];

    if (!evb_pay_key_ok(key)) {
        return EVB_P_UNKNOWN_PAYMENT;
    }

    klen = evb_pay_link_key(kind, key, k);

    rc = evb_read_begin(store, &txn);
    if (rc != 0) {
        return evb_rc_problem(rc);
    }

    rc = evb_get(txn, evb_store_dbi(store, EVB_DB_PAYMENT_LINKS), k, klen,
                 &v);
    if (rc == 0) {
        rc = evb_pay_copy(a, &v, payment_id);
    }

    evb_read_end(store, txn);

    return rc == MDB_NOTFOUND ? EVB_P_UNKNOWN_PAYMENT : evb_rc_problem(rc);
}


evb_problem_e
evb_store_pay_outbox(evb_store_t *store, evb_arena_t *a, evb_str_t after,
    size_t max, evb_str_t **ids, size_t *n)
{
    int          rc;
    MDB_val      k, v;
    MDB_txn     *txn;
    MDB_cursor  *cur;

    *n = 0;
    *ids = evb_arena_alloc(a, (max ? max : 1) * sizeof(evb_str_t));
    if (*ids == NULL) {
        return EVB_P_INTERNAL;
    }

    rc = evb_read_begin(store, &txn);
    if (rc != 0) {
        return evb_rc_problem(rc);
    }

    rc = mdb_cursor_open(txn, evb_store_dbi(store, EVB_DB_PAYMENT_OUTBOX),
                         &cur);
    if (rc != 0) {
        evb_read_end(store, txn);
        return evb_rc_problem(rc);
    }

    if (after.len > 0) {
        k.mv_data = (void *) after.data;
        k.mv_size = after.len;
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);

        if (rc == 0 && k.mv_size == after.len
            && memcmp(k.mv_data, after.data, after.len) == 0)
        {
            rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
        }

    } else {
        rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    }

    while (rc == 0 && *n < max) {
        rc = evb_pay_copy(a, &k, &(*ids)[*n]);
        if (rc != 0) {
            break;
        }

        (*n)++;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }

    mdb_cursor_close(cur);
    evb_read_end(store, txn);

    return rc == MDB_NOTFOUND || rc == 0 ? EVB_OK : evb_rc_problem(rc);
}
