/*
 * Answers for a view (evb_render.h).  Records themselves (sessions,
 * chargers, readings) are rendered by evb_model.c.
 */

#include <string.h>

#include "evb_render.h"


void
evb_render_charger_key(evb_buf_t *b, evb_view_e view, evb_str_t charger_id,
    const evb_key_record_t *k)
{
    (void) view;    /* keys are shown to the admin view only */

    evb_buf_appends(b, "{\"charger_id\":");
    evb_buf_append_json_str(b, charger_id.data, charger_id.len);
    evb_buf_appends(b, ",\"id\":");
    evb_buf_append_json_str(b, k->key_id.data, k->key_id.len);
    evb_buf_appends(b, k->retired ? ",\"state\":\"retired\""
                                  : ",\"state\":\"active\"");
    evb_buf_appends(b, ",\"created_at\":");
    evb_buf_append_json_time(b, k->created_at);

    if (k->retired) {
        evb_buf_appends(b, ",\"retired_at\":");
        evb_buf_append_json_time(b, k->retired_at);
    }

    evb_buf_appends(b, "}");
}


void
evb_render_session_page(evb_buf_t *b, evb_view_e view,
    const evb_session_t *items, size_t n, const char *next)
{
    size_t  i;

    evb_buf_appends(b, "{\"items\":[");

    for (i = 0; i < n; i++) {
        if (i) {
            evb_buf_appends(b, ",");
        }

        evb_render_session(b, view, &items[i], NULL, 0, 0);
    }

    evb_buf_appends(b, "],\"next\":");

    if (next != NULL && next[0]) {
        evb_buf_append_json_str(b, next, strlen(next));

    } else {
        evb_buf_appends(b, "null");
    }

    evb_buf_appends(b, "}");
}


void
evb_render_tariff_version(evb_buf_t *b, evb_view_e view,
    evb_str_t tariff_id, uint32_t version, evb_msec_t created_at,
    evb_str_t tariff)
{
    (void) view;

    evb_buf_appends(b, "{\"tariff_id\":");
    evb_buf_append_json_str(b, tariff_id.data, tariff_id.len);
    evb_buf_appends(b, ",\"version\":");
    evb_buf_append_u64(b, version);
    evb_buf_appends(b, ",\"created_at\":");
    evb_buf_append_json_time(b, created_at);
    evb_buf_appends(b, ",\"tariff\":");
    evb_buf_append(b, tariff.data, tariff.len);
    evb_buf_appends(b, "}");
}


void
evb_render_readings_result(evb_buf_t *b, evb_view_e view, uint64_t accepted,
    uint64_t duplicates, const evb_session_t *s)
{
    (void) view;

    evb_buf_appends(b, "{\"accepted\":");
    evb_buf_append_u64(b, accepted);
    evb_buf_appends(b, ",\"duplicates\":");
    evb_buf_append_u64(b, duplicates);
    evb_buf_appends(b, ",\"last_seq\":");
    evb_buf_append_u64(b, s->last_seq);

    /* the price as if the session stopped at the last reading */
    evb_buf_appends(b, ",\"cost\":");

    if (s->cost.len) {
        evb_buf_append(b, s->cost.data, s->cost.len);

    } else {
        evb_buf_appends(b, "null");
    }

    if (s->cost_error.len) {
        evb_buf_appends(b, ",\"cost_error\":");
        evb_buf_append_json_str(b, s->cost_error.data, s->cost_error.len);
    }

    evb_buf_appends(b, "}");
}


void
evb_render_counters(evb_buf_t *b, evb_view_e view, const evb_counter_t *c,
    size_t n)
{
    size_t  i;

    (void) view;

    evb_buf_appends(b, "{");

    for (i = 0; i < n; i++) {
        evb_buf_appends(b, i ? ",\"" : "\"");
        evb_buf_appends(b, c[i].name);
        evb_buf_appends(b, "\":");
        evb_buf_append_u64(b, c[i].value);
    }

    evb_buf_appends(b, "}");
}
