/*
 * Shared bits of the libFuzzer harnesses (make fuzz).  Each harness
 * feeds one parser of untrusted input; the sanitizers (ASan, UBSan)
 * and libFuzzer turn any memory error, undefined behaviour, leak or
 * crash into a failure.  A line "fuzz-max-len: N" in a harness bounds
 * its inputs (tools/fuzz.sh reads it).
 */

#ifndef EVB_FUZZ_H
#define EVB_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "evb_core.h"
#include "evb_json.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


/* A failed invariant: abort, which libFuzzer reports as a crash. */
#define evb_fuzz_check(cond)                                                 \
    do { if (!(cond)) { abort(); } } while (0)


/* Parses data as JSON the way the module does (the same depth bound). */
static evb_json_t *
evb_fuzz_json(evb_arena_t *a, const uint8_t *data, size_t size)
{
    evb_json_t  *root;
    char         err[256];

    root = NULL;

    if (evb_json_parse(a, (const char *) data, size, 32, &root, err,
                       sizeof(err))
        != EVB_JSON_OK)
    {
        return NULL;
    }

    return root;
}

#endif /* EVB_FUZZ_H */
