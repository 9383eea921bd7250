/*
 * Receipt links (issue 10): the signature of a known vector, what
 * verify refuses (a changed number, expiry or signature, another
 * spelling of the expiry, expired), and the key file's rules.
 */

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "../../src/core/evb_receipt.h"


static char  tmpl_dir[] = "/tmp/evb_test_receipt_XXXXXX";


static const char *
key_file(size_t len, mode_t mode)
{
    int          fd;
    char         buf[2048];
    static char  path[256];

    memset(buf, 'q', sizeof(buf));
    snprintf(path, sizeof(path), "%s/key_XXXXXX", tmpl_dir);

    fd = mkstemp(path);
    if (fd == -1 || write(fd, buf, len) != (ssize_t) len
        || fchmod(fd, mode) != 0 || close(fd) != 0)
    {
        return "/nonexistent";
    }

    return path;
}


static evb_str_t
s(const char *p)
{
    evb_str_t  v;

    v.data = (char *) p;
    v.len = strlen(p);

    return v;
}


int
main(void)
{
    size_t         len;
    unsigned char  key[EVB_RECEIPT_KEY_MAX + 1];
    char           sig[EVB_RECEIPT_SIG_LEN + 1], bad[EVB_RECEIPT_SIG_LEN + 1];
    char           err[256];
    const char    *k = "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk";
    const char    *want = "2DPtTKffKRDMkHO2MNcwTMw4SGZ_Hymi8nK5axSTQf0";

    tap_plan(21);

    ok(evb_receipt_sign((const unsigned char *) k, 32, s("INV-2026-000001"),
                        1800000000, sig) == 0, "sign");
    is_str(sig, strlen(sig), want,
           "base64url(HMAC-SHA256(key, number LF expires)), no padding");

#define V(num, exp, sg, now)                                             \
    evb_receipt_verify((const unsigned char *) k, 32, s(num), s(exp),    \
                       s(sg), now)

    is_int(V("INV-2026-000001", "1800000000", want, 1700000000), 0,
           "verify: the link");
    is_int(V("INV-2026-000001", "1800000000", want, 1800000000), 0,
           "verify: valid through its expiry second");
    is_int(V("INV-2026-000001", "1800000000", want, 1800000001), -1,
           "verify: expired a second later");
    is_int(V("INV-2026-000002", "1800000000", want, 1700000000), -1,
           "verify: another number");
    is_int(V("INV-2026-000001", "1800000001", want, 1700000000), -1,
           "verify: another expiry");
    is_int(V("INV-2026-000001", "01800000000", want, 1700000000), -1,
           "verify: the expiry with a leading zero");
    is_int(V("INV-2026-000001", "+1800000000", want, 1700000000), -1,
           "verify: the expiry with a sign");
    is_int(V("INV-2026-000001", "", want, 1700000000), -1,
           "verify: no expiry");
    is_int(V("INV-2026-000001", "1800000000", "", 1700000000), -1,
           "verify: no signature");

    memcpy(bad, want, sizeof(bad));
    bad[42] = bad[42] == 'A' ? 'B' : 'A';
    is_int(V("INV-2026-000001", "1800000000", bad, 1700000000), -1,
           "verify: the last character changed");
    is_int(V("INV-2026-000001", "1800000000",
             "2DPtTKffKRDMkHO2MNcwTMw4SGZ_Hymi8nK5axSTQf0=", 1700000000), -1,
           "verify: with padding (one spelling only)");
    is_int(evb_receipt_verify((const unsigned char *)
                              "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkj", 32,
                              s("INV-2026-000001"), s("1800000000"), s(want),
                              1700000000), -1,
           "verify: another key");

    if (mkdtemp(tmpl_dir) == NULL) {
        printf("Bail out! mkdtemp\n");
        return 1;
    }

    ok(evb_receipt_key_load(key_file(32, 0600), key, &len, err,
                            sizeof(err)) == 0 && len == 32,
       "key file: 32 bytes");
    ok(evb_receipt_key_load(key_file(1024, 0600), key, &len, err,
                            sizeof(err)) == 0 && len == 1024,
       "key file: 1024 bytes");
    ok(evb_receipt_key_load(key_file(31, 0600), key, &len, err,
                            sizeof(err)) == -1
       && strstr(err, "must hold 32 to 1024 bytes") != NULL,
       "key file: 31 bytes refused (%s)", err);
    ok(evb_receipt_key_load(key_file(1025, 0600), key, &len, err,
                            sizeof(err)) == -1
       && strstr(err, "not 1025 or more") != NULL,
       "key file: 1025 bytes refused (%s)", err);
    ok(evb_receipt_key_load(key_file(32, 0640), key, &len, err,
                            sizeof(err)) == -1
       && strstr(err, "accessible by group or others") != NULL,
       "key file: group-readable refused (%s)", err);
    ok(evb_receipt_key_load("/nonexistent/receipt.key", key, &len, err,
                            sizeof(err)) == -1
       && strstr(err, "cannot open") != NULL,
       "key file: missing (%s)", err);
    ok(evb_receipt_key_load(tmpl_dir, key, &len, err, sizeof(err)) == -1
       && strstr(err, "not a regular file") != NULL,
       "key file: a directory (%s)", err);

    snprintf(err, sizeof(err), "rm -rf %s", tmpl_dir);
    (void) system(err);

    return tap_done();
}
