/*
 * The record decoder (lmdb/evb_codec.c): what it reads back from the
 * store must never be trusted blindly (a damaged or foreign file).  The
 * first byte picks the record kind; a record that decodes must encode
 * and decode again.
 *
 * fuzz-max-len: 4096
 */

#include "fuzz.h"
#include "evb_model.h"
#include "evb_codec.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                ok;
    evb_buf_t          e;
    evb_arena_t       *a;
    evb_session_t      s, s2;
    evb_reading_t      r, r2;
    evb_charger_t      c, c2;
    evb_key_record_t   k, k2;

    if (size < 1) {
        return 0;
    }

    a = evb_arena_create(4096);
    if (a == NULL) {
        return 0;
    }

    evb_buf_init(&e);
    ok = 1;

    switch (data[0] & 3) {

    case 0:
        if (evb_dec_session(a, data + 1, size - 1, &s) == 0) {
            evb_enc_session(&e, &s);
            ok = e.oom || evb_dec_session(a, e.data, e.len, &s2) == 0;
        }
        break;

    case 1:
        if (evb_dec_reading(a, data + 1, size - 1, &r) == 0) {
            evb_enc_reading(&e, &r);
            ok = e.oom || (evb_dec_reading(a, e.data, e.len, &r2) == 0
                           && evb_reading_equal(&r, &r2));
        }
        break;

    case 2:
        if (evb_dec_charger(a, data + 1, size - 1, &c) == 0) {
            evb_enc_charger(&e, &c);
            ok = e.oom || evb_dec_charger(a, e.data, e.len, &c2) == 0;
        }
        break;

    default:
        if (evb_dec_key(a, data + 1, size - 1, &k) == 0) {
            evb_enc_key(&e, &k);
            ok = e.oom || evb_dec_key(a, e.data, e.len, &k2) == 0;
        }
        break;
    }

    evb_fuzz_check(ok);

    evb_buf_free(&e);
    evb_arena_destroy(a);

    return 0;
}
