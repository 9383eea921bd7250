/*
 * evbill-load: an HTTP/1.1 keepalive load generator for the evbill
 * readings endpoint.
 *
 * Every connection is bound to its own session ("<prefix><n>") and posts
 * one new reading per request: seq, timestamp and energy strictly
 * increase, and each body is digested (RFC 9530 Content-Digest sha-256)
 * and signed (RFC 9421 hmac-sha256, created=now) just before it is sent.
 * Pointed at another server (bare "return 200", a proxy) it does exactly
 * the same work, so the numbers compare.
 *
 *   evbill-load --port P --key-id K --secret-b64 S [--setup] [options]
 *
 * --setup starts the sessions (POST <prefix>sessions, one per connection)
 * and exits; without it the client runs for --warmup + --duration seconds
 * and prints
 *
 *   mode=L requests=N errors=E seconds=S rps=R p50_us=X p99_us=Y
 *       max_us=Z ...
 *
 * where requests, errors and the latencies count responses that completed
 * inside the measured window (latency: from the first byte written to the
 * last byte read), and total_2xx/total_errors count every
 * response of the run (warmup and drain included), for checking the store;
 * rx_bytes is every byte read from the server in the run.
 * Every latency of the window counts in the percentiles: 1 us resolution
 * up to 1 s, 1 ms up to 60 s, and one bucket beyond (a percentile that
 * falls there is the maximum); max_us is exact.
 *
 * --readings N makes each connection stop after N readings (the run ends
 * when all are in, or after --warmup + --duration seconds).
 * Exit status: 0 when every answer was 2xx, 1 otherwise, 2 on bad usage.
 */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>


#define LOAD_REQ_MAX       4096
#define LOAD_RESP_MAX      16384
#define LOAD_HIST_US       1000000      /* 1 us buckets up to 1 s */
#define LOAD_HIST_MS       60000        /* then 1 ms buckets up to 60 s */
/* fine + coarse buckets, and one for 60 s and beyond */
#define LOAD_HIST_N        (LOAD_HIST_US + LOAD_HIST_MS - 1000 + 1)
#define LOAD_MAX_ERR_SHOW  5


typedef struct {
    const char     *host;
    const char     *port;
    const char     *prefix;         /* the charger API location */
    const char     *key_id;
    unsigned char   secret[128];
    size_t          secret_len;
    int             connections;
    int             threads;
    int             duration;
    int             warmup;
    const char     *sessions_prefix;
    const char     *origin;         /* scheme://authority for @target-uri */
    const char     *mode;
    int             setup;
    uint64_t        readings;       /* per connection, 0: no limit */
    int             verbose;
    struct sockaddr_storage  addr;
    socklen_t       addrlen;
    char            hostport[300];
} load_conf_t;


typedef struct load_thread_s  load_thread_t;

typedef struct {
    int             fd;
    int             id;             /* session number */
    load_thread_t  *thread;
    int             want_out;       /* EPOLLOUT registered */
    int             busy;           /* a request is in flight */
    int             done;
    uint64_t        seq;
    int64_t         last_ts;        /* ms of the last reading */
    int64_t         sent_ns;
    char            path[160];
    size_t          path_len;
    char            req[LOAD_REQ_MAX];
    size_t          req_len;
    size_t          req_sent;
    char            resp[LOAD_RESP_MAX];
    size_t          resp_len;
} load_conn_t;


struct load_thread_s {
    pthread_t       tid;
    int             ep;
    load_conn_t    *conns;
    int             nconns;
    EVP_MAC_CTX    *mac;
    EVP_MD_CTX     *md;
    EVP_MD         *sha256;
    uint32_t       *hist;           /* LOAD_HIST_N buckets */
    uint64_t        requests;       /* in the window */
    uint64_t        samples;        /* latencies in hist */
    uint64_t        max_us;         /* the longest latency in the window */
    uint64_t        errors;         /* in the window, non-2xx */
    uint64_t        total_ok;
    uint64_t        total_err;
    uint64_t        io_errors;
    uint64_t        rx_bytes;       /* read from the server, whole run */
    uint64_t        status[6];      /* by class, whole run */
    int             shown;
    int             failed;
};


static load_conf_t  conf;
static int64_t      t_start_ns, t_measure_ns, t_end_ns;
static pthread_mutex_t  show_lock = PTHREAD_MUTEX_INITIALIZER;


static int64_t
now_ns(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}


static int64_t
wall_ms(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


static void
fatal(const char *what)
{
    fprintf(stderr, "evbill-load: %s\n", what);
    exit(2);
}


/* RFC 3339 UTC with milliseconds, into out (80 bytes, 24 used). */
static size_t
fmt_time(char *out, int64_t ms)
{
    time_t     t;
    struct tm  tm;

    t = (time_t) (ms / 1000);
    gmtime_r(&t, &tm);
    return (size_t) snprintf(out, 80, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                             tm.tm_hour, tm.tm_min, tm.tm_sec,
                             (int) (ms % 1000));
}


static size_t
b64(const unsigned char *in, size_t len, char *out)
{
    return (size_t) EVP_EncodeBlock((unsigned char *) out, in, (int) len);
}


/*
 * Build the next request of a connection: the body, its Content-Digest,
 * the signature base and its HMAC, then the request head.  All of it is
 * redone for every request, as a charger would.
 */
static int
build_request(load_conn_t *c)
{
    char            body[512], digest[80], sigparams[512], base[1400];
    char            ts[80], mac64[64];
    unsigned char   hash[EVP_MAX_MD_SIZE], mac[EVP_MAX_MD_SIZE];
    unsigned int    hlen;
    size_t          blen, dlen, baselen, mlen;
    int64_t         ms;
    int             n;
    load_thread_t  *t;

    t = c->thread;
    ms = wall_ms();

    if (conf.setup) {
        /* a minute in the past, so the first readings are after it */
        fmt_time(ts, ms - 60000);
        n = snprintf(body, sizeof(body),
                     "{\"session_id\":\"%s%d\",\"connector_id\":1,"
                     "\"id_token\":\"BENCH%d\",\"token_type\":\"RFID\","
                     "\"timestamp\":\"%s\",\"meter_start_wh\":1000}",
                     conf.sessions_prefix, c->id, c->id, ts);

    } else {
        if (ms <= c->last_ts) {
            ms = c->last_ts + 1;
        }
        c->last_ts = ms;
        c->seq++;
        fmt_time(ts, ms);
        n = snprintf(body, sizeof(body),
                     "{\"seq\":%" PRIu64 ",\"timestamp\":\"%s\","
                     "\"energy_wh\":%" PRIu64 "}",
                     c->seq, ts, 1000 + 7 * c->seq);
    }

    if (n < 0 || (size_t) n >= sizeof(body)) {
        return -1;
    }
    blen = (size_t) n;

    if (EVP_DigestInit_ex(t->md, t->sha256, NULL) != 1
        || EVP_DigestUpdate(t->md, body, blen) != 1
        || EVP_DigestFinal_ex(t->md, hash, &hlen) != 1)
    {
        return -1;
    }
    memcpy(digest, "sha-256=:", 9);
    dlen = 9 + b64(hash, hlen, digest + 9);
    digest[dlen++] = ':';
    digest[dlen] = '\0';

    n = snprintf(sigparams, sizeof(sigparams),
                 "(\"@method\" \"@target-uri\" \"content-digest\" "
                 "\"content-type\");created=%lld;keyid=\"%s\";"
                 "alg=\"hmac-sha256\"",
                 (long long) (ms / 1000), conf.key_id);
    if (n < 0 || (size_t) n >= sizeof(sigparams)) {
        return -1;
    }

    n = snprintf(base, sizeof(base),
                 "\"@method\": POST\n"
                 "\"@target-uri\": %s%.*s\n"
                 "\"content-digest\": %s\n"
                 "\"content-type\": application/json\n"
                 "\"@signature-params\": %s",
                 conf.origin, (int) c->path_len, c->path, digest, sigparams);
    if (n < 0 || (size_t) n >= sizeof(base)) {
        return -1;
    }
    baselen = (size_t) n;

    /* a NULL key re-initialises with the key set once per thread */
    if (EVP_MAC_init(t->mac, NULL, 0, NULL) != 1
        || EVP_MAC_update(t->mac, (unsigned char *) base, baselen) != 1
        || EVP_MAC_final(t->mac, mac, &mlen, sizeof(mac)) != 1)
    {
        return -1;
    }
    b64(mac, mlen, mac64);

    n = snprintf(c->req, sizeof(c->req),
                 "POST %.*s HTTP/1.1\r\n"
                 "Host: %s\r\n"
                 "Content-Type: application/json\r\n"
                 "Content-Length: %zu\r\n"
                 "Content-Digest: %s\r\n"
                 "Signature-Input: sig1=%s\r\n"
                 "Signature: sig1=:%s:\r\n"
                 "\r\n"
                 "%.*s",
                 (int) c->path_len, c->path, conf.hostport, blen, digest,
                 sigparams, mac64, (int) blen, body);
    if (n < 0 || (size_t) n >= sizeof(c->req)) {
        return -1;
    }

    c->req_len = (size_t) n;
    c->req_sent = 0;
    c->resp_len = 0;
    return 0;
}


static void
conn_close(load_conn_t *c)
{
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
    c->want_out = 0;
    c->busy = 0;
}


static int
conn_open(load_conn_t *c)
{
    int                 fd, one;
    struct epoll_event  ev;

    fd = socket(conf.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        return -1;
    }
    one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

    if (connect(fd, (struct sockaddr *) &conf.addr, conf.addrlen) < 0
        && errno != EINPROGRESS)
    {
        close(fd);
        return -1;
    }

    c->fd = fd;
    c->want_out = 1;
    ev.events = EPOLLIN | EPOLLOUT;
    ev.data.ptr = c;
    if (epoll_ctl(c->thread->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
        conn_close(c);
        return -1;
    }
    return 0;
}


static void
set_out(load_conn_t *c, int on)
{
    struct epoll_event  ev;

    if (c->want_out == on) {
        return;
    }
    c->want_out = on;
    ev.events = EPOLLIN | (on ? EPOLLOUT : 0);
    ev.data.ptr = c;
    epoll_ctl(c->thread->ep, EPOLL_CTL_MOD, c->fd, &ev);
}


static int
conn_write(load_conn_t *c)
{
    ssize_t  n;

    while (c->req_sent < c->req_len) {
        n = write(c->fd, c->req + c->req_sent, c->req_len - c->req_sent);
        if (n < 0) {
            if (errno == EAGAIN) {
                set_out(c, 1);
                return 0;
            }
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        c->req_sent += (size_t) n;
    }
    set_out(c, 0);
    return 0;
}


/* Start the next request on a connection, or mark it done. */
static int
conn_next(load_conn_t *c, int64_t now)
{
    if (c->done || (conf.setup && c->seq > 0) || now >= t_end_ns
        || (conf.readings > 0 && c->seq >= conf.readings))
    {
        c->done = 1;
        return 0;
    }
    if (conf.setup) {
        c->seq = 1;
    }
    if (build_request(c) != 0) {
        fatal("request does not fit its buffer");
    }
    c->busy = 1;
    c->sent_ns = now_ns();
    return conn_write(c);
}


static const char *
find_header(const char *h, size_t len, const char *name)
{
    size_t       nl;
    const char  *p, *end;

    nl = strlen(name);
    end = h + len;
    for (p = h; p < end; p++) {
        if (*p == '\n' && (size_t) (end - p - 1) > nl
            && strncasecmp(p + 1, name, nl) == 0 && p[1 + nl] == ':')
        {
            p += 2 + nl;
            while (p < end && (*p == ' ' || *p == '\t')) {
                p++;
            }
            return p;
        }
    }
    return NULL;
}


/*
 * Length of a complete chunked body starting at p, or 0 while more is
 * needed.
 */
static size_t
chunked_len(const char *p, size_t len)
{
    size_t       pos, sz;
    const char  *e;
    char        *ep;

    pos = 0;
    for ( ;; ) {
        e = memmem(p + pos, len - pos, "\r\n", 2);
        if (e == NULL) {
            return 0;
        }
        sz = strtoul(p + pos, &ep, 16);
        pos = (size_t) (e - p) + 2;
        if (sz == 0) {
            /* no trailers from nginx: just the final CRLF */
            return (len - pos >= 2) ? pos + 2 : 0;
        }
        if (len - pos < sz + 2) {
            return 0;
        }
        pos += sz + 2;
    }
}


static size_t
hist_bucket(uint64_t us)
{
    if (us < LOAD_HIST_US) {
        return (size_t) us;
    }
    if (us < (uint64_t) LOAD_HIST_MS * 1000) {
        return LOAD_HIST_US + (size_t) (us / 1000 - 1000);
    }
    return LOAD_HIST_N - 1;
}


static void
record(load_conn_t *c, int status, int64_t now)
{
    load_thread_t  *t;
    int64_t         us;
    int             ok;
    size_t          blen;
    const char     *body;

    t = c->thread;
    ok = (status >= 200 && status < 300);
    if (ok) {
        t->total_ok++;
    } else {
        t->total_err++;
    }
    if (status >= 100 && status < 600) {
        t->status[status / 100]++;
    } else {
        t->status[0]++;
    }

    if (!ok && t->shown < LOAD_MAX_ERR_SHOW) {
        t->shown++;
        body = memmem(c->resp, c->resp_len, "\r\n\r\n", 4);
        blen = 0;
        if (body != NULL) {
            body += 4;
            blen = c->resp_len - (size_t) (body - c->resp);
        }
        pthread_mutex_lock(&show_lock);
        fprintf(stderr, "evbill-load: %s: session %s%d seq %" PRIu64
                " got %d %.*s\n", conf.mode, conf.sessions_prefix, c->id,
                c->seq, status, (int) (blen > 300 ? 300 : blen),
                body ? body : "");
        pthread_mutex_unlock(&show_lock);
    }

    /* like wrk: what completes inside the window counts */
    if (now < t_measure_ns || now > t_end_ns) {
        return;
    }
    t->requests++;
    if (!ok) {
        t->errors++;
    }
    us = (now - c->sent_ns) / 1000;
    if (us < 0) {
        us = 0;
    }
    t->hist[hist_bucket((uint64_t) us)]++;
    t->samples++;
    if ((uint64_t) us > t->max_us) {
        t->max_us = (uint64_t) us;
    }
}


/*
 * Read what is there; when a whole response is in, record it and send
 * the next request.  Returns -1 when the connection must be reopened.
 */
static int
conn_read(load_conn_t *c)
{
    ssize_t      n;
    size_t       hlen, total, blen;
    const char  *he, *v;
    int          status, keep;
    int64_t      now;

    n = read(c->fd, c->resp + c->resp_len, sizeof(c->resp) - c->resp_len);
    if (n < 0) {
        return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
    }
    if (n == 0) {
        return -1;
    }
    c->thread->rx_bytes += (uint64_t) n;
    if (!c->busy) {
        /* nothing asked: the server talks out of turn */
        return -1;
    }
    c->resp_len += (size_t) n;

    he = memmem(c->resp, c->resp_len, "\r\n\r\n", 4);
    if (he == NULL) {
        return c->resp_len == sizeof(c->resp) ? -1 : 0;
    }
    hlen = (size_t) (he - c->resp) + 4;

    if (c->resp_len < 12 || memcmp(c->resp, "HTTP/1.", 7) != 0) {
        return -1;
    }
    status = atoi(c->resp + 9);

    v = find_header(c->resp, hlen, "Content-Length");
    if (v != NULL) {
        blen = strtoul(v, NULL, 10);
        total = hlen + blen;
        if (total > sizeof(c->resp)) {
            return -1;
        }
        if (c->resp_len < total) {
            return 0;
        }

    } else {
        v = find_header(c->resp, hlen, "Transfer-Encoding");
        if (v != NULL && strncasecmp(v, "chunked", 7) == 0) {
            blen = chunked_len(c->resp + hlen, c->resp_len - hlen);
            if (blen == 0) {
                return c->resp_len == sizeof(c->resp) ? -1 : 0;
            }
            total = hlen + blen;

        } else {
            total = hlen;
        }
    }

    if (c->resp_len > total) {
        return -1;
    }

    now = now_ns();
    c->busy = 0;
    record(c, status, now);

    v = find_header(c->resp, hlen, "Connection");
    keep = !(v != NULL && strncasecmp(v, "close", 5) == 0);
    if (!keep) {
        conn_close(c);
        if (c->done || now >= t_end_ns || conf.setup) {
            c->done = 1;
            return 0;
        }
        if (conn_open(c) != 0) {
            return -1;
        }
        return 0;
    }

    return conn_next(c, now);
}


static void *
thread_run(void *arg)
{
    load_thread_t       *t = arg;
    struct epoll_event   evs[256];
    load_conn_t         *c;
    int                  i, n, active, err;
    int64_t              now, drain_end;
    socklen_t            sl;

    for (i = 0; i < t->nconns; i++) {
        if (conn_open(&t->conns[i]) != 0) {
            fatal("connect failed");
        }
    }

    drain_end = t_end_ns + (int64_t) 10 * 1000000000;

    for ( ;; ) {
        n = epoll_wait(t->ep, evs, 256, 100);
        if (n < 0 && errno != EINTR) {
            fatal("epoll_wait failed");
        }
        now = now_ns();

        for (i = 0; i < n; i++) {
            c = evs[i].data.ptr;
            if (c->fd < 0) {
                continue;
            }

            if (!c->busy && !c->done && (evs[i].events & EPOLLOUT)
                && c->req_len == 0)
            {
                /* connected (or failed): the first request */
                err = 0;
                sl = sizeof(err);
                getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &sl);
                if (err != 0) {
                    fatal("connect failed");
                }
                set_out(c, 0);
                if (conn_next(c, now) != 0) {
                    goto reopen;
                }
                continue;
            }

            if (!c->busy && !c->done && (evs[i].events & EPOLLOUT)) {
                /* reconnected after Connection: close */
                set_out(c, 0);
                if (conn_next(c, now) != 0) {
                    goto reopen;
                }
                continue;
            }

            if ((evs[i].events & EPOLLOUT) && c->busy
                && c->req_sent < c->req_len)
            {
                if (conn_write(c) != 0) {
                    goto reopen;
                }
            }

            if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
                if (conn_read(c) != 0) {
                    goto reopen;
                }
            }
            continue;

        reopen:

            t->io_errors++;
            if (c->busy) {
                /* the request's fate is unknown: count it as failed */
                t->total_err++;
                if (now >= t_measure_ns && now <= t_end_ns) {
                    t->requests++;
                    t->errors++;
                }
            }
            conn_close(c);
            c->req_len = 0;
            if (conf.setup || now >= t_end_ns || t->io_errors > 1000) {
                c->done = 1;
                t->failed = 1;
                continue;
            }
            if (conn_open(c) != 0) {
                c->done = 1;
                t->failed = 1;
            }
        }

        active = 0;
        for (i = 0; i < t->nconns; i++) {
            c = &t->conns[i];
            if (c->busy || (!c->done && c->fd >= 0)) {
                if (!c->busy && now >= t_end_ns) {
                    c->done = 1;
                    continue;
                }
                active++;
            }
        }
        if (active == 0) {
            break;
        }
        if (now > drain_end) {
            fprintf(stderr, "evbill-load: %d requests still in flight\n",
                    active);
            t->failed = 1;
            break;
        }
    }

    for (i = 0; i < t->nconns; i++) {
        conn_close(&t->conns[i]);
    }
    return NULL;
}


static void
usage(void)
{
    fprintf(stderr,
"usage: evbill-load --port P --key-id K --secret-b64 S [options]\n"
"  --host H               server address (127.0.0.1)\n"
"  --port P               server port\n"
"  --path-prefix P        charger API location (/charger/)\n"
"  --key-id K             signing key id\n"
"  --secret-b64 S         signing secret, base64\n"
"  --connections N        connections, one session each (64)\n"
"  --threads N            client threads (1)\n"
"  --duration S           measured seconds (10)\n"
"  --warmup S             seconds before measuring (2)\n"
"  --sessions-prefix P    session ids are P<n> (S)\n"
"  --target-uri-origin U  scheme://authority signed in @target-uri\n"
"                         (http://HOST:PORT)\n"
"  --mode L               label printed in the result line (evbill)\n"
"  --readings N           readings per connection, then stop (no limit)\n"
"  --setup                start the sessions and exit\n");
    exit(2);
}


static int
parse_args(int argc, char **argv)
{
    static const struct option  opts[] = {
        { "host", required_argument, NULL, 'h' },
        { "port", required_argument, NULL, 'p' },
        { "path-prefix", required_argument, NULL, 'P' },
        { "key-id", required_argument, NULL, 'k' },
        { "secret-b64", required_argument, NULL, 's' },
        { "connections", required_argument, NULL, 'c' },
        { "threads", required_argument, NULL, 't' },
        { "duration", required_argument, NULL, 'd' },
        { "warmup", required_argument, NULL, 'w' },
        { "sessions-prefix", required_argument, NULL, 'S' },
        { "target-uri-origin", required_argument, NULL, 'o' },
        { "mode", required_argument, NULL, 'm' },
        { "setup", no_argument, NULL, 'x' },
        { "readings", required_argument, NULL, 'r' },
        { "help", no_argument, NULL, '?' },
        { NULL, 0, NULL, 0 }
    };
    int              ch, rc;
    const char      *secret = NULL;
    struct addrinfo  hints, *ai;
    static char      origin[320];
    unsigned char    raw[256];
    int              n;
    size_t           sl;

    conf.host = "127.0.0.1";
    conf.prefix = "/charger/";
    conf.connections = 64;
    conf.threads = 1;
    conf.duration = 10;
    conf.warmup = 2;
    conf.sessions_prefix = "S";
    conf.mode = "evbill";

    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'h': conf.host = optarg; break;
        case 'p': conf.port = optarg; break;
        case 'P': conf.prefix = optarg; break;
        case 'k': conf.key_id = optarg; break;
        case 's': secret = optarg; break;
        case 'c': conf.connections = atoi(optarg); break;
        case 't': conf.threads = atoi(optarg); break;
        case 'd': conf.duration = atoi(optarg); break;
        case 'w': conf.warmup = atoi(optarg); break;
        case 'S': conf.sessions_prefix = optarg; break;
        case 'o': conf.origin = optarg; break;
        case 'm': conf.mode = optarg; break;
        case 'x': conf.setup = 1; break;
        case 'r': conf.readings = strtoull(optarg, NULL, 10); break;
        default: usage();
        }
    }

    if (conf.port == NULL || conf.key_id == NULL || secret == NULL
        || conf.connections < 1 || conf.threads < 1
        || conf.threads > conf.connections || conf.duration < 1
        || conf.warmup < 0 || strchr(conf.key_id, '"') != NULL
        || strchr(conf.key_id, '\\') != NULL)
    {
        usage();
    }

    sl = strlen(secret);
    if (sl == 0 || sl > 170) {
        fatal("bad --secret-b64");
    }
    n = EVP_DecodeBlock(raw, (const unsigned char *) secret, (int) sl);
    if (n < 0) {
        fatal("bad --secret-b64");
    }
    /* EVP_DecodeBlock counts the padding as zero bytes */
    if (sl >= 1 && secret[sl - 1] == '=') {
        n--;
    }
    if (sl >= 2 && secret[sl - 2] == '=') {
        n--;
    }
    if (n <= 0 || (size_t) n > sizeof(conf.secret)) {
        fatal("bad --secret-b64");
    }
    memcpy(conf.secret, raw, (size_t) n);
    conf.secret_len = (size_t) n;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    rc = getaddrinfo(conf.host, conf.port, &hints, &ai);
    if (rc != 0) {
        fprintf(stderr, "evbill-load: %s:%s: %s\n", conf.host, conf.port,
                gai_strerror(rc));
        exit(2);
    }
    memcpy(&conf.addr, ai->ai_addr, ai->ai_addrlen);
    conf.addrlen = ai->ai_addrlen;
    freeaddrinfo(ai);

    snprintf(conf.hostport, sizeof(conf.hostport), "%s:%s", conf.host,
             conf.port);
    if (conf.origin == NULL) {
        snprintf(origin, sizeof(origin), "http://%s", conf.hostport);
        conf.origin = origin;
    }
    return 0;
}


static int
thread_init(load_thread_t *t, load_conn_t *conns, int nconns)
{
    EVP_MAC     *mac;
    OSSL_PARAM   params[2];
    char         digest[] = "SHA256";

    t->conns = conns;
    t->nconns = nconns;
    t->ep = epoll_create1(0);
    t->hist = calloc(LOAD_HIST_N, sizeof(uint32_t));
    t->md = EVP_MD_CTX_new();
    t->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (t->ep < 0 || t->hist == NULL || t->md == NULL || t->sha256 == NULL
        || mac == NULL)
    {
        return -1;
    }
    t->mac = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);
    if (t->mac == NULL) {
        return -1;
    }
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 digest, 0);
    params[1] = OSSL_PARAM_construct_end();
    if (EVP_MAC_init(t->mac, conf.secret, conf.secret_len, params) != 1) {
        return -1;
    }
    return 0;
}


/*
 * A coarse bucket reports its upper end, not below any latency in it;
 * the last bucket reports the exact maximum.
 */
static uint64_t
percentile(const uint32_t *hist, uint64_t count, unsigned pct,
    uint64_t max_us)
{
    uint64_t  want, seen;
    size_t    i;

    if (count == 0) {
        return 0;
    }
    /* the smallest latency with at least pct% of samples at or below */
    want = (count * pct + 99) / 100;
    seen = 0;
    for (i = 0; i < LOAD_HIST_N; i++) {
        seen += hist[i];
        if (seen >= want) {
            break;
        }
    }
    if (i < LOAD_HIST_US) {
        return i;
    }
    if (i < LOAD_HIST_N - 1) {
        i = (i - LOAD_HIST_US + 1000 + 1) * 1000 - 1;
        return i < max_us ? i : max_us;
    }
    return max_us;
}


int
main(int argc, char **argv)
{
    load_conn_t    *conns;
    load_thread_t  *threads, sum;
    int             i, per, first, cnt;
    size_t          j, plen;
    uint64_t        p50, p99;
    int64_t         window_ns;
    long long       rps_milli;

    signal(SIGPIPE, SIG_IGN);
    parse_args(argc, argv);

    conns = calloc((size_t) conf.connections, sizeof(load_conn_t));
    threads = calloc((size_t) conf.threads, sizeof(load_thread_t));
    if (conns == NULL || threads == NULL) {
        fatal("out of memory");
    }

    plen = strlen(conf.prefix);
    for (i = 0; i < conf.connections; i++) {
        conns[i].fd = -1;
        conns[i].id = i + 1;
        if (conf.setup) {
            snprintf(conns[i].path, sizeof(conns[i].path), "%s%ssessions",
                     conf.prefix, conf.prefix[plen - 1] == '/' ? "" : "/");
        } else {
            snprintf(conns[i].path, sizeof(conns[i].path),
                     "%s%ssessions/%s%d/readings", conf.prefix,
                     conf.prefix[plen - 1] == '/' ? "" : "/",
                     conf.sessions_prefix, i + 1);
        }
        conns[i].path_len = strlen(conns[i].path);
        for (j = 0; j < conns[i].path_len; j++) {
            if (conns[i].path[j] <= ' ' || conns[i].path[j] >= 0x7f
                || conns[i].path[j] == '%' || conns[i].path[j] == '?')
            {
                fatal("session prefix needs escaping: keep it plain");
            }
        }
    }

    t_start_ns = now_ns();
    if (conf.setup) {
        t_measure_ns = t_start_ns;
        t_end_ns = t_start_ns + (int64_t) 30 * 1000000000;
    } else {
        t_measure_ns = t_start_ns + (int64_t) conf.warmup * 1000000000;
        t_end_ns = t_measure_ns + (int64_t) conf.duration * 1000000000;
    }

    per = conf.connections / conf.threads;
    first = 0;
    for (i = 0; i < conf.threads; i++) {
        cnt = per + (i < conf.connections % conf.threads ? 1 : 0);
        for (j = 0; j < (size_t) cnt; j++) {
            conns[first + j].thread = &threads[i];
        }
        if (thread_init(&threads[i], &conns[first], cnt) != 0) {
            fatal("init failed");
        }
        first += cnt;
    }

    if (conf.threads == 1) {
        thread_run(&threads[0]);
    } else {
        for (i = 0; i < conf.threads; i++) {
            if (pthread_create(&threads[i].tid, NULL, thread_run,
                               &threads[i]) != 0)
            {
                fatal("pthread_create failed");
            }
        }
        for (i = 0; i < conf.threads; i++) {
            pthread_join(threads[i].tid, NULL);
        }
    }

    memset(&sum, 0, sizeof(sum));
    sum.hist = threads[0].hist;
    for (i = 0; i < conf.threads; i++) {
        sum.requests += threads[i].requests;
        sum.samples += threads[i].samples;
        if (threads[i].max_us > sum.max_us) {
            sum.max_us = threads[i].max_us;
        }
        sum.errors += threads[i].errors;
        sum.total_ok += threads[i].total_ok;
        sum.total_err += threads[i].total_err;
        sum.io_errors += threads[i].io_errors;
        sum.rx_bytes += threads[i].rx_bytes;
        sum.failed |= threads[i].failed;
        for (j = 0; j < 6; j++) {
            sum.status[j] += threads[i].status[j];
        }
        if (i > 0) {
            for (j = 0; j < LOAD_HIST_N; j++) {
                sum.hist[j] += threads[i].hist[j];
            }
        }
    }

    if (conf.setup) {
        printf("setup sessions=%d ok=%" PRIu64 " errors=%" PRIu64 "\n",
               conf.connections, sum.total_ok, sum.total_err);
        return (sum.total_ok == (uint64_t) conf.connections) ? 0 : 1;
    }

    window_ns = t_end_ns - t_measure_ns;
    p50 = percentile(sum.hist, sum.samples, 50, sum.max_us);
    p99 = percentile(sum.hist, sum.samples, 99, sum.max_us);
    rps_milli = (long long) (sum.requests * 1000000000000ULL
                             / (uint64_t) window_ns);

    printf("mode=%s requests=%" PRIu64 " errors=%" PRIu64 " seconds=%d"
           " rps=%lld.%03lld p50_us=%" PRIu64 " p99_us=%" PRIu64
           " max_us=%" PRIu64 " total_2xx=%" PRIu64 " total_errors=%" PRIu64
           " io_errors=%" PRIu64 " rx_bytes=%" PRIu64 " status_2xx=%" PRIu64 " status_4xx=%"
           PRIu64 " status_5xx=%" PRIu64 "\n",
           conf.mode, sum.requests, sum.errors, conf.duration,
           rps_milli / 1000, rps_milli % 1000, p50, p99, sum.max_us,
           sum.total_ok, sum.total_err, sum.io_errors, sum.rx_bytes,
           sum.status[2],
           sum.status[4], sum.status[5]);

    /* non-2xx answers are a failed run, though the numbers stand */
    return (sum.failed || sum.total_err > 0) ? 1 : 0;
}
