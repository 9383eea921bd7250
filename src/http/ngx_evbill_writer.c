
/*
 * The per-worker group-commit writer.
 *
 * Requests queue their write operation here; one thread task per worker
 * takes everything queued, applies it in one LMDB write transaction with
 * one fsync, and hands the results back to the event loop, which answers
 * every request of the batch.  Under load batches grow and the flush is
 * shared; no request hears 2xx before its data is on disk.
 */


#include "ngx_evbill.h"


#define NGX_EVBILL_BATCH_MAX  1024


/*
 * pending is shared with the writer thread, which drains it only after it
 * holds LMDB's write lock: requests that arrive while the other worker
 * commits join the next batch at once.  The mutex guards pending and
 * npending; busy and batch belong to the event loop between tasks.
 */

struct ngx_evbill_writer_s {
    ngx_thread_task_t         *task;
    ngx_thread_mutex_t         mutex;
    ngx_queue_t                pending;
    ngx_uint_t                 npending;
    ngx_queue_t                batch;       /* taken by the thread */
    unsigned                   busy:1;
    /* a non-cancelable timer while writes are in flight: a worker that
     * is shutting down waits for timers, not for thread tasks */
    ngx_event_t                hold;
    ngx_evbill_main_conf_t    *mcf;
    ngx_log_t                 *log;
};


typedef struct {
    ngx_evbill_writer_t       *writer;
    evb_store_t               *store;
    evb_wop_t                 *ops[NGX_EVBILL_BATCH_MAX];
    size_t                     nops;
    evb_problem_e              rc;
    char                       err[256];
} ngx_evbill_task_ctx_t;


static void ngx_evbill_writer_post(ngx_evbill_writer_t *wr);
static void ngx_evbill_writer_thread(void *data, ngx_log_t *log);
static size_t ngx_evbill_writer_take(void *data, evb_wop_t ***ops);
static void ngx_evbill_writer_done(ngx_event_t *ev);
static void ngx_evbill_sweep_done(ngx_evbill_wreq_t *w);
static void ngx_evbill_writer_hold(ngx_event_t *ev);
static void ngx_evbill_writer_log_ops(ngx_evbill_writer_t *wr,
    ngx_evbill_task_ctx_t *tctx);


ngx_int_t
ngx_evbill_writer_init(ngx_cycle_t *cycle, ngx_evbill_main_conf_t *mcf)
{
    ngx_evbill_writer_t  *wr;

    wr = ngx_pcalloc(cycle->pool, sizeof(ngx_evbill_writer_t));
    if (wr == NULL) {
        return NGX_ERROR;
    }

    wr->task = ngx_thread_task_alloc(cycle->pool,
                                     sizeof(ngx_evbill_task_ctx_t));
    if (wr->task == NULL) {
        return NGX_ERROR;
    }

    if (ngx_thread_mutex_create(&wr->mutex, cycle->log) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_queue_init(&wr->pending);
    ngx_queue_init(&wr->batch);
    wr->mcf = mcf;
    wr->log = cycle->log;

    wr->task->handler = ngx_evbill_writer_thread;
    wr->task->event.handler = ngx_evbill_writer_done;
    wr->task->event.data = wr;
    wr->task->event.log = cycle->log;

    wr->hold.handler = ngx_evbill_writer_hold;
    wr->hold.data = wr;
    wr->hold.log = cycle->log;

    mcf->writer = wr;

    return NGX_OK;
}


ngx_uint_t
ngx_evbill_writer_busy(ngx_evbill_main_conf_t *mcf)
{
    return mcf->writer && mcf->writer->busy;
}


/*
 * Queue a write.  NGX_DECLINED when the queue is full (the caller answers
 * 503), NGX_ERROR when the thread pool refuses the task.
 */

ngx_int_t
ngx_evbill_writer_submit(ngx_evbill_main_conf_t *mcf, ngx_evbill_wreq_t *w)
{
    ngx_evbill_writer_t  *wr;

    wr = mcf->writer;

    if (wr == NULL) {
        return NGX_ERROR;
    }

    if (ngx_thread_mutex_lock(&wr->mutex, wr->log) != NGX_OK) {
        return NGX_ERROR;
    }

    if (wr->npending >= mcf->write_queue) {
        (void) ngx_thread_mutex_unlock(&wr->mutex, wr->log);
        return NGX_DECLINED;
    }

    ngx_queue_insert_tail(&wr->pending, &w->queue);
    wr->npending++;

    (void) ngx_thread_mutex_unlock(&wr->mutex, wr->log);

    if (w->request) {
        /* keep the request alive through a client abort, as the file
         * cache does around its thread tasks */
        w->request->main->blocked++;
        w->request->aio = 1;
    }

    if (!wr->hold.timer_set) {
        ngx_add_timer(&wr->hold, 1000);
    }

    if (!wr->busy) {
        ngx_evbill_writer_post(wr);
    }

    return NGX_OK;
}


/*
 * A request's write: queue it, or answer why not (503 write-queue-full
 * or store-unavailable); done() answers it after the commit.  The one
 * place both APIs hand a write to the queue.
 */

ngx_int_t
ngx_evbill_writer_queue(ngx_http_request_t *r, ngx_evbill_ctx_t *ctx,
    ngx_evbill_wreq_t *w, ngx_evbill_done_pt done)
{
    ngx_int_t                rc;
    ngx_evbill_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_evbill_module);

    w->request = r;
    w->done = done;

    rc = ngx_evbill_writer_submit(mcf, w);

    if (rc == NGX_DECLINED) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "evbill: write queue full (evbill_write_queue %ui)",
                      mcf->write_queue);
        return ngx_evbill_send_problem(r, EVB_P_QUEUE_FULL,
                                       "too many writes are waiting; "
                                       "retry shortly");
    }

    if (rc != NGX_OK) {
        return ngx_evbill_send_problem(r, EVB_P_STORE_UNAVAILABLE,
                                       "the store is not available");
    }

    ctx->wreq = w;

    /* answered by done() after the commit */
    r->main->count++;

    return NGX_DONE;
}


static void
ngx_evbill_writer_hold(ngx_event_t *ev)
{
    ngx_evbill_writer_t  *wr;

    wr = ev->data;

    if (wr->busy) {
        ngx_add_timer(ev, 1000);
    }
}


static void
ngx_evbill_writer_post(ngx_evbill_writer_t *wr)
{
    ngx_evbill_task_ctx_t  *tctx;

    tctx = wr->task->ctx;
    tctx->writer = wr;
    tctx->store = wr->mcf->store;
    tctx->nops = 0;
    tctx->rc = EVB_OK;
    tctx->err[0] = '\0';

    ngx_queue_init(&wr->batch);

    wr->busy = 1;

    if (ngx_thread_task_post(wr->mcf->thread_pool, wr->task) != NGX_OK) {
        /* the pool's queue is full: fail what is pending from the event
         * loop, never from inside the handler that submitted it */
        (void) ngx_evbill_writer_take(tctx, NULL);
        tctx->rc = EVB_P_STORE_UNAVAILABLE;
        ngx_cpystrn((u_char *) tctx->err,
                    (u_char *) "thread pool queue overflow",
                    sizeof(tctx->err));
        ngx_post_event(&wr->task->event, &ngx_posted_events);
    }
}


static void
ngx_evbill_writer_thread(void *data, ngx_log_t *log)
{
    ngx_evbill_task_ctx_t  *tctx = data;

    tctx->rc = evb_store_apply_take(tctx->store, ngx_evbill_writer_take,
                                    tctx, tctx->err, sizeof(tctx->err));
}


/* Runs in the writer thread once the write transaction has begun. */

static size_t
ngx_evbill_writer_take(void *data, evb_wop_t ***ops)
{
    ngx_evbill_task_ctx_t  *tctx = data;

    ngx_queue_t          *q;
    ngx_evbill_wreq_t    *w;
    ngx_evbill_writer_t  *wr;

    wr = tctx->writer;

    if (ngx_thread_mutex_lock(&wr->mutex, wr->log) != NGX_OK) {
        tctx->nops = 0;
        return 0;
    }

    while (!ngx_queue_empty(&wr->pending)
           && tctx->nops < NGX_EVBILL_BATCH_MAX)
    {
        q = ngx_queue_head(&wr->pending);
        ngx_queue_remove(q);
        wr->npending--;

        ngx_queue_insert_tail(&wr->batch, q);

        w = ngx_queue_data(q, ngx_evbill_wreq_t, queue);
        tctx->ops[tctx->nops++] = &w->op.op.w;
    }

    (void) ngx_thread_mutex_unlock(&wr->mutex, wr->log);

    if (ops) {
        *ops = tctx->ops;
    }

    return tctx->nops;
}


static void
ngx_evbill_writer_done(ngx_event_t *ev)
{
    size_t                  i;
    ngx_uint_t              level, more;
    ngx_queue_t             batch, *q;
    ngx_evbill_wreq_t      *w;
    ngx_http_request_t     *r;
    ngx_connection_t       *c;
    ngx_evbill_writer_t    *wr;
    ngx_evbill_task_ctx_t  *tctx;

    wr = ev->data;
    tctx = wr->task->ctx;

    if (tctx->rc != EVB_OK) {
        level = (tctx->rc == EVB_P_STORE_FULL) ? NGX_LOG_ERR : NGX_LOG_ALERT;

        ngx_log_error(level, wr->log, 0,
                      "evbill: write batch of %uz failed: %s",
                      tctx->nops, tctx->err);

        for (i = 0; i < tctx->nops; i++) {
            /* the store's own answer, when it gave one, says best what
             * happened (a failed flush may have stored the write; a
             * refused op keeps its refusal) */
            if (tctx->ops[i]->problem != EVB_OK
                && tctx->ops[i]->detail[0] != '\0')
            {
                continue;
            }

            tctx->ops[i]->problem = tctx->rc;
            ngx_cpystrn((u_char *) tctx->ops[i]->detail,
                        (u_char *) (tctx->rc == EVB_P_STORE_FULL
                        ? "the store is full; nothing was written; "
                          "the operator must grow evbill_store size="
                        : "the store could not commit; nothing was "
                          "written; retry later"),
                        sizeof(tctx->ops[i]->detail));
        }
    }

    if (tctx->rc == EVB_OK) {
        ngx_evbill_writer_log_ops(wr, tctx);
    }

    /* take the batch so that answering may queue new writes safely */
    ngx_queue_init(&batch);

    if (!ngx_queue_empty(&wr->batch)) {
        batch = wr->batch;
        batch.next->prev = &batch;
        batch.prev->next = &batch;
    }

    ngx_queue_init(&wr->batch);
    wr->busy = 0;

    /* the next batch runs while this one is answered */
    if (ngx_thread_mutex_lock(&wr->mutex, wr->log) == NGX_OK) {
        more = !ngx_queue_empty(&wr->pending);
        (void) ngx_thread_mutex_unlock(&wr->mutex, wr->log);

    } else {
        more = 1;
    }

    if (more) {
        ngx_evbill_writer_post(wr);

    } else if (wr->hold.timer_set) {
        ngx_del_timer(&wr->hold);
    }

    while (!ngx_queue_empty(&batch)) {
        q = ngx_queue_head(&batch);
        ngx_queue_remove(q);

        w = ngx_queue_data(q, ngx_evbill_wreq_t, queue);
        r = w->request;

        if (r == NULL) {
            w->done(w);
            continue;
        }

        c = r->connection;

        r->main->blocked--;
        r->aio = 0;

        w->done(w);

        ngx_http_run_posted_requests(c);
    }
}


/*
 * The batch committed, but some ops failed in the store on their own (one
 * that did not fit in the map, a record that does not decode): the
 * operator must hear of it, the other ops of the batch were stored.
 */

static void
ngx_evbill_writer_log_ops(ngx_evbill_writer_t *wr,
    ngx_evbill_task_ctx_t *tctx)
{
    size_t      i, full, broken;
    evb_wop_t  *op, *first_broken;

    full = 0;
    broken = 0;
    first_broken = NULL;

    for (i = 0; i < tctx->nops; i++) {
        op = tctx->ops[i];

        if (op->problem == EVB_P_STORE_FULL) {
            full++;

        } else if (op->problem == EVB_P_STORE_UNAVAILABLE
                   || op->problem == EVB_P_INTERNAL)
        {
            if (first_broken == NULL) {
                first_broken = op;
            }
            broken++;
        }
    }

    if (full) {
        ngx_log_error(NGX_LOG_ERR, wr->log, 0,
                      "evbill: %uz write(s) of a batch of %uz did not fit "
                      "in the store (MDB_MAP_FULL), answered 507; the "
                      "others were stored; grow evbill_store size=",
                      full, tctx->nops);
    }

    if (broken) {
        ngx_log_error(NGX_LOG_ALERT, wr->log, 0,
                      "evbill: %uz write(s) of a batch of %uz failed in the "
                      "store, answered 503/500: %s",
                      broken, tctx->nops, first_broken->detail);
    }
}


/*
 * The idle-session sweep: a timer queues an internal write that closes
 * one chunk (EVB_SWEEP_CHUNK sessions at most); while the chunk says more
 * follow, its completion queues the next one right away, so other writes
 * interleave with the chunks and no transaction holds the lock for long.
 */

static ngx_int_t
ngx_evbill_sweep_submit(ngx_evbill_main_conf_t *mcf, ngx_log_t *log,
    const evb_op_sweep_t *prev)
{
    evb_arena_t        *a;
    ngx_evbill_wreq_t  *w;

    w = ngx_calloc(sizeof(ngx_evbill_wreq_t), log);
    if (w == NULL) {
        return NGX_ERROR;
    }

    a = evb_arena_create(4096);
    if (a == NULL) {
        ngx_free(w);
        return NGX_ERROR;
    }

    evb_op_sweep_init(&w->op.sweep, ngx_evbill_now(), a);
    w->op.sweep.idle_timeout = (evb_msec_t) mcf->idle_timeout;
    w->op.sweep.bill = &mcf->bill;

    if (prev) {
        w->op.sweep.after = prev->after;
        w->op.sweep.has_after = prev->has_after;
    }

    w->done = ngx_evbill_sweep_done;
    w->data = mcf;

    if (ngx_evbill_writer_submit(mcf, w) != NGX_OK) {
        evb_arena_destroy(a);
        ngx_free(w);
        return NGX_ERROR;
    }

    return NGX_OK;
}


void
ngx_evbill_sweep_handler(ngx_event_t *ev)
{
    ngx_evbill_main_conf_t  *mcf;

    mcf = ev->data;

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    /* a worker killed inside a read leaves its reader slot behind */
    if (evb_store_reader_check(mcf->store) > 0) {
        ngx_log_error(NGX_LOG_NOTICE, ev->log, 0,
                      "evbill: cleared stale LMDB reader slots");
    }

    if (ngx_evbill_sweep_submit(mcf, ev->log, NULL) != NGX_OK) {
        ngx_add_timer(ev, ngx_min(mcf->idle_timeout / 2 + 1, 60000));
    }
}


static void
ngx_evbill_sweep_done(ngx_evbill_wreq_t *w)
{
    ngx_uint_t               level;
    evb_op_sweep_t          *o;
    ngx_evbill_main_conf_t  *mcf;

    mcf = w->data;
    o = &w->op.sweep;

    if (evb_op_problem(&w->op.op) != EVB_OK) {
        ngx_log_error(NGX_LOG_ERR, mcf->writer->log, 0,
                      "evbill: idle session sweep failed: %s",
                      evb_op_detail(&w->op.op));

    } else {
        /* one line per chunk, at info: its bounds are the point
         * (make bench-scale reads them); a tick with nothing due is
         * only debug, or an info log gets a line a minute per worker */
        /* entries only moved (sessions written to since) are routine */
        level = (o->examined > o->moved) ? NGX_LOG_INFO : NGX_LOG_DEBUG;

        ngx_log_error(level, mcf->writer->log, 0,
                      "evbill: idle sweep chunk: %uL read, %uL closed, "
                      "%uL not closed, %uL us in the write transaction, "
                      "%uL still active%s",
                      o->examined, o->swept, o->failed, o->run_us,
                      o->moved, o->more ? ", more follow" : "");

        if (o->swept) {
            ngx_log_error(NGX_LOG_INFO, mcf->writer->log, 0,
                          "evbill: closed %uL idle session(s) with reason "
                          "\"timeout\"", o->swept);
        }

        /* each is marked (sweep_error in GET sessions) and skipped
         * until it changes or is voided */
        if (o->failed) {
            ngx_log_error(NGX_LOG_ERR, mcf->writer->log, 0,
                          "evbill: idle sweep could not close %uL "
                          "session(s); see sweep_error in GET sessions",
                          o->failed);
        }

        /* the next chunk now; the timer again after the last one */
        if (o->more && !(ngx_exiting || ngx_quit || ngx_terminate)
            && ngx_evbill_sweep_submit(mcf, mcf->writer->log, o) == NGX_OK)
        {
            evb_arena_destroy(w->op.op.arena);
            ngx_free(w);
            return;
        }
    }

    evb_arena_destroy(w->op.op.arena);
    ngx_free(w);

    if (!(ngx_exiting || ngx_quit || ngx_terminate)) {
        ngx_add_timer(&mcf->sweep_event,
                      ngx_min(mcf->idle_timeout / 2 + 1, 60000));
    }
}
