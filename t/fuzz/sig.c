/*
 * RFC 9421 Signature-Input and Signature parsing, the signing profile,
 * the signature base, and RFC 9530 Content-Digest (src/core/evb_sig.c):
 * headers a charger sends before anything is authenticated.
 *
 * The input is four parts split at the first three newlines:
 * Signature-Input, Signature, Content-Digest, body.  Covered components
 * resolve to fixed request values; one named "x-absent" is missing.
 *
 * fuzz-max-len: 4096
 */

#include "fuzz.h"
#include "evb_sig.h"


static int
evb_fuzz_resolve(void *ctx, const char *name, size_t len, evb_str_t *value)
{
    static const struct {
        const char  *name;
        const char  *value;
    } req[] = {
        { "@method", "POST" },
        { "@target-uri", "https://cs.example/evbill/v1/sessions/S1/readings" },
        { "@authority", "cs.example" },
        { "@scheme", "https" },
        { "@request-target", "/evbill/v1/sessions/S1/readings?x=1" },
        { "@path", "/evbill/v1/sessions/S1/readings" },
        { "@query", "?x=1" },
        { "content-digest", "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:" },
        { "content-type", "application/json" },
        { "content-length", "0" },
    };
    size_t  i;

    (void) ctx;

    for (i = 0; i < sizeof(req) / sizeof(req[0]); i++) {
        if (strlen(req[i].name) == len
            && memcmp(req[i].name, name, len) == 0)
        {
            value->data = req[i].value;
            value->len = strlen(req[i].value);
            return 0;
        }
    }

    return -1;
}


static const uint8_t *
evb_fuzz_part(const uint8_t **p, const uint8_t *end, evb_str_t *out)
{
    const uint8_t  *nl;

    nl = memchr(*p, '\n', end - *p);
    out->data = (const char *) *p;
    out->len = (nl ? nl : end) - *p;
    *p = nl ? nl + 1 : end;

    return *p;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t          i, nsigs;
    evb_str_t       input, signature, digest;
    evb_sig_t      *sigs;
    evb_buf_t       base;
    evb_arena_t    *a;
    const uint8_t  *p, *end;
    char            err[256];

    p = data;
    end = data + size;

    evb_fuzz_part(&p, end, &input);
    evb_fuzz_part(&p, end, &signature);
    evb_fuzz_part(&p, end, &digest);

    /* the body: the rest */
    (void) evb_digest_verify(digest, p, end - p);

    a = evb_arena_create(4096);
    if (a == NULL) {
        return 0;
    }

    sigs = NULL;
    nsigs = 0;

    if (evb_sig_parse(a, input, signature, &sigs, &nsigs, err, sizeof(err))
        == EVB_SIG_OK)
    {
        for (i = 0; i < nsigs; i++) {
            (void) evb_sig_check_profile(&sigs[i], err, sizeof(err));
            (void) evb_sig_check_time(&sigs[i], 1764000000, 300, err,
                                      sizeof(err));

            evb_buf_init(&base);

            if (evb_sig_base(&base, &sigs[i], evb_fuzz_resolve, NULL, err,
                             sizeof(err))
                == EVB_SIG_OK && !base.oom)
            {
                (void) evb_sig_verify_hmac(&sigs[i],
                                           (const unsigned char *) "k", 1,
                                           base.data, base.len);
            }

            evb_buf_free(&base);
        }
    }

    evb_arena_destroy(a);

    return 0;
}
