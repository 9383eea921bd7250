/*
 * Sealing charger secrets (AES-256-GCM) and loading the master key file.
 */

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "../../src/core/evb_crypto.h"


static char  tmpl_dir[] = "/tmp/evb_test_crypto_XXXXXX";


/* Writes a key file with the given mode; returns its path (static). */
static const char *
key_file(const void *data, size_t len, mode_t mode)
{
    int          fd;
    static char  path[256];

    snprintf(path, sizeof(path), "%s/key_XXXXXX", tmpl_dir);

    fd = mkstemp(path);
    if (fd == -1 || write(fd, data, len) != (ssize_t) len
        || fchmod(fd, mode) != 0 || close(fd) != 0)
    {
        printf("Bail out! cannot write %s: %s\n", path, strerror(errno));
        exit(1);
    }

    return path;
}


static void
test_seal(void)
{
    long           n;
    size_t         i;
    unsigned char  key[EVB_MASTER_KEY_LEN], key2[EVB_MASTER_KEY_LEN];
    unsigned char  plain[64], sealed[64 + EVB_SEAL_OVERHEAD];
    unsigned char  sealed2[64 + EVB_SEAL_OVERHEAD], out[64];
    static const char  aad[] = "cp-DEEXAE0001.k2";

    for (i = 0; i < sizeof(key); i++) {
        key[i] = (unsigned char) (i * 7 + 1);
        key2[i] = key[i];
    }

    key2[5] ^= 1;

    for (i = 0; i < sizeof(plain); i++) {
        plain[i] = (unsigned char) (0xa0 + i);
    }

    is_int(evb_seal(key, plain, 32, aad, sizeof(aad) - 1, sealed), 0,
           "seal 32 bytes");
    ok(memcmp(sealed + 12, plain, 32) != 0, "ciphertext is not plaintext");

    memset(out, 0, sizeof(out));
    n = evb_open(key, sealed, 32 + EVB_SEAL_OVERHEAD, aad, sizeof(aad) - 1,
                 out);
    is_int(n, 32, "open returns the plaintext length");
    ok(memcmp(out, plain, 32) == 0, "round trip gives the plaintext back");

    is_int(evb_seal(key, plain, 32, aad, sizeof(aad) - 1, sealed2), 0,
           "seal again");
    ok(memcmp(sealed, sealed2, 12) != 0, "a fresh nonce each time");
    ok(memcmp(sealed + 12, sealed2 + 12, 32 + 16) != 0,
       "so a different ciphertext each time");

    /* tampering anywhere is detected */
    for (i = 0; i < 32 + EVB_SEAL_OVERHEAD; i += 1) {
        memcpy(sealed2, sealed, sizeof(sealed));
        sealed2[i] ^= 0x01;

        if (evb_open(key, sealed2, 32 + EVB_SEAL_OVERHEAD, aad,
                     sizeof(aad) - 1, out) != -1)
        {
            break;
        }
    }
    is_int(i, 32 + EVB_SEAL_OVERHEAD,
           "a flipped bit in nonce, ciphertext or tag is refused (all %d)",
           32 + EVB_SEAL_OVERHEAD);

    memcpy(sealed2, sealed, sizeof(sealed));
    sealed2[12 + 3] ^= 0x80;
    is_int(evb_open(key, sealed2, 32 + EVB_SEAL_OVERHEAD, aad,
                    sizeof(aad) - 1, out), -1, "tampered ciphertext refused");
    memcpy(sealed2, sealed, sizeof(sealed));
    sealed2[12 + 32 + 15] ^= 0x01;
    is_int(evb_open(key, sealed2, 32 + EVB_SEAL_OVERHEAD, aad,
                    sizeof(aad) - 1, out), -1, "tampered tag refused");

    is_int(evb_open(key, sealed, 32 + EVB_SEAL_OVERHEAD, "cp-OTHER.k2", 11,
                    out), -1, "other aad refused");
    is_int(evb_open(key, sealed, 32 + EVB_SEAL_OVERHEAD, aad,
                    sizeof(aad) - 2, out), -1, "truncated aad refused");
    is_int(evb_open(key, sealed, 32 + EVB_SEAL_OVERHEAD, NULL, 0, out), -1,
           "missing aad refused");
    is_int(evb_open(key2, sealed, 32 + EVB_SEAL_OVERHEAD, aad,
                    sizeof(aad) - 1, out), -1, "other master key refused");
    is_int(evb_open(key, sealed, 32 + EVB_SEAL_OVERHEAD - 1, aad,
                    sizeof(aad) - 1, out), -1, "truncated box refused");
    is_int(evb_open(key, sealed, EVB_SEAL_OVERHEAD - 1, aad,
                    sizeof(aad) - 1, out), -1, "shorter than the overhead");

    /* no aad and empty plaintext work too */
    is_int(evb_seal(key, plain, 64, NULL, 0, sealed), 0, "seal without aad");
    is_int(evb_open(key, sealed, 64 + EVB_SEAL_OVERHEAD, NULL, 0, out), 64,
           "open without aad");
    ok(memcmp(out, plain, 64) == 0, "64-byte round trip");
    is_int(evb_open(key, sealed, 64 + EVB_SEAL_OVERHEAD, "x", 1, out), -1,
           "aad added later is refused");

    is_int(evb_seal(key, NULL, 0, aad, sizeof(aad) - 1, sealed), 0,
           "seal an empty secret");
    is_int(evb_open(key, sealed, EVB_SEAL_OVERHEAD, aad, sizeof(aad) - 1,
                    out), 0, "open an empty secret");
    sealed[EVB_SEAL_OVERHEAD - 1] ^= 1;
    is_int(evb_open(key, sealed, EVB_SEAL_OVERHEAD, aad, sizeof(aad) - 1,
                    out), -1, "empty secret: tag still checked");
}


static void
test_master_key(void)
{
    char            err[512], hex[80];
    size_t          i;
    const char     *p;
    unsigned char   raw[EVB_MASTER_KEY_LEN], key[EVB_MASTER_KEY_LEN];
    unsigned char   zero[EVB_MASTER_KEY_LEN];

    for (i = 0; i < sizeof(raw); i++) {
        raw[i] = (unsigned char) (0x5a ^ (i * 13));
        snprintf(hex + 2 * i, 3, "%02x", raw[i]);
    }

    memset(zero, 0, sizeof(zero));

    /* raw */
    p = key_file(raw, 32, 0600);
    memset(key, 0, sizeof(key));
    err[0] = '\0';
    is_int(evb_master_key_load(p, key, err, sizeof(err)), 0,
           "raw 32-byte key, mode 0600 (%s)", err);
    ok(memcmp(key, raw, 32) == 0, "raw key content");

    p = key_file(raw, 32, 0400);
    is_int(evb_master_key_load(p, key, err, sizeof(err)), 0,
           "mode 0400 is fine");

    /* hex, with and without a newline, either case */
    p = key_file(hex, 64, 0600);
    memset(key, 0, sizeof(key));
    is_int(evb_master_key_load(p, key, err, sizeof(err)), 0, "64 hex digits");
    ok(memcmp(key, raw, 32) == 0, "hex key content");

    hex[64] = '\n';
    p = key_file(hex, 65, 0600);
    memset(key, 0, sizeof(key));
    is_int(evb_master_key_load(p, key, err, sizeof(err)), 0,
           "64 hex digits and a newline");
    ok(memcmp(key, raw, 32) == 0, "hex+newline key content");

    for (i = 0; i < 64; i++) {
        hex[i] = (char) toupper((unsigned char) hex[i]);
    }
    p = key_file(hex, 64, 0600);
    memset(key, 0, sizeof(key));
    is_int(evb_master_key_load(p, key, err, sizeof(err)), 0,
           "upper-case hex");
    ok(memcmp(key, raw, 32) == 0, "upper-case hex key content");

    /* permissions */
    p = key_file(raw, 32, 0644);
    err[0] = '\0';
    is_int(evb_master_key_load(p, key, err, sizeof(err)), -1,
           "mode 0644 refused");
    ok(strstr(err, "is accessible by group or others (mode 0644); "
                   "chmod 600 it") != NULL
       && strstr(err, p) != NULL, "permission error text (%s)", err);
    ok(memcmp(key, zero, 32) == 0, "key cleared on failure");

    p = key_file(raw, 32, 0640);
    is_int(evb_master_key_load(p, key, err, sizeof(err)), -1,
           "mode 0640 refused");
    p = key_file(raw, 32, 0602);
    is_int(evb_master_key_load(p, key, err, sizeof(err)), -1,
           "mode 0602 refused");
    p = key_file(raw, 32, 0601);
    is_int(evb_master_key_load(p, key, err, sizeof(err)), -1,
           "mode 0601 refused");

    /* sizes and content */
    p = key_file(raw, 31, 0600);
    err[0] = '\0';
    is_int(evb_master_key_load(p, key, err, sizeof(err)), -1,
           "31 bytes refused");
    ok(strstr(err, "must hold 32 random bytes, raw or as 64 hex digits")
       != NULL, "size error text (%s)", err);
    p = key_file(raw, 0, 0600);
    is_int(evb_master_key_load(p, key, err, sizeof(err)), -1,
           "empty file refused");
    p = key_file(hex, 63, 0600);
    is_int(evb_master_key_load(p, key, err, sizeof(err)), -1,
           "63 hex digits refused");
    hex[64] = 'a';
    hex[65] = 'b';
    p = key_file(hex, 66, 0600);
    is_int(evb_master_key_load(p, key, err, sizeof(err)), -1,
           "66 hex digits refused");
    hex[64] = '\n';
    hex[65] = '\n';
    p = key_file(hex, 66, 0600);
    is_int(evb_master_key_load(p, key, err, sizeof(err)), -1,
           "two newlines refused");
    hex[10] = 'g';
    p = key_file(hex, 64, 0600);
    is_int(evb_master_key_load(p, key, err, sizeof(err)), -1,
           "non-hex digit refused");
    p = key_file(raw, 32, 0600);
    {
        char  big[200];

        memset(big, 'a', sizeof(big));
        p = key_file(big, sizeof(big), 0600);
        is_int(evb_master_key_load(p, key, err, sizeof(err)), -1,
               "long file refused");
    }
    p = key_file(zero, 32, 0600);
    is_int(evb_master_key_load(p, key, err, sizeof(err)), -1,
           "all-zero key refused");

    /* missing, not regular */
    snprintf(hex, sizeof(hex), "%s/nonexistent", tmpl_dir);
    err[0] = '\0';
    is_int(evb_master_key_load(hex, key, err, sizeof(err)), -1,
           "missing file refused");
    ok(strstr(err, "cannot open") != NULL
       && strstr(err, "No such file or directory") != NULL,
       "missing file error text (%s)", err);

    chmod(tmpl_dir, 0700);
    is_int(evb_master_key_load(tmpl_dir, key, err, sizeof(err)), -1,
           "a directory refused");
    ok(strstr(err, "not a regular file") != NULL,
       "directory error text (%s)", err);

    /* a symlink to a good file is followed; its target is checked */
    p = key_file(raw, 32, 0600);
    snprintf(hex, sizeof(hex), "%s/link", tmpl_dir);
    if (symlink(p, hex) == 0) {
        memset(key, 0, sizeof(key));
        is_int(evb_master_key_load(hex, key, err, sizeof(err)), 0,
               "symlink to a 0600 file");
        ok(memcmp(key, raw, 32) == 0, "symlinked key content");
        chmod(p, 0644);
        is_int(evb_master_key_load(hex, key, err, sizeof(err)), -1,
               "symlink to a 0644 file refused");
        unlink(hex);

    } else {
        ok(0, "symlink: %s", strerror(errno));
    }
}


int
main(void)
{
    char  cmd[128];

    if (mkdtemp(tmpl_dir) == NULL) {
        printf("Bail out! mkdtemp: %s\n", strerror(errno));
        return 1;
    }

    test_seal();
    test_master_key();

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpl_dir);
    if (system(cmd) != 0) {
        printf("# could not remove %s\n", tmpl_dir);
    }

    printf("1..%d\n", tap_n);

    return tap_done();
}
