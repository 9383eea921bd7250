/*
 * Charger bodies (src/core/evb_model.c): session start, readings and
 * stop, as a charger posts them, and the admin charger and key bodies.
 * Every parser gets every input; what one accepts must render.
 *
 * fuzz-max-len: 8192
 */

#include "fuzz.h"
#include "evb_model.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t             i, n;
    evb_str_t          id;
    evb_key_t          key;
    evb_stop_t         stop;
    evb_start_t        start;
    evb_json_t        *root;
    evb_arena_t       *a;
    evb_charger_t      charger;
    evb_reading_t     *readings;
    evb_buf_t          b;
    size_t             nerr;
    evb_field_error_t  errs[EVB_FIELD_ERRORS_MAX];
    char               detail[256];

    a = evb_arena_create(4096);
    if (a == NULL) {
        return 0;
    }

    root = evb_fuzz_json(a, data, size);

    if (root != NULL) {
        evb_buf_init(&b);

        memset(&start, 0, sizeof(start));
        nerr = 0;
        (void) evb_parse_start(a, root, &start, detail, sizeof(detail),
                               errs, &nerr);
        evb_fuzz_check(nerr <= EVB_FIELD_ERRORS_MAX);

        readings = NULL;
        n = 0;

        nerr = 0;

        if (evb_parse_readings(a, root, &readings, &n, detail,
                               sizeof(detail), errs, &nerr)
            == EVB_OK)
        {
            for (i = 0; i < n; i++) {
                evb_render_reading(&b, &readings[i]);
                evb_fuzz_check(evb_reading_equal(&readings[i],
                                                 &readings[i]));
            }
        }

        memset(&stop, 0, sizeof(stop));
        nerr = 0;
        (void) evb_parse_stop(a, root, &stop, detail, sizeof(detail), errs,
                              &nerr);
        evb_fuzz_check(nerr <= EVB_FIELD_ERRORS_MAX);

        id.data = "CP-1";
        id.len = 4;
        memset(&charger, 0, sizeof(charger));
        (void) evb_parse_charger(a, root, id, &charger, detail,
                                 sizeof(detail), NULL, NULL);

        id.data = "key-1";
        id.len = 5;
        memset(&key, 0, sizeof(key));
        (void) evb_parse_key(a, root, id, &key, detail, sizeof(detail), NULL,
                             NULL);

        evb_buf_free(&b);
    }

    evb_arena_destroy(a);

    return 0;
}
