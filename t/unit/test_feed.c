/*
 * The feed (lmdb/evb_store_feed.c, src/core/evb_feed_render.c): the
 * store's puts announce each new document once, in the op's own
 * transaction, so a refused op or an aborted nested transaction takes
 * its entries with it and the numbers keep no gap; reads page, stop at
 * the byte cap and refuse a cursor beyond the end; check finds nothing;
 * the cursor parser and the renderer.
 */

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "tap.h"
#include "../../lmdb/evb_store.h"
#include "../../lmdb/evb_store_invoice.h"
#include "../../lmdb/evb_store_feed.h"
#include "../../src/core/evb_feed_render.h"


#define S(lit)   str_of(lit)


static evb_str_t
str_of(const char *s)
{
    evb_str_t  r;

    r.data = s;
    r.len = strlen(s);

    return r;
}


/* an op that runs a test function over its transaction */
typedef struct {
    evb_wop_t        w;
    int            (*fn)(evb_wtxn_t *tx, void *data);
    void            *data;
} fop_t;


static evb_problem_e
fop_run(evb_wop_t *op, evb_wtxn_t *tx)
{
    int     rc;
    fop_t  *f;

    f = (fop_t *) op;

    rc = f->fn(tx, f->data);
    if (rc == -1) {
        snprintf(op->detail, sizeof(op->detail), "refused");
        return EVB_P_INVALID_VALUE;
    }

    return rc ? evb_tx_error(op, rc) : EVB_OK;
}


static evb_problem_e
apply(evb_store_t *st, fop_t *ops, size_t n)
{
    size_t          i;
    evb_wop_t      *w[8];
    evb_problem_e   p;
    char            err[256];

    for (i = 0; i < n; i++) {
        ops[i].w.run = fop_run;
        ops[i].w.clear = NULL;
        w[i] = &ops[i].w;
    }

    p = evb_store_apply(st, w, n, err, sizeof(err));
    if (p != EVB_OK) {
        printf("# apply: %s\n", err);
    }

    return p;
}


static int
put_cdr(evb_wtxn_t *tx, void *data)
{
    char  buf[64];

    snprintf(buf, sizeof(buf), "{\"id\":\"CDR-%llu\"}",
             (unsigned long long) (uintptr_t) data);

    return evb_tx_put_cdr(tx, (uint64_t) (uintptr_t) data, S(buf));
}


static int
put_cdr_refused(evb_wtxn_t *tx, void *data)
{
    int  rc;

    rc = put_cdr(tx, data);

    return rc ? rc : -1;
}


/* the CDR, then again with its invoice's reference: one document */
static int
put_cdr_twice(evb_wtxn_t *tx, void *data)
{
    int  rc;

    rc = put_cdr(tx, data);

    return rc ? rc : evb_tx_put_cdr(tx, (uint64_t) (uintptr_t) data,
                                    S("{\"id\":\"CDR-3\",\"invoice\":1}"));
}


/* an invoice in a nested transaction that aborts, then another one */
static int
put_invoices_nested(evb_wtxn_t *tx, void *data)
{
    int          rc;
    uint64_t     no;
    evb_wtxn_t  *child;

    rc = evb_tx_nest(tx, &child);
    if (rc != 0) {
        return rc;
    }

    rc = evb_tx_inv_put(child, 0, S("INV-1"), S("not announced"));
    evb_tx_abort(child);

    if (rc != 0) {
        return rc;
    }

    rc = evb_tx_nest(tx, &child);
    if (rc != 0) {
        return rc;
    }

    /* numbered and listed, as evbill-store check wants an invoice */
    rc = evb_tx_inv_next(child, 'I', 0, &no);
    if (rc == 0) {
        rc = evb_tx_inv_put(child, 0, S("INV-2"), S("record"));
    }

    if (rc == 0) {
        rc = evb_tx_inv_index(child, 1767225600000LL, S("CU-1"),
                              S("INV-2"));
    }

    if (rc != 0) {
        evb_tx_abort(child);
        return rc;
    }

    return evb_tx_commit(child);
}


static int
put_credit(evb_wtxn_t *tx, void *data)
{
    int       rc;
    uint64_t  no;

    rc = evb_tx_inv_next(tx, 'C', 0, &no);
    if (rc == 0) {
        rc = evb_tx_inv_put(tx, 1, S("CN-1"), S("record"));
    }

    if (rc == 0) {
        rc = evb_tx_put_credit_cdr(tx, S("CN-1"), 'c', S("{\"id\":\"C1\"}"));
    }

    if (rc == 0) {
        rc = evb_tx_put_credit_cdr(tx, S("CN-1"), 'r', S("{\"id\":\"R1\"}"));
    }

    return rc;
}


static int
put_big(evb_wtxn_t *tx, void *data)
{
    int        rc;
    char      *buf;
    evb_str_t  s;
    size_t     len;

    len = 600 * 1024;

    buf = malloc(len);
    if (buf == NULL) {
        return ENOMEM;
    }

    memset(buf, ' ', len);
    memcpy(buf, "{\"id\":\"BIG\"", 11);
    buf[len - 1] = '}';
    s.data = buf;
    s.len = len;

    rc = evb_tx_put_cdr(tx, (uint64_t) (uintptr_t) data, s);
    free(buf);

    return rc;
}


static void
problem_note(void *data, const char *what)
{
    printf("# check: %s\n", what);
}


static int
kinds_are(const evb_feed_item_t *items, size_t n, uint64_t first,
    const evb_feed_kind_e *want)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (items[i].no != first + i || items[i].kind != want[i]) {
            printf("# item %zu: no %llu kind %d\n", i,
                   (unsigned long long) items[i].no, (int) items[i].kind);
            return 0;
        }
    }

    return 1;
}


int
main(void)
{
    size_t            n;
    uint64_t          last, after;
    evb_buf_t         b;
    evb_arena_t      *a;
    evb_store_t      *st;
    evb_feed_item_t  *items;
    fop_t             ops[4];
    char              dir[] = "/tmp/evb-feed-XXXXXX", err[256], detail[128];

    static const evb_feed_kind_e  first[] = {
        EVB_FEED_CDR, EVB_FEED_CDR, EVB_FEED_CDR, EVB_FEED_INVOICE,
        EVB_FEED_CREDIT_NOTE, EVB_FEED_CREDIT_CDR, EVB_FEED_CDR
    };

    tap_plan(35);

    a = evb_arena_create(1 << 16);
    if (a == NULL || mkdtemp(dir) == NULL
        || evb_store_open(&st, dir, 64 << 20, 16, err, sizeof(err)) != 0)
    {
        printf("Bail out! cannot open a store in %s\n", dir);
        return 1;
    }

    is_int(evb_store_read_feed(st, a, 0, 0, &items, &n, &last), EVB_OK,
           "an empty feed reads");
    is_int(n, 0, "... no items");
    is_int(last, 0, "... last 0");
    is_int(evb_store_read_feed(st, a, 1, 0, &items, &n, &last),
           EVB_P_INVALID_QUERY, "after 1 in an empty feed: invalid-query");

    /* a batch: a CDR, a refused op's CDR, another CDR */
    memset(ops, 0, sizeof(ops));
    ops[0].fn = put_cdr;
    ops[0].data = (void *) (uintptr_t) 1;
    ops[1].fn = put_cdr_refused;
    ops[1].data = (void *) (uintptr_t) 2;
    ops[2].fn = put_cdr;
    ops[2].data = (void *) (uintptr_t) 4;
    is_int(apply(st, ops, 3), EVB_OK, "a batch of three ops");
    is_int(ops[1].w.problem, EVB_P_INVALID_VALUE, "... the second refused");

    memset(ops, 0, sizeof(ops));
    ops[0].fn = put_cdr_twice;
    ops[0].data = (void *) (uintptr_t) 3;
    ops[1].fn = put_invoices_nested;
    ops[2].fn = put_credit;
    is_int(apply(st, ops, 3), EVB_OK, "a CDR put twice, invoices nested, a "
           "credit note with its CDRs");
    is_int(ops[0].w.problem + ops[1].w.problem + ops[2].w.problem, EVB_OK,
           "... all stored");

    is_int(evb_store_read_feed(st, a, 0, 0, &items, &n, &last), EVB_OK,
           "the feed reads");
    is_int(n, 7, "seven entries: the refused op's CDR, the second put of a "
           "CDR and the aborted invoice announce nothing");
    is_int(last, 7, "... last 7");
    ok(kinds_are(items, n, 1, first), "... numbered 1 to 7 in commit order: "
       "cdr, cdr, cdr, invoice, credit_note, credit_cdr, cdr (corrected)");
    is_str(items[1].doc.data, items[1].doc.len, "{\"id\":\"CDR-4\"}",
           "... the second entry is the CDR of the op after the refused one");
    is_str(items[2].doc.data, items[2].doc.len,
           "{\"id\":\"CDR-3\",\"invoice\":1}",
           "... a CDR put twice: one entry, the document as last stored");
    is_str(items[3].doc.data, items[3].doc.len, "record",
           "... the invoice of the committed nested transaction");
    is_str(items[6].doc.data, items[6].doc.len, "{\"id\":\"R1\"}",
           "... the corrected CDR");
    ok(items[0].at > 1700000000000LL && items[6].at >= items[0].at,
       "... at is the clock in ms");

    /* paging */
    is_int(evb_store_read_feed(st, a, 2, 3, &items, &n, &last), EVB_OK,
           "after 2, limit 3");
    ok(n == 3 && kinds_are(items, n, 3, first + 2), "... 3, 4, 5");
    is_int(evb_store_read_feed(st, a, 7, 0, &items, &n, &last), EVB_OK,
           "after the last: ok");
    is_int(n, 0, "... nothing");
    is_int(evb_store_read_feed(st, a, 8, 0, &items, &n, &last),
           EVB_P_INVALID_QUERY, "after beyond the last: invalid-query");

    /* the byte cap: one 600 KB CDR per answer, whatever the limit */
    memset(ops, 0, sizeof(ops));
    ops[0].fn = put_big;
    ops[0].data = (void *) (uintptr_t) 10;
    ops[1].fn = put_big;
    ops[1].data = (void *) (uintptr_t) 11;
    is_int(apply(st, ops, 2), EVB_OK, "two CDRs of 600 KB");
    is_int(evb_store_read_feed(st, a, 7, 1000, &items, &n, &last), EVB_OK,
           "after 7, limit 1000");
    ok(n == 1 && items[0].no == 8, "... one item: the byte cap");
    is_int(evb_store_read_feed(st, a, 8, 1000, &items, &n, &last), EVB_OK,
           "after 8");
    ok(n == 1 && items[0].no == 9, "... the next one");

    is_int(evb_store_verify(dir, problem_note, NULL, err, sizeof(err)), 0,
           "evbill-store check: no problem");

    /* the cursor and the answer */
    ok(evb_feed_cursor_parse(S("0"), &after) == 0 && after == 0
       && evb_feed_cursor_parse(S("18446744073709551615"), &after) == 0
       && after == UINT64_MAX,
       "cursors 0 and 2^64 - 1 parse");
    ok(evb_feed_cursor_parse(S(""), &after) != 0
       && evb_feed_cursor_parse(S("01"), &after) != 0
       && evb_feed_cursor_parse(S("-1"), &after) != 0
       && evb_feed_cursor_parse(S("1a"), &after) != 0
       && evb_feed_cursor_parse(S("18446744073709551616"), &after) != 0,
       "\"\", 01, -1, 1a and 2^64 do not");

    is_int(evb_store_read_feed(st, a, 5, 2, &items, &n, &last), EVB_OK,
           "after 5, limit 2");
    items[0].at = 1767225600000LL;
    items[1].at = 1767225600000LL;
    evb_buf_init(&b);
    is_int(evb_feed_render(&b, a, items, n, 5, detail, sizeof(detail)), 0,
           "... renders");
    is_str(b.data, b.len, "{\"items\":[{\"cursor\":\"6\",\"kind\":"
           "\"credit_cdr\",\"id\":\"C1\",\"at\":\"2026-01-01T00:00:00.000Z\","
           "\"data\":{\"id\":\"C1\"}},{\"cursor\":\"7\",\"kind\":\"cdr\","
           "\"id\":\"R1\",\"at\":\"2026-01-01T00:00:00.000Z\",\"data\":"
           "{\"id\":\"R1\"}}],\"next\":\"7\"}",
           "... CDRs by their id, as stored, next the last cursor");
    evb_buf_reset(&b);
    is_int(evb_feed_render(&b, a, items, 0, 5, detail, sizeof(detail)), 0,
           "nothing new renders");
    is_str(b.data, b.len, "{\"items\":[],\"next\":\"5\"}",
           "... next the given cursor");
    evb_buf_free(&b);

    evb_store_close(st);
    evb_arena_destroy(a);

    snprintf(err, sizeof(err), "rm -rf '%s'", dir);
    if (system(err) != 0) {
        printf("# could not remove %s\n", dir);
    }

    return tap_done();
}
