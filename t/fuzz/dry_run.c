/*
 * The dry-run request (evb_rate_dry_run, src/core/evb_rate_dry.c): the
 * admin POST rate body and evbill-rate's input, rated with the module's
 * default bounds.  Time zones come from the system's tzdata.
 *
 * fuzz-max-len: 16384
 */

#include "fuzz.h"
#include "evb_rate.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t               nerrors;
    evb_buf_t            out;
    evb_json_t          *root;
    evb_arena_t         *a;
    evb_policy_t         policy;
    evb_tariff_error_t   errors[EVB_TARIFF_ERRORS_MAX];
    char                 detail[256];

    a = evb_arena_create(4096);
    if (a == NULL) {
        return 0;
    }

    root = evb_fuzz_json(a, data, size);

    if (root != NULL) {
        /* the bounds evbill-rate and the module default to */
        memset(&policy, 0, sizeof(policy));
        policy.rounding = EVB_ROUND_HALF_UP;
        policy.max_duration = 31LL * 86400 * 1000;
        policy.max_periods = 5000;

        nerrors = 0;
        detail[0] = '\0';
        evb_buf_init(&out);

        (void) evb_rate_dry_run(a, root, &policy, &out, errors, &nerrors,
                                detail, sizeof(detail));

        evb_fuzz_check(nerrors <= EVB_TARIFF_ERRORS_MAX);
        evb_buf_free(&out);
    }

    evb_arena_destroy(a);

    return 0;
}
