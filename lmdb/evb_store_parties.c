/*
 * Who is billed, in the store: customers, tokens and session starts
 * (schema 3).  Keys and records:
 *
 *   customers       customer_id -> u8 ver, str name, str email,
 *                   str street, str city, str postal_code, str country,
 *                   str vat_id, u8 invoicing, u32 terms (0xffffffff:
 *                   the seller's), str language, u8 retired,
 *                   i64 created_at, i64 updated_at, i64 retired_at
 *   tokens          UID (upper case) -> u8 ver, str uid (as PUT),
 *                   u8 type, str customer_id, str contract_id,
 *                   str issuer_country, str issuer_party,
 *                   i64 created_at, i64 updated_at
 *   session_starts  sid BE64 -> u8 ver, u64 sid, str customer_id,
 *                   u8 flags (1: token_known), str token_uid,
 *                   u8 token_type, str contract_id, str token_country,
 *                   str token_party, str charger_doc, str time_zone,
 *                   str tariff_id, u32 tariff_version, i64 taken_at
 *                   (ver 2, schema 10: the charger_doc str replaced by
 *                   its 12-byte key in charger_docs)
 *   charger_docs    BE64 FNV-1a of the doc, BE32 n -> the doc's bytes
 *
 * "str" is a BE32 length and the bytes, as in evb_codec.c; decoding
 * checks every length and enum and that nothing trails.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "evb_store.h"
#include "evb_codec.h"
#include "evb_store_int.h"


#define EVB_TERMS_NONE     0xffffffffU


/* encoding */

static void
evb_pe_u8(evb_buf_t *e, unsigned v)
{
    unsigned char  c = (unsigned char) v;

    evb_buf_append(e, &c, 1);
}


static void
evb_pe_u32(evb_buf_t *e, uint32_t v)
{
    unsigned char  b[4];

    evb_put_be32(b, v);
    evb_buf_append(e, b, 4);
}


static void
evb_pe_u64(evb_buf_t *e, uint64_t v)
{
    unsigned char  b[8];

    evb_put_be64(b, v);
    evb_buf_append(e, b, 8);
}


static void
evb_pe_str(evb_buf_t *e, evb_str_t s)
{
    if (s.len > UINT32_MAX) {
        e->oom = 1;
        return;
    }

    evb_pe_u32(e, (uint32_t) s.len);
    evb_buf_append(e, s.data, s.len);
}


/* decoding */

typedef struct {
    evb_arena_t          *a;
    const unsigned char  *p;
    size_t                left;
    int                   rc;         /* 0, EVB_RC_CORRUPT or ENOMEM */
} evb_pd_t;


static const unsigned char *
evb_pd_take(evb_pd_t *d, size_t n)
{
    const unsigned char  *p;

    if (d->rc != 0 || n > d->left) {
        if (d->rc == 0) {
            d->rc = EVB_RC_CORRUPT;
        }

        return NULL;
    }

    p = d->p;
    d->p += n;
    d->left -= n;

    return p;
}


static unsigned
evb_pd_u8(evb_pd_t *d, unsigned max)
{
    const unsigned char  *p;

    p = evb_pd_take(d, 1);
    if (p == NULL) {
        return 0;
    }

    if (*p > max) {
        d->rc = EVB_RC_CORRUPT;
        return 0;
    }

    return *p;
}


static uint32_t
evb_pd_u32(evb_pd_t *d)
{
    const unsigned char  *p;

    p = evb_pd_take(d, 4);

    return p ? evb_get_be32(p) : 0;
}


static uint64_t
evb_pd_u64(evb_pd_t *d)
{
    const unsigned char  *p;

    p = evb_pd_take(d, 8);

    return p ? evb_get_be64(p) : 0;
}


static evb_str_t
evb_pd_str(evb_pd_t *d)
{
    uint32_t              n;
    evb_str_t             s = { "", 0 };
    const unsigned char  *p;

    n = evb_pd_u32(d);
    p = evb_pd_take(d, n);

    if (p == NULL || n == 0) {
        return s;
    }

    s.data = evb_arena_strdup(d->a, (const char *) p, n);
    if (s.data == NULL) {
        d->rc = ENOMEM;
        s.data = "";
        return s;
    }

    s.len = n;

    return s;
}


static void
evb_pd_init(evb_pd_t *d, evb_arena_t *a, const MDB_val *v)
{
    d->a = a;
    d->p = v->mv_data;
    d->left = v->mv_size;
    d->rc = 0;

    if (evb_pd_u8(d, 255) != EVB_REC_V1 && d->rc == 0) {
        d->rc = EVB_RC_CORRUPT;
    }
}


static int
evb_pd_done(evb_pd_t *d)
{
    if (d->rc == 0 && d->left != 0) {
        d->rc = EVB_RC_CORRUPT;
    }

    return d->rc;
}


/* customers */

static void
evb_enc_customer(evb_buf_t *e, const evb_customer_t *c)
{
    evb_pe_u8(e, EVB_REC_V1);
    evb_pe_str(e, c->buyer.name);
    evb_pe_str(e, c->buyer.email);
    evb_pe_str(e, c->buyer.address.street);
    evb_pe_str(e, c->buyer.address.city);
    evb_pe_str(e, c->buyer.address.postal_code);
    evb_pe_str(e, c->buyer.address.country);
    evb_pe_str(e, c->buyer.vat_id);
    evb_pe_u8(e, (unsigned) c->invoicing);
    evb_pe_u32(e, c->payment_terms_days < 0
                  ? EVB_TERMS_NONE : (uint32_t) c->payment_terms_days);
    evb_pe_str(e, c->language);
    evb_pe_u8(e, c->retired ? 1 : 0);
    evb_pe_u64(e, (uint64_t) c->created_at);
    evb_pe_u64(e, (uint64_t) c->updated_at);
    evb_pe_u64(e, (uint64_t) c->retired_at);
}


static int
evb_dec_customer(evb_arena_t *a, const MDB_val *v, evb_customer_t *c)
{
    uint32_t  terms;
    evb_pd_t  d;

    memset(c, 0, sizeof(evb_customer_t));
    evb_pd_init(&d, a, v);

    c->buyer.name = evb_pd_str(&d);
    c->buyer.email = evb_pd_str(&d);
    c->buyer.address.street = evb_pd_str(&d);
    c->buyer.address.city = evb_pd_str(&d);
    c->buyer.address.postal_code = evb_pd_str(&d);
    c->buyer.address.country = evb_pd_str(&d);
    c->buyer.vat_id = evb_pd_str(&d);
    c->invoicing = (evb_invoicing_e) evb_pd_u8(&d, EVB_INVOICING_MONTHLY);
    terms = evb_pd_u32(&d);
    c->language = evb_pd_str(&d);
    c->retired = evb_pd_u8(&d, 1);
    c->created_at = (evb_msec_t) evb_pd_u64(&d);
    c->updated_at = (evb_msec_t) evb_pd_u64(&d);
    c->retired_at = (evb_msec_t) evb_pd_u64(&d);

    if (terms == EVB_TERMS_NONE) {
        c->payment_terms_days = EVB_TERMS_UNSET;

    } else if (terms <= EVB_TERMS_MAX) {
        c->payment_terms_days = (int) terms;

    } else if (d.rc == 0) {
        d.rc = EVB_RC_CORRUPT;
    }

    return evb_pd_done(&d);
}


static int
evb_load_customer(MDB_txn *txn, MDB_dbi dbi, evb_arena_t *a, evb_str_t id,
    evb_customer_t *out)
{
    int      rc;
    MDB_val  v;

    if (!evb_id_valid(id.data, id.len)) {
        return MDB_NOTFOUND;
    }

    rc = evb_get(txn, dbi, id.data, id.len, &v);
    if (rc != 0) {
        return rc;
    }

    rc = evb_dec_customer(a, &v, out);
    if (rc != 0) {
        return rc;
    }

    out->customer_id.data = evb_arena_strdup(a, id.data, id.len);
    if (out->customer_id.data == NULL) {
        return ENOMEM;
    }

    out->customer_id.len = id.len;

    return 0;
}


int
evb_tx_get_customer(evb_wtxn_t *tx, evb_arena_t *a, evb_str_t id,
    evb_customer_t *out)
{
    return evb_load_customer(evb_tx_mdb(tx), evb_tx_dbi(tx, EVB_DB_CUSTOMERS),
                             a, id, out);
}


int
evb_tx_put_customer(evb_wtxn_t *tx, const evb_customer_t *c)
{
    evb_buf_t  *e;

    if (!evb_id_valid(c->customer_id.data, c->customer_id.len)) {
        return EVB_RC_CORRUPT;
    }

    e = evb_tx_enc(tx);
    evb_buf_reset(e);
    evb_enc_customer(e, c);

    if (e->oom) {
        return ENOMEM;
    }

    return evb_put(evb_tx_mdb(tx), evb_tx_dbi(tx, EVB_DB_CUSTOMERS),
                   c->customer_id.data, c->customer_id.len, e->data, e->len);
}


/* tokens */

static void
evb_enc_token(evb_buf_t *e, const evb_token_rec_t *t)
{
    evb_pe_u8(e, EVB_REC_V1);
    evb_pe_str(e, t->uid);
    evb_pe_u8(e, (unsigned) t->type);
    evb_pe_str(e, t->customer_id);
    evb_pe_str(e, t->contract_id);
    evb_pe_str(e, t->issuer_country);
    evb_pe_str(e, t->issuer_party);
    evb_pe_u64(e, (uint64_t) t->created_at);
    evb_pe_u64(e, (uint64_t) t->updated_at);
}


static int
evb_dec_token(evb_arena_t *a, const MDB_val *v, evb_token_rec_t *t)
{
    evb_pd_t  d;

    memset(t, 0, sizeof(evb_token_rec_t));
    evb_pd_init(&d, a, v);

    t->uid = evb_pd_str(&d);
    t->type = (evb_token_type_e) evb_pd_u8(&d, EVB_TOKEN_OTHER);
    t->customer_id = evb_pd_str(&d);
    t->contract_id = evb_pd_str(&d);
    t->issuer_country = evb_pd_str(&d);
    t->issuer_party = evb_pd_str(&d);
    t->created_at = (evb_msec_t) evb_pd_u64(&d);
    t->updated_at = (evb_msec_t) evb_pd_u64(&d);

    return evb_pd_done(&d);
}


static int
evb_load_token(MDB_txn *txn, MDB_dbi dbi, evb_arena_t *a, evb_str_t uid,
    evb_token_rec_t *out)
{
    int      rc;
    size_t   n;
    MDB_val  v;
    char     key[EVB_OCPI_ID_MAX];

    n = evb_token_key(uid, key);
    if (n == 0) {
        return MDB_NOTFOUND;
    }

    rc = evb_get(txn, dbi, key, n, &v);
    if (rc != 0) {
        return rc;
    }

    return evb_dec_token(a, &v, out);
}


int
evb_tx_get_token(evb_wtxn_t *tx, evb_arena_t *a, evb_str_t uid,
    evb_token_rec_t *out)
{
    return evb_load_token(evb_tx_mdb(tx), evb_tx_dbi(tx, EVB_DB_TOKENS), a,
                          uid, out);
}


int
evb_tx_put_token(evb_wtxn_t *tx, const evb_token_rec_t *t)
{
    size_t      n;
    evb_buf_t  *e;
    char        key[EVB_OCPI_ID_MAX];

    n = evb_token_key(t->uid, key);
    if (n == 0) {
        return EVB_RC_CORRUPT;
    }

    e = evb_tx_enc(tx);
    evb_buf_reset(e);
    evb_enc_token(e, t);

    if (e->oom) {
        return ENOMEM;
    }

    return evb_put(evb_tx_mdb(tx), evb_tx_dbi(tx, EVB_DB_TOKENS), key, n,
                   e->data, e->len);
}


int
evb_tx_del_token(evb_wtxn_t *tx, evb_str_t uid)
{
    size_t   n;
    MDB_val  k;
    char     key[EVB_OCPI_ID_MAX];

    n = evb_token_key(uid, key);
    if (n == 0) {
        return MDB_NOTFOUND;
    }

    k.mv_data = key;
    k.mv_size = n;

    return mdb_del(evb_tx_mdb(tx), evb_tx_dbi(tx, EVB_DB_TOKENS), &k, NULL);
}


/* session starts */

/*
 * Version 2 keeps the charger's document once in charger_docs, keyed by
 * a 64-bit FNV-1a hash of its bytes and a BE32 number that tells apart
 * different documents of the same hash (the bytes are compared, so a
 * collision costs a record, never a wrong document).  Sessions of one
 * charger share one copy: about 400 bytes less per start record.
 * Documents are immutable and never deleted, as start records are.
 */
#define EVB_DOC_REF_LEN    12


static uint64_t
evb_doc_hash(evb_str_t doc)
{
    size_t    i;
    uint64_t  h;

    h = 0xcbf29ce484222325ULL;

    for (i = 0; i < doc.len; i++) {
        h ^= (unsigned char) doc.data[i];
        h *= 0x100000001b3ULL;
    }

    return h;
}


/* the key of doc in charger_docs, stored first when new */
static int
evb_put_charger_doc(evb_wtxn_t *tx, evb_str_t doc,
    unsigned char ref[EVB_DOC_REF_LEN])
{
    int       rc;
    MDB_val   v;
    MDB_txn  *txn;
    MDB_dbi   dbi;
    uint32_t  n;

    txn = evb_tx_mdb(tx);
    dbi = evb_tx_dbi(tx, EVB_DB_CHARGER_DOCS);

    evb_put_be64(ref, evb_doc_hash(doc));

    for (n = 0; n < 0xffffffffU; n++) {
        evb_put_be32(ref + 8, n);

        rc = evb_get(txn, dbi, ref, EVB_DOC_REF_LEN, &v);
        if (rc == MDB_NOTFOUND) {
            return evb_put(txn, dbi, ref, EVB_DOC_REF_LEN, doc.data,
                           doc.len);
        }

        if (rc != 0) {
            return rc;
        }

        if (v.mv_size == doc.len
            && (doc.len == 0 || memcmp(v.mv_data, doc.data, doc.len) == 0))
        {
            return 0;
        }
    }

    return EVB_RC_CORRUPT;
}


void
evb_enc_session_start(evb_buf_t *e, const evb_session_start_t *st,
    const unsigned char *ref)
{
    evb_pe_u8(e, ref ? EVB_REC_V2 : EVB_REC_V1);
    evb_pe_u64(e, st->sid);
    evb_pe_str(e, st->customer_id);
    evb_pe_u8(e, st->token_known ? 1 : 0);
    evb_pe_str(e, st->token_uid);
    evb_pe_u8(e, (unsigned) st->token_type);
    evb_pe_str(e, st->contract_id);
    evb_pe_str(e, st->token_country);
    evb_pe_str(e, st->token_party);

    if (ref) {
        evb_buf_append(e, ref, EVB_DOC_REF_LEN);

    } else {
        evb_pe_str(e, st->charger_doc);
    }

    evb_pe_str(e, st->time_zone);
    evb_pe_str(e, st->tariff_id);
    evb_pe_u32(e, st->tariff_version);
    evb_pe_u64(e, (uint64_t) st->taken_at);
}


/*
 * Version 1 (the document inline) or 2 (*has_ref set, the document's key
 * in ref, charger_doc left empty for the caller to load).
 */
int
evb_dec_session_start_ref(evb_arena_t *a, const MDB_val *v,
    evb_session_start_t *st, unsigned char *ref,
    int *has_ref)
{
    unsigned              ver;
    evb_pd_t              d;
    const unsigned char  *p;

    memset(st, 0, sizeof(evb_session_start_t));
    *has_ref = 0;

    d.a = a;
    d.p = v->mv_data;
    d.left = v->mv_size;
    d.rc = 0;

    ver = evb_pd_u8(&d, 255);
    if (d.rc == 0 && ver != EVB_REC_V1 && ver != EVB_REC_V2) {
        d.rc = EVB_RC_CORRUPT;
    }

    st->sid = evb_pd_u64(&d);
    st->customer_id = evb_pd_str(&d);
    st->token_known = evb_pd_u8(&d, 1);
    st->token_uid = evb_pd_str(&d);
    st->token_type = (evb_token_type_e) evb_pd_u8(&d, EVB_TOKEN_OTHER);
    st->contract_id = evb_pd_str(&d);
    st->token_country = evb_pd_str(&d);
    st->token_party = evb_pd_str(&d);

    if (ver == EVB_REC_V2) {
        p = evb_pd_take(&d, EVB_DOC_REF_LEN);
        if (p) {
            memcpy(ref, p, EVB_DOC_REF_LEN);
            *has_ref = 1;
        }

    } else {
        st->charger_doc = evb_pd_str(&d);
    }

    st->time_zone = evb_pd_str(&d);
    st->tariff_id = evb_pd_str(&d);
    st->tariff_version = evb_pd_u32(&d);
    st->taken_at = (evb_msec_t) evb_pd_u64(&d);

    return evb_pd_done(&d);
}


/* without the charger's document of a version 2 record (the schema
 * steps and checks that read only the customer) */
int
evb_dec_session_start(evb_arena_t *a, const MDB_val *v,
    evb_session_start_t *st)
{
    int            has_ref;
    unsigned char  ref[EVB_DOC_REF_LEN];

    return evb_dec_session_start_ref(a, v, st, ref, &has_ref);
}


static int
evb_load_session_start(MDB_txn *txn, MDB_dbi dbi, MDB_dbi docs,
    evb_arena_t *a, uint64_t sid, evb_session_start_t *out)
{
    int            rc, has_ref;
    char          *p;
    MDB_val        v;
    unsigned char  k[8], ref[EVB_DOC_REF_LEN];

    evb_put_be64(k, sid);

    rc = evb_get(txn, dbi, k, 8, &v);
    if (rc != 0) {
        return rc;
    }

    rc = evb_dec_session_start_ref(a, &v, out, ref, &has_ref);

    if (rc == 0 && out->sid != sid) {
        rc = EVB_RC_CORRUPT;
    }

    if (rc != 0 || !has_ref) {
        return rc;
    }

    rc = evb_get(txn, docs, ref, EVB_DOC_REF_LEN, &v);
    if (rc == MDB_NOTFOUND) {
        return EVB_RC_CORRUPT;
    }

    if (rc != 0) {
        return rc;
    }

    if (v.mv_size == 0) {
        return 0;
    }

    p = evb_arena_strdup(a, v.mv_data, v.mv_size);
    if (p == NULL) {
        return ENOMEM;
    }

    out->charger_doc.data = p;
    out->charger_doc.len = v.mv_size;

    return 0;
}


int
evb_tx_get_session_start(evb_wtxn_t *tx, evb_arena_t *a, uint64_t sid,
    evb_session_start_t *out)
{
    return evb_load_session_start(evb_tx_mdb(tx),
                                  evb_tx_dbi(tx, EVB_DB_SESSION_STARTS),
                                  evb_tx_dbi(tx, EVB_DB_CHARGER_DOCS), a,
                                  sid, out);
}


int
evb_tx_put_session_start(evb_wtxn_t *tx, const evb_session_start_t *st)
{
    int            rc;
    evb_buf_t     *e;
    unsigned char  k[8], ref[EVB_DOC_REF_LEN];

    rc = evb_put_charger_doc(tx, st->charger_doc, ref);
    if (rc != 0) {
        return rc;
    }

    e = evb_tx_enc(tx);
    evb_buf_reset(e);
    evb_enc_session_start(e, st, ref);

    if (e->oom) {
        return ENOMEM;
    }

    evb_put_be64(k, st->sid);

    return evb_put(evb_tx_mdb(tx), evb_tx_dbi(tx, EVB_DB_SESSION_STARTS), k,
                   8, e->data, e->len);
}


/* reads */

evb_problem_e
evb_store_get_customer(evb_store_t *store, evb_arena_t *a, evb_str_t id,
    evb_customer_t *out)
{
    int       rc;
    MDB_txn  *txn;

    rc = evb_read_begin(store, &txn);
    if (rc != 0) {
        return evb_rc_problem(rc);
    }

    rc = evb_load_customer(txn, evb_store_dbi(store, EVB_DB_CUSTOMERS), a,
                           id, out);

    evb_read_end(store, txn);

    return rc == MDB_NOTFOUND ? EVB_P_UNKNOWN_CUSTOMER
                              : evb_rc_problem(rc);
}


evb_problem_e
evb_store_list_customers(evb_store_t *store, evb_arena_t *a, evb_str_t after,
    size_t limit, evb_customer_t **items, size_t *n,
    char next[EVB_CUSTOMER_CURSOR_LEN + 1])
{
    int              rc, more;
    size_t           count, alen;
    MDB_val          k, v;
    MDB_txn         *txn;
    MDB_cursor      *cur;
    evb_str_t        id;
    evb_customer_t  *list;
    unsigned char    seek[EVB_ID_MAX];

    *items = NULL;
    *n = 0;
    next[0] = '\0';
    alen = 0;

    if (after.len) {
        if (after.len % 2 || after.len > EVB_CUSTOMER_CURSOR_LEN) {
            return EVB_P_INVALID_QUERY;
        }

        alen = evb_hex_decode(after.data, after.len, seek);

        if (alen != after.len / 2
            || !evb_id_valid((const char *) seek, alen))
        {
            return EVB_P_INVALID_QUERY;
        }
    }

    if (limit == 0) {
        limit = EVB_LIST_LIMIT_DEFAULT;
    }

    if (limit > EVB_LIST_LIMIT_MAX) {
        limit = EVB_LIST_LIMIT_MAX;
    }

    list = evb_arena_alloc(a, limit * sizeof(evb_customer_t));
    if (list == NULL) {
        return EVB_P_INTERNAL;
    }

    rc = evb_read_begin(store, &txn);
    if (rc != 0) {
        return evb_rc_problem(rc);
    }

    rc = mdb_cursor_open(txn, evb_store_dbi(store, EVB_DB_CUSTOMERS), &cur);
    if (rc != 0) {
        evb_read_end(store, txn);
        return evb_rc_problem(rc);
    }

    if (alen) {
        k.mv_data = seek;
        k.mv_size = alen;
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);

        /* after: the first key beyond it */
        if (rc == 0 && k.mv_size == alen && memcmp(k.mv_data, seek, alen)
                                            == 0)
        {
            rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
        }

    } else {
        rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    }

    count = 0;
    more = 0;

    for (/* void */; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (count == limit) {
            more = 1;
            break;
        }

        rc = evb_dec_customer(a, &v, &list[count]);
        if (rc != 0) {
            break;
        }

        id.data = evb_arena_strdup(a, k.mv_data, k.mv_size);
        if (id.data == NULL) {
            rc = ENOMEM;
            break;
        }

        id.len = k.mv_size;
        list[count++].customer_id = id;
    }

    mdb_cursor_close(cur);
    evb_read_end(store, txn);

    if (rc != 0 && rc != MDB_NOTFOUND) {
        return evb_rc_problem(rc);
    }

    if (more && count) {
        id = list[count - 1].customer_id;
        evb_hex_encode((const unsigned char *) id.data, id.len, next);
        next[2 * id.len] = '\0';
    }

    *items = list;
    *n = count;

    return EVB_OK;
}


evb_problem_e
evb_store_get_token(evb_store_t *store, evb_arena_t *a, evb_str_t uid,
    evb_token_rec_t *out)
{
    int       rc;
    MDB_txn  *txn;

    rc = evb_read_begin(store, &txn);
    if (rc != 0) {
        return evb_rc_problem(rc);
    }

    rc = evb_load_token(txn, evb_store_dbi(store, EVB_DB_TOKENS), a, uid,
                        out);

    evb_read_end(store, txn);

    return rc == MDB_NOTFOUND ? EVB_P_UNKNOWN_TOKEN
                              : evb_rc_problem(rc);
}


evb_problem_e
evb_store_get_session_start(evb_store_t *store, evb_arena_t *a,
    uint64_t sid, evb_session_start_t *out, int *found)
{
    int       rc;
    MDB_txn  *txn;

    *found = 0;

    rc = evb_read_begin(store, &txn);
    if (rc != 0) {
        return evb_rc_problem(rc);
    }

    rc = evb_load_session_start(txn,
                                evb_store_dbi(store, EVB_DB_SESSION_STARTS),
                                evb_store_dbi(store, EVB_DB_CHARGER_DOCS),
                                a, sid, out);

    evb_read_end(store, txn);

    if (rc == MDB_NOTFOUND) {
        return EVB_OK;
    }

    if (rc == 0) {
        *found = 1;
    }

    return evb_rc_problem(rc);
}
