/*
 * The feed for downstream systems: see evb_store_feed.h for the
 * database, its entries and who adds them.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <lmdb.h>

#include "evb_store.h"
#include "evb_codec.h"
#include "evb_store_int.h"
#include "evb_store_feed.h"


/* src, at, and a key of at most two ids and a NUL */
#define EVB_FEED_REF_MAX  (2 * EVB_ID_MAX + 2)
#define EVB_FEED_VAL_MAX  (9 + EVB_FEED_REF_MAX)


static evb_msec_t
evb_feed_now(void)
{
    struct timespec  ts;

    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) {
        return 0;
    }

    return (evb_msec_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


/* the database an entry's src points into, and the kind it announces */
static int
evb_feed_src(char src, int *db, evb_feed_kind_e *kind)
{
    switch (src) {

    case EVB_FEED_SRC_CDR:
        *db = EVB_DB_CDRS;
        *kind = EVB_FEED_CDR;
        return 0;

    case EVB_FEED_SRC_CREDIT:
        *db = EVB_DB_CREDIT_CDRS;
        *kind = EVB_FEED_CREDIT_CDR;
        return 0;

    case EVB_FEED_SRC_CORRECTED:
        *db = EVB_DB_CREDIT_CDRS;
        *kind = EVB_FEED_CDR;
        return 0;

    case EVB_FEED_SRC_INVOICE:
        *db = EVB_DB_INVOICES;
        *kind = EVB_FEED_INVOICE;
        return 0;

    case EVB_FEED_SRC_NOTE:
        *db = EVB_DB_CREDIT_NOTES;
        *kind = EVB_FEED_CREDIT_NOTE;
        return 0;

    default:
        return EVB_RC_CORRUPT;
    }
}


/* append after the last entry: the next number, never a gap */
static int
evb_feed_put(MDB_txn *txn, MDB_dbi feed, char src, evb_msec_t at,
    const void *ref, size_t rlen)
{
    int            rc;
    uint64_t       no;
    MDB_val        k, v;
    MDB_cursor    *cur;
    unsigned char  kb[8], vb[EVB_FEED_VAL_MAX];

    if (rlen == 0 || rlen > EVB_FEED_REF_MAX) {
        return EINVAL;
    }

    rc = mdb_cursor_open(txn, feed, &cur);
    if (rc != 0) {
        return rc;
    }

    rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);

    if (rc == MDB_NOTFOUND) {
        no = 1;

    } else if (rc != 0) {
        goto done;

    } else if (k.mv_size != 8) {
        rc = EVB_RC_CORRUPT;
        goto done;

    } else {
        no = evb_get_be64(k.mv_data) + 1;
    }

    evb_put_be64(kb, no);
    vb[0] = (unsigned char) src;
    evb_put_be64(vb + 1, (uint64_t) at);
    memcpy(vb + 9, ref, rlen);

    k.mv_data = kb;
    k.mv_size = 8;
    v.mv_data = vb;
    v.mv_size = 9 + rlen;

    rc = mdb_cursor_put(cur, &k, &v, MDB_APPEND);

done:

    mdb_cursor_close(cur);

    return rc;
}


int
evb_tx_feed(evb_wtxn_t *tx, char src, const void *ref, size_t rlen)
{
    return evb_feed_put(evb_tx_mdb(tx), evb_tx_dbi(tx, EVB_DB_FEED), src,
                        evb_feed_now(), ref, rlen);
}


/* one entry's document, copied into a */
static int
evb_feed_doc(MDB_txn *txn, const MDB_dbi *dbi, const MDB_val *v,
    evb_arena_t *a, evb_feed_item_t *it)
{
    int              rc, db;
    MDB_val          k, d;
    const char      *p;

    if (v->mv_size < 10) {
        return EVB_RC_CORRUPT;
    }

    p = v->mv_data;

    rc = evb_feed_src(p[0], &db, &it->kind);
    if (rc != 0) {
        return rc;
    }

    it->at = (evb_msec_t) evb_get_be64((const unsigned char *) p + 1);

    k.mv_data = (char *) p + 9;
    k.mv_size = v->mv_size - 9;

    rc = mdb_get(txn, dbi[db], &k, &d);
    if (rc == MDB_NOTFOUND) {
        return EVB_RC_CORRUPT;      /* an entry without its document */
    }

    if (rc != 0) {
        return rc;
    }

    it->doc.len = d.mv_size;
    it->doc.data = evb_arena_strdup(a, d.mv_data, d.mv_size);

    return it->doc.data ? 0 : ENOMEM;
}


evb_problem_e
evb_store_read_feed(evb_store_t *store, evb_arena_t *a, uint64_t after,
    size_t limit, evb_feed_item_t **items, size_t *n, uint64_t *last)
{
    int               i, rc;
    size_t            cnt, bytes;
    MDB_dbi           dbi[EVB_DB_COUNT];
    MDB_val           k, v;
    MDB_txn          *txn;
    MDB_cursor       *cur;
    evb_feed_item_t  *list;
    unsigned char     kb[8];

    *items = NULL;
    *n = 0;
    *last = 0;

    if (limit == 0) {
        limit = EVB_FEED_LIMIT_DEFAULT;
    }

    if (limit > EVB_FEED_LIMIT_MAX) {
        limit = EVB_FEED_LIMIT_MAX;
    }

    list = evb_arena_alloc(a, limit * sizeof(evb_feed_item_t));
    if (list == NULL) {
        return EVB_P_INTERNAL;
    }

    for (i = 0; i < EVB_DB_COUNT; i++) {
        dbi[i] = evb_store_dbi(store, i);
    }

    rc = evb_read_begin(store, &txn);
    if (rc != 0) {
        return evb_rc_problem(rc);
    }

    rc = mdb_cursor_open(txn, dbi[EVB_DB_FEED], &cur);
    if (rc != 0) {
        evb_read_end(store, txn);
        return evb_rc_problem(rc);
    }

    rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    if (rc == 0) {
        if (k.mv_size != 8) {
            rc = EVB_RC_CORRUPT;
            goto done;
        }

        *last = evb_get_be64(k.mv_data);

    } else if (rc != MDB_NOTFOUND) {
        goto done;
    }

    if (after > *last) {
        mdb_cursor_close(cur);
        evb_read_end(store, txn);
        return EVB_P_INVALID_QUERY;
    }

    cnt = 0;
    bytes = 0;
    rc = 0;

    if (after == *last) {
        goto done;
    }

    evb_put_be64(kb, after + 1);
    k.mv_data = kb;
    k.mv_size = 8;

    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
         rc == 0 && cnt < limit;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        /* a reader's snapshot holds a prefix of the feed: no gap */
        if (k.mv_size != 8 || evb_get_be64(k.mv_data) != after + 1 + cnt) {
            rc = EVB_RC_CORRUPT;
            break;
        }

        list[cnt].no = after + 1 + cnt;

        rc = evb_feed_doc(txn, dbi, &v, a, &list[cnt]);
        if (rc != 0) {
            break;
        }

        if (cnt > 0 && bytes + list[cnt].doc.len > EVB_FEED_BYTES_MAX) {
            break;
        }

        bytes += list[cnt].doc.len;
        cnt++;
    }

    if (rc == MDB_NOTFOUND) {
        rc = 0;
    }

    *items = list;
    *n = cnt;

done:

    mdb_cursor_close(cur);
    evb_read_end(store, txn);

    if (rc != 0) {
        *n = 0;
    }

    return evb_rc_problem(rc);
}


/* the schema step: what was stored before the feed existed */

static int
evb_feed_backfill_db(MDB_txn *txn, MDB_dbi feed, const char *name, char src,
    int value_is_ref, evb_msec_t at, unsigned long *items)
{
    int          rc;
    char         s;
    MDB_dbi      dbi;
    MDB_val      k, v, *ref;
    MDB_cursor  *cur;

    rc = mdb_dbi_open(txn, name, 0, &dbi);
    if (rc == MDB_NOTFOUND) {
        return 0;
    }

    if (rc == 0) {
        rc = mdb_cursor_open(txn, dbi, &cur);
    }

    if (rc != 0) {
        return rc;
    }

    ref = value_is_ref ? &v : &k;

    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
         rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        s = src;

        /* credit_cdrs: number \0 'c' or 'r' */
        if (src == EVB_FEED_SRC_CREDIT) {
            if (k.mv_size < 3) {
                rc = EVB_RC_CORRUPT;
                break;
            }

            s = ((char *) k.mv_data)[k.mv_size - 1] == 'r'
                ? EVB_FEED_SRC_CORRECTED : EVB_FEED_SRC_CREDIT;
        }

        rc = evb_feed_put(txn, feed, s, at, ref->mv_data, ref->mv_size);
        if (rc != 0) {
            break;
        }

        (*items)++;
    }

    mdb_cursor_close(cur);

    return rc == MDB_NOTFOUND ? 0 : rc;
}


int
evb_feed_backfill(MDB_txn *txn, unsigned long *items)
{
    int          rc;
    MDB_dbi      feed;
    MDB_val      k, v;
    MDB_cursor  *cur;
    evb_msec_t   now;

    rc = mdb_dbi_open(txn, evb_db_names[EVB_DB_FEED], MDB_CREATE, &feed);
    if (rc == 0) {
        rc = mdb_cursor_open(txn, feed, &cur);
    }

    if (rc != 0) {
        return rc;
    }

    /* run again on its own output: the feed is there already */
    rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    mdb_cursor_close(cur);

    if (rc != MDB_NOTFOUND) {
        return rc;
    }

    now = evb_feed_now();

    /* sessions in creation order, invoices in issue order (the values
     * of invoice_time are numbers), credit notes by number, each kind's
     * order as well as the store knows it */
    rc = evb_feed_backfill_db(txn, feed, evb_db_names[EVB_DB_CDRS],
                              EVB_FEED_SRC_CDR, 0, now, items);
    if (rc == 0) {
        rc = evb_feed_backfill_db(txn, feed,
                                  evb_db_names[EVB_DB_INVOICE_TIME],
                                  EVB_FEED_SRC_INVOICE, 1, now, items);
    }

    if (rc == 0) {
        rc = evb_feed_backfill_db(txn, feed,
                                  evb_db_names[EVB_DB_CREDIT_NOTES],
                                  EVB_FEED_SRC_NOTE, 0, now, items);
    }

    if (rc == 0) {
        rc = evb_feed_backfill_db(txn, feed,
                                  evb_db_names[EVB_DB_CREDIT_CDRS],
                                  EVB_FEED_SRC_CREDIT, 0, now, items);
    }

    return rc;
}


/* evbill-store check */

static void
evb_feed_problem(void (*problem)(void *, const char *), void *data, long *n,
    const char *what)
{
    (*n)++;

    if (problem) {
        problem(data, what);
    }
}


int
evb_store_feed_verify(MDB_txn *txn, void (*problem)(void *, const char *),
    void *data, long *n)
{
    int              i, rc, db;
    MDB_dbi          dbi[EVB_DB_COUNT];
    MDB_val          k, v, x, d;
    MDB_stat         ms;
    uint64_t         no, count[EVB_DB_COUNT], stored;
    MDB_cursor      *cur;
    evb_feed_kind_e  kind;
    char             buf[256];

    static const int  dbs[] = {
        EVB_DB_CDRS, EVB_DB_CREDIT_CDRS, EVB_DB_INVOICES,
        EVB_DB_CREDIT_NOTES, EVB_DB_FEED
    };

    for (i = 0; i < (int) (sizeof(dbs) / sizeof(dbs[0])); i++) {
        rc = mdb_dbi_open(txn, evb_db_names[dbs[i]], 0, &dbi[dbs[i]]);
        if (rc != 0) {
            return rc;
        }

        count[dbs[i]] = 0;
    }

    rc = mdb_cursor_open(txn, dbi[EVB_DB_FEED], &cur);
    if (rc != 0) {
        return rc;
    }

    no = 0;

    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
         rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        no++;

        if (k.mv_size != 8 || evb_get_be64(k.mv_data) != no) {
            snprintf(buf, sizeof(buf), "feed: entry %llu is missing (the "
                     "numbers have a gap)", (unsigned long long) no);
            evb_feed_problem(problem, data, n, buf);

            if (k.mv_size == 8) {
                no = evb_get_be64(k.mv_data);
            }
        }

        if (v.mv_size < 10
            || evb_feed_src(*(char *) v.mv_data, &db, &kind) != 0)
        {
            snprintf(buf, sizeof(buf), "feed: entry %llu is malformed",
                     (unsigned long long) no);
            evb_feed_problem(problem, data, n, buf);
            continue;
        }

        count[db]++;

        x.mv_data = (char *) v.mv_data + 9;
        x.mv_size = v.mv_size - 9;

        if (mdb_get(txn, dbi[db], &x, &d) != 0) {
            snprintf(buf, sizeof(buf), "feed: entry %llu has no document",
                     (unsigned long long) no);
            evb_feed_problem(problem, data, n, buf);
        }
    }

    mdb_cursor_close(cur);

    if (rc != MDB_NOTFOUND) {
        return rc;
    }

    /* one entry per document: as many entries as documents */
    for (i = 0; i < 4; i++) {
        rc = mdb_stat(txn, dbi[dbs[i]], &ms);
        if (rc != 0) {
            return rc;
        }

        stored = ms.ms_entries;

        if (stored != count[dbs[i]]) {
            snprintf(buf, sizeof(buf), "feed: %llu entries for %llu "
                     "documents in %s", (unsigned long long) count[dbs[i]],
                     (unsigned long long) stored, evb_db_names[dbs[i]]);
            evb_feed_problem(problem, data, n, buf);
        }
    }

    return 0;
}
