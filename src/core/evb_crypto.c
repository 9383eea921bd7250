/*
 * Charger secrets at rest: AES-256-GCM under the master key, and the
 * master key file itself.
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "evb_crypto.h"


#define EVB_SEAL_NONCE_LEN  12
#define EVB_SEAL_TAG_LEN    16

/* 64 hex digits and a line end; anything longer is not a key */
#define EVB_MASTER_KEY_FILE_MAX  (2 * EVB_MASTER_KEY_LEN + 2)


int
evb_master_key_load(const char *path, unsigned char key[EVB_MASTER_KEY_LEN],
    char *err, size_t errlen)
{
    int            fd, rc, zero;
    char           buf[EVB_MASTER_KEY_FILE_MAX + 1];
    size_t         n, i;
    ssize_t        r;
    struct stat    st;

    rc = -1;
    n = 0;

    /* following a symlink is fine: what is checked is the opened file */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd == -1) {
        snprintf(err, errlen, "cannot open master key file \"%s\": %s",
                 path, strerror(errno));
        return -1;
    }

    if (fstat(fd, &st) == -1) {
        snprintf(err, errlen, "cannot stat master key file \"%s\": %s",
                 path, strerror(errno));
        goto done;
    }

    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "master key file \"%s\" is not a regular file",
                 path);
        goto done;
    }

    if ((st.st_mode & 077) != 0) {
        snprintf(err, errlen, "master key file \"%s\" is accessible by group "
                 "or others (mode %04o); chmod 600 it", path,
                 (unsigned int) (st.st_mode & 07777));
        goto done;
    }

    /* one byte more than any valid file, to see that it is too long */
    while (n < sizeof(buf)) {
        r = read(fd, buf + n, sizeof(buf) - n);

        if (r == -1) {
            if (errno == EINTR) {
                continue;
            }

            snprintf(err, errlen, "cannot read master key file \"%s\": %s",
                     path, strerror(errno));
            goto done;
        }

        if (r == 0) {
            break;
        }

        n += r;
    }

    if (n == EVB_MASTER_KEY_LEN) {
        memcpy(key, buf, EVB_MASTER_KEY_LEN);

    } else {
        if (n == 2 * EVB_MASTER_KEY_LEN + 1 && buf[n - 1] == '\n') {
            n--;

        } else if (n == 2 * EVB_MASTER_KEY_LEN + 2 && buf[n - 2] == '\r'
                   && buf[n - 1] == '\n')
        {
            n -= 2;
        }

        if (n != 2 * EVB_MASTER_KEY_LEN
            || evb_hex_decode(buf, n, key) != EVB_MASTER_KEY_LEN)
        {
            goto invalid;
        }
    }

    /* an all-zero key is a placeholder, never a random one */
    zero = 1;

    for (i = 0; i < EVB_MASTER_KEY_LEN; i++) {
        if (key[i] != 0) {
            zero = 0;
        }
    }

    if (zero) {
        goto invalid;
    }

    rc = 0;
    goto done;

invalid:

    snprintf(err, errlen, "master key file \"%s\" must hold 32 random "
             "bytes, raw or as 64 hex digits", path);

done:

    if (rc != 0) {
        OPENSSL_cleanse(key, EVB_MASTER_KEY_LEN);
    }

    OPENSSL_cleanse(buf, sizeof(buf));
    close(fd);

    return rc;
}


int
evb_seal(const unsigned char key[EVB_MASTER_KEY_LEN],
    const unsigned char *plain, size_t n, const void *aad, size_t aadlen,
    unsigned char *out)
{
    int              len, rc;
    unsigned char   *nonce, *ct, *tag;
    EVP_CIPHER_CTX  *ctx;

    if (n > INT_MAX - EVB_SEAL_OVERHEAD || aadlen > INT_MAX) {
        return -1;
    }

    nonce = out;
    ct = out + EVB_SEAL_NONCE_LEN;
    tag = ct + n;

    /* a random 96-bit nonce: safe for far more seals than keys we keep */
    if (RAND_bytes(nonce, EVB_SEAL_NONCE_LEN) != 1) {
        return -1;
    }

    /* set by the update call that runs only when there is data */
    len = 0;

    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL) {
        return -1;
    }

    rc = -1;

    if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1
        || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN,
                               EVB_SEAL_NONCE_LEN, NULL) != 1
        || EVP_EncryptInit_ex(ctx, NULL, NULL, key, nonce) != 1)
    {
        goto done;
    }

    if (aadlen
        && EVP_EncryptUpdate(ctx, NULL, &len, aad, (int) aadlen) != 1)
    {
        goto done;
    }

    if (n && EVP_EncryptUpdate(ctx, ct, &len, plain, (int) n) != 1) {
        goto done;
    }

    if (EVP_EncryptFinal_ex(ctx, ct + (n ? len : 0), &len) != 1
        || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, EVB_SEAL_TAG_LEN,
                               tag) != 1)
    {
        goto done;
    }

    rc = 0;

done:

    EVP_CIPHER_CTX_free(ctx);

    if (rc != 0) {
        OPENSSL_cleanse(out, n + EVB_SEAL_OVERHEAD);
    }

    return rc;
}


long
evb_open(const unsigned char key[EVB_MASTER_KEY_LEN],
    const unsigned char *sealed, size_t n, const void *aad, size_t aadlen,
    unsigned char *plain)
{
    int                   len;
    long                  rc;
    size_t                clen;
    unsigned char         tag[EVB_SEAL_TAG_LEN];
    EVP_CIPHER_CTX       *ctx;
    const unsigned char  *nonce, *ct;

    if (n < EVB_SEAL_OVERHEAD || n > INT_MAX || aadlen > INT_MAX) {
        return -1;
    }

    nonce = sealed;
    ct = sealed + EVB_SEAL_NONCE_LEN;
    clen = n - EVB_SEAL_OVERHEAD;

    /* the ctrl call takes a non-const pointer */
    memcpy(tag, ct + clen, EVB_SEAL_TAG_LEN);

    /* set by the update call that runs only when there is data */
    len = 0;

    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL) {
        return -1;
    }

    rc = -1;

    if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1
        || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN,
                               EVB_SEAL_NONCE_LEN, NULL) != 1
        || EVP_DecryptInit_ex(ctx, NULL, NULL, key, nonce) != 1)
    {
        goto done;
    }

    if (aadlen
        && EVP_DecryptUpdate(ctx, NULL, &len, aad, (int) aadlen) != 1)
    {
        goto done;
    }

    if (clen
        && EVP_DecryptUpdate(ctx, plain, &len, ct, (int) clen) != 1)
    {
        goto done;
    }

    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, EVB_SEAL_TAG_LEN,
                            tag) != 1
        || EVP_DecryptFinal_ex(ctx, plain + (clen ? len : 0), &len) != 1)
    {
        goto done;
    }

    rc = (long) clen;

done:

    EVP_CIPHER_CTX_free(ctx);

    /* no unauthenticated plaintext is left behind */
    if (rc < 0 && clen) {
        OPENSSL_cleanse(plain, clen);
    }

    return rc;
}
