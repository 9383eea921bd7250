/*
 * Session start records (lmdb/evb_store_parties.c): version 2 (the
 * charger document by reference) round trips, version 1 (inline) still
 * decodes, and a truncated, padded or unknown-version record is refused.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "tap.h"
#include "../../lmdb/evb_store.h"
#include "../../lmdb/evb_codec.h"
#include "../../lmdb/evb_store_int.h"


#define S(lit)  { (char *) (lit), sizeof(lit) - 1 }


static int
evb_same(evb_str_t a, evb_str_t b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0);
}


static int
evb_same_start(const evb_session_start_t *a, const evb_session_start_t *b,
    int with_doc)
{
    return a->sid == b->sid
           && evb_same(a->customer_id, b->customer_id)
           && a->token_known == b->token_known
           && evb_same(a->token_uid, b->token_uid)
           && a->token_type == b->token_type
           && evb_same(a->contract_id, b->contract_id)
           && evb_same(a->token_country, b->token_country)
           && evb_same(a->token_party, b->token_party)
           && (!with_doc || evb_same(a->charger_doc, b->charger_doc))
           && evb_same(a->time_zone, b->time_zone)
           && evb_same(a->tariff_id, b->tariff_id)
           && a->tariff_version == b->tariff_version
           && a->taken_at == b->taken_at;
}


/* every shorter prefix and one trailing byte are refused */
static void
evb_check_bounds(evb_arena_t *a, const evb_buf_t *e, const char *what)
{
    int                  has_ref, bad;
    size_t               n;
    MDB_val              v;
    unsigned char        ref[12], *p;
    evb_session_start_t  st;

    bad = 0;

    for (n = 0; n < e->len; n++) {
        v.mv_data = e->data;
        v.mv_size = n;

        if (evb_dec_session_start_ref(a, &v, &st, ref, &has_ref) == 0) {
            bad = 1;
            printf("# %s: a prefix of %zu bytes decoded\n", what, n);
        }
    }

    ok(!bad, "%s: every truncation refused", what);

    p = malloc(e->len + 1);
    if (p == NULL) {
        ok(0, "%s: malloc", what);
        return;
    }

    memcpy(p, e->data, e->len);
    p[e->len] = 0;
    v.mv_data = p;
    v.mv_size = e->len + 1;
    ok(evb_dec_session_start_ref(a, &v, &st, ref, &has_ref) != 0,
       "%s: a trailing byte refused", what);

    p[0] = 3;
    v.mv_size = e->len;
    ok(evb_dec_session_start_ref(a, &v, &st, ref, &has_ref) != 0,
       "%s: version 3 refused", what);

    free(p);
}


int
main(void)
{
    int                  has_ref;
    MDB_val              v;
    evb_buf_t            e;
    evb_arena_t         *a;
    unsigned char        ref[12], got[12];
    evb_session_start_t  st, out;

    static const evb_str_t  doc = S("{\"location\":{\"id\":\"LOC1\"},"
                                    "\"evse_uid\":\"EVSE1\"}");

    tap_plan(15);

    a = evb_arena_create(4096);
    if (a == NULL) {
        return 1;
    }

    memset(&st, 0, sizeof(st));
    st.sid = 0x0102030405060708ULL;
    st.customer_id = (evb_str_t) S("C-1");
    st.token_known = 1;
    st.token_uid = (evb_str_t) S("04AABBCC");
    st.token_type = EVB_TOKEN_OTHER;
    st.contract_id = (evb_str_t) S("DE-EXA-C12345-6");
    st.token_country = (evb_str_t) S("DE");
    st.token_party = (evb_str_t) S("EXA");
    st.charger_doc = doc;
    st.time_zone = (evb_str_t) S("Europe/Berlin");
    st.tariff_id = (evb_str_t) S("T1");
    st.tariff_version = 7;
    st.taken_at = 1764979200123LL;

    for (has_ref = 0; has_ref < 12; has_ref++) {
        ref[has_ref] = (unsigned char) (0xa0 + has_ref);
    }

    /* version 2: the document's key, not its bytes */
    evb_buf_init(&e);
    evb_enc_session_start(&e, &st, ref);
    ok(!e.oom && e.len > 0 && e.data[0] == EVB_REC_V2, "v2: encoded");
    ok(memmem(e.data, e.len, doc.data, doc.len) == NULL,
       "v2: the document is not in the record");

    v.mv_data = e.data;
    v.mv_size = e.len;
    memset(got, 0, sizeof(got));
    is_int(evb_dec_session_start_ref(a, &v, &out, got, &has_ref), 0,
           "v2: decodes");
    ok(has_ref && memcmp(got, ref, 12) == 0, "v2: the key round trips");
    ok(evb_same_start(&st, &out, 0) && out.charger_doc.len == 0,
       "v2: every other field round trips, the document left to load");
    is_int(evb_dec_session_start(a, &v, &out), 0,
           "v2: decodes without the key too (schema steps, check)");
    evb_check_bounds(a, &e, "v2");

    /* version 1, as stored before schema 10: still decodes */
    evb_buf_reset(&e);
    evb_enc_session_start(&e, &st, NULL);
    ok(!e.oom && e.data[0] == EVB_REC_V1, "v1: encoded");
    v.mv_data = e.data;
    v.mv_size = e.len;
    is_int(evb_dec_session_start_ref(a, &v, &out, got, &has_ref), 0,
           "v1: decodes");
    ok(!has_ref && evb_same_start(&st, &out, 1),
       "v1: round trips with the document inline");
    evb_check_bounds(a, &e, "v1");

    evb_buf_free(&e);
    evb_arena_destroy(a);

    return tap_done();
}
