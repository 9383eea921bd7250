/*
 * Charger secrets at rest: AES-256-GCM under the master key.
 */

#ifndef EVB_CRYPTO_H
#define EVB_CRYPTO_H

#include "evb_core.h"


#define EVB_MASTER_KEY_LEN   32
#define EVB_SEAL_OVERHEAD    (12 + 16)     /* random nonce + GCM tag */


/*
 * Read the master key file: exactly 32 raw bytes, or 64 hex digits with
 * an optional trailing newline.  Refuses a file that is missing,
 * unreadable, or readable or writable by group or others.
 * Returns 0, or -1 with a sentence in err.
 */
int evb_master_key_load(const char *path, unsigned char key[EVB_MASTER_KEY_LEN],
    char *err, size_t errlen);

/* out holds n + EVB_SEAL_OVERHEAD bytes: nonce || ciphertext || tag.
 * aad binds the ciphertext to its context (the key id). 0 or -1. */
int evb_seal(const unsigned char key[EVB_MASTER_KEY_LEN],
    const unsigned char *plain, size_t n, const void *aad, size_t aadlen,
    unsigned char *out);

/* Returns the plaintext length, or -1 if the tag does not verify. */
long evb_open(const unsigned char key[EVB_MASTER_KEY_LEN],
    const unsigned char *sealed, size_t n, const void *aad, size_t aadlen,
    unsigned char *plain);


#endif /* EVB_CRYPTO_H */
