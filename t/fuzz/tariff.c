/*
 * OCPI 2.2.1 tariffs (src/core/evb_tariff.c), as an operator PUTs them;
 * an accepted tariff is also asked for its lines and its activity.
 *
 * fuzz-max-len: 16384
 */

#include "fuzz.h"
#include "evb_tariff.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t               nerrors, element, component;
    evb_json_t          *root;
    evb_arena_t         *a;
    evb_tariff_t         tariff;
    evb_tariff_error_t   errors[EVB_TARIFF_ERRORS_MAX];

    a = evb_arena_create(4096);
    if (a == NULL) {
        return 0;
    }

    root = evb_fuzz_json(a, data, size);

    if (root != NULL) {
        nerrors = 0;

        if (evb_tariff_parse(a, root, &tariff, errors, &nerrors) == EVB_OK) {
            (void) evb_tariff_lines(&tariff, &element, &component);
            (void) evb_tariff_active(&tariff, 1764000000000LL);
        }

        evb_fuzz_check(nerrors <= EVB_TARIFF_ERRORS_MAX);
    }

    evb_arena_destroy(a);

    return 0;
}
