/*
 * The JSON reader (src/core/evb_json.c): every request body goes
 * through it.  What it accepts must write back as JSON it accepts again,
 * to the same text.
 *
 * fuzz-max-len: 4096
 */

#include "fuzz.h"


static void
evb_fuzz_numbers(const evb_json_t *v, unsigned depth)
{
    size_t   i;
    int64_t  n;

    if (v == NULL || depth > 40) {
        return;
    }

    switch (v->type) {

    case EVB_JSON_NUMBER:
        (void) evb_json_int64(v, &n);
        (void) evb_json_fixed(v, 6, &n);
        (void) evb_json_fixed(v, 9, &n);
        break;

    case EVB_JSON_ARRAY:
        for (i = 0; i < v->u.arr.n; i++) {
            evb_fuzz_numbers(v->u.arr.items[i], depth + 1);
        }
        break;

    case EVB_JSON_OBJECT:
        for (i = 0; i < v->u.obj.n; i++) {
            evb_fuzz_numbers(v->u.obj.members[i].value, depth + 1);
        }
        break;

    default:
        break;
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    evb_arena_t  *a;
    evb_json_t   *root, *again;
    evb_buf_t     b1, b2;

    a = evb_arena_create(4096);
    if (a == NULL) {
        return 0;
    }

    root = evb_fuzz_json(a, data, size);

    if (root != NULL) {
        evb_fuzz_numbers(root, 0);

        evb_buf_init(&b1);
        evb_buf_init(&b2);
        evb_json_write(&b1, root);

        if (!b1.oom) {
            again = evb_fuzz_json(a, (const uint8_t *) b1.data, b1.len);
            evb_fuzz_check(again != NULL);
            evb_json_write(&b2, again);
            evb_fuzz_check(b2.oom
                           || (b1.len == b2.len
                               && memcmp(b1.data, b2.data, b1.len) == 0));
        }

        evb_buf_free(&b1);
        evb_buf_free(&b2);
    }

    evb_arena_destroy(a);

    return 0;
}
