/*
 * The driver API's index of sessions by customer (schema 6); see
 * evb_store_driver.h.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <lmdb.h>

#include "evb_store.h"
#include "evb_codec.h"
#include "evb_store_int.h"
#include "evb_store_driver.h"


static size_t
evb_cs_key(unsigned char *k, evb_str_t customer_id, evb_msec_t started_at,
    uint64_t sid)
{
    size_t  plen;

    memcpy(k, customer_id.data, customer_id.len);
    k[customer_id.len] = '\0';
    plen = customer_id.len + 1;
    evb_put_be64(k + plen, evb_time_key(started_at));
    evb_put_be64(k + plen + 8, sid);

    return plen + 16;
}


int
evb_tx_customer_session_put(evb_wtxn_t *tx, evb_str_t customer_id,
    evb_msec_t started_at, uint64_t sid)
{
    size_t         klen;
    unsigned char  k[EVB_ID_MAX + 1 + 16];

    if (customer_id.len == 0 || customer_id.len > EVB_ID_MAX) {
        return EINVAL;
    }

    klen = evb_cs_key(k, customer_id, started_at, sid);

    return evb_put(evb_tx_mdb(tx),
                   evb_tx_dbi(tx, EVB_DB_CUSTOMER_SESSIONS), k, klen, "", 0);
}


evb_problem_e
evb_store_list_customer_sessions(evb_store_t *store, evb_arena_t *a,
    evb_str_t customer_id, evb_str_t after, size_t limit,
    evb_session_t **items, size_t *n, char next[EVB_CURSOR_LEN + 1])
{
    int             rc, more;
    size_t          plen, count;
    MDB_val         k, v;
    MDB_txn        *txn;
    MDB_cursor     *cur;
    evb_session_t  *list;
    unsigned char   seek[EVB_ID_MAX + 1 + 16], last[16];

    *items = NULL;
    *n = 0;
    next[0] = '\0';

    if (customer_id.len == 0 || customer_id.len > EVB_ID_MAX) {
        return EVB_OK;            /* no such customer: nothing to list */
    }

    memcpy(seek, customer_id.data, customer_id.len);
    seek[customer_id.len] = '\0';
    plen = customer_id.len + 1;

    if (after.len) {
        if (after.len != EVB_CURSOR_LEN
            || evb_hex_decode(after.data, after.len, seek + plen)
               != EVB_CURSOR_LEN / 2)
        {
            return EVB_P_INVALID_QUERY;
        }

    } else {
        memset(seek + plen, 0xff, 16);
    }

    if (limit == 0) {
        limit = EVB_LIST_LIMIT_DEFAULT;
    }

    if (limit > EVB_LIST_LIMIT_MAX) {
        limit = EVB_LIST_LIMIT_MAX;
    }

    list = evb_arena_alloc(a, limit * sizeof(evb_session_t));
    if (list == NULL) {
        return EVB_P_INTERNAL;
    }

    rc = evb_read_begin(store, &txn);
    if (rc != 0) {
        return evb_rc_problem(rc);
    }

    rc = mdb_cursor_open(txn, evb_store_dbi(store, EVB_DB_CUSTOMER_SESSIONS),
                         &cur);
    if (rc != 0) {
        evb_read_end(store, txn);
        return evb_rc_problem(rc);
    }

    /* the last key below seek, then backwards within the prefix */
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

        if (count == limit) {
            more = 1;
            break;
        }

        rc = evb_store_load_sid(store, txn, a,
                 evb_get_be64((unsigned char *) k.mv_data + plen + 8),
                 &list[count]);
        if (rc == MDB_NOTFOUND) {
            rc = EVB_RC_CORRUPT;
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

    *items = list;
    *n = count;

    return EVB_OK;
}


/* decoded start records are copied into the arena: a new arena every
 * 1024 of them bounds the memory of a walk over a large store */
static int
evb_cs_arena_renew(evb_arena_t **a, unsigned long *count)
{
    if (++*count % 1024 != 0) {
        return 0;
    }

    evb_arena_destroy(*a);

    *a = evb_arena_create(4096);

    return *a == NULL ? ENOMEM : 0;
}


/*
 * 5 -> 6: customer_sessions, filled from the start records of the
 * sessions stored so far (sessions started before schema 3 have none and
 * belong to no customer).
 */
int
evb_step_customer_sessions(MDB_txn *txn, unsigned long *items)
{
    int                  rc;
    size_t               klen;
    MDB_dbi              times, starts, cs;
    MDB_val              k, v, sv;
    MDB_cursor          *cur;
    evb_arena_t         *a;
    evb_session_start_t  st;
    unsigned long        seen;
    unsigned char        key[EVB_ID_MAX + 1 + 16];

    seen = 0;

    rc = mdb_dbi_open(txn, evb_db_names[EVB_DB_CUSTOMER_SESSIONS],
                      MDB_CREATE, &cs);
    if (rc == 0) {
        rc = mdb_dbi_open(txn, evb_db_names[EVB_DB_SESSION_TIME], MDB_CREATE,
                          &times);
    }

    if (rc == 0) {
        rc = mdb_dbi_open(txn, evb_db_names[EVB_DB_SESSION_STARTS],
                          MDB_CREATE, &starts);
    }

    if (rc != 0) {
        return rc;
    }

    rc = mdb_cursor_open(txn, times, &cur);
    if (rc != 0) {
        return rc;
    }

    a = evb_arena_create(4096);
    if (a == NULL) {
        mdb_cursor_close(cur);
        return ENOMEM;
    }

    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
         rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        if (k.mv_size != 16) {
            rc = EVB_RC_CORRUPT;
            break;
        }

        rc = evb_cs_arena_renew(&a, &seen);
        if (rc != 0) {
            break;
        }

        /* T || sid: the session_time key is ours after the prefix */
        rc = evb_get(txn, starts, (unsigned char *) k.mv_data + 8, 8, &sv);
        if (rc == MDB_NOTFOUND) {
            continue;
        }

        if (rc == 0) {
            rc = evb_dec_session_start(a, &sv, &st);
        }

        if (rc != 0) {
            break;
        }

        if (st.customer_id.len == 0) {
            continue;
        }

        if (st.customer_id.len > EVB_ID_MAX) {
            rc = EVB_RC_CORRUPT;
            break;
        }

        memcpy(key, st.customer_id.data, st.customer_id.len);
        key[st.customer_id.len] = '\0';
        klen = st.customer_id.len + 1;
        memcpy(key + klen, k.mv_data, 16);

        rc = evb_put(txn, cs, key, klen + 16, "", 0);
        if (rc != 0) {
            break;
        }

        (*items)++;
    }

    mdb_cursor_close(cur);

    if (a != NULL) {
        evb_arena_destroy(a);
    }

    return rc == MDB_NOTFOUND ? 0 : rc;
}


/*
 * evbill-store check (schema 6): every customer_sessions entry names a
 * session whose start record names that customer, and every session
 * whose start record names a customer has its entry.
 */

static void
evb_cs_problem(void (*problem)(void *, const char *), void *data, long *n,
    const char *what)
{
    (*n)++;

    if (problem) {
        problem(data, what);
    }
}


int
evb_store_driver_verify(MDB_txn *txn,
    void (*problem)(void *data, const char *what), void *data, long *n)
{
    int                  rc;
    size_t               plen;
    uint64_t             sid;
    unsigned long        seen;
    MDB_dbi              cs, times, starts;
    MDB_val              k, v, sv;
    MDB_cursor          *cur;
    evb_arena_t         *a;
    evb_session_start_t  st;
    unsigned char        key[EVB_ID_MAX + 1 + 16];
    char                 buf[256];

    rc = mdb_dbi_open(txn, evb_db_names[EVB_DB_CUSTOMER_SESSIONS], 0, &cs);
    if (rc == 0) {
        rc = mdb_dbi_open(txn, evb_db_names[EVB_DB_SESSION_TIME], 0, &times);
    }

    if (rc == 0) {
        rc = mdb_dbi_open(txn, evb_db_names[EVB_DB_SESSION_STARTS], 0,
                          &starts);
    }

    if (rc != 0) {
        return rc;
    }

    seen = 0;

    a = evb_arena_create(4096);
    if (a == NULL) {
        return ENOMEM;
    }

    /* each entry: its session's start names its customer */
    rc = mdb_cursor_open(txn, cs, &cur);
    if (rc != 0) {
        evb_arena_destroy(a);
        return rc;
    }

    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
         rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        plen = k.mv_size > 16 ? k.mv_size - 16 : 0;

        if (plen < 2 || plen > EVB_ID_MAX + 1
            || ((unsigned char *) k.mv_data)[plen - 1] != '\0')
        {
            evb_cs_problem(problem, data, n, "customer_sessions: a "
                           "malformed key");
            continue;
        }

        sid = evb_get_be64((unsigned char *) k.mv_data + plen + 8);

        rc = evb_cs_arena_renew(&a, &seen);
        if (rc != 0) {
            break;
        }

        if (evb_get(txn, starts, (unsigned char *) k.mv_data + plen + 8, 8,
                    &sv)
            != 0
            || evb_dec_session_start(a, &sv, &st) != 0
            || st.customer_id.len != plen - 1
            || memcmp(st.customer_id.data, k.mv_data, plen - 1) != 0)
        {
            snprintf(buf, sizeof(buf), "customer_sessions: session %llu "
                     "is listed under customer \"%.*s\", which its start "
                     "record does not name", (unsigned long long) sid,
                     (int) (plen - 1), (char *) k.mv_data);
            evb_cs_problem(problem, data, n, buf);
        }
    }

    mdb_cursor_close(cur);

    if (rc != MDB_NOTFOUND) {
        if (a != NULL) {
            evb_arena_destroy(a);
        }

        return rc;
    }

    /* each session of a customer: its entry */
    rc = mdb_cursor_open(txn, times, &cur);
    if (rc != 0) {
        evb_arena_destroy(a);
        return rc;
    }

    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
         rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        rc = evb_cs_arena_renew(&a, &seen);
        if (rc != 0) {
            break;
        }

        if (k.mv_size != 16
            || evb_get(txn, starts, (unsigned char *) k.mv_data + 8, 8, &sv)
               != 0
            || evb_dec_session_start(a, &sv, &st) != 0
            || st.customer_id.len == 0 || st.customer_id.len > EVB_ID_MAX)
        {
            continue;             /* no customer; other checks see more */
        }

        memcpy(key, st.customer_id.data, st.customer_id.len);
        key[st.customer_id.len] = '\0';
        plen = st.customer_id.len + 1;
        memcpy(key + plen, k.mv_data, 16);

        if (evb_get(txn, cs, key, plen + 16, &sv) != 0) {
            snprintf(buf, sizeof(buf), "customer_sessions: session %llu of "
                     "customer \"%.*s\" is not listed",
                     (unsigned long long) evb_get_be64(
                         (unsigned char *) k.mv_data + 8),
                     (int) st.customer_id.len, st.customer_id.data);
            evb_cs_problem(problem, data, n, buf);
        }
    }

    mdb_cursor_close(cur);

    if (a != NULL) {
        evb_arena_destroy(a);
    }

    return rc == MDB_NOTFOUND ? 0 : rc;
}
