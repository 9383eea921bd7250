/*
 * Admin bodies of who is billed (src/core/evb_party.c): customers and
 * tokens.  Whatever a parser accepts must render, and hold to the rules
 * the documents rely on (no control character in the buyer's texts).
 *
 * fuzz-max-len: 4096
 */

#include "fuzz.h"
#include "evb_pan.h"
#include "evb_party.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t             nerr;
    evb_str_t          id;
    evb_buf_t          b;
    evb_json_t        *root;
    evb_arena_t       *a;
    evb_customer_t     c;
    evb_token_rec_t    t;
    evb_field_error_t  errs[EVB_FIELD_ERRORS_MAX];
    char               detail[256];

    a = evb_arena_create(4096);
    if (a == NULL) {
        return 0;
    }

    root = evb_fuzz_json(a, data, size);

    if (root != NULL) {
        evb_buf_init(&b);

        id.data = "C-1";
        id.len = 3;
        nerr = 0;

        if (evb_parse_customer(a, root, id, &c, detail, sizeof(detail),
                               errs, &nerr)
            == EVB_OK)
        {
            evb_fuzz_check(nerr == 0);
            evb_fuzz_check(evb_text_ok(c.buyer.name, EVB_CUSTOMER_NAME_MAX));
            evb_fuzz_check(evb_country_alpha2_ok(c.buyer.address.country));
            /* no card number in what invoices print (issue 11) */
            evb_fuzz_check(!evb_pan_in(c.buyer.name)
                           && !evb_pan_in(c.buyer.address.street)
                           && !evb_pan_in(c.buyer.address.city)
                           && !evb_pan_in(c.buyer.address.postal_code));
            evb_render_customer(&b, EVB_VIEW_ADMIN, &c);

        } else {
            evb_fuzz_check(nerr >= 1 && nerr <= EVB_FIELD_ERRORS_MAX);
        }

        id.data = "04A2B3";
        id.len = 6;
        nerr = 0;

        if (evb_parse_token(a, root, id, &t, detail, sizeof(detail), errs,
                            &nerr)
            == EVB_OK)
        {
            evb_fuzz_check(nerr == 0);
            evb_render_token(&b, EVB_VIEW_ADMIN, &t);
        }

        evb_buf_free(&b);
    }

    evb_arena_destroy(a);

    return 0;
}
