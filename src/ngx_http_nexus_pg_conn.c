/*
 * One non-blocking libpq connection driven by nginx events.
 *
 * libpq owns the socket: nginx only watches it (level-triggered, so a reply
 * larger than one read is never stalled) and never closes it. Every outcome
 * is reported to the owner through the callbacks in the connection; after a
 * callback the connection may be gone, so nothing here touches it again.
 */

#include "ngx_http_nexus_pg.h"


#define NGX_HTTP_NEXUS_PG_MAX_STMTS  64


static ngx_int_t ngx_http_nexus_pg_conn_watch(ngx_http_nexus_pg_conn_t *pc);
static void ngx_http_nexus_pg_conn_unwatch(ngx_http_nexus_pg_conn_t *pc);
static ngx_int_t ngx_http_nexus_pg_conn_want_write(
    ngx_http_nexus_pg_conn_t *pc, ngx_uint_t want);
static void ngx_http_nexus_pg_conn_poll(ngx_http_nexus_pg_conn_t *pc);
static ngx_int_t ngx_http_nexus_pg_conn_flush(ngx_http_nexus_pg_conn_t *pc);
static void ngx_http_nexus_pg_conn_collect(ngx_http_nexus_pg_conn_t *pc);
static void ngx_http_nexus_pg_conn_done(ngx_http_nexus_pg_conn_t *pc);
static void ngx_http_nexus_pg_conn_fail(ngx_http_nexus_pg_conn_t *pc,
    ngx_int_t rc);
static void ngx_http_nexus_pg_read_handler(ngx_event_t *rev);
static void ngx_http_nexus_pg_write_handler(ngx_event_t *wev);
static void ngx_http_nexus_pg_timer_handler(ngx_event_t *ev);


static ngx_uint_t  ngx_http_nexus_pg_stmt_count;


ngx_http_nexus_pg_conn_t *
ngx_http_nexus_pg_conn_open(const char *const *keywords,
    const char *const *values, ngx_msec_t connect_timeout, ngx_log_t *log)
{
    ngx_http_nexus_pg_conn_t  *pc;

    pc = ngx_calloc(sizeof(ngx_http_nexus_pg_conn_t), log);
    if (pc == NULL) {
        return NULL;
    }

    pc->log = log;
    pc->timer.handler = ngx_http_nexus_pg_timer_handler;
    pc->timer.data = pc;
    pc->timer.log = log;

    /* starts a non-blocking connect; no DNS: hosts are numeric or sockets */
    pc->conn = PQconnectStartParams(keywords, values, 1);

    if (pc->conn == NULL || PQstatus(pc->conn) == CONNECTION_BAD) {
        /*
         * refused at once (a Unix socket, say): the owner reports it, once
         * per outage; the message stays readable until the next failure
         */
        (void) ngx_http_nexus_pg_conn_error(pc);
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, log, 0,
                       "nexus: postgres connect refused at once");
        ngx_http_nexus_pg_conn_close(pc);
        return NULL;
    }

    pc->state = NGX_HTTP_NEXUS_PG_CONNECTING;

    if (ngx_http_nexus_pg_conn_watch(pc) != NGX_OK
        || ngx_http_nexus_pg_conn_want_write(pc, 1) != NGX_OK)
    {
        ngx_http_nexus_pg_conn_close(pc);
        return NULL;
    }

    ngx_add_timer(&pc->timer, connect_timeout);

    return pc;
}


/* wraps the socket libpq currently uses into an nginx connection */

static ngx_int_t
ngx_http_nexus_pg_conn_watch(ngx_http_nexus_pg_conn_t *pc)
{
    int                fd;
    ngx_connection_t  *c;

    fd = PQsocket(pc->conn);
    if (fd == -1) {
        return NGX_ERROR;
    }

    if (pc->connection) {
        if (pc->connection->fd == fd) {
            return NGX_OK;
        }

        /* libpq moved to another host and closed the previous socket */
        ngx_http_nexus_pg_conn_unwatch(pc);
    }

    c = ngx_get_connection(fd, pc->log);
    if (c == NULL) {
        return NGX_ERROR;
    }

    c->data = pc;
    c->log = pc->log;
    c->read->log = pc->log;
    c->write->log = pc->log;
    c->read->handler = ngx_http_nexus_pg_read_handler;
    c->write->handler = ngx_http_nexus_pg_write_handler;

    pc->connection = c;

    /* reads stay watched all the time: a restart is noticed while idle */
    if (ngx_add_event(c->read, NGX_READ_EVENT, NGX_LEVEL_EVENT) != NGX_OK) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_nexus_pg_conn_unwatch(ngx_http_nexus_pg_conn_t *pc)
{
    ngx_connection_t  *c;

    c = pc->connection;
    if (c == NULL) {
        return;
    }

    pc->connection = NULL;

    if (c->read->timer_set) {
        ngx_del_timer(c->read);
    }

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    /* the socket is (being) closed by libpq: no epoll_ctl needed */
    if (c->read->active) {
        ngx_del_event(c->read, NGX_READ_EVENT, NGX_CLOSE_EVENT);
    }

    if (c->write->active) {
        ngx_del_event(c->write, NGX_WRITE_EVENT, NGX_CLOSE_EVENT);
    }

    ngx_free_connection(c);
    c->fd = (ngx_socket_t) -1;
}


static ngx_int_t
ngx_http_nexus_pg_conn_want_write(ngx_http_nexus_pg_conn_t *pc,
    ngx_uint_t want)
{
    ngx_event_t  *wev;

    wev = pc->connection->write;

    if (want && !wev->active) {
        return ngx_add_event(wev, NGX_WRITE_EVENT, NGX_LEVEL_EVENT);
    }

    if (!want && wev->active) {
        return ngx_del_event(wev, NGX_WRITE_EVENT, 0);
    }

    return NGX_OK;
}


void
ngx_http_nexus_pg_conn_close(ngx_http_nexus_pg_conn_t *pc)
{
    if (pc->result) {
        PQclear(pc->result);
    }

    if (pc->timer.timer_set) {
        ngx_del_timer(&pc->timer);
    }

    if (pc->timer.posted) {
        ngx_delete_posted_event(&pc->timer);
    }

    /* libpq first: it sends Terminate and closes its socket */
    if (pc->conn) {
        PQfinish(pc->conn);
    }

    ngx_http_nexus_pg_conn_unwatch(pc);

    ngx_free(pc);
}


ngx_int_t
ngx_http_nexus_pg_conn_idle_ok(ngx_http_nexus_pg_conn_t *pc)
{
    return pc->state == NGX_HTTP_NEXUS_PG_IDLE
           && PQstatus(pc->conn) == CONNECTION_OK
           && PQtransactionStatus(pc->conn) == PQTRANS_IDLE;
}


ngx_int_t
ngx_http_nexus_pg_conn_send(ngx_http_nexus_pg_conn_t *pc,
    ngx_http_nexus_pg_stmt_t *stmt, const char **values)
{
    uint64_t  bit;

    if (pc->state != NGX_HTTP_NEXUS_PG_IDLE) {
        ngx_log_error(NGX_LOG_ALERT, pc->log, 0,
                      "nexus: postgres statement \"%s\" sent on a busy "
                      "connection", stmt->name);
        return NGX_ERROR;
    }

    if (stmt->id == 0) {
        if (ngx_http_nexus_pg_stmt_count == NGX_HTTP_NEXUS_PG_MAX_STMTS) {
            ngx_log_error(NGX_LOG_ALERT, pc->log, 0,
                          "nexus: too many prepared statements");
            return NGX_ERROR;
        }

        stmt->id = ++ngx_http_nexus_pg_stmt_count;
    }

    bit = (uint64_t) 1 << (stmt->id - 1);

    if (pc->prepared & bit) {
        if (!PQsendQueryPrepared(pc->conn, stmt->name, stmt->nparams,
                                 values, NULL, NULL, 0))
        {
            goto failed;
        }

        pc->state = NGX_HTTP_NEXUS_PG_RUNNING;

    } else {
        /* first use on this connection: PREPARE, then run it when done */
        if (!PQsendPrepare(pc->conn, stmt->name, stmt->sql, stmt->nparams,
                           NULL))
        {
            goto failed;
        }

        pc->pending_stmt = stmt;
        pc->pending_values = values;
        pc->state = NGX_HTTP_NEXUS_PG_PREPARING;
    }

    pc->timer.cancelable = 0;
    ngx_add_timer(&pc->timer, pc->query_timeout);

    return ngx_http_nexus_pg_conn_flush(pc);

failed:

    ngx_log_error(NGX_LOG_ERR, pc->log, 0,
                  "nexus: postgres send failed: %s",
                  ngx_http_nexus_pg_conn_error(pc));
    return NGX_ERROR;
}


ngx_int_t
ngx_http_nexus_pg_conn_send_simple(ngx_http_nexus_pg_conn_t *pc,
    const char *sql)
{
    if (pc->state != NGX_HTTP_NEXUS_PG_IDLE || !PQsendQuery(pc->conn, sql)) {
        ngx_log_error(NGX_LOG_ERR, pc->log, 0,
                      "nexus: postgres send failed: %s",
                      ngx_http_nexus_pg_conn_error(pc));
        return NGX_ERROR;
    }

    pc->state = NGX_HTTP_NEXUS_PG_RUNNING;
    pc->timer.cancelable = 0;
    ngx_add_timer(&pc->timer, pc->query_timeout);

    return ngx_http_nexus_pg_conn_flush(pc);
}


/* PQflush returns 1 while data is left: keep write interest until 0 */

static ngx_int_t
ngx_http_nexus_pg_conn_flush(ngx_http_nexus_pg_conn_t *pc)
{
    int  rc;

    rc = PQflush(pc->conn);

    if (rc == -1) {
        ngx_log_error(NGX_LOG_ERR, pc->log, 0,
                      "nexus: postgres flush failed: %s",
                      ngx_http_nexus_pg_conn_error(pc));
        return NGX_ERROR;
    }

    return ngx_http_nexus_pg_conn_want_write(pc, rc == 1);
}


static void
ngx_http_nexus_pg_conn_poll(ngx_http_nexus_pg_conn_t *pc)
{
    PostgresPollingStatusType  st;

    st = PQconnectPoll(pc->conn);

    if (st != PGRES_POLLING_FAILED
        && ngx_http_nexus_pg_conn_watch(pc) != NGX_OK)
    {
        st = PGRES_POLLING_FAILED;
    }

    switch (st) {

    case PGRES_POLLING_READING:
        if (ngx_http_nexus_pg_conn_want_write(pc, 0) != NGX_OK) {
            break;
        }
        return;

    case PGRES_POLLING_WRITING:
        if (ngx_http_nexus_pg_conn_want_write(pc, 1) != NGX_OK) {
            break;
        }
        return;

    case PGRES_POLLING_OK:
        if (PQsetnonblocking(pc->conn, 1) != 0
            || ngx_http_nexus_pg_conn_want_write(pc, 0) != NGX_OK)
        {
            break;
        }

        if (pc->timer.timer_set) {
            ngx_del_timer(&pc->timer);
        }

        pc->state = NGX_HTTP_NEXUS_PG_IDLE;
        pc->on_connect(pc, NGX_OK);
        return;

    default:
        break;
    }

    /* the owner logs it: once per outage, not once per attempt */
    pc->on_connect(pc, NGX_ERROR);
}


static void
ngx_http_nexus_pg_read_handler(ngx_event_t *rev)
{
    ngx_connection_t          *c;
    ngx_http_nexus_pg_conn_t  *pc;

    c = rev->data;
    pc = c->data;

    if (pc->state == NGX_HTTP_NEXUS_PG_CONNECTING) {
        ngx_http_nexus_pg_conn_poll(pc);
        return;
    }

    if (!PQconsumeInput(pc->conn)) {
        ngx_log_error(NGX_LOG_ERR, pc->log, 0,
                      "nexus: postgres connection lost: %s",
                      ngx_http_nexus_pg_conn_error(pc));
        ngx_http_nexus_pg_conn_fail(pc, NGX_HTTP_NEXUS_PG_DOWN);
        return;
    }

    if (pc->state == NGX_HTTP_NEXUS_PG_IDLE) {
        /* notifications, or a server going away */
        pc->on_idle_input(pc, NGX_OK);
        return;
    }

    ngx_http_nexus_pg_conn_collect(pc);
}


static void
ngx_http_nexus_pg_write_handler(ngx_event_t *wev)
{
    ngx_connection_t          *c;
    ngx_http_nexus_pg_conn_t  *pc;

    c = wev->data;
    pc = c->data;

    if (pc->state == NGX_HTTP_NEXUS_PG_CONNECTING) {
        ngx_http_nexus_pg_conn_poll(pc);
        return;
    }

    if (ngx_http_nexus_pg_conn_flush(pc) != NGX_OK) {
        ngx_http_nexus_pg_conn_fail(pc, NGX_HTTP_NEXUS_PG_DOWN);
    }
}


static void
ngx_http_nexus_pg_conn_collect(ngx_http_nexus_pg_conn_t *pc)
{
    PGresult        *res;
    ExecStatusType   st;

    while (!PQisBusy(pc->conn)) {

        res = PQgetResult(pc->conn);

        if (res == NULL) {
            ngx_http_nexus_pg_conn_done(pc);
            return;
        }

        if (pc->result == NULL) {
            pc->result = res;
            continue;
        }

        /* keep the first error, otherwise the last result */
        st = PQresultStatus(pc->result);

        if (st == PGRES_FATAL_ERROR || st == PGRES_BAD_RESPONSE) {
            PQclear(res);

        } else {
            PQclear(pc->result);
            pc->result = res;
        }
    }

    if (PQstatus(pc->conn) == CONNECTION_BAD) {
        ngx_http_nexus_pg_conn_fail(pc, NGX_HTTP_NEXUS_PG_DOWN);
    }
}


static void
ngx_http_nexus_pg_conn_done(ngx_http_nexus_pg_conn_t *pc)
{
    const char                **values;
    PGresult                   *res;
    ngx_http_nexus_pg_stmt_t   *stmt;

    if (pc->timer.timer_set) {
        ngx_del_timer(&pc->timer);
    }

    res = pc->result;
    pc->result = NULL;

    if (pc->state == NGX_HTTP_NEXUS_PG_PREPARING
        && res != NULL && PQresultStatus(res) == PGRES_COMMAND_OK)
    {
        PQclear(res);

        pc->prepared |= (uint64_t) 1 << (pc->pending_stmt->id - 1);
        pc->state = NGX_HTTP_NEXUS_PG_IDLE;

        stmt = pc->pending_stmt;
        values = pc->pending_values;
        pc->pending_stmt = NULL;
        pc->pending_values = NULL;

        if (values == NULL) {
            /* the request went away while preparing */
            pc->on_result(pc, NULL, NGX_DECLINED);
            return;
        }

        if (ngx_http_nexus_pg_conn_send(pc, stmt, values) != NGX_OK) {
            ngx_http_nexus_pg_conn_fail(pc, NGX_HTTP_NEXUS_PG_DOWN);
        }

        return;
    }

    pc->pending_stmt = NULL;
    pc->pending_values = NULL;
    pc->state = NGX_HTTP_NEXUS_PG_IDLE;

    pc->on_result(pc, res, NGX_OK);

    if (res) {
        PQclear(res);
    }
}


static void
ngx_http_nexus_pg_conn_fail(ngx_http_nexus_pg_conn_t *pc, ngx_int_t rc)
{
    switch (pc->state) {

    case NGX_HTTP_NEXUS_PG_CONNECTING:
        pc->on_connect(pc, NGX_ERROR);
        return;

    case NGX_HTTP_NEXUS_PG_IDLE:
        pc->on_close(pc, rc);
        return;

    default:
        pc->on_result(pc, NULL, rc);
        return;
    }
}


static void
ngx_http_nexus_pg_timer_handler(ngx_event_t *ev)
{
    ngx_http_nexus_pg_conn_t  *pc;

    pc = ev->data;

    switch (pc->state) {

    case NGX_HTTP_NEXUS_PG_CONNECTING:
        ngx_log_error(NGX_LOG_INFO, pc->log, 0,
                      "nexus: postgres connect timed out");
        break;

    case NGX_HTTP_NEXUS_PG_IDLE:
        /* idle timeout: the owner closes the connection */
        break;

    default:
        /* no blocking cancel in a worker: the owner closes the connection */
        ngx_log_error(NGX_LOG_ERR, pc->log, 0,
                      "nexus: postgres query timed out");
        break;
    }

    ngx_http_nexus_pg_conn_fail(pc, NGX_HTTP_NEXUS_PG_TIMEOUT);
}


ngx_int_t
ngx_http_nexus_pg_value(PGresult *res, int row, int col, ngx_str_t *out)
{
    if (row >= PQntuples(res) || col >= PQnfields(res)
        || PQgetisnull(res, row, col))
    {
        ngx_str_null(out);
        return NGX_DECLINED;
    }

    out->data = (u_char *) PQgetvalue(res, row, col);
    out->len = PQgetlength(res, row, col);

    return NGX_OK;
}


/*
 * libpq's message on one line, for the error log; with pc NULL, the last
 * message made (that of a connection refused at once and already freed)
 */

static u_char  ngx_http_nexus_pg_error_buf[512] = "no connection";


const char *
ngx_http_nexus_pg_conn_error(ngx_http_nexus_pg_conn_t *pc)
{
    u_char       *p, *last;
    u_char       *buf;
    const char   *msg;

    buf = ngx_http_nexus_pg_error_buf;

    if (pc == NULL) {
        return (const char *) buf;
    }

    msg = pc->conn ? PQerrorMessage(pc->conn) : "out of memory";

    last = ngx_cpystrn(buf, (u_char *) msg,
                       sizeof(ngx_http_nexus_pg_error_buf));

    while (last > buf && (last[-1] == '\n' || last[-1] == ' ')) {
        *--last = '\0';
    }

    for (p = buf; p < last; p++) {
        if (*p == '\n' || *p == '\t') {
            *p = ' ';
        }
    }

    return (const char *) buf;
}
