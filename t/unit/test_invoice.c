/*
 * Invoices in src/core and lmdb/ (issue 9): number formats, the seller
 * file, text and country rules, the document built from a rounded bill,
 * its record (round trip, truncation refused), credit notes adding up
 * to the invoice, the issue date across New Year in the seller's zone,
 * and the store's counters per series and year.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "../../src/core/evb_invoice_make.h"
#include "../../lmdb/evb_store.h"
#include "../../lmdb/evb_store_invoice.h"


static evb_str_t
S(const char *s)
{
    evb_str_t  r;

    r.data = s;
    r.len = strlen(s);
    return r;
}


static void
test_formats(void)
{
    char    err[256], out[EVB_NUMBER_MAX + 1];
    size_t  n;

    ok(evb_number_format_check(S("INV-%Y-%6N"), S(""), err, sizeof(err))
       == 0, "INV-%%Y-%%6N is a format");
    ok(evb_number_format_check(S("INV/%6N"), S(""), err, sizeof(err)) == -1
       && strstr(err, "no '/' or '.'"), "a slash is refused: %s", err);
    ok(evb_number_format_check(S("INV-%Y-%6N"), S("N1"), err, sizeof(err))
       == -1 && strstr(err, "%I"), "a node id wants %%I: %s", err);
    ok(evb_number_format_check(S("A%I%Y%9N"), S("NODE1234"), err,
                               sizeof(err))
       == 0, "%%I, %%Y, %%9N");
    ok(evb_number_format_check(S("%Y%Y%Y%Y%Y%Y%Y%Y%6N"), S(""), err,
                               sizeof(err))
       == -1, "a format longer than 39 is refused: %s", err);
    ok(evb_number_format_check(S("INV-%N"), S(""), err, sizeof(err)) == -1,
       "%%N without a width is refused");

    n = evb_number_format(out, S("INV-%Y-%6N"), 2026, S(""), 42);
    is_str(out, n, "INV-2026-000042", "INV-2026-000042");
    n = evb_number_format(out, S("R%I-%Y-%4N"), 2027, S("B2"), 12345);
    is_str(out, n, "RB2-2027-12345", "a counter that outgrows its width");
    n = evb_number_format(out, S("CN_%9N"), 0, S(""), 7);
    is_str(out, n, "CN_000000007", "%%9N");

    ok(evb_number_format_has_year(S("INV-%Y-%6N")), "a series per year");
    ok(!evb_number_format_has_year(S("INV-%6N")), "one series for ever");
}


static void
test_text(void)
{

    ok(evb_xml_text_ok("Stra\xc3\x9f" "e\t1", 8), "UTF-8 and tab: XML text");
    ok(!evb_xml_text_ok("a\x01" "b", 3), "C0 control: not XML");
    ok(!evb_xml_text_ok("a\xef\xbf\xbe", 4), "U+FFFE: not XML");
    ok(!evb_xml_text_ok("a\xef\xbf\xbf", 4), "U+FFFF: not XML");
    ok(evb_xml_text_ok("\xef\xbf\xbd", 3), "U+FFFD: XML");

    /* ISO 3166-1 itself is tested in test_party.c; the seller's country
     * and the location's alpha-3 use that list */
    ok(evb_country_alpha2_ok((evb_str_t) { "FR", 2 })
       && !evb_country_alpha2_ok((evb_str_t) { "XQ", 2 }),
       "alpha-2 codes known");
}


static const char  seller[] =
    "{\"name\":\"S GmbH\",\"address\":{\"street\":\"A 1\",\"city\":\"B\","
    "\"postal_code\":\"1\",\"country\":\"DE\"},\"vat_id\":\"DE1\","
    "\"email\":\"a@b\",\"payment_terms_days\":30,"
    "\"time_zone\":\"Europe/Berlin\"}";


static void
test_seller(evb_arena_t *a, evb_invoice_conf_t *ic)
{
    char                err[1024];
    evb_invoice_conf_t  bad;

    ok(evb_seller_parse(a, seller, sizeof(seller) - 1, ic, err, sizeof(err))
       == 0, "a seller file parses");
    is_int(ic->payment_terms_days, 30, "its terms");
    ok(ic->tz != NULL, "its zone");

    memset(&bad, 0, sizeof(bad));
    ok(evb_seller_parse(a, "{\"name\":1}", 10, &bad, err, sizeof(err))
       == -1 && strstr(err, "\"name\" must be a string")
       && strstr(err, "\"address\" is missing")
       && strstr(err, "\"time_zone\" is missing"),
       "every bad field said: %s", err);
}


static void
test_dates(const evb_invoice_conf_t *ic)
{
    int   year;
    char  d[11];

    /* 2026-12-31T23:30Z is 2027-01-01 00:30 in Berlin: next year's
     * series */
    evb_invoice_date(ic->tz, 1798759800000LL, 0, d, &year);
    is_str(d, 10, "2027-01-01", "issue date in the seller's zone");
    is_int(year, 2027, "... and its year, for the series");
    evb_invoice_date(ic->tz, 1798759800000LL, 30, d, NULL);
    is_str(d, 10, "2027-01-31", "due date: + 30 days");
    evb_invoice_date(ic->tz, 1798756200000LL, 0, d, &year);
    is_int(year, 2026, "22:30Z on 31 December: still 2026");
}


/* a rounded bill of two rates and a min_price charge */
static void
fake_bill(evb_rate_result_t *res, evb_bill_detail_t *d)
{
    memset(res, 0, sizeof(*res));
    memset(d, 0, sizeof(*d));
    memcpy(res->currency, "EUR", 4);
    res->exponent = 2;
    res->total_energy = 4500000000LL;
    res->rounded_cost.excl = 6000000;
    res->rounded_cost.incl = 7050000;
    res->rounded_cost.has_incl = 1;

    d->nlines = 2;
    d->lines[0].dim = EVB_DIM_ENERGY;
    d->lines[0].has_vat = 1;
    d->lines[0].vat = 19000000;
    d->lines[0].price = 335000;
    d->lines[0].quantity = 4500000000LL;
    d->lines[0].amount = 1510000;
    d->lines[1].dim = EVB_DIM_FLAT;
    d->lines[1].has_vat = 1;
    d->lines[1].vat = 7000000;
    d->lines[1].price = 535000;             /* gross: 0.50 net */
    d->lines[1].tax_included = 1;
    d->lines[1].quantity = 1;
    d->lines[1].amount = 500000;

    d->nvat = 2;
    d->vat[0].has_vat = 1;
    d->vat[0].vat = 19000000;
    d->vat[0].lines = 1510000;
    d->vat[0].adjustment = 3990000;
    d->vat[0].taxable = 5500000;
    d->vat[0].amount = 1050000;
    d->vat[1].has_vat = 1;
    d->vat[1].vat = 7000000;
    d->vat[1].lines = 500000;
    d->vat[1].taxable = 500000;
    d->vat[1].amount = 0;
}


static void
test_document(evb_arena_t *a, const evb_invoice_conf_t *ic)
{
    int                   rc;
    size_t                i, bad;
    evb_buf_t             b;
    evb_session_t         s;
    evb_invoice_t         inv, back, cn1, cn2, both[2];
    evb_credit_req_t      req;
    evb_rate_result_t     res;
    evb_bill_detail_t     d;
    evb_invoice_src_t     src;
    evb_invoice_buyer_t   buyer;
    evb_invoice_status_t  st;
    evb_problem_e         p;
    evb_str_t             nums[2];
    const char           *why;
    uint32_t              one = 1;
    char                  err[256];

    memset(&s, 0, sizeof(s));
    s.charger_id = S("C1");
    s.session_id = S("s1");
    s.token_type = EVB_TOKEN_RFID;
    s.connector_id = 1;

    ok(!evb_invoice_buyer(ic, &s, NULL, S("DE"), &buyer, &why),
       "an RFID token without a customer: no invoice (%s)", why);
    s.token_type = EVB_TOKEN_AD_HOC_USER;
    ok(evb_invoice_buyer(ic, &s, NULL, S("DE"), &buyer, &why)
       && buyer.ad_hoc && buyer.payment_terms_days == 30,
       "ad hoc: the fixed buyer, the seller's terms");
    is_str(buyer.party.name.data, buyer.party.name.len, "Ad hoc customer",
           "its name");
    is_str(evb_invoice_ad_hoc_name(S("de")).data, 12, "Ad-hoc-Kunde",
           "in German");

    fake_bill(&res, &d);
    ok(evb_invoice_refusal(&res) == NULL, "EUR, 70.50: invoiced");
    res.exponent = 3;
    ok(evb_invoice_refusal(&res) != NULL, "3 decimals: not invoiced");
    res.exponent = 2;

    memset(&src, 0, sizeof(src));
    src.conf = ic;
    src.buyer = &buyer;
    src.number = S("INV-2026-000001");
    src.issued_at = 1798759800000LL;
    src.session = &s;
    src.charger_doc = S("{\"location\":{\"name\":\"Site\",\"address\":"
                        "\"A 1\",\"city\":\"B\",\"postal_code\":\"1\","
                        "\"country\":\"AUT\"},\"evse_uid\":\"E1\"}");
    src.time_zone = S("Europe/Vienna");
    src.cdr_id = S("EVB1");
    src.result = &res;
    src.detail = &d;

    rc = evb_invoice_build(a, &src, &inv, err, sizeof(err));
    ok(rc == 0, "built: %s", rc ? err : "");
    is_int(inv.nlines, 2, "two lines");
    is_int(inv.lines[1].price, 500000, "a gross price loses its VAT");
    ok(inv.lines[0].vat_category == 'S', "VAT 19: S");
    is_int(inv.vat[0].charge, 3990000, "min_price: a charge on 19 %%");
    is_int(inv.tax_exclusive, 6000000, "net 60.00");
    is_int(inv.payable, 7050000, "payable 70.50 = the rounded total");
    is_str(inv.session.location_address.country.data, 2, "AT",
           "the location's country as alpha-2");
    is_str(inv.due_date.data, 10, "2027-01-31", "due date");

    src.charger_doc = S("{\"location\":{\"name\":\"Site\xef\xbf\xbf\"}}");
    ok(evb_invoice_build(a, &src, &back, err, sizeof(err)) == -1
       && strstr(err, "XML"), "a location name XML forbids: no invoice");

    evb_buf_init(&b);
    evb_invoice_encode(&b, &inv);
    ok(!b.oom && evb_invoice_decode(a, b.data, b.len, &back) == 0,
       "the record decodes");
    is_int(back.payable, inv.payable, "... payable");
    is_int(back.vat[0].charge, inv.vat[0].charge, "... the charge");
    is_str(back.number.data, back.number.len, "INV-2026-000001",
           "... the number");
    is_str(back.buyer.name.data, back.buyer.name.len, "Ad hoc customer",
           "... the buyer");

    bad = 0;
    for (i = 0; i < b.len; i++) {
        bad += evb_invoice_decode(a, b.data, i, &back) == 0;
    }
    is_int(bad, 0, "every truncated record is refused");
    b.data[0] = 9;
    ok(evb_invoice_decode(a, b.data, b.len, &back) == -1,
       "another record version is refused");
    evb_buf_free(&b);

    /* credit line 1, then the rest */
    memset(&req, 0, sizeof(req));
    req.reason = S("r");
    req.lines = &one;
    req.nlines = 1;
    p = evb_credit_build(a, ic, &inv, NULL, 0, &req, S("CN-1"), 0, &cn1,
                         err, sizeof(err));
    ok(p == EVB_OK, "a partial credit");
    is_int(cn1.charge_total, 0, "... takes no charge");
    is_int(cn1.tax_total, 290000, "... 19 %% of 1.51 = 0.29");

    p = evb_credit_build(a, ic, &inv, &cn1, 1, &req, S("CN-2"), 0, &cn2,
                         err, sizeof(err));
    ok(p == EVB_P_CREDIT_EXCEEDED, "line 1 again: exceeded (%s)", err);

    req.lines = NULL;
    req.nlines = 0;
    p = evb_credit_build(a, ic, &inv, &cn1, 1, &req, S("CN-2"), 0, &cn2,
                         err, sizeof(err));
    ok(p == EVB_OK, "the rest");
    is_int(cn1.payable + cn2.payable, inv.payable,
           "the credit notes add up to the invoice");
    is_int(cn1.tax_total + cn2.tax_total, inv.tax_total, "... its VAT too");

    both[0] = cn1;
    both[1] = cn2;
    p = evb_credit_build(a, ic, &inv, both, 2, &req, S("CN-3"), 0, &cn2,
                         err, sizeof(err));
    ok(p == EVB_P_CREDIT_EXCEEDED, "nothing left: exceeded");

    evb_invoice_status(&inv, both, 2, &st, nums);
    ok(st.state == EVB_PAY_CREDITED && st.credited == inv.payable,
       "status: credited in full");
}


static void
note(void *data, const char *what)
{
    strncat(data, what, 1023 - strlen(data));
    strncat(data, "; ", 1023 - strlen(data));
}


/* the store's counters: one per series and year */
typedef struct {
    evb_wop_t   w;
    uint64_t    got[4];
} counter_op_t;


static evb_problem_e
counter_run(evb_wop_t *w, evb_wtxn_t *tx)
{
    counter_op_t  *o = (counter_op_t *) w;

    if (evb_tx_inv_next(tx, 'I', 2026, &o->got[0]) != 0
        || evb_tx_inv_next(tx, 'I', 2026, &o->got[1]) != 0
        || evb_tx_inv_next(tx, 'I', 2027, &o->got[2]) != 0
        || evb_tx_inv_next(tx, 'C', 2026, &o->got[3]) != 0)
    {
        return EVB_P_INTERNAL;
    }

    return EVB_OK;
}


static void
test_counters(void)
{
    char           dir[] = "/tmp/evb-inv-XXXXXX", err[256], cmd[64],
                   problems[1024];
    evb_store_t   *st;
    counter_op_t   o;
    evb_wop_t     *ops[1];

    if (mkdtemp(dir) == NULL) {
        printf("Bail out! mkdtemp\n");
        exit(1);
    }

    ok(evb_store_open(&st, dir, 1 << 20, 16, err, sizeof(err)) == 0,
       "a store");

    memset(&o, 0, sizeof(o));
    o.w.run = counter_run;
    ops[0] = &o.w;

    ok(evb_store_apply(st, ops, 1, err, sizeof(err)) == EVB_OK
       && o.w.problem == EVB_OK, "counters in one transaction");
    ok(o.got[0] == 1 && o.got[1] == 2 && o.got[2] == 1 && o.got[3] == 1,
       "2026: 1, 2; 2027 starts at 1; credit notes count apart");

    memset(o.got, 0, sizeof(o.got));
    ok(evb_store_apply(st, ops, 1, err, sizeof(err)) == EVB_OK
       && o.got[0] == 3 && o.got[2] == 2, "and go on after a commit");

    evb_store_close(st);

    /* numbers without documents: evbill-store check tells */
    problems[0] = '\0';
    ok(evb_store_verify(dir, note, problems, err, sizeof(err)) == 2
       && strstr(problems, "invoices: 0 stored, the counters issued 6 "
                           "numbers")
       && strstr(problems, "credit notes: 0 stored, the counters issued 2"),
       "check: counted numbers without their documents: %s", problems);

    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0) {
        printf("# could not remove %s\n", dir);
    }
}


int
main(void)
{
    evb_arena_t         *a;
    evb_invoice_conf_t   ic;

    a = evb_arena_create(65536);
    if (a == NULL) {
        printf("Bail out! arena\n");
        return 1;
    }

    memset(&ic, 0, sizeof(ic));
    ic.rounding = EVB_ROUND_HALF_UP;

    test_formats();
    test_text();
    test_seller(a, &ic);
    test_dates(&ic);
    test_document(a, &ic);
    test_counters();

    printf("1..%d\n", tap_n);
    evb_arena_destroy(a);

    return tap_done();
}
