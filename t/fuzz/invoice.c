/*
 * Invoices (src/core/evb_invoice_*.c): the first byte picks the parser.
 * 0: a stored record (evb_invoice_decode); one that decodes renders as
 * JSON and encodes back to the same bytes.  1: a credit request
 * (evb_credit_parse), whose canonical form is then made.  2: a seller
 * file (evb_seller_parse).  3: a number format, checked and, when
 * valid, used.
 *
 * fuzz-max-len: 4096
 */

#include "fuzz.h"
#include "evb_invoice_make.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t               n;
    evb_buf_t            b, again;
    evb_str_t            fmt, node = evb_str_lit("N1");
    evb_arena_t         *a;
    evb_invoice_t        inv;
    evb_credit_req_t     req;
    evb_invoice_conf_t   ic;
    char                 err[512], num[EVB_NUMBER_MAX + 1];

    if (size < 1) {
        return 0;
    }

    a = evb_arena_create(8192);
    evb_fuzz_check(a != NULL);

    switch (data[0] % 4) {

    case 0:
        if (evb_invoice_decode(a, (const char *) data + 1, size - 1, &inv)
            == 0)
        {
            evb_buf_init(&b);
            evb_invoice_render_json(&b, &inv, NULL);
            evb_buf_init(&again);
            evb_invoice_encode(&again, &inv);
            evb_fuzz_check(!again.oom && again.len == size - 1
                           && memcmp(again.data, data + 1, size - 1) == 0);
            evb_buf_free(&again);
            evb_buf_free(&b);
        }
        break;

    case 1:
        if (evb_credit_parse(a, (const char *) data + 1, size - 1, &req,
                             err, sizeof(err))
            == EVB_OK)
        {
            evb_buf_init(&b);
            evb_credit_canonical(&b, &req);
            evb_buf_free(&b);
        }
        break;

    case 2:
        memset(&ic, 0, sizeof(ic));
        (void) evb_seller_parse(a, (const char *) data + 1, size - 1, &ic,
                                err, sizeof(err));
        break;

    default:
        fmt.data = (const char *) data + 1;
        fmt.len = size - 1;

        if (evb_number_format_check(fmt, node, err, sizeof(err)) == 0) {
            n = evb_number_format(num, fmt, 2026, node, 4294967295ULL);
            evb_fuzz_check(n > 0 && n <= EVB_NUMBER_MAX
                           && memchr(num, '/', n) == NULL
                           && memchr(num, '.', n) == NULL);
        }
        break;
    }

    evb_arena_destroy(a);

    return 0;
}
