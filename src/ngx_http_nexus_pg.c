/*
 * The per-worker PostgreSQL pool and the per-request session.
 *
 * A request takes a connection on its first statement and keeps it until it
 * releases it or ends, so several statements (a transaction, with C logic
 * between them) run on one connection. When every connection is busy the
 * request waits in a bounded queue with its own timeout; past either limit
 * it gets 503 with Retry-After. A request that goes away detaches: its
 * connection finishes the statement in flight and then returns to the pool,
 * or is closed when it is not clean.
 */

#include "ngx_http_nexus_pg.h"


typedef struct {
    ngx_queue_t                 idle;
    ngx_queue_t                 waiters;
    ngx_uint_t                  nconns;
    ngx_uint_t                  nwaiting;
    ngx_uint_t                  down;
    ngx_http_nexus_main_conf_t *conf;
    ngx_log_t                  *log;
    const char                 *keywords[5];
    const char                 *values[5];
} ngx_http_nexus_pg_pool_t;


typedef struct {
    ngx_http_nexus_ctx_t         *ctx;
    ngx_http_nexus_pg_conn_t     *pc;
    ngx_queue_t                   queue;
    ngx_event_t                   wait_timer;
    ngx_http_nexus_pg_stmt_t     *stmt;
    const char                  **values;
    ngx_http_nexus_pg_handler_pt  handler;
    unsigned                      waiting:1;
    unsigned                      lost:1;
} ngx_http_nexus_pg_session_t;


static ngx_int_t ngx_http_nexus_pg_open(ngx_http_nexus_pg_session_t *s);
static ngx_int_t ngx_http_nexus_pg_start(ngx_http_nexus_pg_session_t *s);
static void ngx_http_nexus_pg_put(ngx_http_nexus_pg_conn_t *pc);
static void ngx_http_nexus_pg_drop(ngx_http_nexus_pg_conn_t *pc);
static void ngx_http_nexus_pg_dispatch(void);
static void ngx_http_nexus_pg_deliver(ngx_http_nexus_pg_session_t *s,
    PGresult *res, ngx_int_t rc);
static void ngx_http_nexus_pg_on_connect(ngx_http_nexus_pg_conn_t *pc,
    ngx_int_t rc);
static void ngx_http_nexus_pg_on_result(ngx_http_nexus_pg_conn_t *pc,
    PGresult *res, ngx_int_t rc);
static void ngx_http_nexus_pg_on_idle_input(ngx_http_nexus_pg_conn_t *pc,
    ngx_int_t rc);
static void ngx_http_nexus_pg_on_close(ngx_http_nexus_pg_conn_t *pc,
    ngx_int_t rc);
static void ngx_http_nexus_pg_wait_timeout(ngx_event_t *ev);
static void ngx_http_nexus_pg_outage(ngx_http_nexus_pg_conn_t *pc);
static void ngx_http_nexus_pg_cleanup(void *data);


static ngx_http_nexus_pg_pool_t  *ngx_http_nexus_pg_pool;


ngx_int_t
ngx_http_nexus_pg_init_process(ngx_cycle_t *cycle,
    ngx_http_nexus_main_conf_t *nmcf)
{
    ngx_uint_t                 n;
    ngx_http_nexus_pg_pool_t  *pool;

    pool = ngx_pcalloc(cycle->pool, sizeof(ngx_http_nexus_pg_pool_t));
    if (pool == NULL) {
        return NGX_ERROR;
    }

    ngx_queue_init(&pool->idle);
    ngx_queue_init(&pool->waiters);
    pool->conf = nmcf;
    pool->log = cycle->log;

    /* "dbname" may hold a whole conninfo or URI; later keys override it */
    n = 0;
    pool->keywords[n] = "dbname";
    pool->values[n++] = (const char *) nmcf->pg_conninfo.data;

    if (nmcf->pg_hostaddr.len) {
        pool->keywords[n] = "hostaddr";
        pool->values[n++] = (const char *) nmcf->pg_hostaddr.data;
    }

    if (nmcf->pg_password.len) {
        pool->keywords[n] = "password";
        pool->values[n++] = (const char *) nmcf->pg_password.data;
    }

    pool->keywords[n] = "fallback_application_name";
    pool->values[n++] = "nexus";
    pool->keywords[n] = NULL;
    pool->values[n] = NULL;

    ngx_http_nexus_pg_pool = pool;

    return NGX_OK;
}


void
ngx_http_nexus_pg_exit_process(void)
{
    ngx_queue_t               *q;
    ngx_http_nexus_pg_conn_t  *pc;

    if (ngx_http_nexus_pg_pool == NULL) {
        return;
    }

    while (!ngx_queue_empty(&ngx_http_nexus_pg_pool->idle)) {
        q = ngx_queue_head(&ngx_http_nexus_pg_pool->idle);
        ngx_queue_remove(q);
        pc = ngx_queue_data(q, ngx_http_nexus_pg_conn_t, queue);
        ngx_http_nexus_pg_conn_close(pc);
    }

    ngx_http_nexus_pg_pool = NULL;
}


const char *const *
ngx_http_nexus_pg_keywords(void)
{
    return ngx_http_nexus_pg_pool->keywords;
}


const char *const *
ngx_http_nexus_pg_values(void)
{
    return ngx_http_nexus_pg_pool->values;
}


ngx_int_t
ngx_http_nexus_pg_query(ngx_http_nexus_ctx_t *ctx,
    ngx_http_nexus_pg_stmt_t *stmt, ngx_str_t *params,
    ngx_http_nexus_pg_handler_pt handler)
{
    int                           i;
    u_char                       *p;
    const char                  **values;
    ngx_http_request_t           *r;
    ngx_pool_cleanup_t           *cln;
    ngx_http_nexus_pg_pool_t     *pool;
    ngx_http_nexus_pg_session_t  *s;

    r = ctx->request;
    pool = ngx_http_nexus_pg_pool;

    if (pool == NULL) {
        return NGX_HTTP_NEXUS_PG_DOWN;
    }

    s = ctx->pg;

    if (s == NULL) {
        s = ngx_pcalloc(r->pool, sizeof(ngx_http_nexus_pg_session_t));
        if (s == NULL) {
            return NGX_ERROR;
        }

        cln = ngx_pool_cleanup_add(r->pool, 0);
        if (cln == NULL) {
            return NGX_ERROR;
        }

        cln->handler = ngx_http_nexus_pg_cleanup;
        cln->data = s;

        s->ctx = ctx;
        s->wait_timer.handler = ngx_http_nexus_pg_wait_timeout;
        s->wait_timer.data = s;
        s->wait_timer.log = r->connection->log;
        ctx->pg = s;
    }

    /* libpq copies text parameters when sending; they need a NUL */
    values = ngx_palloc(r->pool, (stmt->nparams + 1) * sizeof(char *));
    if (values == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < stmt->nparams; i++) {
        if (params[i].data == NULL) {
            values[i] = NULL;
            continue;
        }

        p = ngx_pnalloc(r->pool, params[i].len + 1);
        if (p == NULL) {
            return NGX_ERROR;
        }

        *ngx_cpymem(p, params[i].data, params[i].len) = '\0';
        values[i] = (const char *) p;
    }

    if (s->lost) {
        return NGX_HTTP_NEXUS_PG_DOWN;
    }

    s->stmt = stmt;
    s->values = values;
    s->handler = handler;

    if (s->pc) {
        return ngx_http_nexus_pg_start(s);
    }

    if (!ngx_queue_empty(&pool->idle)) {
        s->pc = ngx_queue_data(ngx_queue_head(&pool->idle),
                               ngx_http_nexus_pg_conn_t, queue);
        ngx_queue_remove(&s->pc->queue);
        s->pc->data = s;
        return ngx_http_nexus_pg_start(s);
    }

    if (pool->nconns < pool->conf->pg_pool_size) {
        return ngx_http_nexus_pg_open(s);
    }

    if (pool->nwaiting >= pool->conf->pg_queue_size) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "nexus: postgres pool and wait queue are full");
        return NGX_HTTP_NEXUS_PG_BUSY;
    }

    ngx_queue_insert_tail(&pool->waiters, &s->queue);
    pool->nwaiting++;
    s->waiting = 1;
    ngx_add_timer(&s->wait_timer, pool->conf->pg_queue_timeout);

    return NGX_OK;
}


static ngx_int_t
ngx_http_nexus_pg_open(ngx_http_nexus_pg_session_t *s)
{
    ngx_http_nexus_pg_conn_t  *pc;
    ngx_http_nexus_pg_pool_t  *pool;

    pool = ngx_http_nexus_pg_pool;

    pc = ngx_http_nexus_pg_conn_open(pool->keywords, pool->values,
                                     pool->conf->pg_connect_timeout,
                                     pool->log);
    if (pc == NULL) {
        ngx_http_nexus_pg_outage(NULL);
        return NGX_HTTP_NEXUS_PG_DOWN;
    }

    pc->query_timeout = pool->conf->pg_query_timeout;
    pc->on_connect = ngx_http_nexus_pg_on_connect;
    pc->on_result = ngx_http_nexus_pg_on_result;
    pc->on_idle_input = ngx_http_nexus_pg_on_idle_input;
    pc->on_close = ngx_http_nexus_pg_on_close;
    pc->data = s;

    pool->nconns++;
    s->pc = pc;

    return NGX_OK;
}


/* sends the session's statement on its connection, if it is ready */

static ngx_int_t
ngx_http_nexus_pg_start(ngx_http_nexus_pg_session_t *s)
{
    ngx_http_nexus_pg_conn_t  *pc;

    pc = s->pc;

    if (pc->state == NGX_HTTP_NEXUS_PG_CONNECTING) {
        return NGX_OK;      /* on_connect sends it */
    }

    if (pc->timer.timer_set) {
        ngx_del_timer(&pc->timer);
    }

    if (ngx_http_nexus_pg_conn_send(pc, s->stmt, s->values) != NGX_OK) {
        s->pc = NULL;
        ngx_http_nexus_pg_drop(pc);
        return NGX_HTTP_NEXUS_PG_DOWN;
    }

    return NGX_OK;
}


void
ngx_http_nexus_pg_release(ngx_http_nexus_ctx_t *ctx)
{
    ngx_http_nexus_pg_conn_t     *pc;
    ngx_http_nexus_pg_session_t  *s;

    s = ctx->pg;
    if (s == NULL || s->pc == NULL) {
        return;
    }

    pc = s->pc;
    s->pc = NULL;
    pc->data = NULL;

    ngx_http_nexus_pg_put(pc);
}


/* a connection without an owner: back to a waiter, the pool, or closed */

static void
ngx_http_nexus_pg_put(ngx_http_nexus_pg_conn_t *pc)
{
    ngx_queue_t                  *q;
    ngx_http_nexus_pg_pool_t     *pool;
    ngx_http_nexus_pg_session_t  *s;

    pool = ngx_http_nexus_pg_pool;

    if (!ngx_http_nexus_pg_conn_idle_ok(pc)) {
        /* mid-statement or mid-transaction: never hand it to another */
        if (pc->state == NGX_HTTP_NEXUS_PG_PREPARING
            || pc->state == NGX_HTTP_NEXUS_PG_RUNNING)
        {
            pc->pending_values = NULL;
            return;     /* on_result puts it back when the reply is in */
        }

        ngx_http_nexus_pg_drop(pc);
        return;
    }

    while (!ngx_queue_empty(&pool->waiters)) {
        q = ngx_queue_head(&pool->waiters);
        ngx_queue_remove(q);
        pool->nwaiting--;

        s = ngx_queue_data(q, ngx_http_nexus_pg_session_t, queue);
        s->waiting = 0;

        if (s->wait_timer.timer_set) {
            ngx_del_timer(&s->wait_timer);
        }

        s->pc = pc;
        pc->data = s;

        if (ngx_http_nexus_pg_start(s) == NGX_OK) {
            return;
        }

        /* the connection broke: start() dropped it */
        ngx_http_nexus_pg_deliver(s, NULL, NGX_HTTP_NEXUS_PG_DOWN);
        return;
    }

    ngx_queue_insert_head(&pool->idle, &pc->queue);

    /* an idle connection must not delay a graceful shutdown */
    pc->timer.cancelable = 1;
    ngx_add_timer(&pc->timer, pool->conf->pg_idle_timeout);
}


static void
ngx_http_nexus_pg_drop(ngx_http_nexus_pg_conn_t *pc)
{
    ngx_http_nexus_pg_pool_t  *pool;

    pool = ngx_http_nexus_pg_pool;

    ngx_http_nexus_pg_conn_close(pc);
    pool->nconns--;

    ngx_http_nexus_pg_dispatch();
}


/* after a connection closed: open new ones for the requests waiting */

static void
ngx_http_nexus_pg_dispatch(void)
{
    ngx_queue_t                  *q;
    ngx_http_nexus_pg_pool_t     *pool;
    ngx_http_nexus_pg_session_t  *s;

    pool = ngx_http_nexus_pg_pool;

    while (!ngx_queue_empty(&pool->waiters)
           && pool->nconns < pool->conf->pg_pool_size)
    {
        q = ngx_queue_head(&pool->waiters);
        ngx_queue_remove(q);
        pool->nwaiting--;

        s = ngx_queue_data(q, ngx_http_nexus_pg_session_t, queue);
        s->waiting = 0;

        if (s->wait_timer.timer_set) {
            ngx_del_timer(&s->wait_timer);
        }

        if (ngx_http_nexus_pg_open(s) != NGX_OK) {
            ngx_http_nexus_pg_deliver(s, NULL, NGX_HTTP_NEXUS_PG_DOWN);
        }
    }
}


static void
ngx_http_nexus_pg_deliver(ngx_http_nexus_pg_session_t *s, PGresult *res,
    ngx_int_t rc)
{
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = s->ctx->request;
    c = r->connection;

    s->handler(s->ctx, res, rc);

    ngx_http_run_posted_requests(c);
}


static void
ngx_http_nexus_pg_on_connect(ngx_http_nexus_pg_conn_t *pc, ngx_int_t rc)
{
    ngx_http_nexus_pg_pool_t     *pool;
    ngx_http_nexus_pg_session_t  *s;

    pool = ngx_http_nexus_pg_pool;
    s = pc->data;

    if (rc != NGX_OK) {
        ngx_http_nexus_pg_outage(pc);

        if (s) {
            s->pc = NULL;
        }

        pc->data = NULL;
        ngx_http_nexus_pg_conn_close(pc);
        pool->nconns--;

        if (s) {
            ngx_http_nexus_pg_deliver(s, NULL, NGX_HTTP_NEXUS_PG_DOWN);
        }

        ngx_http_nexus_pg_dispatch();
        return;
    }

    if (pool->down) {
        ngx_log_error(NGX_LOG_NOTICE, pool->log, 0,
                      "nexus: postgres is reachable again");
        pool->down = 0;
    }

    if (s == NULL) {
        ngx_http_nexus_pg_put(pc);
        return;
    }

    if (ngx_http_nexus_pg_start(s) != NGX_OK) {
        ngx_http_nexus_pg_deliver(s, NULL, NGX_HTTP_NEXUS_PG_DOWN);
    }
}


/* a failed connect: logged once per outage, with libpq's reason */

static void
ngx_http_nexus_pg_outage(ngx_http_nexus_pg_conn_t *pc)
{
    ngx_http_nexus_pg_pool_t  *pool;

    pool = ngx_http_nexus_pg_pool;

    if (pool->down) {
        return;
    }

    ngx_log_error(NGX_LOG_ERR, pool->log, 0,
                  "nexus: postgres is unreachable (%s); requests get 503 "
                  "until it is back", ngx_http_nexus_pg_conn_error(pc));
    pool->down = 1;
}


static void
ngx_http_nexus_pg_on_result(ngx_http_nexus_pg_conn_t *pc, PGresult *res,
    ngx_int_t rc)
{
    ngx_http_nexus_pg_session_t  *s;

    s = pc->data;

    if (rc != NGX_OK && rc != NGX_DECLINED) {
        /* timed out or lost: the connection cannot be trusted any more */
        if (s) {
            s->pc = NULL;
        }

        pc->data = NULL;
        ngx_http_nexus_pg_drop(pc);

        if (s) {
            ngx_http_nexus_pg_deliver(s, NULL, rc);
        }

        return;
    }

    if (s == NULL) {
        /* the request went away; its statement has finished */
        ngx_http_nexus_pg_put(pc);
        return;
    }

    ngx_http_nexus_pg_deliver(s, res, NGX_OK);
}


static void
ngx_http_nexus_pg_on_idle_input(ngx_http_nexus_pg_conn_t *pc, ngx_int_t rc)
{
    PGnotify  *n;

    while ((n = PQnotifies(pc->conn)) != NULL) {
        PQfreemem(n);
    }

    if (PQstatus(pc->conn) != CONNECTION_OK) {
        ngx_http_nexus_pg_on_close(pc, NGX_HTTP_NEXUS_PG_DOWN);
    }
}


static void
ngx_http_nexus_pg_on_close(ngx_http_nexus_pg_conn_t *pc, ngx_int_t rc)
{
    ngx_http_nexus_pg_session_t  *s;

    s = pc->data;

    if (s) {
        /* held by a request between statements: its next one fails */
        s->lost = 1;
        s->pc = NULL;
        pc->data = NULL;
        ngx_http_nexus_pg_drop(pc);
        return;
    }

    /* an idle connection timed out or was closed by the server */
    ngx_queue_remove(&pc->queue);
    ngx_http_nexus_pg_drop(pc);
}


static void
ngx_http_nexus_pg_wait_timeout(ngx_event_t *ev)
{
    ngx_http_nexus_pg_session_t  *s;

    s = ev->data;

    ngx_queue_remove(&s->queue);
    ngx_http_nexus_pg_pool->nwaiting--;
    s->waiting = 0;

    ngx_log_error(NGX_LOG_WARN, ev->log, 0,
                  "nexus: timed out waiting for a postgres connection");

    ngx_http_nexus_pg_deliver(s, NULL, NGX_HTTP_NEXUS_PG_BUSY);
}


/* the request is going away: detach from the queue and the connection */

static void
ngx_http_nexus_pg_cleanup(void *data)
{
    ngx_http_nexus_pg_session_t *s = data;

    ngx_http_nexus_pg_conn_t  *pc;

    if (s->waiting) {
        ngx_queue_remove(&s->queue);
        ngx_http_nexus_pg_pool->nwaiting--;
        s->waiting = 0;
    }

    if (s->wait_timer.timer_set) {
        ngx_del_timer(&s->wait_timer);
    }

    pc = s->pc;
    if (pc == NULL) {
        return;
    }

    s->pc = NULL;
    pc->data = NULL;

    ngx_http_nexus_pg_put(pc);
}


ngx_int_t
ngx_http_nexus_pg_send_error(ngx_http_nexus_ctx_t *ctx, PGresult *res,
    ngx_int_t rc)
{
    const char          *state, *msg;
    ngx_http_request_t  *r;

    r = ctx->request;

    switch (rc) {

    case NGX_HTTP_NEXUS_PG_BUSY:
        return ngx_http_nexus_send_unavailable(r, "database_busy",
                   "All database connections are busy; retry shortly.");

    case NGX_HTTP_NEXUS_PG_TIMEOUT:
        return ngx_http_nexus_send_unavailable(r, "database_timeout",
                   "The database did not answer in time.");

    case NGX_HTTP_NEXUS_PG_DOWN:
        return ngx_http_nexus_send_unavailable(r, "database_unavailable",
                   "The database is unavailable; retry shortly.");

    default:
        break;
    }

    if (res == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

    /* class 22: data exception, i.e. a value from the client */
    if (state && state[0] == '2' && state[1] == '2') {
        return ngx_http_nexus_send_problem(r, NGX_HTTP_BAD_REQUEST,
                                           "invalid_parameter",
                                           "A parameter has an invalid value.",
                                           NULL);
    }

    /*
     * class 23: an invariant the schema keeps; the endpoints check first,
     * so this is a race (two requests for one slug) or a gap in a check
     */
    if (state && state[0] == '2' && state[1] == '3') {
        msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "nexus: postgres refused a write %s: %s", state,
                      msg ? msg : "(no message)");
    }

    if (state && ngx_strcmp(state, "23505") == 0) {
        return ngx_http_nexus_send_problem(r, NGX_HTTP_CONFLICT, "conflict",
                   "This conflicts with existing data; reload and retry.",
                   NULL);
    }

    if (state && state[0] == '2' && state[1] == '3') {
        return ngx_http_nexus_send_problem(r, 422, "constraint_violation",
                   "A value breaks one of the data rules.", NULL);
    }

    msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "nexus: postgres error %s: %s", state ? state : "-",
                  msg ? msg : "(no message)");

    return ngx_http_nexus_send_problem(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                       "internal_error",
                                       "The server failed to answer.", NULL);
}
