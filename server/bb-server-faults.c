/* bb-server-faults.c: the reference server's fault injection (latency, error answers,
 * dropped connections), which tests switch on; kept apart from what a real server does.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bb-server-private.h"

#include <string.h>

struct _FailRule
{
  char *method;      /* nullable: any */
  char *path_prefix; /* nullable: any */
  guint count;
  guint status;
};

void
bb_server_fail_rule_free (FailRule *rule)
{
  g_free (rule->method);
  g_free (rule->path_prefix);
  g_free (rule);
}

/* The status of the first rule of bb_server_fail_next_requests() matching the request
 * (and counts it), else 0. */
guint
bb_server_fail_rule_take (BbServer *self, const char *method, const char *path)
{
  for (guint i = 0; i < self->fail_rules->len; i++)
    {
      FailRule *rule = g_ptr_array_index (self->fail_rules, i);
      guint status = rule->status;

      if ((rule->method != NULL && g_strcmp0 (rule->method, method) != 0)
          || (rule->path_prefix != NULL && !g_str_has_prefix (path, rule->path_prefix)))
        continue;
      if (--rule->count == 0)
        g_ptr_array_remove_index (self->fail_rules, i);
      return status;
    }
  return 0;
}

/* An injected error answer, with Retry-After on 429 and 503 when one is set. */
void
bb_server_respond_injected (BbServer *self, BbServerRequest *req, guint status)
{
  bb_server_respond_error (req, status, "injected fault");
  if ((status == 429 || status == 503) && self->retry_after > 0)
    {
      g_autofree char *value = g_strdup_printf ("%u", self->retry_after);

      soup_message_headers_replace (soup_server_message_get_response_headers (req->msg),
                                    "Retry-After", value);
    }
}

gboolean
bb_server_fault_roll (BbServer *self, double fraction)
{
  if (fraction <= 0.0)
    return FALSE;
  if (fraction >= 1.0)
    return TRUE;
  return g_rand_double (self->fault_rand) < fraction;
}

/* Writes the head and half the body of the response, then closes the connection: the
 * client sees a connection dropped mid-response. The body is written from its own
 * chunks: flattening it would leave an unwiped copy of the response, which can carry
 * bearer tokens. */
void
bb_server_drop_connection (SoupServerMessage *msg)
{
  SoupMessageBody *body = soup_server_message_get_response_body (msg);
  g_autoptr (GIOStream) stream = soup_server_message_steal_connection (msg);
  g_autofree char *head = NULL;
  GOutputStream *out;
  gsize len = body->length;
  gsize offset = 0;

  if (stream == NULL)
    return;
  head = g_strdup_printf ("HTTP/1.1 %u %s\r\nContent-Type: application/json\r\n"
                          "Content-Length: %" G_GSIZE_FORMAT "\r\n\r\n",
                          soup_server_message_get_status (msg),
                          soup_status_get_phrase (soup_server_message_get_status (msg)), len + 16);
  out = g_io_stream_get_output_stream (stream);
  /* A few hundred bytes to a local socket buffer: this does not block. */
  g_output_stream_write_all (out, head, strlen (head), NULL, NULL, NULL);
  while (offset < len / 2)
    {
      g_autoptr (GBytes) chunk = soup_message_body_get_chunk (body, offset);
      gsize size;
      const guint8 *data;

      if (chunk == NULL)
        break;
      data = g_bytes_get_data (chunk, &size);
      if (size == 0)
        break;
      g_output_stream_write_all (out, data, MIN (size, len / 2 - offset), NULL, NULL, NULL);
      offset += size;
    }
  g_io_stream_close (stream, NULL, NULL);
}

struct _Delayed
{
  BbServer *self;
  SoupServerMessage *msg;
  GSource *source;
  gulong disconnected_id;
};

void
bb_server_delayed_free (Delayed *delayed)
{
  g_source_destroy (delayed->source);
  g_source_unref (delayed->source);
  g_signal_handler_disconnect (delayed->msg, delayed->disconnected_id);
  g_object_unref (delayed->msg);
  g_free (delayed);
}

static gboolean
delayed_cb (gpointer user_data)
{
  Delayed *delayed = user_data;
  BbServer *self = delayed->self;
  SoupServerMessage *msg = g_object_ref (delayed->msg);

  g_ptr_array_remove_fast (self->delayed, delayed);
  bb_server_process_request (self, msg, TRUE);
  g_object_unref (msg);
  return G_SOURCE_REMOVE;
}

static void
delayed_disconnected_cb (SoupServerMessage *msg, gpointer user_data)
{
  Delayed *delayed = user_data;

  g_ptr_array_remove_fast (delayed->self->delayed, delayed);
}

void
bb_server_delay_request (BbServer *self, SoupServerMessage *msg)
{
  Delayed *delayed;

  delayed = g_new0 (Delayed, 1);
  delayed->self = self;
  delayed->msg = g_object_ref (msg);
  delayed->source = g_timeout_source_new (self->latency_ms);
  g_source_set_callback (delayed->source, delayed_cb, delayed, NULL);
  g_source_attach (delayed->source, self->context);
  delayed->disconnected_id
      = g_signal_connect (msg, "disconnected", G_CALLBACK (delayed_disconnected_cb), delayed);
  g_ptr_array_add (self->delayed, delayed);
  soup_server_message_pause (msg);
}

void
bb_server_set_fault_seed (BbServer *self, guint32 seed)
{
  g_return_if_fail (BB_IS_SERVER (self));

  g_rand_set_seed (self->fault_rand, seed);
}

void
bb_server_set_latency (BbServer *self, guint latency_ms)
{
  g_return_if_fail (BB_IS_SERVER (self));

  self->latency_ms = latency_ms;
}

void
bb_server_set_error_rate (BbServer *self, double fraction, guint status)
{
  g_return_if_fail (BB_IS_SERVER (self));
  g_return_if_fail (status == 0 || (status >= 400 && status <= 599));

  self->error_rate = CLAMP (fraction, 0.0, 1.0);
  self->error_status = status != 0 ? status : 500;
}

void
bb_server_set_retry_after (BbServer *self, guint seconds)
{
  g_return_if_fail (BB_IS_SERVER (self));

  self->retry_after = seconds;
}

void
bb_server_fail_next_requests (BbServer *self, const char *method, const char *path_prefix,
                              guint count, guint status)
{
  FailRule *rule;

  g_return_if_fail (BB_IS_SERVER (self));
  g_return_if_fail (status >= 400 && status <= 599);

  /* A new rule for the same requests replaces the old one; a count of 0 only removes. */
  for (guint i = self->fail_rules->len; i > 0; i--)
    {
      FailRule *old = g_ptr_array_index (self->fail_rules, i - 1);

      if (g_strcmp0 (old->method, method) == 0 && g_strcmp0 (old->path_prefix, path_prefix) == 0)
        g_ptr_array_remove_index (self->fail_rules, i - 1);
    }
  if (count == 0)
    return;
  rule = g_new0 (FailRule, 1);
  rule->method = g_strdup (method);
  rule->path_prefix = g_strdup (path_prefix);
  rule->count = count;
  rule->status = status;
  g_ptr_array_add (self->fail_rules, rule);
}

void
bb_server_set_drop_rate (BbServer *self, double fraction)
{
  g_return_if_fail (BB_IS_SERVER (self));

  self->drop_rate = CLAMP (fraction, 0.0, 1.0);
}
