/*
 * RFC 9421 HTTP Message Signatures (hmac-sha256 only) and RFC 9530
 * Content-Digest, as evbill verifies charger requests.
 *
 * The HTTP layer supplies component values through a resolver, so this
 * file knows nothing about nginx.
 */

#ifndef EVB_SIG_H
#define EVB_SIG_H

#include "evb_core.h"


#define EVB_SIG_MAX_COMPONENTS  16
#define EVB_SIG_MAX_MAC         64


typedef enum {
    EVB_SIG_OK = 0,
    EVB_SIG_EMISSING,      /* Signature or Signature-Input absent */
    EVB_SIG_EMALFORMED,    /* not valid structured fields, labels do not
                              match, a byte sequence is not base64, ... */
    EVB_SIG_EINCOMPLETE,   /* a required component or parameter is not
                              covered (@method, target, content-digest,
                              keyid, created) */
    EVB_SIG_EALG,          /* alg present and not "hmac-sha256" */
    EVB_SIG_ECOMPONENT,    /* a covered component is absent from the
                              request, or has parameters we cannot
                              process */
    EVB_SIG_ETIME,         /* created outside the window, or expired */
    EVB_SIG_EINVALID,      /* MAC mismatch (or, to the caller, unknown
                              key: both must look identical) */
    EVB_SIG_ENOMEM
} evb_sig_err_e;


/* One signature: a Signature-Input member and its Signature value. */
typedef struct {
    evb_str_t      label;
    evb_str_t      components[EVB_SIG_MAX_COMPONENTS];  /* names, no
                                                           quotes, as
                                                           sent */
    size_t         ncomponents;
    evb_str_t      keyid;           /* len 0: absent */
    int            has_created;
    int64_t        created;
    int            has_expires;
    int64_t        expires;
    evb_str_t      alg;             /* len 0: absent */
    /* the canonical RFC 8941 serialisation of the inner list with its
     * parameters: the value of the "@signature-params" line */
    evb_str_t      params;
    unsigned char  mac[EVB_SIG_MAX_MAC];
    size_t         maclen;
} evb_sig_t;


/*
 * Resolves a component name (derived "@method", "@target-uri",
 * "@authority", "@scheme", "@request-target", "@path", "@query", or a
 * lower-case header field name) to its canonical value as RFC 9421
 * section 2 defines it.  Returns 0 and sets *value, or -1 if absent.
 */
typedef int (*evb_sig_resolve_pt)(void *ctx, const char *name, size_t len,
    evb_str_t *value);


/*
 * Parse the Signature-Input and Signature dictionaries (RFC 8941) into
 * an arena array, in Signature-Input order; every label must have a value
 * in both.  Unknown signature parameters (nonce, tag, ...) are kept in
 * "params" and otherwise ignored.
 */
evb_sig_err_e evb_sig_parse(evb_arena_t *a, evb_str_t signature_input,
    evb_str_t signature, evb_sig_t **sigs, size_t *nsigs,
    char *err, size_t errlen);

/* evbill's profile: @method; @target-uri, or @authority with @path;
 * content-digest; keyid and created present; alg absent or hmac-sha256. */
evb_sig_err_e evb_sig_check_profile(const evb_sig_t *s, char *err,
    size_t errlen);

/* created within [now - window, now + window]; expires, when present,
 * not before now. */
evb_sig_err_e evb_sig_check_time(const evb_sig_t *s, int64_t now,
    int64_t window, char *err, size_t errlen);

/* The signature base, exactly as RFC 9421 section 2.5 builds it. */
evb_sig_err_e evb_sig_base(evb_buf_t *out, const evb_sig_t *s,
    evb_sig_resolve_pt resolve, void *ctx, char *err, size_t errlen);

/* HMAC-SHA256 over the base, compared with CRYPTO_memcmp. */
evb_sig_err_e evb_sig_verify_hmac(const evb_sig_t *s,
    const unsigned char *key, size_t keylen, const char *base, size_t len);


typedef enum {
    EVB_DIGEST_OK = 0,
    EVB_DIGEST_EMISSING,     /* header absent or no sha-256/sha-512 */
    EVB_DIGEST_EMALFORMED,
    EVB_DIGEST_EMISMATCH
} evb_digest_err_e;

/* RFC 9530 Content-Digest: sha-256 (or sha-512) over the body. */
evb_digest_err_e evb_digest_verify(evb_str_t header, const void *body,
    size_t len);

/* "sha-256=:<base64>:" for a body, as a charger would send it. */
void evb_digest_make(evb_buf_t *out, const void *body, size_t len);


#endif /* EVB_SIG_H */
