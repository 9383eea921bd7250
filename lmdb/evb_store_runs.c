/*
 * The store's monthly billing: see evb_store_runs.h for the databases
 * and their keys.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "evb_store.h"
#include "evb_codec.h"
#include "evb_store_int.h"
#include "evb_store_runs.h"


#define EVB_PENDING_KEY_MAX  (EVB_ID_MAX + 1 + 16)


static int
evb_runs_copy(evb_arena_t *a, const void *data, size_t len, evb_str_t *out)
{
    out->len = len;
    out->data = evb_arena_strdup(a, data, len);

    return out->data ? 0 : ENOMEM;
}


int
evb_tx_pending_put(evb_wtxn_t *tx, evb_str_t customer_id, evb_msec_t end,
    uint64_t sid, evb_str_t record)
{
    size_t         plen;
    unsigned char  k[EVB_PENDING_KEY_MAX];

    if (customer_id.len == 0 || customer_id.len > EVB_ID_MAX) {
        return EINVAL;
    }

    memcpy(k, customer_id.data, customer_id.len);
    k[customer_id.len] = '\0';
    plen = customer_id.len + 1;
    evb_put_be64(k + plen, evb_time_key(end));
    evb_put_be64(k + plen + 8, sid);

    return evb_put(evb_tx_mdb(tx), evb_tx_dbi(tx, EVB_DB_MONTH_PENDING), k,
                   plen + 16, record.data, record.len);
}


int
evb_tx_pending_del(evb_wtxn_t *tx, evb_str_t key)
{
    MDB_val  k;

    k.mv_data = (void *) key.data;
    k.mv_size = key.len;

    return mdb_del(evb_tx_mdb(tx), evb_tx_dbi(tx, EVB_DB_MONTH_PENDING), &k,
                   NULL);
}


int
evb_tx_pending_next_customer(evb_wtxn_t *tx, evb_arena_t *a, evb_str_t after,
    evb_str_t *customer_id)
{
    int             rc;
    size_t          i;
    MDB_val         k, v;
    MDB_cursor     *cur;
    unsigned char   buf[EVB_ID_MAX + 2];

    if (after.len > EVB_ID_MAX) {
        return EINVAL;
    }

    rc = mdb_cursor_open(evb_tx_mdb(tx), evb_tx_dbi(tx, EVB_DB_MONTH_PENDING),
                         &cur);
    if (rc != 0) {
        return rc;
    }

    if (after.len == 0) {
        rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);

    } else {
        /* after's own keys are after \0 ...; ids have no byte below 0x21,
         * so after \1 is past all of them and before any longer id */
        memcpy(buf, after.data, after.len);
        buf[after.len] = '\1';
        k.mv_data = buf;
        k.mv_size = after.len + 1;
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    }

    if (rc == 0) {
        for (i = 0; i < k.mv_size; i++) {
            if (((unsigned char *) k.mv_data)[i] == '\0') {
                break;
            }
        }

        rc = (i == 0 || i == k.mv_size || i > EVB_ID_MAX)
             ? EVB_RC_CORRUPT
             : evb_runs_copy(a, k.mv_data, i, customer_id);
    }

    mdb_cursor_close(cur);

    return rc;
}


int
evb_tx_pending_list(evb_wtxn_t *tx, evb_arena_t *a, evb_str_t customer_id,
    size_t max, evb_pending_t **items, size_t *n)
{
    int             rc;
    size_t          plen, cap;
    MDB_val         k, v;
    MDB_cursor     *cur;
    evb_pending_t  *it, *grown;
    unsigned char   buf[EVB_ID_MAX + 1];

    *items = NULL;
    *n = 0;

    if (customer_id.len == 0 || customer_id.len > EVB_ID_MAX) {
        return EINVAL;
    }

    memcpy(buf, customer_id.data, customer_id.len);
    buf[customer_id.len] = '\0';
    plen = customer_id.len + 1;

    rc = mdb_cursor_open(evb_tx_mdb(tx), evb_tx_dbi(tx, EVB_DB_MONTH_PENDING),
                         &cur);
    if (rc != 0) {
        return rc;
    }

    cap = 0;
    k.mv_data = buf;
    k.mv_size = plen;

    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
         rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        if (k.mv_size != plen + 16 || memcmp(k.mv_data, buf, plen) != 0) {
            break;
        }

        if (*n == max) {
            rc = E2BIG;
            break;
        }

        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            grown = evb_arena_alloc(a, sizeof(evb_pending_t) * cap);
            if (grown == NULL) {
                rc = ENOMEM;
                break;
            }

            if (*n) {
                memcpy(grown, *items, sizeof(evb_pending_t) * *n);
            }

            *items = grown;
        }

        it = &(*items)[*n];
        it->end = (evb_msec_t) (evb_get_be64((unsigned char *) k.mv_data
                                             + plen) ^ (1ULL << 63));
        it->sid = evb_get_be64((unsigned char *) k.mv_data + plen + 8);

        rc = evb_runs_copy(a, k.mv_data, k.mv_size, &it->key);
        if (rc == 0) {
            rc = evb_runs_copy(a, v.mv_data, v.mv_size, &it->record);
        }

        if (rc != 0) {
            break;
        }

        (*n)++;
    }

    mdb_cursor_close(cur);

    return rc == MDB_NOTFOUND ? 0 : rc;
}


int
evb_tx_run_get(evb_wtxn_t *tx, evb_arena_t *a, evb_str_t period,
    evb_str_t *record)
{
    int      rc;
    MDB_val  v;

    if (period.len == 0 || period.len > EVB_ID_MAX) {
        return MDB_NOTFOUND;
    }

    rc = evb_get(evb_tx_mdb(tx), evb_tx_dbi(tx, EVB_DB_BILLING_RUNS),
                 period.data, period.len, &v);

    return rc ? rc : evb_runs_copy(a, v.mv_data, v.mv_size, record);
}


int
evb_tx_run_put(evb_wtxn_t *tx, evb_str_t period, evb_str_t record)
{
    if (period.len == 0 || period.len > EVB_ID_MAX) {
        return EINVAL;
    }

    return evb_put(evb_tx_mdb(tx), evb_tx_dbi(tx, EVB_DB_BILLING_RUNS),
                   period.data, period.len, record.data, record.len);
}


/* the numbers under period, in index order: all of them (n NULL), or
 * exactly *n */
static int
evb_run_numbers(MDB_txn *txn, MDB_dbi dbi, evb_arena_t *a, evb_str_t period,
    size_t *n, int all, evb_str_t **numbers)
{
    int             rc;
    size_t          k, cap;
    MDB_val         key, v;
    MDB_cursor     *cur;
    evb_str_t      *grown;
    unsigned char   buf[EVB_ID_MAX + 4];

    cap = all ? 16 : (*n ? *n : 1);
    *numbers = evb_arena_alloc(a, sizeof(evb_str_t) * cap);
    if (*numbers == NULL) {
        return ENOMEM;
    }

    rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc != 0) {
        return rc;
    }

    memcpy(buf, period.data, period.len);
    evb_put_be32(buf + period.len, 0);
    key.mv_data = buf;
    key.mv_size = period.len + 4;
    k = 0;

    for (rc = mdb_cursor_get(cur, &key, &v, MDB_SET_RANGE);
         rc == 0;
         rc = mdb_cursor_get(cur, &key, &v, MDB_NEXT))
    {
        if (key.mv_size != period.len + 4
            || memcmp(key.mv_data, period.data, period.len) != 0)
        {
            break;
        }

        if (evb_get_be32((unsigned char *) key.mv_data + period.len)
            != (uint32_t) k
            || (!all && k == *n))
        {
            rc = EVB_RC_CORRUPT;
            break;
        }

        if (k == cap) {
            cap *= 2;
            grown = evb_arena_alloc(a, sizeof(evb_str_t) * cap);
            if (grown == NULL) {
                rc = ENOMEM;
                break;
            }

            memcpy(grown, *numbers, sizeof(evb_str_t) * k);
            *numbers = grown;
        }

        rc = evb_runs_copy(a, v.mv_data, v.mv_size, &(*numbers)[k]);
        if (rc != 0) {
            break;
        }

        k++;
    }

    mdb_cursor_close(cur);

    if (rc == MDB_NOTFOUND) {
        rc = 0;
    }

    if (rc == 0 && !all && k != *n) {
        rc = EVB_RC_CORRUPT;
    }

    *n = k;

    return rc;
}


int
evb_tx_run_number_put(evb_wtxn_t *tx, evb_str_t period, uint32_t i,
    evb_str_t number)
{
    unsigned char  k[EVB_ID_MAX + 4];

    if (period.len == 0 || period.len > EVB_ID_MAX) {
        return EINVAL;
    }

    memcpy(k, period.data, period.len);
    evb_put_be32(k + period.len, i);

    return evb_put(evb_tx_mdb(tx), evb_tx_dbi(tx, EVB_DB_BILLING_RUNS), k,
                   period.len + 4, number.data, number.len);
}


int
evb_tx_run_numbers(evb_wtxn_t *tx, evb_arena_t *a, evb_str_t period,
    size_t n, evb_str_t **numbers)
{
    if (period.len == 0 || period.len > EVB_ID_MAX) {
        return EINVAL;
    }

    return evb_run_numbers(evb_tx_mdb(tx),
                           evb_tx_dbi(tx, EVB_DB_BILLING_RUNS), a, period,
                           &n, 0, numbers);
}


evb_problem_e
evb_store_get_run(evb_store_t *store, evb_arena_t *a, evb_str_t period,
    evb_str_t *record, evb_str_t **numbers, size_t *n)
{
    int       rc;
    MDB_val   v;
    MDB_txn  *txn;
    MDB_dbi   dbi;

    *n = 0;
    *numbers = NULL;

    if (period.len == 0 || period.len > EVB_ID_MAX) {
        return EVB_P_UNKNOWN_RUN;
    }

    rc = evb_read_begin(store, &txn);
    if (rc != 0) {
        return evb_rc_problem(rc);
    }

    dbi = evb_store_dbi(store, EVB_DB_BILLING_RUNS);
    rc = evb_get(txn, dbi, period.data, period.len, &v);

    if (rc == 0) {
        rc = evb_runs_copy(a, v.mv_data, v.mv_size, record);
    }

    if (rc == 0) {
        rc = evb_run_numbers(txn, dbi, a, period, n, 1, numbers);
    }

    evb_read_end(store, txn);

    if (rc == MDB_NOTFOUND) {
        return EVB_P_UNKNOWN_RUN;
    }

    return rc ? evb_rc_problem(rc) : EVB_OK;
}
