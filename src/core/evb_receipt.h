/*
 * Receipt links (issue 10): an invoice's public link is a bearer secret,
 * {base}{number}?expires=EPOCH&sig=SIG where SIG is the base64url
 * (no padding) of HMAC-SHA256(key, number "\n" EPOCH), EPOCH a decimal
 * Unix time in seconds.  Plus the driver's view of a session.
 */

#ifndef EVB_RECEIPT_H
#define EVB_RECEIPT_H

#include "evb_core.h"
#include "evb_model.h"


#define EVB_RECEIPT_KEY_MIN   32
#define EVB_RECEIPT_KEY_MAX   1024
#define EVB_RECEIPT_SIG_LEN   43          /* base64url of 32 bytes */


/* The key file: 32 to 1024 bytes, used as they are (a trailing newline
 * is part of the key), readable by its owner only.  0, or -1 with a
 * sentence in err. */
int evb_receipt_key_load(const char *path, unsigned char *key, size_t *len,
    char *err, size_t errlen);

/* sig gets EVB_RECEIPT_SIG_LEN characters and a NUL; 0 or -1 */
int evb_receipt_sign(const unsigned char *key, size_t keylen,
    evb_str_t number, int64_t expires, char *sig);

/* 0 when sig is number's signature for expires (the decimal text as
 * given) and expires is not before now (seconds); -1 otherwise.  The
 * comparison takes the same time wherever the bytes differ. */
int evb_receipt_verify(const unsigned char *key, size_t keylen,
    evb_str_t number, evb_str_t expires, evb_str_t sig, int64_t now);

/* A session as its driver sees it: no key ids, token, meter values or
 * internal marks; a voided session is only "voided". */
void evb_render_driver_session(evb_buf_t *b, const evb_session_t *s);
void evb_render_driver_session_page(evb_buf_t *b, const evb_session_t *items,
    size_t n, const char *next);


#endif /* EVB_RECEIPT_H */
