/*
 * The asynchronous PostgreSQL core: non-blocking libpq connections driven by
 * nginx events, a per-worker pool with a wait queue, and a per-request
 * session that runs any number of statements in sequence on one connection.
 */

#ifndef _NGX_HTTP_NEXUS_PG_H_INCLUDED_
#define _NGX_HTTP_NEXUS_PG_H_INCLUDED_


#include "ngx_http_nexus.h"
#include <libpq-fe.h>


/* rc values handed to result handlers besides NGX_OK */
#define NGX_HTTP_NEXUS_PG_BUSY      NGX_BUSY     /* pool and queue full */
#define NGX_HTTP_NEXUS_PG_DOWN      NGX_ERROR    /* connect/connection lost */
#define NGX_HTTP_NEXUS_PG_TIMEOUT   NGX_AGAIN    /* query ran too long */


/* connection states */
#define NGX_HTTP_NEXUS_PG_CONNECTING  1
#define NGX_HTTP_NEXUS_PG_IDLE        2
#define NGX_HTTP_NEXUS_PG_PREPARING   3
#define NGX_HTTP_NEXUS_PG_RUNNING     4


typedef struct ngx_http_nexus_pg_conn_s  ngx_http_nexus_pg_conn_t;


/*
 * A statement the module prepares once per connection. Declare them static;
 * the core numbers them on first use and remembers per connection which
 * ones the server already knows.
 */
typedef struct {
    const char                 *name;
    const char                 *sql;
    int                         nparams;
    ngx_uint_t                  id;
} ngx_http_nexus_pg_stmt_t;


typedef void (*ngx_http_nexus_pg_result_pt)(ngx_http_nexus_pg_conn_t *pc,
    PGresult *res, ngx_int_t rc);
typedef void (*ngx_http_nexus_pg_event_pt)(ngx_http_nexus_pg_conn_t *pc,
    ngx_int_t rc);


struct ngx_http_nexus_pg_conn_s {
    ngx_queue_t                 queue;
    PGconn                     *conn;
    ngx_connection_t           *connection;
    ngx_event_t                 timer;
    ngx_log_t                  *log;
    ngx_uint_t                  state;
    ngx_msec_t                  query_timeout;

    /* bit n set: statement with id n is prepared on this connection */
    uint64_t                    prepared;

    /* a statement waiting for its PREPARE to finish */
    ngx_http_nexus_pg_stmt_t   *pending_stmt;
    const char                **pending_values;

    PGresult                   *result;

    ngx_http_nexus_pg_event_pt  on_connect;
    ngx_http_nexus_pg_result_pt on_result;
    ngx_http_nexus_pg_event_pt  on_idle_input;
    ngx_http_nexus_pg_event_pt  on_close;
    void                       *data;
};


/* low level: one connection (used by the pool and the LISTEN connection) */
ngx_http_nexus_pg_conn_t *ngx_http_nexus_pg_conn_open(
    const char *const *keywords, const char *const *values,
    ngx_msec_t connect_timeout, ngx_log_t *log);
ngx_int_t ngx_http_nexus_pg_conn_send(ngx_http_nexus_pg_conn_t *pc,
    ngx_http_nexus_pg_stmt_t *stmt, const char **values);
ngx_int_t ngx_http_nexus_pg_conn_send_simple(ngx_http_nexus_pg_conn_t *pc,
    const char *sql);
void ngx_http_nexus_pg_conn_close(ngx_http_nexus_pg_conn_t *pc);
ngx_int_t ngx_http_nexus_pg_conn_idle_ok(ngx_http_nexus_pg_conn_t *pc);
const char *ngx_http_nexus_pg_conn_error(ngx_http_nexus_pg_conn_t *pc);


/* per worker pool */
ngx_int_t ngx_http_nexus_pg_init_process(ngx_cycle_t *cycle,
    ngx_http_nexus_main_conf_t *nmcf);
void ngx_http_nexus_pg_exit_process(void);
const char *const *ngx_http_nexus_pg_keywords(void);
const char *const *ngx_http_nexus_pg_values(void);


/*
 * Request level. The handler is called once per statement with the result
 * (rc NGX_OK; check PQresultStatus) or with a failure rc and res NULL. The
 * core clears the result after the handler returns. The request keeps its
 * connection between statements until ngx_http_nexus_pg_release() or the
 * end of the request; a connection left inside a transaction is closed, not
 * pooled.
 */
typedef void (*ngx_http_nexus_pg_handler_pt)(ngx_http_nexus_ctx_t *ctx,
    PGresult *res, ngx_int_t rc);

ngx_int_t ngx_http_nexus_pg_query(ngx_http_nexus_ctx_t *ctx,
    ngx_http_nexus_pg_stmt_t *stmt, ngx_str_t *params,
    ngx_http_nexus_pg_handler_pt handler);
void ngx_http_nexus_pg_release(ngx_http_nexus_ctx_t *ctx);

/* answers a failed statement: 503 for outages, 400 for bad input, else 500 */
ngx_int_t ngx_http_nexus_pg_send_error(ngx_http_nexus_ctx_t *ctx,
    PGresult *res, ngx_int_t rc);

/* helpers to read a result */
ngx_int_t ngx_http_nexus_pg_value(PGresult *res, int row, int col,
    ngx_str_t *out);


#endif /* _NGX_HTTP_NEXUS_PG_H_INCLUDED_ */
