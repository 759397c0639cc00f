/*
 * hiredis (0.14) attached to nginx's event loop by our own adapter.
 *
 * - The socket is watched level-triggered: hiredis reads at most 16 KB per
 *   call, so an edge-triggered watch could stall on a large reply.
 * - hiredis closes its socket; the adapter only frees the nginx connection.
 * - hiredis 0.14 has no timeouts: each command carries an nginx timer, and
 *   on expiry the whole context is freed (its pending callbacks then run
 *   with a NULL reply), since a Redis that stopped answering one command
 *   will not answer the next ones either.
 * - hiredis may free the context inside its own read handler: nothing here
 *   touches the context after calling into hiredis.
 * - While Redis is down, reconnects are tried at most once a second per
 *   connection, and the outage is logged once, not once per request.
 */

#include "ngx_http_nexus_redis.h"


#define NGX_HTTP_NEXUS_REDIS_RETRY  1000


typedef struct {
    redisAsyncContext          *ac;
    ngx_connection_t           *connection;
    ngx_event_t                 connect_timer;
    ngx_msec_t                  retry_at;
    unsigned                    connected:1;
} ngx_http_nexus_redis_slot_t;


struct ngx_http_nexus_redis_cmd_s {
    ngx_http_nexus_redis_reply_pt   handler;
    void                           *data;
    ngx_event_t                     timer;
    ngx_http_nexus_redis_slot_t    *slot;
    unsigned                        done:1;
};


typedef struct {
    ngx_http_nexus_redis_slot_t    *slots;
    ngx_uint_t                      nslots;
    ngx_uint_t                      next;
    ngx_uint_t                      down;
    ngx_http_nexus_main_conf_t     *conf;
    ngx_log_t                      *log;
} ngx_http_nexus_redis_t;


static ngx_int_t ngx_http_nexus_redis_connect(
    ngx_http_nexus_redis_slot_t *slot);
static void ngx_http_nexus_redis_outage(const char *what, const char *err);
static void ngx_http_nexus_redis_add_read(void *privdata);
static void ngx_http_nexus_redis_del_read(void *privdata);
static void ngx_http_nexus_redis_add_write(void *privdata);
static void ngx_http_nexus_redis_del_write(void *privdata);
static void ngx_http_nexus_redis_cleanup(void *privdata);
static void ngx_http_nexus_redis_read_handler(ngx_event_t *rev);
static void ngx_http_nexus_redis_write_handler(ngx_event_t *wev);
static void ngx_http_nexus_redis_on_connect(const redisAsyncContext *ac,
    int status);
static void ngx_http_nexus_redis_on_disconnect(const redisAsyncContext *ac,
    int status);
static void ngx_http_nexus_redis_connect_timeout(ngx_event_t *ev);
static void ngx_http_nexus_redis_on_reply(redisAsyncContext *ac, void *r,
    void *privdata);
static void ngx_http_nexus_redis_command_timeout(ngx_event_t *ev);
static void ngx_http_nexus_redis_on_auth(redisAsyncContext *ac, void *r,
    void *privdata);


static ngx_http_nexus_redis_t  *ngx_http_nexus_redis;


ngx_int_t
ngx_http_nexus_redis_init_process(ngx_cycle_t *cycle,
    ngx_http_nexus_main_conf_t *nmcf)
{
    ngx_uint_t               i;
    ngx_http_nexus_redis_t  *rd;

    if (nmcf->redis_ip.len == 0) {
        return NGX_OK;
    }

    rd = ngx_pcalloc(cycle->pool, sizeof(ngx_http_nexus_redis_t));
    if (rd == NULL) {
        return NGX_ERROR;
    }

    rd->nslots = nmcf->redis_pool_size;
    rd->slots = ngx_pcalloc(cycle->pool,
                            rd->nslots * sizeof(ngx_http_nexus_redis_slot_t));
    if (rd->slots == NULL) {
        return NGX_ERROR;
    }

    rd->conf = nmcf;
    rd->log = cycle->log;

    for (i = 0; i < rd->nslots; i++) {
        rd->slots[i].connect_timer.handler =
                                        ngx_http_nexus_redis_connect_timeout;
        rd->slots[i].connect_timer.data = &rd->slots[i];
        rd->slots[i].connect_timer.log = cycle->log;
    }

    ngx_http_nexus_redis = rd;

    return NGX_OK;
}


void
ngx_http_nexus_redis_exit_process(void)
{
    ngx_uint_t                    i;
    ngx_http_nexus_redis_slot_t  *slot;

    if (ngx_http_nexus_redis == NULL) {
        return;
    }

    for (i = 0; i < ngx_http_nexus_redis->nslots; i++) {
        slot = &ngx_http_nexus_redis->slots[i];

        if (slot->connect_timer.timer_set) {
            ngx_del_timer(&slot->connect_timer);
        }

        if (slot->ac) {
            redisAsyncFree(slot->ac);
        }
    }

    ngx_http_nexus_redis = NULL;
}


ngx_http_nexus_redis_cmd_t *
ngx_http_nexus_redis_command(ngx_http_nexus_redis_reply_pt handler,
    void *data, int argc, const char **argv, const size_t *argvlen)
{
    ngx_http_nexus_redis_t       *rd;
    ngx_http_nexus_redis_cmd_t   *cmd;
    ngx_http_nexus_redis_slot_t  *slot;

    rd = ngx_http_nexus_redis;

    if (rd == NULL) {
        return NULL;
    }

    slot = &rd->slots[rd->next++ % rd->nslots];

    if (slot->ac == NULL) {
        if ((ngx_msec_int_t) (slot->retry_at - ngx_current_msec) > 0) {
            return NULL;
        }

        if (ngx_http_nexus_redis_connect(slot) != NGX_OK) {
            slot->retry_at = ngx_current_msec + NGX_HTTP_NEXUS_REDIS_RETRY;
            return NULL;
        }
    }

    cmd = ngx_calloc(sizeof(ngx_http_nexus_redis_cmd_t), rd->log);
    if (cmd == NULL) {
        return NULL;
    }

    cmd->handler = handler;
    cmd->data = data;
    cmd->slot = slot;
    cmd->timer.handler = ngx_http_nexus_redis_command_timeout;
    cmd->timer.data = cmd;
    cmd->timer.log = rd->log;

    if (redisAsyncCommandArgv(slot->ac, ngx_http_nexus_redis_on_reply, cmd,
                              argc, argv, argvlen)
        != REDIS_OK)
    {
        ngx_free(cmd);
        return NULL;
    }

    ngx_add_timer(&cmd->timer, rd->conf->redis_command_timeout);

    return cmd;
}


void
ngx_http_nexus_redis_cancel(ngx_http_nexus_redis_cmd_t *cmd)
{
    /* the reply (or the teardown) still frees it; it just tells nobody */
    cmd->handler = NULL;
}


static ngx_int_t
ngx_http_nexus_redis_connect(ngx_http_nexus_redis_slot_t *slot)
{
    ngx_connection_t            *c;
    redisAsyncContext           *ac;
    ngx_http_nexus_redis_t      *rd;
    ngx_http_nexus_main_conf_t  *nmcf;
    const char                  *argv[2];
    size_t                       argvlen[2];

    rd = ngx_http_nexus_redis;
    nmcf = rd->conf;

    /* a numeric address (resolved at configuration time): no DNS here */
    ac = redisAsyncConnect((const char *) nmcf->redis_ip.data,
                           nmcf->redis_port);
    if (ac == NULL) {
        return NGX_ERROR;
    }

    if (ac->err) {
        ngx_http_nexus_redis_outage("connect failed", ac->errstr);
        redisAsyncFree(ac);
        return NGX_ERROR;
    }

    c = ngx_get_connection(ac->c.fd, rd->log);
    if (c == NULL) {
        redisAsyncFree(ac);
        return NGX_ERROR;
    }

    c->data = slot;
    c->read->handler = ngx_http_nexus_redis_read_handler;
    c->write->handler = ngx_http_nexus_redis_write_handler;
    c->read->log = rd->log;
    c->write->log = rd->log;

    slot->ac = ac;
    slot->connection = c;
    slot->connected = 0;

    ac->data = slot;
    ac->ev.data = slot;
    ac->ev.addRead = ngx_http_nexus_redis_add_read;
    ac->ev.delRead = ngx_http_nexus_redis_del_read;
    ac->ev.addWrite = ngx_http_nexus_redis_add_write;
    ac->ev.delWrite = ngx_http_nexus_redis_del_write;
    ac->ev.cleanup = ngx_http_nexus_redis_cleanup;

    redisAsyncSetConnectCallback(ac, ngx_http_nexus_redis_on_connect);
    redisAsyncSetDisconnectCallback(ac, ngx_http_nexus_redis_on_disconnect);

    if (nmcf->redis_password.len) {
        argv[0] = "AUTH";
        argvlen[0] = 4;
        argv[1] = (const char *) nmcf->redis_password.data;
        argvlen[1] = nmcf->redis_password.len;

        if (redisAsyncCommandArgv(ac, ngx_http_nexus_redis_on_auth, NULL, 2,
                                  argv, argvlen)
            != REDIS_OK)
        {
            redisAsyncFree(ac);
            return NGX_ERROR;
        }
    }

    ngx_add_timer(&slot->connect_timer, nmcf->redis_connect_timeout);

    return NGX_OK;
}


static void
ngx_http_nexus_redis_outage(const char *what, const char *err)
{
    ngx_http_nexus_redis_t  *rd;

    rd = ngx_http_nexus_redis;

    if (rd->down) {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, rd->log, 0,
                       "nexus: redis %s: %s", what, err);
        return;
    }

    rd->down = 1;

    ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                  "nexus: redis %s: %s; serving without the cache until it "
                  "is back", what, err);
}


static void
ngx_http_nexus_redis_add_read(void *privdata)
{
    ngx_http_nexus_redis_slot_t *slot = privdata;

    if (!slot->connection->read->active) {
        (void) ngx_add_event(slot->connection->read, NGX_READ_EVENT,
                             NGX_LEVEL_EVENT);
    }
}


static void
ngx_http_nexus_redis_del_read(void *privdata)
{
    ngx_http_nexus_redis_slot_t *slot = privdata;

    if (slot->connection->read->active) {
        (void) ngx_del_event(slot->connection->read, NGX_READ_EVENT, 0);
    }
}


static void
ngx_http_nexus_redis_add_write(void *privdata)
{
    ngx_http_nexus_redis_slot_t *slot = privdata;

    if (!slot->connection->write->active) {
        (void) ngx_add_event(slot->connection->write, NGX_WRITE_EVENT,
                             NGX_LEVEL_EVENT);
    }
}


static void
ngx_http_nexus_redis_del_write(void *privdata)
{
    ngx_http_nexus_redis_slot_t *slot = privdata;

    if (slot->connection->write->active) {
        (void) ngx_del_event(slot->connection->write, NGX_WRITE_EVENT, 0);
    }
}


/* hiredis is freeing the context and will close the socket itself */

static void
ngx_http_nexus_redis_cleanup(void *privdata)
{
    ngx_http_nexus_redis_slot_t *slot = privdata;

    ngx_connection_t  *c;

    c = slot->connection;

    slot->ac = NULL;
    slot->connection = NULL;
    slot->connected = 0;

    if (slot->connect_timer.timer_set) {
        ngx_del_timer(&slot->connect_timer);
    }

    if (c == NULL) {
        return;
    }

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    if (c->read->active) {
        ngx_del_event(c->read, NGX_READ_EVENT, NGX_CLOSE_EVENT);
    }

    if (c->write->active) {
        ngx_del_event(c->write, NGX_WRITE_EVENT, NGX_CLOSE_EVENT);
    }

    ngx_free_connection(c);
    c->fd = (ngx_socket_t) -1;
}


static void
ngx_http_nexus_redis_read_handler(ngx_event_t *rev)
{
    ngx_connection_t             *c;
    ngx_http_nexus_redis_slot_t  *slot;

    c = rev->data;
    slot = c->data;

    /* may free the context: nothing after this call */
    redisAsyncHandleRead(slot->ac);
}


static void
ngx_http_nexus_redis_write_handler(ngx_event_t *wev)
{
    ngx_connection_t             *c;
    ngx_http_nexus_redis_slot_t  *slot;

    c = wev->data;
    slot = c->data;

    redisAsyncHandleWrite(slot->ac);
}


static void
ngx_http_nexus_redis_on_connect(const redisAsyncContext *ac, int status)
{
    ngx_http_nexus_redis_t       *rd;
    ngx_http_nexus_redis_slot_t  *slot;

    rd = ngx_http_nexus_redis;
    slot = ac->data;

    if (status != REDIS_OK) {
        /* hiredis frees the context right after this */
        slot->retry_at = ngx_current_msec + NGX_HTTP_NEXUS_REDIS_RETRY;
        ngx_http_nexus_redis_outage("connect failed", ac->errstr);
        return;
    }

    slot->connected = 1;

    if (slot->connect_timer.timer_set) {
        ngx_del_timer(&slot->connect_timer);
    }

    if (rd->down) {
        rd->down = 0;
        ngx_log_error(NGX_LOG_NOTICE, rd->log, 0,
                      "nexus: redis is reachable again");
    }
}


static void
ngx_http_nexus_redis_on_disconnect(const redisAsyncContext *ac, int status)
{
    ngx_http_nexus_redis_slot_t  *slot;

    slot = ac->data;

    if (status != REDIS_OK) {
        slot->retry_at = ngx_current_msec + NGX_HTTP_NEXUS_REDIS_RETRY;
        ngx_http_nexus_redis_outage("connection lost", ac->errstr);
    }
}


static void
ngx_http_nexus_redis_connect_timeout(ngx_event_t *ev)
{
    ngx_http_nexus_redis_slot_t  *slot;

    slot = ev->data;

    if (slot->ac == NULL || slot->connected) {
        return;
    }

    slot->retry_at = ngx_current_msec + NGX_HTTP_NEXUS_REDIS_RETRY;
    ngx_http_nexus_redis_outage("connect", "timed out");

    redisAsyncFree(slot->ac);
}


static void
ngx_http_nexus_redis_on_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    ngx_http_nexus_redis_cmd_t *cmd = privdata;

    if (!cmd->done) {
        cmd->done = 1;

        if (cmd->timer.timer_set) {
            ngx_del_timer(&cmd->timer);
        }

        if (cmd->handler) {
            cmd->handler(cmd->data, r);
        }
    }

    ngx_free(cmd);
}


static void
ngx_http_nexus_redis_command_timeout(ngx_event_t *ev)
{
    ngx_http_nexus_redis_cmd_t   *cmd;
    ngx_http_nexus_redis_slot_t  *slot;

    cmd = ev->data;
    slot = cmd->slot;

    cmd->done = 1;

    if (cmd->handler) {
        cmd->handler(cmd->data, NULL);
        cmd->handler = NULL;
    }

    /* frees cmd too, through its reply callback */
    if (slot->ac) {
        slot->retry_at = ngx_current_msec + NGX_HTTP_NEXUS_REDIS_RETRY;
        ngx_http_nexus_redis_outage("command", "timed out");
        redisAsyncFree(slot->ac);
    }
}


/* a wrong password would otherwise turn every lookup into a silent miss */

static void
ngx_http_nexus_redis_on_auth(redisAsyncContext *ac, void *r, void *privdata)
{
    redisReply  *reply = r;

    if (reply && reply->type == REDIS_REPLY_ERROR) {
        ngx_http_nexus_redis_outage("AUTH failed", reply->str);
    }
}
