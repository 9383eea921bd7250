/*
 * Answers rendered for a view (evb_render.c): the admin view, byte for
 * byte what the admin and charger handlers assembled before.
 */

#include <stdlib.h>

#include "tap.h"
#include "../../src/core/evb_render.h"


#define T0  1764064800000LL    /* 2025-11-25T10:00:00.000Z */


static void
is_buf(evb_buf_t *b, const char *want, const char *name)
{
    ok(!b->oom, "%s: no oom", name);
    is_str(b->data, b->len, want, "%s", name);
    evb_buf_free(b);
    evb_buf_init(b);
}


int
main(void)
{
    evb_buf_t         b;
    evb_str_t         cid = evb_str_lit("CP-1");
    evb_session_t     s[2];
    evb_counter_t     c[3];
    evb_key_record_t  k;

    evb_buf_init(&b);

    /* a key, active and retired */
    memset(&k, 0, sizeof(k));
    k.key_id.data = "k1";
    k.key_id.len = 2;
    k.created_at = T0;
    evb_render_charger_key(&b, EVB_VIEW_ADMIN, cid, &k);
    is_buf(&b, "{\"charger_id\":\"CP-1\",\"id\":\"k1\",\"state\":\"active\","
           "\"created_at\":\"2025-11-25T10:00:00.000Z\"}", "active key");

    k.retired = 1;
    k.retired_at = T0 + 1500;
    evb_render_charger_key(&b, EVB_VIEW_ADMIN, cid, &k);
    is_buf(&b, "{\"charger_id\":\"CP-1\",\"id\":\"k1\",\"state\":\"retired\","
           "\"created_at\":\"2025-11-25T10:00:00.000Z\","
           "\"retired_at\":\"2025-11-25T10:00:01.500Z\"}", "retired key");

    /* a page of sessions: the sessions as evb_render_session has them */
    memset(s, 0, sizeof(s));
    s[0].charger_id = cid;
    s[0].session_id.data = "S1";
    s[0].session_id.len = 2;
    s[0].state = EVB_SESSION_ACTIVE;
    s[0].started_at = T0;
    s[0].last_ts = T0;
    s[0].updated_at = T0;
    s[1] = s[0];
    s[1].session_id.data = "S2";

    evb_render_session(&b, EVB_VIEW_ADMIN, &s[0], NULL, 0, 0);
    {
        char    one[1024], two[1024], want[2200];
        size_t  n1;

        n1 = b.len < sizeof(one) - 1 ? b.len : sizeof(one) - 1;
        memcpy(one, b.data, n1);
        one[n1] = '\0';
        evb_buf_free(&b);
        evb_buf_init(&b);

        evb_render_session(&b, EVB_VIEW_ADMIN, &s[1], NULL, 0, 0);
        n1 = b.len < sizeof(two) - 1 ? b.len : sizeof(two) - 1;
        memcpy(two, b.data, n1);
        two[n1] = '\0';
        evb_buf_free(&b);
        evb_buf_init(&b);

        snprintf(want, sizeof(want), "{\"items\":[%s,%s],\"next\":"
                 "\"c-1\"}", one, two);
        evb_render_session_page(&b, EVB_VIEW_ADMIN, s, 2, "c-1");
        is_buf(&b, want, "a page with a cursor");
    }

    evb_render_session_page(&b, EVB_VIEW_ADMIN, NULL, 0, "");
    is_buf(&b, "{\"items\":[],\"next\":null}", "an empty last page");

    /* a tariff version: the stored document verbatim */
    evb_render_tariff_version(&b, EVB_VIEW_ADMIN, (evb_str_t)
                              evb_str_lit("T1"), 3, T0,
                              (evb_str_t) evb_str_lit("{\"id\": \"T1\"}"));
    is_buf(&b, "{\"tariff_id\":\"T1\",\"version\":3,"
           "\"created_at\":\"2025-11-25T10:00:00.000Z\","
           "\"tariff\":{\"id\": \"T1\"}}", "tariff version");

    /* the answer to readings: with and without a cost */
    s[0].last_seq = 7;
    evb_render_readings_result(&b, EVB_VIEW_ADMIN, 3, 1, &s[0]);
    is_buf(&b, "{\"accepted\":3,\"duplicates\":1,\"last_seq\":7,"
           "\"cost\":null}", "readings, not rated");

    s[0].cost.data = "{\"currency\":\"EUR\"}";
    s[0].cost.len = strlen(s[0].cost.data);
    s[0].cost_error.data = "stale \"x\"";
    s[0].cost_error.len = strlen(s[0].cost_error.data);
    evb_render_readings_result(&b, EVB_VIEW_ADMIN, 0, 2, &s[0]);
    is_buf(&b, "{\"accepted\":0,\"duplicates\":2,\"last_seq\":7,"
           "\"cost\":{\"currency\":\"EUR\"},"
           "\"cost_error\":\"stale \\\"x\\\"\"}", "readings, with cost");

    /* counters */
    c[0].name = "schema_version";
    c[0].value = 4;
    c[1].name = "txn_id";
    c[1].value = 18446744073709551615ULL;
    c[2].name = "cdrs";
    c[2].value = 0;
    evb_render_counters(&b, EVB_VIEW_ADMIN, c, 3);
    is_buf(&b, "{\"schema_version\":4,\"txn_id\":18446744073709551615,"
           "\"cdrs\":0}", "counters");

    evb_render_counters(&b, EVB_VIEW_ADMIN, c, 0);
    is_buf(&b, "{}", "no counters");

    evb_buf_free(&b);

    tap_plan(tap_n);

    return tap_done();
}
