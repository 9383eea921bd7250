/*
 * Receipt links and the driver's view of a session; see evb_receipt.h.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "evb_receipt.h"


int
evb_receipt_key_load(const char *path, unsigned char *key, size_t *len,
    char *err, size_t errlen)
{
    int          fd, rc;
    size_t       n;
    ssize_t      r;
    struct stat  st;

    rc = -1;
    n = 0;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd == -1) {
        snprintf(err, errlen, "cannot open receipt key file \"%s\": %s",
                 path, strerror(errno));
        return -1;
    }

    if (fstat(fd, &st) == -1) {
        snprintf(err, errlen, "cannot stat receipt key file \"%s\": %s",
                 path, strerror(errno));
        goto done;
    }

    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "receipt key file \"%s\" is not a regular "
                 "file", path);
        goto done;
    }

    if ((st.st_mode & 077) != 0) {
        snprintf(err, errlen, "receipt key file \"%s\" is accessible by "
                 "group or others (mode %04o); chmod 600 it", path,
                 (unsigned int) (st.st_mode & 07777));
        goto done;
    }

    /* key has room for one byte more than the maximum: too long shows */
    while (n < EVB_RECEIPT_KEY_MAX + 1) {
        r = read(fd, key + n, EVB_RECEIPT_KEY_MAX + 1 - n);

        if (r == -1) {
            if (errno == EINTR) {
                continue;
            }

            snprintf(err, errlen, "cannot read receipt key file \"%s\": %s",
                     path, strerror(errno));
            goto done;
        }

        if (r == 0) {
            break;
        }

        n += (size_t) r;
    }

    if (n < EVB_RECEIPT_KEY_MIN || n > EVB_RECEIPT_KEY_MAX) {
        snprintf(err, errlen, "receipt key file \"%s\" must hold %d to %d "
                 "bytes (e.g. head -c 32 /dev/urandom), not %zu%s", path,
                 EVB_RECEIPT_KEY_MIN, EVB_RECEIPT_KEY_MAX,
                 n > EVB_RECEIPT_KEY_MAX ? (size_t) EVB_RECEIPT_KEY_MAX + 1
                                         : n,
                 n > EVB_RECEIPT_KEY_MAX ? " or more" : "");
        OPENSSL_cleanse(key, EVB_RECEIPT_KEY_MAX + 1);
        goto done;
    }

    *len = n;
    rc = 0;

done:

    (void) close(fd);

    return rc;
}


static int
evb_receipt_mac(const unsigned char *key, size_t keylen, evb_str_t number,
    const char *expires, size_t elen, unsigned char mac[32])
{
    unsigned int   maclen;
    unsigned char  msg[EVB_ID_MAX + 1 + 24];

    if (number.len > EVB_ID_MAX || elen > 24) {
        return -1;
    }

    memcpy(msg, number.data, number.len);
    msg[number.len] = '\n';
    memcpy(msg + number.len + 1, expires, elen);

    maclen = 0;

    if (HMAC(EVP_sha256(), key, (int) keylen, msg, number.len + 1 + elen,
             mac, &maclen)
        == NULL
        || maclen != 32)
    {
        return -1;
    }

    return 0;
}


static void
evb_receipt_b64url(const unsigned char mac[32], char *sig)
{
    size_t  i, n;
    char    b64[48];

    n = evb_base64_encode(mac, 32, b64);

    for (i = 0; i < n && i < EVB_RECEIPT_SIG_LEN; i++) {
        sig[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : b64[i];
    }

    sig[EVB_RECEIPT_SIG_LEN] = '\0';
}


int
evb_receipt_sign(const unsigned char *key, size_t keylen, evb_str_t number,
    int64_t expires, char *sig)
{
    int            n;
    char           e[24];
    unsigned char  mac[32];

    n = snprintf(e, sizeof(e), "%lld", (long long) expires);
    if (n <= 0 || (size_t) n >= sizeof(e)) {
        return -1;
    }

    if (evb_receipt_mac(key, keylen, number, e, (size_t) n, mac) != 0) {
        return -1;
    }

    evb_receipt_b64url(mac, sig);

    return 0;
}


int
evb_receipt_verify(const unsigned char *key, size_t keylen, evb_str_t number,
    evb_str_t expires, evb_str_t sig, int64_t now)
{
    size_t         i;
    int64_t        e;
    unsigned char  mac[32];
    char           want[EVB_RECEIPT_SIG_LEN + 1];

    /* one spelling of expires: digits, no sign, no leading zero */
    if (expires.len == 0 || expires.len > 18
        || (expires.len > 1 && expires.data[0] == '0'))
    {
        return -1;
    }

    e = 0;

    for (i = 0; i < expires.len; i++) {
        if (expires.data[i] < '0' || expires.data[i] > '9') {
            return -1;
        }

        e = e * 10 + (expires.data[i] - '0');
    }

    if (sig.len != EVB_RECEIPT_SIG_LEN) {
        return -1;
    }

    if (evb_receipt_mac(key, keylen, number, expires.data, expires.len, mac)
        != 0)
    {
        return -1;
    }

    evb_receipt_b64url(mac, want);

    if (CRYPTO_memcmp(want, sig.data, EVB_RECEIPT_SIG_LEN) != 0) {
        return -1;
    }

    return e < now ? -1 : 0;
}


void
evb_render_driver_session(evb_buf_t *b, const evb_session_t *s)
{
    int  stopped;

    stopped = s->state == EVB_SESSION_STOPPED;

    evb_buf_appends(b, "{\"charger_id\":");
    evb_buf_append_json_str(b, s->charger_id.data, s->charger_id.len);
    evb_buf_appends(b, ",\"session_id\":");
    evb_buf_append_json_str(b, s->session_id.data, s->session_id.len);
    evb_buf_appends(b, ",\"state\":");
    evb_buf_appends(b, s->void_reason.len ? "\"voided\""
                       : stopped ? "\"stopped\"" : "\"active\"");
    evb_buf_appends(b, ",\"connector_id\":");
    evb_buf_append_i64(b, s->connector_id);
    evb_buf_appends(b, ",\"started_at\":");
    evb_buf_append_json_time(b, s->started_at);
    evb_buf_appends(b, ",\"stopped_at\":");

    if (stopped) {
        evb_buf_append_json_time(b, s->stopped_at);

    } else {
        evb_buf_appends(b, "null");
    }

    evb_buf_appends(b, ",\"energy_wh\":");
    evb_buf_append_i64(b, stopped ? s->meter_stop_wh - s->meter_start_wh
                                  : s->last_energy_wh - s->meter_start_wh);

    /* the price as the store computed it: live while active, final after */
    evb_buf_appends(b, ",\"cost\":");

    if (s->cost.len && s->void_reason.len == 0) {
        evb_buf_append(b, s->cost.data, s->cost.len);

    } else {
        evb_buf_appends(b, "null");
    }

    evb_buf_appends(b, "}");
}


void
evb_render_driver_session_page(evb_buf_t *b, const evb_session_t *items,
    size_t n, const char *next)
{
    size_t  i;

    evb_buf_appends(b, "{\"items\":[");

    for (i = 0; i < n; i++) {
        if (i) {
            evb_buf_appends(b, ",");
        }

        evb_render_driver_session(b, &items[i]);
    }

    evb_buf_appends(b, "],\"next\":");

    if (next != NULL && next[0]) {
        evb_buf_append_json_str(b, next, strlen(next));

    } else {
        evb_buf_appends(b, "null");
    }

    evb_buf_appends(b, "}");
}
