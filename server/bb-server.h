/* bb-server.h: the BitBoxSync reference server (for tests, examples and local development)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define BB_TYPE_SERVER (bb_server_get_type ())

G_DECLARE_FINAL_TYPE (BbServer, bb_server, BB, SERVER, GObject)

/* @database_path: an SQLite file (created if missing) or ":memory:". */
BbServer   *bb_server_new                 (const char *database_path, GError **error);

/* Canonical origins accepted in join requests (default: "https://sync.example" when
 * none is added). Call before listening. */
gboolean    bb_server_add_public_origin   (BbServer *self, const char *origin, GError **error);

/* Long-poll timeout of POST /v1/namespaces/watch (default 30000 ms). */
void        bb_server_set_watch_timeout   (BbServer *self, guint timeout_ms);

/* Starts serving on @host:@port (port 0 picks a free one) on the thread-default main
 * context of the caller. */
gboolean    bb_server_listen              (BbServer *self, const char *host, guint port,
                                           GError **error);
/* "http://127.0.0.1:PORT" once listening, else NULL. */
const char *bb_server_get_base_url        (BbServer *self);
/* Stops listening and closes open connections and watches; the database stays consistent. */
void        bb_server_shutdown            (BbServer *self);

/* Fault injection (all off by default). */
void        bb_server_set_latency         (BbServer *self, guint latency_ms);
/* A @fraction (0..1) of requests is answered with @status (500 or 503) before routing. */
void        bb_server_set_error_rate      (BbServer *self, double fraction, guint status);
/* A @fraction (0..1) of requests has its connection dropped mid-response. */
void        bb_server_set_drop_rate       (BbServer *self, double fraction);
/* Saves the whole database state under @name, and later restores it (a rollback as a
 * client would see one from a server restored from backup). */
gboolean    bb_server_save_snapshot       (BbServer *self, const char *name, GError **error);
gboolean    bb_server_restore_snapshot    (BbServer *self, const char *name, GError **error);

G_END_DECLS
