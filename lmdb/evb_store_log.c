/*
 * The reading log (schema 3): every reading of every session under one
 * global, growing number (rno BE64), appended with MDB_APPEND, so the
 * readings of one commit share its last leaf whatever sessions they
 * belong to, and leaves are filled whole.  Each entry names its session
 * and the session's previous entry (a chain back from the session's
 * log_last); reading_index (sid BE64 || seq BE64 -> rno BE64) holds
 * every EVB_LOG_SKIP-th reading of a session, so finding a seq (a
 * replay) reads at most EVB_LOG_SKIP entries, and is written once per
 * EVB_LOG_SKIP readings of a session, not per commit.
 */

#include <errno.h>
#include <string.h>

#include <lmdb.h>

#include "evb_store.h"
#include "evb_codec.h"
#include "evb_store_int.h"


int
evb_log_append(MDB_txn *txn, MDB_dbi log, MDB_dbi index, evb_buf_t *enc,
    evb_session_t *s, const evb_reading_t *r)
{
    int            rc;
    uint64_t       rno;
    MDB_val        k, v;
    MDB_cursor    *cur;
    unsigned char  kb[8], ik[16];

    rc = mdb_cursor_open(txn, log, &cur);
    if (rc != 0) {
        return rc;
    }

    rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);

    if (rc == MDB_NOTFOUND) {
        rno = 1;

    } else if (rc != 0) {
        goto done;

    } else if (k.mv_size != 8) {
        rc = EVB_RC_CORRUPT;
        goto done;

    } else {
        rno = evb_get_be64(k.mv_data) + 1;
    }

    evb_buf_reset(enc);
    evb_enc_log_reading(enc, s->sid, s->log_last, rno, r);
    if (enc->oom) {
        rc = ENOMEM;
        goto done;
    }

    evb_put_be64(kb, rno);
    k.mv_data = kb;
    k.mv_size = 8;
    v.mv_data = enc->data;
    v.mv_size = enc->len;

    rc = mdb_cursor_put(cur, &k, &v, MDB_APPEND);
    if (rc != 0) {
        goto done;
    }

    if (s->nreadings % EVB_LOG_SKIP == 0) {
        evb_put_be64(ik, s->sid);
        evb_put_be64(ik + 8, r->seq);
        rc = evb_put(txn, index, ik, 16, kb, 8);
        if (rc != 0) {
            goto done;
        }
    }

    s->log_last = rno;

done:

    mdb_cursor_close(cur);

    return rc;
}


/* entry rno of session sid, as a view */
static int
evb_log_get(MDB_txn *txn, MDB_dbi log, evb_arena_t *a, uint64_t sid,
    uint64_t rno, uint64_t *prev, evb_reading_t *r)
{
    int            rc;
    MDB_val        v;
    uint64_t       owner;
    unsigned char  k[8];

    evb_put_be64(k, rno);

    rc = evb_get(txn, log, k, 8, &v);
    if (rc != 0) {
        /* a chain that points nowhere is damage, not "unknown" */
        return rc == MDB_NOTFOUND ? EVB_RC_CORRUPT : rc;
    }

    rc = evb_dec_rc(evb_dec_log_reading(a, v.mv_data, v.mv_size, rno, &owner,
                                        prev, r));
    if (rc == 0 && owner != sid) {
        rc = EVB_RC_CORRUPT;
    }

    return rc;
}


int
evb_log_find(MDB_txn *txn, MDB_dbi log, MDB_dbi index, const evb_session_t *s,
    uint64_t seq, evb_reading_t *r)
{
    int            rc;
    size_t         steps;
    uint64_t       rno, prev;
    MDB_val        k, v;
    MDB_cursor    *cur;
    unsigned char  ik[16];

    if (s->log_last == 0) {
        return MDB_NOTFOUND;
    }

    /* start at the first indexed reading at or after seq, else at the
     * session's last: either is at most EVB_LOG_SKIP entries after it */
    rno = s->log_last;

    rc = mdb_cursor_open(txn, index, &cur);
    if (rc != 0) {
        return rc;
    }

    evb_put_be64(ik, s->sid);
    evb_put_be64(ik + 8, seq);
    k.mv_data = ik;
    k.mv_size = 16;

    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);

    if (rc == 0 && k.mv_size == 16 && memcmp(k.mv_data, ik, 8) == 0) {
        if (v.mv_size != 8) {
            rc = EVB_RC_CORRUPT;

        } else {
            rno = evb_get_be64(v.mv_data);
        }

    } else if (rc == 0 || rc == MDB_NOTFOUND) {
        rc = 0;
    }

    mdb_cursor_close(cur);

    if (rc != 0) {
        return rc;
    }

    /* the bound is the index's spacing; a longer walk is damage */
    for (steps = 0; steps <= 2 * EVB_LOG_SKIP; steps++) {
        rc = evb_log_get(txn, log, NULL, s->sid, rno, &prev, r);
        if (rc != 0) {
            return rc;
        }

        if (r->seq == seq) {
            return 0;
        }

        if (r->seq < seq || prev == 0) {
            return MDB_NOTFOUND;
        }

        rno = prev;
    }

    return EVB_RC_CORRUPT;
}


int
evb_log_load(MDB_txn *txn, MDB_dbi log, evb_arena_t *a,
    const evb_session_t *s, evb_reading_t **readings, size_t *nreadings)
{
    int             rc;
    size_t          n, i;
    uint64_t        rno, prev;
    evb_reading_t  *list;

    n = (size_t) s->nreadings;

    *readings = NULL;
    *nreadings = 0;

    if (s->nreadings > 100000000 || (n == 0) != (s->log_last == 0)) {
        return EVB_RC_CORRUPT;
    }

    list = evb_arena_alloc(a, (n ? n : 1) * sizeof(evb_reading_t));
    if (list == NULL) {
        return ENOMEM;
    }

    /* the chain runs backwards: fill from the end */
    rno = s->log_last;
    i = n;

    while (rno) {
        if (i == 0) {
            return EVB_RC_CORRUPT;      /* longer than nreadings */
        }

        i--;

        rc = evb_log_get(txn, log, a, s->sid, rno, &prev, &list[i]);
        if (rc != 0) {
            return rc;
        }

        if (i + 1 < n && list[i].seq >= list[i + 1].seq) {
            return EVB_RC_CORRUPT;
        }

        rno = prev;
    }

    if (i != 0) {
        return EVB_RC_CORRUPT;          /* shorter than nreadings */
    }

    *readings = list;
    *nreadings = n;

    return 0;
}


int
evb_live_apply(MDB_txn *txn, MDB_dbi live, evb_arena_t *a, evb_session_t *s)
{
    int            rc;
    MDB_val        v;
    unsigned char  k[8];

    evb_put_be64(k, s->sid);

    rc = evb_get(txn, live, k, 8, &v);
    if (rc == MDB_NOTFOUND) {
        return 0;                   /* all of it is in the cold record */
    }

    if (rc != 0) {
        return rc;
    }

    return evb_dec_rc(evb_dec_session_live(a, v.mv_data, v.mv_size, s));
}
