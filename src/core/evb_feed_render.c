/*
 * The feed's answer: see evb_feed_render.h.
 */

#include <stdio.h>
#include <string.h>

#include "evb_core.h"
#include "evb_json.h"
#include "evb_invoice.h"
#include "evb_invoice_make.h"
#include "evb_feed_render.h"


/* a CDR's JSON nests a few levels; more is not one of ours */
#define EVB_FEED_CDR_DEPTH  32


int
evb_feed_cursor_parse(evb_str_t s, uint64_t *after)
{
    size_t    i;
    uint64_t  v;

    if (s.len == 0 || s.len > EVB_FEED_CURSOR_LEN
        || (s.len > 1 && s.data[0] == '0'))
    {
        return -1;
    }

    v = 0;

    for (i = 0; i < s.len; i++) {
        if (s.data[i] < '0' || s.data[i] > '9') {
            return -1;
        }

        if (v > (UINT64_MAX - (uint64_t) (s.data[i] - '0')) / 10) {
            return -1;
        }

        v = v * 10 + (uint64_t) (s.data[i] - '0');
    }

    *after = v;

    return 0;
}


const char *
evb_feed_kind_name(evb_feed_kind_e kind)
{
    switch (kind) {

    case EVB_FEED_CDR:
        return "cdr";

    case EVB_FEED_CREDIT_CDR:
        return "credit_cdr";

    case EVB_FEED_INVOICE:
        return "invoice";

    default:
        return "credit_note";
    }
}


/* the CDR's own "id", parsed in an arena of its own (freed at once) */
static int
evb_feed_cdr_id(evb_buf_t *b, evb_str_t doc)
{
    int           rc;
    evb_json_t   *root, *id;
    evb_arena_t  *a;
    char          err[8];

    a = evb_arena_create(doc.len * 4 + 4096);
    if (a == NULL) {
        b->oom = 1;
        return 0;
    }

    rc = -1;

    if (evb_json_parse(a, doc.data, doc.len, EVB_FEED_CDR_DEPTH, &root, err,
                       sizeof(err))
        == EVB_JSON_OK)
    {
        id = evb_json_get(root, "id");

        if (id != NULL && id->type == EVB_JSON_STRING) {
            evb_buf_append_json_str(b, id->u.str.data, id->u.str.len);
            rc = 0;
        }
    }

    evb_arena_destroy(a);

    return rc;
}


int
evb_feed_render(evb_buf_t *b, evb_arena_t *a, const evb_feed_item_t *items,
    size_t n, uint64_t after, char *detail, size_t dlen)
{
    size_t                  i;
    evb_invoice_t           doc;
    const evb_feed_item_t  *it;

    evb_buf_appends(b, "{\"items\":[");

    for (i = 0; i < n; i++) {
        it = &items[i];

        evb_buf_appends(b, i ? ",{\"cursor\":\"" : "{\"cursor\":\"");
        evb_buf_append_u64(b, it->no);
        evb_buf_appends(b, "\",\"kind\":\"");
        evb_buf_appends(b, evb_feed_kind_name(it->kind));
        evb_buf_appends(b, "\",\"id\":");

        if (it->kind == EVB_FEED_CDR || it->kind == EVB_FEED_CREDIT_CDR) {
            if (evb_feed_cdr_id(b, it->doc) != 0) {
                snprintf(detail, dlen, "the CDR of feed entry %llu does "
                         "not parse", (unsigned long long) it->no);
                return -1;
            }

            evb_buf_appends(b, ",\"at\":");
            evb_buf_append_json_time(b, it->at);
            evb_buf_appends(b, ",\"data\":");
            evb_buf_append(b, it->doc.data, it->doc.len);

        } else {
            if (evb_invoice_decode(a, it->doc.data, it->doc.len, &doc) != 0) {
                snprintf(detail, dlen, "the document of feed entry %llu "
                         "does not decode", (unsigned long long) it->no);
                return -1;
            }

            evb_buf_append_json_str(b, doc.number.data, doc.number.len);
            evb_buf_appends(b, ",\"at\":");
            evb_buf_append_json_time(b, it->at);
            evb_buf_appends(b, ",\"data\":");
            evb_invoice_render_json(b, &doc, NULL);
        }

        evb_buf_appends(b, "}");
    }

    evb_buf_appends(b, "],\"next\":\"");
    evb_buf_append_u64(b, n ? items[n - 1].no : after);
    evb_buf_appends(b, "\"}");

    return 0;
}
