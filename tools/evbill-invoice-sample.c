/*
 * evbill-invoice-sample: sample invoices and credit notes built in C,
 * rendered as UBL 2.1 (NAME.xml) and HTML (NAME.html) into a directory,
 * for the EN 16931 validation (t/160-ubl.t), the Chromium print test
 * (t/165-html.t) and `make invoice-preview`.
 *
 * Usage: evbill-invoice-sample DIR
 *     Prints the names written, one a line.  Exit 0, or 2 on a usage or
 *     I/O error.
 *
 * The samples cover the EN 16931 decisions: several VAT rates (S), a
 * tariff without VAT (E, the seller's exemption reason), vat 0 (Z), a
 * currency without decimals (JPY), the ad hoc buyer, a min_price clamp
 * (a document-level charge) and a max_price clamp (allowances on two
 * rates), a partial credit note, two sessions on one invoice, English
 * and German.  Figures follow
 * the billing rule (rounded lines, VAT once per rate) computed here in
 * integers.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/core/evb_core.h"
#include "../src/core/evb_invoice.h"
#include "../src/core/evb_money.h"


#define S(s)        { (s), sizeof(s) - 1 }
#define NOSTR       { NULL, 0 }
#define T_START     1796545200000LL  /* 2026-12-06T08:20:00Z */
#define MAX_LINES   8


typedef struct {
    evb_dim_e      dim;
    unsigned       reservation;
    char           cat;
    int64_t        vat;            /* 10^-6 % */
    int64_t        quantity;
    int64_t        price;
} evb_sample_line_t;


static const char  *out_dir;

static evb_doc_line_t  lines_buf[MAX_LINES];
static evb_doc_vat_t   vat_buf[MAX_LINES];


static const evb_party_t  seller = {
    S("Stromtankstelle Nord GmbH & Co. KG"),
    { S("Hafenstra\xc3\x9f" "e 12"), S("Hamburg"), S("20457"), S("DE") },
    S("DE123456789"), S("HRB 123456"), S("DE89370400440532013000"),
    S("COBADEFFXXX"), S("billing@stromtankstelle.example"),
    S("+49 40 1234567"), S("Steuerbefreit nach \xc2\xa7 4 Nr. 8 UStG")
};

static const evb_party_t  customer_en = {
    S("Fleet <Logistics> Ltd"),
    { S("1 Quay Street"), S("Dublin"), S("D02 X285"), S("IE") },
    S("IE6388047V"), NOSTR, NOSTR, NOSTR, S("ap@fleet.example"), NOSTR,
    NOSTR
};

static const evb_party_t  customer_de = {
    S("J\xc3\xbcrgen M\xc3\xbcller"),
    { S("Lindenallee 5"), S("K\xc3\xb6ln"), S("50667"), S("DE") },
    NOSTR, NOSTR, NOSTR, NOSTR, S("j.mueller@example.org"), NOSTR, NOSTR
};


static void
session_at(evb_invoice_t *inv, const char *sid, evb_msec_t start,
    int64_t minutes, int64_t energy)
{
    evb_doc_session_t  *s = &inv->session;

    s->charger_id = (evb_str_t) S("CP-HH-0042");
    s->session_id.data = sid;
    s->session_id.len = strlen(sid);
    s->cdr_id.data = sid;
    s->cdr_id.len = strlen(sid);
    s->location_name = (evb_str_t) S("Parkhaus Speicherstadt");
    s->location_address = (evb_address_t) {
        S("Am Sandtorkai 1"), S("Hamburg"), S("20457"), S("DE")
    };
    s->evse_uid = (evb_str_t) S("DE*SNO*E0042*1");
    s->connector = (evb_str_t) S("1");
    s->time_zone = (evb_str_t) S("Europe/Berlin");
    s->start = start;
    s->end = start + minutes * 60000;
    s->energy = energy;
}


/*
 * The document's figures from its lines and the min/max adjustment per
 * rate (adj[i] > 0 a charge, < 0 an allowance, in the order the rates
 * first appear): rounded lines, VAT once per rate on its taxable sum.
 */
static int
build(evb_invoice_t *inv, const evb_sample_line_t *sl, size_t n,
    const int64_t *adj)
{
    size_t           i, k;
    int64_t          amount, vat;
    evb_i128_t       num, den;
    evb_doc_line_t  *l;
    evb_doc_vat_t   *t;

    memset(lines_buf, 0, sizeof(lines_buf));
    memset(vat_buf, 0, sizeof(vat_buf));
    inv->lines = lines_buf;
    inv->nlines = n;
    inv->vat = vat_buf;
    inv->nvat = 0;

    for (i = 0; i < n; i++) {
        l = &lines_buf[i];
        l->id = (uint32_t) i + 1;
        l->dim = sl[i].dim;
        l->reservation = sl[i].reservation;
        l->vat_category = sl[i].cat;
        l->vat = sl[i].vat;
        l->quantity = sl[i].quantity;
        l->price = sl[i].price;

        num = (evb_i128_t) sl[i].quantity * sl[i].price;
        den = sl[i].dim == EVB_DIM_ENERGY ? 1000000000
              : sl[i].dim == EVB_DIM_FLAT ? 1 : 3600000000LL;

        if (evb_div_round(num, den, EVB_ROUND_HALF_UP, &amount) != 0
            || evb_round_micro(amount, inv->exponent, EVB_ROUND_HALF_UP,
                               &l->amount) != 0)
        {
            return -1;
        }

        for (k = 0; k < inv->nvat; k++) {
            if (vat_buf[k].vat_category == l->vat_category
                && vat_buf[k].vat == l->vat)
            {
                break;
            }
        }

        if (k == inv->nvat) {
            vat_buf[k].vat_category = l->vat_category;
            vat_buf[k].vat = l->vat;
            inv->nvat++;
        }

        vat_buf[k].lines += l->amount;
        inv->line_total += l->amount;
    }

    for (k = 0; k < inv->nvat; k++) {
        t = &vat_buf[k];

        if (adj != NULL && adj[k] > 0) {
            t->charge = adj[k];

        } else if (adj != NULL && adj[k] < 0) {
            t->allowance = -adj[k];
        }

        t->taxable = t->lines - t->allowance + t->charge;
        num = (evb_i128_t) t->taxable * t->vat;

        if (evb_div_round(num, 100000000, EVB_ROUND_HALF_UP, &vat) != 0
            || evb_round_micro(vat, inv->exponent, EVB_ROUND_HALF_UP,
                               &t->amount) != 0)
        {
            return -1;
        }

        inv->allowance_total += t->allowance;
        inv->charge_total += t->charge;
        inv->tax_total += t->amount;
    }

    inv->tax_exclusive = inv->line_total - inv->allowance_total
                         + inv->charge_total;
    inv->tax_inclusive = inv->tax_exclusive + inv->tax_total;
    inv->payable = inv->tax_inclusive - inv->prepaid;

    return 0;
}


static void
base(evb_invoice_t *inv, const char *number, const char *lang,
    const char *currency, int exponent)
{
    memset(inv, 0, sizeof(*inv));
    inv->kind = EVB_DOC_INVOICE;
    inv->number.data = number;
    inv->number.len = strlen(number);
    inv->issue_date = (evb_str_t) S("2026-12-06");
    inv->due_date = (evb_str_t) S("2026-12-20");
    inv->issued_at = T_START + 3 * 3600000;
    inv->language.data = lang;
    inv->language.len = strlen(lang);
    memcpy(inv->currency, currency, 4);
    inv->exponent = exponent;
    inv->seller = seller;
    inv->payment_terms_days = 14;
}


static int
write_file(const char *name, const char *ext, evb_buf_t *b)
{
    char   path[4096];
    FILE  *f;

    if (b->oom) {
        fprintf(stderr, "evbill-invoice-sample: out of memory\n");
        return -1;
    }

    snprintf(path, sizeof(path), "%s/%s.%s", out_dir, name, ext);
    f = fopen(path, "w");

    if (f == NULL) {
        fprintf(stderr, "evbill-invoice-sample: %s: %s\n", path,
                strerror(errno));
        return -1;
    }

    if (fwrite(b->data, 1, b->len, f) != b->len || fclose(f) != 0) {
        fprintf(stderr, "evbill-invoice-sample: %s: write failed\n", path);
        return -1;
    }

    return 0;
}


static int
emit(const char *name, const evb_invoice_t *inv,
    const evb_invoice_status_t *st)
{
    evb_buf_t  b;
    int        rc;

    evb_buf_init(&b);
    evb_invoice_render_ubl(&b, inv);
    rc = write_file(name, "xml", &b);
    evb_buf_reset(&b);

    if (rc == 0) {
        evb_invoice_render_html(&b, inv, st);
        rc = write_file(name, "html", &b);
    }

    evb_buf_free(&b);

    if (rc == 0) {
        printf("%s\n", name);
    }

    return rc;
}


int
main(int argc, char **argv)
{
    evb_invoice_t         inv;
    evb_invoice_status_t  st;
    evb_str_t             cns[1] = { S("CN-2026-000001") };
    int64_t               adj[2];

    /* several VAT rates: energy and time at 19 %, parking at 7 % */
    const evb_sample_line_t  multi[] = {
        { EVB_DIM_FLAT, 0, 'S', 19000000, 1, 1000000 },
        { EVB_DIM_ENERGY, 0, 'S', 19000000, 23456789000LL, 390000 },
        { EVB_DIM_ENERGY, 0, 'S', 19000000, 4100000000LL, 290000 },
        { EVB_DIM_TIME, 0, 'S', 19000000, 5400000000LL, 1200000 },
        { EVB_DIM_PARKING_TIME, 0, 'S', 7000000, 1830000000LL, 6000000 },
    };
    const evb_sample_line_t  exempt[] = {
        { EVB_DIM_ENERGY, 0, 'E', 0, 18250000000LL, 450000 },
        { EVB_DIM_TIME, 1, 'E', 0, 900000000LL, 2000000 },
    };
    const evb_sample_line_t  zero[] = {
        { EVB_DIM_ENERGY, 0, 'Z', 0, 31000000000LL, 350000 },
        { EVB_DIM_FLAT, 1, 'Z', 0, 1, 2500000 },
    };
    const evb_sample_line_t  jpy[] = {
        { EVB_DIM_ENERGY, 0, 'S', 10000000, 27300000000LL, 55000000 },
        { EVB_DIM_TIME, 0, 'S', 10000000, 2700000000LL, 330000000 },
    };
    const evb_sample_line_t  adhoc[] = {
        { EVB_DIM_ENERGY, 0, 'S', 20000000, 12000000000LL, 590000 },
    };
    const evb_sample_line_t  small[] = {
        { EVB_DIM_ENERGY, 0, 'S', 19000000, 1200000000LL, 390000 },
    };
    const evb_sample_line_t  big[] = {
        { EVB_DIM_ENERGY, 0, 'S', 19000000, 95000000000LL, 590000 },
        { EVB_DIM_PARKING_TIME, 0, 'S', 7000000, 14400000000LL,
          6000000 },
    };

    if (argc != 2) {
        fprintf(stderr, "usage: evbill-invoice-sample DIR\n");
        return 2;
    }

    out_dir = argv[1];

    /* 1. English, a customer with a VAT id, three rates' worth of lines,
     * partly credited */
    base(&inv, "INV-2026-000001", "en", "EUR", 2);
    inv.buyer = customer_en;
    inv.customer_id = (evb_str_t) S("C-1001");
    session_at(&inv, "DE*SNO*C0000001", T_START, 95, 27556789000LL);

    if (build(&inv, multi, 5, NULL) != 0) {
        return 2;
    }

    memset(&st, 0, sizeof(st));
    st.state = EVB_PAY_DUE;
    st.credited = 1190000;
    st.ncredit_notes = 1;
    st.credit_notes = cns;

    if (emit("invoice-en-vat-rates", &inv, &st) != 0) {
        return 2;
    }

    /* 8. its partial credit note: the start fee (line 1) */
    {
        evb_invoice_t  cn = inv;

        cn.kind = EVB_DOC_CREDIT_NOTE;
        cn.number = (evb_str_t) S("CN-2026-000001");
        cn.issue_date = (evb_str_t) S("2026-12-08");
        cn.due_date = (evb_str_t) NOSTR;
        cn.invoice_number = inv.number;
        cn.invoice_issue_date = inv.issue_date;
        cn.reason = (evb_str_t) S("Start fee charged in error");
        cn.line_total = cn.tax_total = cn.allowance_total = 0;
        cn.charge_total = 0;
        cn.prepaid = 0;

        if (build(&cn, multi, 1, NULL) != 0
            || emit("creditnote-en-partial", &cn, NULL) != 0)
        {
            return 2;
        }
    }

    /* 2. German, a tariff without VAT: category E */
    base(&inv, "INV-2026-000002", "de", "EUR", 2);
    inv.buyer = customer_de;
    inv.customer_id = (evb_str_t) S("K-2002");
    session_at(&inv, "DE*SNO*C0000002", T_START + 86400000, 48,
               18250000000LL);

    memset(&st, 0, sizeof(st));
    st.state = EVB_PAY_PAID;

    if (build(&inv, exempt, 2, NULL) != 0) {
        return 2;
    }

    st.paid = inv.payable;
    st.card_brand = (evb_str_t) S("visa");     /* paid by card */
    st.card_last4 = (evb_str_t) S("4242");

    if (emit("invoice-de-exempt", &inv, &st) != 0) {
        return 2;
    }

    /* 3. English, vat 0: category Z, no IBAN (no payment means) */
    base(&inv, "INV-2026-000003", "en", "EUR", 2);
    inv.seller.iban = (evb_str_t) NOSTR;
    inv.seller.bic = (evb_str_t) NOSTR;
    inv.buyer = customer_en;
    inv.customer_id = (evb_str_t) S("C-1001");
    session_at(&inv, "DE*SNO*C0000003", T_START, 62, 31000000000LL);

    if (build(&inv, zero, 2, NULL) != 0
        || emit("invoice-en-zero-rated", &inv, NULL) != 0)
    {
        return 2;
    }

    /* 4. JPY: no decimals */
    base(&inv, "INV-2026-000004", "en", "JPY", 0);
    inv.buyer = customer_en;
    inv.buyer.address = (evb_address_t) {
        S("1-1 Marunouchi"), S("Tokyo"), S("100-0005"), S("JP")
    };
    inv.buyer.vat_id = (evb_str_t) NOSTR;
    inv.customer_id = (evb_str_t) S("C-3003");
    session_at(&inv, "DE*SNO*C0000004", T_START, 45, 27300000000LL);

    if (build(&inv, jpy, 2, NULL) != 0
        || emit("invoice-en-jpy", &inv, NULL) != 0)
    {
        return 2;
    }

    /* 5. German, the ad hoc buyer (paid at the charger: all prepaid), in
     * Austria */
    base(&inv, "INV-2026-000005", "de", "EUR", 2);
    inv.buyer_ad_hoc = 1;
    session_at(&inv, "AT*SNO*C0000005", T_START, 30, 12000000000LL);
    inv.session.location_name = (evb_str_t) S("Rastplatz Mondsee");
    inv.session.location_address = (evb_address_t) {
        S("Mondseestra\xc3\x9f" "e 3"), S("Mondsee"), S("5310"), S("AT")
    };
    inv.session.time_zone = (evb_str_t) S("Europe/Vienna");

    if (build(&inv, adhoc, 1, NULL) != 0) {
        return 2;
    }

    inv.prepaid = inv.tax_inclusive;
    inv.payable = 0;

    memset(&st, 0, sizeof(st));
    st.state = EVB_PAY_PAID;
    st.paid = inv.prepaid;

    if (emit("invoice-de-adhoc", &inv, &st) != 0) {
        return 2;
    }

    /* 6. English, a min_price clamp: a charge up to 5.00 net */
    base(&inv, "INV-2026-000006", "en", "EUR", 2);
    inv.buyer = customer_en;
    inv.customer_id = (evb_str_t) S("C-1001");
    session_at(&inv, "DE*SNO*C0000006", T_START, 7, 1200000000LL);
    adj[0] = 5000000 - 470000;      /* lines 0.47 */

    if (build(&inv, small, 1, adj) != 0
        || emit("invoice-en-min-price", &inv, NULL) != 0)
    {
        return 2;
    }

    /* 9. English, two sessions on one invoice (a monthly run): no
     * session at document level, each line names its own; the second
     * session stopped after its month's run (late) */
    base(&inv, "INV-2026-000008", "en", "EUR", 2);
    inv.buyer = customer_en;
    inv.customer_id = (evb_str_t) S("C-1001");

    if (build(&inv, multi + 1, 2, NULL) != 0) {
        return 2;
    }

    lines_buf[0].session = (evb_str_t) S("CP-HH-0042/DE*SNO*C0000010");
    lines_buf[1].session = (evb_str_t) S("CP-HH-0043/DE*SNO*C0000011");
    lines_buf[1].late = 1;

    if (emit("invoice-en-two-sessions", &inv, NULL) != 0) {
        return 2;
    }

    /* 7. German, a max_price clamp at 60.00 net spread over two rates:
     * allowances */
    base(&inv, "INV-2026-000007", "de", "EUR", 2);
    inv.buyer = customer_de;
    inv.customer_id = (evb_str_t) S("K-2002");
    session_at(&inv, "DE*SNO*C0000007", T_START, 300, 95000000000LL);
    adj[0] = -(56050000 - 48940000);    /* lines 56.05 and 24.00 */
    adj[1] = -(24000000 - 11060000);

    if (build(&inv, big, 2, adj) != 0
        || emit("invoice-de-max-price", &inv, NULL) != 0)
    {
        return 2;
    }

    return 0;
}
