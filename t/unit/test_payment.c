/*
 * Payments (src/core/evb_payment.c): minor units by ISO 4217 exponent,
 * the record's round trip, the Stripe-Signature check and the rule that
 * a payment never moves backwards.
 */

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "../../src/core/evb_payment.h"
#include "tap.h"


static const char  *secret = "whsec_test";


/* "t=<t>,v1=<hex of HMAC(secret, t.body)>" */
static void
sign(char *out, size_t len, long long t, const char *key, const char *body)
{
    unsigned int   n;
    unsigned char  mac[32];
    char           msg[1024], hex[65];

    snprintf(msg, sizeof(msg), "%lld.%s", t, body);
    HMAC(EVP_sha256(), key, (int) strlen(key), (unsigned char *) msg,
         strlen(msg), mac, &n);
    evb_hex_encode(mac, 32, hex);
    hex[64] = '\0';
    snprintf(out, len, "t=%lld,v1=%s", t, hex);
}


static int
verify(const char *hdr, const char *body, long long now)
{
    return evb_pay_sig_verify((const unsigned char *) secret, strlen(secret),
                              hdr, strlen(hdr), body, strlen(body), now, 300);
}


static void
test_signature(void)
{
    const char  *body = "{\"id\":\"evt_1\"}";
    char         h[256], h2[512];

    sign(h, sizeof(h), 1000, secret, body);
    is_int(verify(h, body, 1000), 0, "a good signature verifies");
    is_int(verify(h, body, 1300), 0, "... 300 s later still");
    is_int(verify(h, body, 1301), -2, "... 301 s later: too old");
    is_int(verify(h, body, 699), -2, "... 301 s ahead: refused");
    is_int(verify(h, "{\"id\":\"evt_2\"}", 1000), -3, "another body: -3");

    sign(h, sizeof(h), 1000, "whsec_other", body);
    is_int(verify(h, body, 1000), -3, "another secret: -3");

    /* a rolled secret: one of several v1 matches */
    sign(h, sizeof(h), 1000, secret, body);
    snprintf(h2, sizeof(h2), "t=1000,v1=%064d,%s", 0, h + 7);
    is_int(verify(h2, body, 1000), 0, "two v1, the second matches");

    is_int(verify("v1=00", body, 1000), -1, "no t=: malformed");
    is_int(verify("t=1000", body, 1000), -1, "no v1=: malformed");
    is_int(verify("t=1000,v0=abcd", body, 1000), -1, "v0 only: malformed");
    is_int(verify("t=1x,v1=00", body, 1000), -1, "a bad t: malformed");
    is_int(verify("", body, 1000), -1, "empty: malformed");
}


static void
test_minor(void)
{
    int64_t  m;

    ok(evb_pay_to_minor(50000000, 2, &m) == 0 && m == 5000,
       "50.00 EUR is 5000 cents");
    ok(evb_pay_to_minor(5000000000LL, 0, &m) == 0 && m == 5000,
       "5000 JPY is 5000, never x100");
    ok(evb_pay_to_minor(1234000, 3, &m) == 0 && m == 1234,
       "1.234 KWD is 1234 fils");
    ok(evb_pay_to_minor(1005000, 2, &m) != 0,
       "a fraction of a cent is refused");
    ok(evb_pay_from_minor(5000, 0, &m) == 0 && m == 5000000000LL,
       "5000 JPY back to micro-units");
    ok(evb_pay_from_minor(INT64_MAX / 100, 2, &m) != 0, "overflow refused");
}


static evb_pay_gw_t
pi(const char *status, int64_t capturable, int64_t received)
{
    evb_pay_gw_t  g;

    memset(&g, 0, sizeof(g));
    g.id.data = "pi_1";
    g.id.len = 4;
    g.status.data = status;
    g.status.len = strlen(status);
    g.capturable = capturable;
    g.received = received;

    return g;
}


static void
test_apply(evb_arena_t *a)
{
    evb_pay_t     p;
    evb_pay_gw_t  g;

    memset(&p, 0, sizeof(p));
    p.state = EVB_PMT_REQUIRES_AUTHORIZATION;

    g = pi("requires_capture", 5000, 0);
    ok(evb_pay_apply(a, &p, &g, "payment_intent.amount_capturable_updated",
                     1) == 1 && p.state == EVB_PMT_AUTHORIZED
       && p.capturable == 5000, "authorised by the event");

    g = pi("succeeded", 0, 1234);
    ok(evb_pay_apply(a, &p, &g, "payment_intent.succeeded", 2) == 1
       && p.state == EVB_PMT_CAPTURED && p.captured == 1234 && p.paid_at == 2,
       "captured");

    g = pi("requires_capture", 5000, 0);
    (void) evb_pay_apply(a, &p, &g,
                         "payment_intent.amount_capturable_updated", 3);
    ok(p.state == EVB_PMT_CAPTURED && p.captured == 1234,
       "a late authorisation does not undo the capture");

    g = pi("canceled", 0, 0);
    (void) evb_pay_apply(a, &p, &g, "payment_intent.canceled", 4);
    ok(p.state == EVB_PMT_CAPTURED, "nor does a cancel after it");

    /* an unknown capture: an old event does not settle it, a retrieve
     * showing the hold re-arms the same call */
    memset(&p, 0, sizeof(p));
    p.state = EVB_PMT_UNKNOWN;
    p.call = EVB_CALL_CAPTURE;
    p.call_state = EVB_CALL_UNKNOWN;
    g = pi("requires_capture", 5000, 0);
    (void) evb_pay_apply(a, &p, &g,
                         "payment_intent.amount_capturable_updated", 5);
    ok(p.state == EVB_PMT_UNKNOWN && p.call_state == EVB_CALL_UNKNOWN,
       "an event of the hold leaves an unknown capture unknown");
    (void) evb_pay_apply(a, &p, &g, NULL, 6);
    ok(p.state == EVB_PMT_CAPTURE_PENDING && p.call == EVB_CALL_CAPTURE
       && p.call_state == EVB_CALL_PENDING,
       "a retrieve showing the hold: the capture may go again");
    g = pi("succeeded", 0, 5000);
    (void) evb_pay_apply(a, &p, &g, NULL, 7);
    ok(p.state == EVB_PMT_CAPTURED && p.call == EVB_CALL_NONE,
       "a retrieve showing it captured: done, never sent again");
}


static void
test_record(evb_arena_t *a)
{
    evb_buf_t  b;
    evb_pay_t  p, q;

    memset(&p, 0, sizeof(p));
    p.payment_id.data = "pay_1";
    p.payment_id.len = 5;
    p.idem_key.data = "k\"1";
    p.idem_key.len = 3;
    p.charger_id.data = "C";
    p.charger_id.len = 1;
    memcpy(p.currency, "JPY", 4);
    p.amount = 5000;
    p.state = EVB_PMT_CAPTURE_PENDING;
    p.call = EVB_CALL_CAPTURE;
    p.call_state = EVB_CALL_UNKNOWN;
    p.call_body.data = "amount_to_capture=4000";
    p.call_body.len = strlen(p.call_body.data);
    p.sid = 42;
    evb_pay_note(a, &p, 9, EVB_PMT_AUTHORIZED, "authorised");

    evb_buf_init(&b);
    ok(evb_pay_encode(&b, &p) == 0, "encode");
    ok(evb_pay_decode(a, b.data, b.len, &q) == 0, "decode");
    ok(q.amount == 5000 && q.sid == 42 && strcmp(q.currency, "JPY") == 0
       && q.state == EVB_PMT_CAPTURE_PENDING && q.call == EVB_CALL_CAPTURE
       && q.call_state == EVB_CALL_UNKNOWN && q.nhistory == 1,
       "the round trip keeps every field");
    is_str(q.call_body.data, q.call_body.len, "amount_to_capture=4000",
           "... the exact body");
    is_str(q.idem_key.data, q.idem_key.len, "k\"1", "... the key");
    ok(evb_pay_decode(a, b.data, b.len - 1, &q) != 0, "a cut record fails");
    evb_buf_free(&b);
}


int
main(void)
{
    evb_arena_t  *a;

    a = evb_arena_create(4096);
    if (a == NULL) {
        return 1;
    }

    test_signature();
    test_minor();
    test_apply(a);
    test_record(a);

    evb_arena_destroy(a);
    tap_plan(tap_n);

    return tap_done();
}
