/* bb-client.c: the BitBoxSync HTTP API, one asynchronous call per endpoint
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bb-client.h"

#include "bb-i18n-private.h"
#include <libsoup/soup.h>
#include <string.h>

#include "bb-client-private.h"
#include "bb-client-types-private.h"
#include "bb-crypto-private.h"
#include "bb-error.h"
#include "bb-invite-private.h"
#include "bb-protocol-messages-private.h"
#include "bb-protocol.h"

/**
 * BbClient:
 *
 * A client of the BitBoxSync HTTP API: one #SoupSession, one base URL, and one
 * `_async`/`_finish` pair per endpoint.
 *
 * Every call validates its arguments before sending anything (IDs must be lower-case
 * hex of the right size: %BB_SYNC_ERROR_INVALID_INPUT otherwise, passed to the callback
 * like any other error) and checks every
 * answer the way the reference client does: a wrong echoed ID, kind, version or
 * expiry, bad base64 or truncated JSON is %BB_SYNC_ERROR_PROTOCOL with a message
 * naming the field (an item whose ciphertext exceeds the protocol maximum
 * of 65 536 bytes, too). So is an answer body over 8 MiB, which the client stops
 * reading at the limit (dropping the connection) instead of holding it, and an answer
 * with a content coding: the client asks for none and decodes none. A status of 400 or
 * above is %BB_SYNC_ERROR_API with the message `HTTP <status>: <server text>`, where
 * the server text (from the first 4 KiB of the body; the rest is never read) is made
 * valid UTF-8, has its control characters and escape sequences replaced (line breaks
 * and tabs become spaces) and is cut to 512 bytes with an ellipsis;
 * [func@BbSync.SyncError.get_http_status] reads the status back. On a 429 or 503 with
 * a usable `Retry-After` header (delta-seconds or an HTTP-date) the message ends with
 * ` (retry after <seconds> s)`, at most %BB_SYNC_ERROR_RETRY_AFTER_MAX, and
 * [func@BbSync.SyncError.get_retry_after] reads the delay back; a malformed header is
 * ignored. Network and TLS errors pass through unchanged, cancellation ends in
 * %G_IO_ERROR_CANCELLED, and a request that outlasts [property@Client:timeout] (which
 * bounds the whole exchange, not each read) ends in %G_IO_ERROR_TIMED_OUT.
 *
 * The client keeps the bearer token in [property@Client:access-token]: a successful
 * login or refresh stores the new token (an RFC 6750 `b64token` of at most 4096
 * characters: anything else is %BB_SYNC_ERROR_PROTOCOL naming `accessToken`, and is
 * never stored), a successful revoke-all clears it, and every authenticated call sends
 * the current one. It never logs a token, a signature or a
 * request body; with `G_MESSAGES_DEBUG=BbSync` it logs each endpoint and its status.
 *
 * The client does not log in again by itself on a 401: that policy (and refreshing
 * ahead of expiry) belongs to the sync engine.
 *
 * Since: 0.1
 */

struct _BbClient
{
  GObject parent_instance;

  SoupSession *session;
  char *base_url;
  char *access_token;
  guint timeout;
};

enum
{
  PROP_0,
  PROP_BASE_URL,
  PROP_ACCESS_TOKEN,
  PROP_TIMEOUT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (BbClient, bb_client, G_TYPE_OBJECT)

/* ------------------------------------------------------------------------------------ */
/* Requests                                                                              */

/* Answers at least this big are parsed and checked in a worker thread. The strict JSON
 * reader needs about 40 ms for a 10 000-item snapshot (~840 KB), a visible stall of the
 * caller's main loop; handing a body to a thread and back costs more than parsing a
 * few kilobytes, and nearly every answer is that small. */
#define BB_CLIENT_THREADED_PARSE_MIN_SIZE (64 * 1024)

typedef struct _Request Request;

/* What the answer must echo; which fields apply depends on the endpoint. */
typedef struct
{
  char *namespace_id;
  char *item_id;
  char *invite_id;
  char *key_id;
  char *join_request_hash;
  char *kind;
  guint64 version;
  gint64 expires_at;
  gboolean has_max_pending;
  guint max_pending;
  guint max_accepted;
} Expect;

/* Turns the body of a 2xx answer into the task's result, or fails. Handlers are pure:
 * they see only the answer and @expect, never the client, so they may run in a worker
 * thread. */
typedef gpointer (*ResponseHandler) (const Expect *expect, const char *body, gsize len,
                                     GError **error);

/* Applies an accepted answer to the client (the bearer token), on the caller's
 * context. */
typedef void (*ResponseApply) (BbClient *self, gpointer value);

struct _Request
{
  const char *method;
  const char *endpoint; /* for logs: a path template without IDs or secrets */
  char *path;
  GBytes *body; /* nullable */
  gboolean authenticated;
  char *if_match; /* nullable */
  ResponseHandler handler;
  ResponseApply apply; /* nullable */
  GDestroyNotify result_free;
  SoupMessage *message;
  Expect expect;
  /* The answer while it is read: at most body_cap bytes are kept, in a buffer that may
   * hold a bearer token and is wiped when released. */
  GInputStream *stream;
  guint8 *body_data;
  gsize body_len;
  gsize body_allocated;
  gsize body_cap;
  /* The deadline: libsoup's own timeout only bounds each read, so a server that
   * trickles bytes could hold a request forever. The request runs on its own
   * cancellable, cancelled by the caller's one or by the deadline source. */
  GCancellable *cancellable;
  GCancellable *caller_cancellable; /* nullable */
  gulong caller_handler;
  GSource *deadline; /* nullable */
  guint timeout;
  gboolean timed_out;
};

static void
request_stop_deadline (Request *req)
{
  if (req->deadline != NULL)
    {
      g_source_destroy (req->deadline);
      g_clear_pointer (&req->deadline, g_source_unref);
    }
  /* Disconnecting waits for a handler running in another thread, so the internal
   * cancellable is never touched after this. */
  if (req->caller_handler != 0)
    g_cancellable_disconnect (req->caller_cancellable, req->caller_handler);
  req->caller_handler = 0;
}

static void
expect_clear (Expect *expect)
{
  g_free (expect->namespace_id);
  g_free (expect->item_id);
  g_free (expect->invite_id);
  g_free (expect->key_id);
  g_free (expect->join_request_hash);
  g_free (expect->kind);
}

static void
expect_copy (Expect *dest, const Expect *src)
{
  *dest = *src;
  dest->namespace_id = g_strdup (src->namespace_id);
  dest->item_id = g_strdup (src->item_id);
  dest->invite_id = g_strdup (src->invite_id);
  dest->key_id = g_strdup (src->key_id);
  dest->join_request_hash = g_strdup (src->join_request_hash);
  dest->kind = g_strdup (src->kind);
}

/* Lets go of the answer's stream. Closed before its end, it makes libsoup drop the
 * connection rather than read the rest. */
static void
request_close_stream (Request *req)
{
  if (req->stream == NULL)
    return;
  g_input_stream_close (req->stream, NULL, NULL);
  g_clear_object (&req->stream);
}

static void
request_free (Request *req)
{
  request_close_stream (req);
  if (req->body_data != NULL)
    bb_crypto_wipe (req->body_data, req->body_len);
  g_free (req->body_data);
  g_free (req->path);
  g_clear_pointer (&req->body, g_bytes_unref);
  g_free (req->if_match);
  g_clear_object (&req->message);
  request_stop_deadline (req);
  g_clear_object (&req->caller_cancellable);
  g_clear_object (&req->cancellable);
  expect_clear (&req->expect);
  g_free (req);
}

static Request *
request_new (const char *method, const char *endpoint, char *path, gboolean authenticated,
             ResponseHandler handler, GDestroyNotify result_free)
{
  Request *req = g_new0 (Request, 1);

  req->method = method;
  req->endpoint = endpoint;
  req->path = path;
  req->authenticated = authenticated;
  req->handler = handler;
  req->result_free = result_free;
  return req;
}

static void
wipe_and_free_string (gpointer data)
{
  char *text = data;

  bb_crypto_wipe (text, strlen (text));
  g_free (text);
}

/* Takes @json. Request bodies may carry signatures and invite server secrets, so the
 * buffer is wiped when libsoup lets go of it. */
static void
request_take_body (Request *req, char *json)
{
  req->body = g_bytes_new_with_free_func (json, strlen (json), wipe_and_free_string, json);
}

/* Error texts come from the server (or a proxy) and end up in GError messages, logs
 * and UIs: they are cleaned and bounded before use. At most
 * BB_CLIENT_ERROR_TEXT_INPUT_MAX bytes are read, and the result is at most
 * BB_CLIENT_ERROR_TEXT_MAX bytes, ellipsis included. */
#define BB_CLIENT_ERROR_TEXT_INPUT_MAX 4096
#define BB_CLIENT_ERROR_TEXT_MAX 512
#define BB_CLIENT_ELLIPSIS "\u2026"
#define BB_CLIENT_REPLACEMENT "\uFFFD"

/* Whether @c must not reach a message: C0 and C1 controls, DEL, line and paragraph
 * separators and the bidirectional overrides and isolates (which can make a message
 * read other than it is). */
static gboolean
error_text_char_is_unsafe (gunichar c)
{
  return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x2028 || c == 0x2029
         || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

/* Skips the rest of an escape sequence whose ESC is just before @p: a CSI
 * (ESC [ parameters intermediates final) or an OSC (ESC ] ... BEL or ESC \\); any other
 * escape loses only its ESC. */
static const char *
skip_escape_sequence (const char *p, const char *end)
{
  if (p < end && *p == '[')
    {
      for (p++; p < end && (guchar)*p >= 0x20 && (guchar)*p <= 0x3f; p++)
        ;
      if (p < end && (guchar)*p >= 0x40 && (guchar)*p <= 0x7e)
        p++;
    }
  else if (p < end && *p == ']')
    {
      for (p++; p < end; p++)
        {
          if (*p == '\a')
            return p + 1;
          if (*p == '\x1b' && p + 1 < end && p[1] == '\\')
            return p + 2;
        }
    }
  return p;
}

/* @len bytes of server text as valid UTF-8 without control characters (tabs and line
 * breaks become spaces, every other control character, escape sequence or invalid byte
 * one U+FFFD), trimmed, and cut at a character boundary with an ellipsis when longer
 * than BB_CLIENT_ERROR_TEXT_MAX bytes. */
static char *
sanitize_error_text (const char *data, gsize len)
{
  GString *out = g_string_sized_new (MIN (len, BB_CLIENT_ERROR_TEXT_MAX) + 8);
  gboolean truncated = FALSE;
  const char *p, *end;
  char *result;

  if (len > BB_CLIENT_ERROR_TEXT_INPUT_MAX)
    {
      truncated = TRUE;
      len = BB_CLIENT_ERROR_TEXT_INPUT_MAX;
      /* Cut before a character whose continuation bytes would be lost. */
      while (len > 0 && ((guchar)data[len] & 0xc0) == 0x80)
        len--;
    }
  p = data;
  end = data + len;
  while (p < end)
    {
      gunichar c = g_utf8_get_char_validated (p, end - p);

      if (c == (gunichar)-1 || c == (gunichar)-2)
        {
          g_string_append (out, BB_CLIENT_REPLACEMENT);
          p++;
          continue;
        }
      p = g_utf8_next_char (p);
      if (c == '\t' || c == '\n' || c == '\r')
        g_string_append_c (out, ' ');
      else if (c == 0x1b)
        {
          g_string_append (out, BB_CLIENT_REPLACEMENT);
          p = skip_escape_sequence (p, end);
        }
      else if (error_text_char_is_unsafe (c))
        g_string_append (out, BB_CLIENT_REPLACEMENT);
      else
        g_string_append_unichar (out, c);
    }

  result = g_strstrip (g_string_free (out, FALSE));
  if (truncated || strlen (result) > BB_CLIENT_ERROR_TEXT_MAX)
    {
      gsize cut = MIN (strlen (result), BB_CLIENT_ERROR_TEXT_MAX - strlen (BB_CLIENT_ELLIPSIS));
      char *capped;

      while (cut > 0 && ((guchar)result[cut] & 0xc0) == 0x80)
        cut--;
      result[cut] = '\0';
      capped = g_strconcat (result, BB_CLIENT_ELLIPSIS, NULL);
      g_free (result);
      result = capped;
    }
  return result;
}

/* The text of an error answer: the `error` string of a JSON error body, else the body
 * itself, else the reason phrase; cleaned by sanitize_error_text(). */
static char *
api_error_text (SoupMessage *message, const guint8 *data, gsize len)
{
  guint status = soup_message_get_status (message);
  const char *phrase = soup_message_get_reason_phrase (message);
  BbMsgError msg = { 0 };
  g_autofree char *text = NULL;

  if (len > 0 && bb_msg_error_parse (&msg, (const char *)data, len, NULL) && msg.error != NULL
      && msg.error[0] != '\0')
    text = sanitize_error_text (msg.error, strlen (msg.error));
  else
    text = sanitize_error_text ((const char *)data, len);
  bb_msg_error_clear (&msg);
  if (text[0] == '\0')
    {
      if (phrase == NULL || phrase[0] == '\0')
        phrase = soup_status_get_phrase (status);
      return sanitize_error_text (phrase != NULL ? phrase : "",
                                  phrase != NULL ? strlen (phrase) : 0);
    }
  return g_steal_pointer (&text);
}

/* The delay in seconds of a Retry-After header (RFC 9110 §10.2.3) at @now (Unix
 * seconds), capped at BB_SYNC_ERROR_RETRY_AFTER_MAX; 0 when @value is NULL, malformed
 * or a date already past. A server picks the value, so nothing here trusts it:
 * delta-seconds are plain ASCII digits (no sign, no exponent, at most ten digits, more
 * is refused rather than capped), and only a value starting with a letter (every
 * HTTP-date starts with a day name) goes to the (lenient) date parser. */
static guint
parse_retry_after (const char *value, gint64 now)
{
  g_autoptr (GDateTime) date = NULL;
  gint64 delay;
  const char *start, *end;
  guint64 seconds = 0;

  if (value == NULL)
    return 0;
  start = value;
  while (*start == ' ' || *start == '\t')
    start++;
  end = start + strlen (start);
  while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
    end--;
  if (start == end)
    return 0;

  if (g_ascii_isdigit (*start))
    {
      if (end - start > 10)
        return 0;
      for (const char *p = start; p < end; p++)
        {
          if (!g_ascii_isdigit (*p))
            return 0;
          seconds = seconds * 10 + (guint64)(*p - '0');
        }
      return (guint)MIN (seconds, BB_SYNC_ERROR_RETRY_AFTER_MAX);
    }

  if (!g_ascii_isalpha (*start) || end - start > 64)
    return 0;
  {
    g_autofree char *text = g_strndup (start, end - start);
    date = soup_date_time_new_from_http_string (text);
  }
  if (date == NULL)
    return 0;
  delay = g_date_time_to_unix (date) - now;
  if (delay <= 0)
    return 0;
  return (guint)MIN (delay, BB_SYNC_ERROR_RETRY_AFTER_MAX);
}

/* The largest 2xx body the client reads: the JSON reader's own limit, enforced while
 * reading, so that a server cannot make the client hold more. */
#define BB_CLIENT_BODY_MAX BB_MSG_MAX_BODY_SIZE
/* How much of an error body is read: what sanitize_error_text() looks at, and a byte
 * more for it to see that the text goes on. The rest is never read. */
#define BB_CLIENT_ERROR_BODY_MAX (BB_CLIENT_ERROR_TEXT_INPUT_MAX + 1)
/* The first buffer for a body of unknown length; it doubles as needed. */
#define BB_CLIENT_BODY_INITIAL_SIZE (16 * 1024)

/* Response bodies can carry secrets (the bearer token of a login or refresh answer):
 * wipe them before the memory goes back to the allocator. */
typedef GBytes BbResponseBody;

static void
response_body_free (BbResponseBody *body)
{
  guint8 *data;
  gsize len = 0;

  /* Takes the buffer without a copy when this is the last reference. */
  data = g_bytes_unref_to_data (body, &len);
  bb_crypto_wipe (data, len);
  g_free (data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BbResponseBody, response_body_free)

/* Test hook (bb-client-private.h): read from any thread, set only by tests between
 * calls. */
static BbClientParseHook parse_hook;
static gpointer parse_hook_data;

void
bb_client_set_parse_hook_for_testing (BbClientParseHook hook, gpointer user_data)
{
  g_atomic_pointer_set (&parse_hook_data, user_data);
  g_atomic_pointer_set (&parse_hook, hook);
}

static void
call_parse_hook (BbClientParseStage stage, gsize len)
{
  BbClientParseHook hook = g_atomic_pointer_get (&parse_hook);

  if (hook != NULL)
    hook (stage, len, g_atomic_pointer_get (&parse_hook_data));
}

static gpointer
run_handler (ResponseHandler handler, const Expect *expect, GBytes *body, GError **error)
{
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (body, &len);

  call_parse_hook (BB_CLIENT_PARSE_STARTED, len);
  return handler (expect, (const char *)(data != NULL ? data : (const guint8 *)""), len, error);
}

/* A cancellation of the request's own cancellable that the caller did not ask for was
 * the deadline. */
static void
request_check_timed_out (Request *req, GError **error)
{
  if (req->timed_out && g_error_matches (*error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
      && !g_cancellable_is_cancelled (req->caller_cancellable))
    {
      g_clear_error (error);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                   _ ("timeout: no complete answer within %u s"), req->timeout);
    }
}

/* Ends @task with @value (taken) or @error (taken), on the caller's context. */
static void
request_complete (GTask *task, gpointer value, GError *error)
{
  BbClient *self = g_task_get_source_object (task);
  Request *req = g_task_get_task_data (task);

  request_stop_deadline (req);
  if (value == NULL)
    {
      g_debug ("%s %s: rejected answer: %s", req->method, req->endpoint, error->message);
      g_task_return_error (task, error);
      return;
    }
  if (req->apply != NULL)
    req->apply (self, value);
  g_task_return_pointer (task, value, req->result_free);
}

/* What a worker thread needs to parse one answer; it owns copies of everything, because
 * after a cancellation the thread may outlive the request. */
typedef struct
{
  ResponseHandler handler;
  GDestroyNotify result_free;
  Expect expect;
  BbResponseBody *body;
} ParseJob;

static void
parse_job_free (ParseJob *job)
{
  gsize len = g_bytes_get_size (job->body);

  expect_clear (&job->expect);
  response_body_free (job->body);
  g_free (job);
  call_parse_hook (BB_CLIENT_PARSE_FINISHED, len);
}

static void
parse_thread (GTask *parse_task, gpointer source_object, gpointer task_data,
              GCancellable *cancellable)
{
  ParseJob *job = task_data;
  GError *error = NULL;
  gpointer value;

  value = run_handler (job->handler, &job->expect, job->body, &error);
  if (value == NULL)
    g_task_return_error (parse_task, error);
  else
    g_task_return_pointer (parse_task, value, job->result_free);
}

static void
parse_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  Request *req = g_task_get_task_data (task);
  GError *error = NULL;
  gpointer value;

  value = g_task_propagate_pointer (G_TASK (result), &error);
  if (value == NULL)
    request_check_timed_out (req, &error);
  request_complete (task, value, error);
}

/* Parses @body (taken) in a worker thread; the result comes back on the context of @task. The
 * job runs on the request's own cancellable, so the caller's cancellable and the
 * deadline (still armed) end it at once, without waiting for the parse. */
static void
request_parse_in_thread (GTask *task, Request *req, BbResponseBody *body)
{
  g_autoptr (GTask) parse_task = NULL;
  ParseJob *job = g_new0 (ParseJob, 1);

  job->handler = req->handler;
  job->result_free = req->result_free;
  expect_copy (&job->expect, &req->expect);
  job->body = body;

  /* No source object: the task may be finalized in the worker thread, which must never
   * drop the last reference of app-visible objects. */
  parse_task = g_task_new (NULL, req->cancellable, parse_done_cb, g_object_ref (task));
  g_task_set_source_tag (parse_task, request_parse_in_thread);
  g_task_set_name (parse_task, "[bbsync] BbClient answer parse");
  g_task_set_task_data (parse_task, job, (GDestroyNotify)parse_job_free);
  g_task_set_return_on_cancel (parse_task, TRUE);
  g_task_run_in_thread (parse_task, parse_thread);
}

/* Ends @task with a failure to send or read (@error, taken), which is passed through
 * unless the deadline caused it. */
static void
request_fail (GTask *task, GError *error)
{
  Request *req = g_task_get_task_data (task);

  request_close_stream (req);
  request_stop_deadline (req);
  request_check_timed_out (req, &error);
  g_debug ("%s %s: %s", req->method, req->endpoint, error->message);
  g_task_return_error (task, error);
}

/* Ends @task with the answer read so far: the error of a status of 400 or above, else
 * the parsed and checked body (in a worker thread when it is big). */
static void
request_handle_answer (GTask *task)
{
  Request *req = g_task_get_task_data (task);
  g_autoptr (BbResponseBody) body = NULL;
  GError *error = NULL;
  gpointer value;
  guint status = soup_message_get_status (req->message);
  const guint8 *data;
  gsize len;

  body = g_bytes_new_take (g_steal_pointer (&req->body_data), req->body_len);
  req->body_len = req->body_allocated = 0;
  data = g_bytes_get_data (body, &len);

  if (status >= 400)
    {
      g_autofree char *text = api_error_text (req->message, data, len);
      guint retry_after = 0;

      if (status == 429 || status == 503)
        retry_after = parse_retry_after (
            soup_message_headers_get_one (soup_message_get_response_headers (req->message),
                                          "Retry-After"),
            g_get_real_time () / G_USEC_PER_SEC);
      request_stop_deadline (req);
      /* The suffix is what bb_sync_error_get_retry_after() parses: keep them in step. */
      if (retry_after > 0)
        g_task_return_new_error (task, BB_SYNC_ERROR, BB_SYNC_ERROR_API,
                                 "HTTP %u: %s (retry after %u s)", status, text, retry_after);
      else
        g_task_return_new_error (task, BB_SYNC_ERROR, BB_SYNC_ERROR_API, "HTTP %u: %s", status,
                                 text);
      return;
    }

  if (len >= BB_CLIENT_THREADED_PARSE_MIN_SIZE)
    {
      request_parse_in_thread (task, req, g_steal_pointer (&body));
      return;
    }

  value = run_handler (req->handler, &req->expect, body, &error);
  call_parse_hook (BB_CLIENT_PARSE_FINISHED, len);
  request_complete (task, value, error);
}

static void request_read_cb (GObject *source, GAsyncResult *result, gpointer user_data);

/* Reads the next piece of the answer. The buffer grows by copying and wiping, never by
 * g_realloc(), which could leave a copy of a token behind. */
static void
request_read_more (GTask *task)
{
  Request *req = g_task_get_task_data (task);

  if (req->body_len == req->body_allocated)
    {
      gsize size = MIN (MAX (req->body_allocated * 2, BB_CLIENT_BODY_INITIAL_SIZE), req->body_cap);
      guint8 *data = g_malloc (size);

      if (req->body_len > 0)
        memcpy (data, req->body_data, req->body_len);
      if (req->body_data != NULL)
        bb_crypto_wipe (req->body_data, req->body_len);
      g_free (req->body_data);
      req->body_data = data;
      req->body_allocated = size;
    }
  g_input_stream_read_async (req->stream, req->body_data + req->body_len,
                             req->body_allocated - req->body_len, G_PRIORITY_DEFAULT,
                             req->cancellable, request_read_cb, g_object_ref (task));
}

static void
request_read_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  Request *req = g_task_get_task_data (task);
  GError *error = NULL;
  gssize n;

  n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &error);
  if (n < 0)
    {
      request_fail (task, error);
      return;
    }
  req->body_len += n;
  if (n > 0 && req->body_len < req->body_cap)
    {
      request_read_more (task);
      return;
    }

  /* The end of the body, or all of it the client keeps: the rest is never read. */
  request_close_stream (req);
  if (soup_message_get_status (req->message) < 400 && req->body_len > BB_CLIENT_BODY_MAX)
    {
      request_complete (task, NULL,
                        g_error_new (BB_SYNC_ERROR, BB_SYNC_ERROR_PROTOCOL,
                                     _ ("body: larger than %u bytes"), (guint)BB_CLIENT_BODY_MAX));
      return;
    }
  request_handle_answer (task);
}

/* The content coding of an answer (RFC 9110 §8.4), or NULL for none. */
static const char *
answer_content_coding (SoupMessage *message)
{
  const char *coding = soup_message_headers_get_list (soup_message_get_response_headers (message),
                                                      "Content-Encoding");

  if (coding == NULL || coding[0] == '\0' || g_ascii_strcasecmp (coding, "identity") == 0)
    return NULL;
  return coding;
}

/* Checks the headers of a 2xx answer before its body is read: the body must not be
 * coded (it would have to be decoded, and a small coded body can decode to gigabytes)
 * and must not announce more than the client reads. */
static gboolean
check_answer_headers (SoupMessage *message, GError **error)
{
  SoupMessageHeaders *headers = soup_message_get_response_headers (message);
  const char *coding = answer_content_coding (message);

  if (coding != NULL)
    {
      g_autofree char *text = sanitize_error_text (coding, strlen (coding));

      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_PROTOCOL,
                   _ ("Content-Encoding: the body is coded as “%s”, and the protocol uses no "
                      "content coding"),
                   text);
      return FALSE;
    }
  /* A length beyond 2^63 reads as negative. */
  if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH
      && (soup_message_headers_get_content_length (headers) < 0
          || soup_message_headers_get_content_length (headers) > BB_CLIENT_BODY_MAX))
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_PROTOCOL, _ ("body: larger than %u bytes"),
                   (guint)BB_CLIENT_BODY_MAX);
      return FALSE;
    }
  return TRUE;
}

static void
request_sent_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  Request *req = g_task_get_task_data (task);
  SoupMessageHeaders *headers;
  GError *error = NULL;
  guint status;

  req->stream = soup_session_send_finish (SOUP_SESSION (source), result, &error);
  if (req->stream == NULL)
    {
      request_fail (task, error);
      return;
    }

  status = soup_message_get_status (req->message);
  g_debug ("%s %s: HTTP %u", req->method, req->endpoint, status);
  headers = soup_message_get_response_headers (req->message);

  if (status >= 400)
    {
      /* A coded error body is not decoded: the reason phrase stands in for it. */
      if (answer_content_coding (req->message) != NULL)
        {
          request_close_stream (req);
          request_handle_answer (task);
          return;
        }
      req->body_cap = BB_CLIENT_ERROR_BODY_MAX;
    }
  else
    {
      if (!check_answer_headers (req->message, &error))
        {
          request_close_stream (req);
          request_complete (task, NULL, error);
          return;
        }
      /* One byte more than the limit, to tell a body at the limit from a bigger one. */
      req->body_cap = BB_CLIENT_BODY_MAX + 1;
    }
  /* A body of announced length fits in one buffer, with room to read its end. */
  if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH
      && soup_message_headers_get_content_length (headers) >= 0)
    {
      guint64 length = (guint64)soup_message_headers_get_content_length (headers);

      req->body_allocated = (gsize)MIN (length + 1, (guint64)req->body_cap);
      req->body_data = g_malloc (req->body_allocated);
    }
  request_read_more (task);
}

static void
caller_cancelled_cb (GCancellable *caller_cancellable, gpointer user_data)
{
  g_cancellable_cancel (G_CANCELLABLE (user_data));
}

static gboolean
deadline_cb (gpointer user_data)
{
  Request *req = user_data;

  req->timed_out = TRUE;
  g_clear_pointer (&req->deadline, g_source_unref);
  g_cancellable_cancel (req->cancellable);
  return G_SOURCE_REMOVE;
}

/* Arms the deadline of @req on the context of @task (the caller's thread-default one,
 * where libsoup runs the request and the callback), and chains the caller's
 * cancellable to the request's own. */
static void
request_start_deadline (BbClient *self, Request *req, GTask *task, GCancellable *cancellable)
{
  req->cancellable = g_cancellable_new ();
  if (cancellable != NULL)
    {
      req->caller_cancellable = g_object_ref (cancellable);
      /* Runs at once when @cancellable is already cancelled. */
      req->caller_handler = g_cancellable_connect (cancellable, G_CALLBACK (caller_cancelled_cb),
                                                   g_object_ref (req->cancellable), g_object_unref);
    }

  req->timeout = self->timeout;
  if (req->timeout == 0)
    return;
  /* Milliseconds where they fit in a guint (precise), whole seconds beyond. */
  if (req->timeout <= G_MAXUINT / 1000)
    req->deadline = g_timeout_source_new (req->timeout * 1000);
  else
    req->deadline = g_timeout_source_new_seconds (req->timeout);
  g_source_set_static_name (req->deadline, "[bbsync] BbClient request deadline");
  g_source_set_priority (req->deadline, G_PRIORITY_DEFAULT);
  /* @req lives as long as the task, which lives until the answer is handled and the
   * source destroyed (request_free() destroys it at the latest). */
  g_source_set_callback (req->deadline, deadline_cb, req, NULL);
  g_source_attach (req->deadline, g_task_get_context (task));
}

/* Sends @req (taken) for a task with @source_tag. */
static void
request_send (BbClient *self, Request *req, gpointer source_tag, GCancellable *cancellable,
              GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_autofree char *url = NULL;
  SoupMessageHeaders *headers;

  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, req, (GDestroyNotify)request_free);

  url = g_strconcat (self->base_url, req->path, NULL);
  req->message = soup_message_new (req->method, url);
  if (req->message == NULL)
    {
      g_task_return_new_error (task, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                               _ ("base-url: “%s” does not form a valid request URL"),
                               self->base_url);
      return;
    }

  headers = soup_message_get_request_headers (req->message);
  soup_message_headers_replace (headers, "Accept", "application/json");
  if (req->authenticated && self->access_token != NULL && self->access_token[0] != '\0')
    {
      g_autofree char *value = g_strconcat ("Bearer ", self->access_token, NULL);

      soup_message_headers_replace (headers, "Authorization", value);
      bb_crypto_wipe (value, strlen (value));
    }
  if (req->if_match != NULL)
    soup_message_headers_replace (headers, "If-Match", req->if_match);
  /* Content-Type only when there is a body, as the reference client does. */
  if (req->body != NULL)
    soup_message_set_request_body_from_bytes (req->message, "application/json", req->body);

  g_debug ("%s %s", req->method, req->endpoint);
  request_start_deadline (self, req, task, cancellable);
  soup_session_send_async (self->session, req->message, G_PRIORITY_DEFAULT, req->cancellable,
                           request_sent_cb, g_object_ref (task));
}

/* Finishes a task of @source_tag for the public @finish_name (its G_STRFUNC), which
 * names a wrong @self or @result in the critical warning, as a g_return_val_if_fail()
 * in that function would. */
static gpointer
request_finish (BbClient *self, GAsyncResult *result, gpointer source_tag, const char *finish_name,
                GError **error)
{
  g_autofree char *wrong_call = NULL;
  const char *failed = NULL;

  if (!BB_IS_CLIENT (self))
    failed = "BB_IS_CLIENT (self)";
  else if (!g_task_is_valid (result, self))
    failed = "g_task_is_valid (result, self)";
  else if (g_task_get_source_tag (G_TASK (result)) != source_tag)
    {
      /* Every public name ends in “_finish”, and its call in “_async”. */
      wrong_call = g_strdup_printf ("g_task_get_source_tag (G_TASK (result)) == %.*s_async",
                                    (int)(strlen (finish_name) - strlen ("_finish")), finish_name);
      failed = wrong_call;
    }
  if (failed != NULL)
    {
      g_return_if_fail_warning (G_LOG_DOMAIN, finish_name, failed);
      return NULL;
    }
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ------------------------------------------------------------------------------------ */
/* Answer checks                                                                         */

static gboolean
check_equal (const char *field, const char *what, const char *got, const char *want, GError **error)
{
  if (g_strcmp0 (got, want) == 0)
    return TRUE;
  /* “<field>: <what> mismatch” keeps the reference client's wording. */
  g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_PROTOCOL,
               _ ("%s: %s mismatch: the server answered “%s”, expected “%s”"), field, what,
               got != NULL ? got : "(null)", want != NULL ? want : "(null)");
  return FALSE;
}

static gboolean
check_equal_int (const char *field, const char *what, gint64 got, gint64 want, GError **error)
{
  if (got == want)
    return TRUE;
  g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_PROTOCOL,
               _ ("%s: %s mismatch: the server answered %lld, expected %lld"), field, what,
               (long long)got, (long long)want);
  return FALSE;
}

/* Re-labels an encoding error of server data as a protocol violation (the decoders
 * report INVALID_INPUT, which is meant for caller-supplied data). */
static gboolean
as_protocol_error (GError **error)
{
  if (error != NULL && *error != NULL)
    (*error)->code = BB_SYNC_ERROR_PROTOCOL;
  return FALSE;
}

static GBytes *
decode_base64_field (const char *text, gssize expected_len, const char *field, GError **error)
{
  GError *local_error = NULL;
  GBytes *bytes;

  if (text == NULL)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_PROTOCOL, _ ("%s: missing"), field);
      return NULL;
    }
  bytes = bb_protocol_base64_decode (text, expected_len, field, &local_error);
  if (bytes == NULL)
    {
      if (local_error->domain == BB_SYNC_ERROR)
        local_error->code = BB_SYNC_ERROR_PROTOCOL;
      g_propagate_error (error, local_error);
    }
  return bytes;
}

static gboolean
validate_lower_hex_field (const char *text, gsize expected_len, const char *field, GError **error)
{
  if (text == NULL)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_PROTOCOL, _ ("%s: missing"), field);
      return FALSE;
    }
  if (!bb_protocol_validate_lower_hex (text, expected_len, field, error))
    return as_protocol_error (error);
  return TRUE;
}

static BbNamespaceInfo *
namespace_info_from_summary (const BbMsgNamespaceSummary *summary)
{
  BbNamespaceInfo *info = bb_namespace_info_new ();

  info->namespace_id = g_strdup (summary->namespace_id);
  info->kind = g_strdup (summary->kind);
  info->head = summary->namespace_head;
  return info;
}

static GPtrArray *
namespace_infos_from_summaries (GPtrArray *summaries)
{
  GPtrArray *infos = g_ptr_array_new_with_free_func ((GDestroyNotify)bb_namespace_info_unref);

  for (guint i = 0; summaries != NULL && i < summaries->len; i++)
    g_ptr_array_add (infos, namespace_info_from_summary (g_ptr_array_index (summaries, i)));
  return infos;
}

/* The longest bearer token accepted from a server. */
#define BB_CLIENT_MAX_ACCESS_TOKEN_LENGTH 4096

/* Whether @token is an RFC 6750 §2.1 b64token of 1 to
 * BB_CLIENT_MAX_ACCESS_TOKEN_LENGTH characters: ALPHA / DIGIT / "-" / "." / "_" / "~" /
 * "+" / "/", then optional "="s. Anything else (CR LF, spaces, quotes) could smuggle
 * headers or break the Authorization line the token goes into. */
static gboolean
access_token_is_valid (const char *token)
{
  gsize i = 0;

  if (token == NULL)
    return FALSE;
  while (token[i] != '\0' && (g_ascii_isalnum (token[i]) || strchr ("-._~+/", token[i]) != NULL))
    i++;
  if (i == 0)
    return FALSE;
  while (token[i] == '=')
    i++;
  return token[i] == '\0' && i <= BB_CLIENT_MAX_ACCESS_TOKEN_LENGTH;
}

/* Checks the token of a login or refresh answer; the message never quotes it. */
static gboolean
check_access_token (const char *token, GError **error)
{
  if (access_token_is_valid (token))
    return TRUE;
  g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_PROTOCOL,
               _ ("accessToken: not a bearer token of 1 to %d characters (RFC 6750 b64token)"),
               BB_CLIENT_MAX_ACCESS_TOKEN_LENGTH);
  return FALSE;
}

/* ------------------------------------------------------------------------------------ */
/* Argument checks                                                                       */

/* The checks of the arguments of a call, before anything is sent. Each does nothing
 * once *@error is set, so that a call runs its checks in a row and hands the first
 * failure to report_bad_arguments(). */

static void
check_id_arg (const char *text, gsize len, const char *field, GError **error)
{
  if (*error != NULL)
    return;
  if (text == NULL)
    g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT, _ ("%s: missing"), field);
  else
    bb_protocol_validate_lower_hex (text, len, field, error);
}

static void
check_key_arg (GBytes *key, const char *field, GError **error)
{
  if (*error == NULL && (key == NULL || g_bytes_get_size (key) != 32))
    g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT, _ ("%s: expected 32 bytes"),
                 field);
}

static void
check_signature_arg (GBytes *signature, GError **error)
{
  if (*error == NULL
      && (signature == NULL || g_bytes_get_size (signature) != BB_PROTOCOL_SIGNATURE_SIZE))
    g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                 _ ("intentSignature: expected %d bytes"), BB_PROTOCOL_SIGNATURE_SIZE);
}

/* Ends a call whose arguments failed a check (@error, taken) through its callback,
 * before anything is sent, and returns TRUE; returns FALSE when @error is NULL.
 * Arguments often come from a binding, whose caller a g_return_if_fail() would leave
 * waiting for a callback that never runs. */
static gboolean
report_bad_arguments (BbClient *self, gpointer source_tag, GAsyncReadyCallback callback,
                      gpointer user_data, GError *error)
{
  if (error == NULL)
    return FALSE;
  g_task_report_error (self, callback, user_data, source_tag, error);
  return TRUE;
}

/* ------------------------------------------------------------------------------------ */
/* Object                                                                                */

static void
bb_client_finalize (GObject *object)
{
  BbClient *self = BB_CLIENT (object);

  g_clear_object (&self->session);
  g_free (self->base_url);
  if (self->access_token != NULL)
    wipe_and_free_string (g_steal_pointer (&self->access_token));

  G_OBJECT_CLASS (bb_client_parent_class)->finalize (object);
}

static void
bb_client_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  BbClient *self = BB_CLIENT (object);

  switch (prop_id)
    {
      case PROP_BASE_URL:
        g_value_set_string (value, self->base_url);
        break;
      case PROP_ACCESS_TOKEN:
        g_value_set_string (value, self->access_token);
        break;
      case PROP_TIMEOUT:
        g_value_set_uint (value, self->timeout);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bb_client_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  BbClient *self = BB_CLIENT (object);

  switch (prop_id)
    {
      case PROP_BASE_URL:
        {
          const char *url = g_value_get_string (value);
          gsize len = url != NULL ? strlen (url) : 0;

          /* Trailing slashes go; a path prefix stays. */
          while (len > 0 && url[len - 1] == '/')
            len--;
          g_free (self->base_url);
          self->base_url = g_strndup (url != NULL ? url : "", len);
        }
        break;
      case PROP_ACCESS_TOKEN:
        bb_client_set_access_token (self, g_value_get_string (value));
        break;
      case PROP_TIMEOUT:
        bb_client_set_timeout (self, g_value_get_uint (value));
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bb_client_class_init (BbClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = bb_client_finalize;
  object_class->get_property = bb_client_get_property;
  object_class->set_property = bb_client_set_property;

  /**
   * BbClient:base-url:
   *
   * The base URL of the server, without trailing slashes. Request paths are appended
   * to it, so a path prefix (`https://example.org/sync`) is kept.
   *
   * Since: 0.1
   */
  properties[PROP_BASE_URL]
      = g_param_spec_string ("base-url", NULL, NULL, NULL,
                             G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * BbClient:access-token:
   *
   * The bearer token sent with authenticated requests, or %NULL. Login and refresh
   * set it, revoking all tokens clears it; the sync engine restores it from its store.
   * It is a secret: never log it.
   *
   * Since: 0.1
   */
  properties[PROP_ACCESS_TOKEN]
      = g_param_spec_string ("access-token", NULL, NULL, NULL,
                             G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * BbClient:timeout:
   *
   * The request timeout in seconds (0 for none). It bounds the whole exchange of each
   * request, from connecting to the last byte of the answer, as the reference
   * client's HTTP timeout does: a server that trickles its answer cannot hold a call
   * longer. A request that runs out of time fails with %G_IO_ERROR_TIMED_OUT. A change
   * applies to requests started afterwards. The default, %BB_CLIENT_DEFAULT_TIMEOUT,
   * outlasts the server's long poll.
   *
   * Since: 0.1
   */
  properties[PROP_TIMEOUT]
      = g_param_spec_uint ("timeout", NULL, NULL, 0, G_MAXUINT, BB_CLIENT_DEFAULT_TIMEOUT,
                           G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
bb_client_init (BbClient *self)
{
  self->timeout = BB_CLIENT_DEFAULT_TIMEOUT;
  /* A user agent ending in a space gets libsoup's own appended. No libsoup I/O
   * timeout: each request's deadline bounds the whole exchange instead. */
  self->session
      = soup_session_new_with_options ("user-agent", "bbsync/" PACKAGE_VERSION " ", "timeout", 0,
                                       "max-conns-per-host", BB_CLIENT_MAX_CONNECTIONS, NULL);
  /* No content coding: the protocol needs none, and a decoder would turn a small
   * answer into an unbounded one. Without it, no Accept-Encoding is sent. */
  soup_session_remove_feature_by_type (self->session, SOUP_TYPE_CONTENT_DECODER);
}

static gboolean
host_is_loopback (const char *host)
{
  g_autoptr (GInetAddress) address = NULL;
  g_autofree char *unbracketed = NULL;

  if (g_ascii_strcasecmp (host, "localhost") == 0)
    return TRUE;
  if (host[0] == '[')
    {
      gsize len = strlen (host);

      if (len < 2 || host[len - 1] != ']')
        return FALSE;
      unbracketed = g_strndup (host + 1, len - 2);
      host = unbracketed;
    }
  address = g_inet_address_new_from_string (host);
  return address != NULL && g_inet_address_get_is_loopback (address);
}

/**
 * bb_client_new:
 * @base_url: the server's base URL, for example `https://sync.example.org`
 * @error: return location for a #GError
 *
 * Creates a client for the server at @base_url.
 *
 * The URL must be `https` (checked against the system trust store through
 * glib-networking). Plain `http` is accepted only for a loopback host (`localhost`,
 * `127.0.0.0/8`, `::1`), for development against a local server. Trailing slashes are
 * removed; a path prefix is kept.
 *
 * Returns: (transfer full): a new #BbClient, or %NULL with %BB_SYNC_ERROR_INVALID_INPUT
 *
 * Since: 0.1
 */
BbClient *
bb_client_new (const char *base_url, GError **error)
{
  g_autoptr (GUri) uri = NULL;
  g_autoptr (GError) local_error = NULL;
  const char *scheme;
  const char *host;

  g_return_val_if_fail (base_url != NULL, NULL);

  uri = g_uri_parse (base_url, G_URI_FLAGS_NONE, &local_error);
  if (uri == NULL)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("base_url: “%s” is not a valid URL: %s"), base_url, local_error->message);
      return NULL;
    }

  scheme = g_uri_get_scheme (uri);
  host = g_uri_get_host (uri);
  if (host == NULL || host[0] == '\0')
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("base_url: “%s” has no host"), base_url);
      return NULL;
    }
  if (g_uri_get_userinfo (uri) != NULL || g_uri_get_query (uri) != NULL
      || g_uri_get_fragment (uri) != NULL)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("base_url: “%s” must not carry user information, a query or a fragment"),
                   base_url);
      return NULL;
    }
  if (g_ascii_strcasecmp (scheme, "https") != 0)
    {
      if (g_ascii_strcasecmp (scheme, "http") != 0)
        {
          g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                       _ ("base_url: the scheme must be https, not “%s”"), scheme);
          return NULL;
        }
      if (!host_is_loopback (host))
        {
          g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                       _ ("base_url: “%s”: plain http is only allowed for a loopback host, "
                          "for development, and “%s” is not one; use https"),
                       base_url, host);
          return NULL;
        }
    }

  return g_object_new (BB_TYPE_CLIENT, "base-url", base_url, NULL);
}

/* Whether the server is on this machine (its reachability does not depend on the
 * network: background sync ignores the network monitor for it). */
gboolean
bb_client_is_loopback (BbClient *self)
{
  g_autoptr (GUri) uri = g_uri_parse (self->base_url, G_URI_FLAGS_NONE, NULL);

  return uri != NULL && g_uri_get_host (uri) != NULL && host_is_loopback (g_uri_get_host (uri));
}

/**
 * bb_client_get_base_url:
 * @self: a #BbClient
 *
 * Returns: the base URL, without trailing slashes
 *
 * Since: 0.1
 */
const char *
bb_client_get_base_url (BbClient *self)
{
  g_return_val_if_fail (BB_IS_CLIENT (self), NULL);

  return self->base_url;
}

/**
 * bb_client_dup_access_token:
 * @self: a #BbClient
 *
 * Returns: (transfer full) (nullable): a copy of the bearer token, or %NULL
 *
 * Since: 0.1
 */
char *
bb_client_dup_access_token (BbClient *self)
{
  g_return_val_if_fail (BB_IS_CLIENT (self), NULL);

  return g_strdup (self->access_token);
}

/**
 * bb_client_set_access_token:
 * @self: a #BbClient
 * @access_token: (nullable): the bearer token, or %NULL to send none
 *
 * Sets the bearer token sent with authenticated requests.
 *
 * The token must be an RFC 6750 `b64token` (ASCII letters, digits, `-`, `.`, `_`,
 * `~`, `+` and `/`, then optional `=`s) of at most 4096 characters, as every token a
 * login or refresh answer stores is. Anything else is a programmer error: it is
 * reported with a critical warning and the client fails closed, clearing the token
 * rather than keeping the previous one or sending a malformed header.
 *
 * Since: 0.1
 */
void
bb_client_set_access_token (BbClient *self, const char *access_token)
{
  g_return_if_fail (BB_IS_CLIENT (self));

  if (access_token != NULL && access_token[0] == '\0')
    access_token = NULL;
  if (access_token != NULL && !access_token_is_valid (access_token))
    {
      /* Reported like a failed g_return_if_fail() (which never quotes the token), but
       * the old token does not survive. */
      g_return_if_fail_warning (G_LOG_DOMAIN, G_STRFUNC, "access_token is an RFC 6750 b64token");
      access_token = NULL;
    }
  if (g_strcmp0 (self->access_token, access_token) == 0)
    return;
  if (self->access_token != NULL)
    wipe_and_free_string (g_steal_pointer (&self->access_token));
  self->access_token = g_strdup (access_token);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ACCESS_TOKEN]);
}

/**
 * bb_client_get_timeout:
 * @self: a #BbClient
 *
 * Returns: the request timeout in seconds
 *
 * Since: 0.1
 */
guint
bb_client_get_timeout (BbClient *self)
{
  g_return_val_if_fail (BB_IS_CLIENT (self), 0);

  return self->timeout;
}

/**
 * bb_client_set_timeout:
 * @self: a #BbClient
 * @timeout: the timeout in seconds, 0 for none
 *
 * Sets how long a request may take, from connecting to the last byte of the answer,
 * before failing with %G_IO_ERROR_TIMED_OUT. Requests already under way keep the
 * timeout they started with. Keep it above the server's long-poll time.
 *
 * Since: 0.1
 */
void
bb_client_set_timeout (BbClient *self, guint timeout)
{
  g_return_if_fail (BB_IS_CLIENT (self));

  if (self->timeout == timeout)
    return;
  self->timeout = timeout;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TIMEOUT]);
}

/* ------------------------------------------------------------------------------------ */
/* Authentication                                                                        */

static gpointer
handle_challenge (const Expect *expect, const char *body, gsize len, GError **error)
{
  BbMsgChallengeResponse msg = { 0 };
  BbChallenge *challenge = NULL;
  g_autoptr (GBytes) bytes = NULL;

  if (!bb_msg_challenge_response_parse (&msg, body, len, error))
    return NULL;
  bytes = decode_base64_field (msg.challenge, BB_PROTOCOL_CHALLENGE_SIZE, "challenge", error);
  if (bytes != NULL)
    {
      challenge = bb_challenge_new ();
      challenge->challenge = g_steal_pointer (&msg.challenge);
      challenge->bytes = g_steal_pointer (&bytes);
      challenge->expires_at = g_steal_pointer (&msg.expires_at);
      challenge->spam_control_kind = g_steal_pointer (&msg.spam_control_kind);
    }
  bb_msg_challenge_response_clear (&msg);
  return challenge;
}

/**
 * bb_client_request_challenge_async:
 * @self: a #BbClient
 * @purpose: `login`, `refresh` or `sensitive-action`
 * @action: (nullable): for a sensitive action: `revoke-all-tokens` or
 *   `create-namespace-invite`
 * @action_fields_hash: (nullable): for a sensitive action: the lower-case hex SHA-256
 *   of its action fields
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the request completes
 * @user_data: data for @callback
 *
 * Asks for a fresh challenge (`POST /v1/auth/challenge`, no bearer token).
 *
 * Since: 0.1
 */
void
bb_client_request_challenge_async (BbClient *self, const char *purpose, const char *action,
                                   const char *action_fields_hash, GCancellable *cancellable,
                                   GAsyncReadyCallback callback, gpointer user_data)
{
  BbMsgChallengeRequest msg = { 0 };
  GError *error = NULL;
  Request *req;

  g_return_if_fail (BB_IS_CLIENT (self));
  g_return_if_fail (purpose != NULL);

  if (action_fields_hash != NULL)
    check_id_arg (action_fields_hash, 32, "actionFieldsHash", &error);
  if (report_bad_arguments (self, bb_client_request_challenge_async, callback, user_data, error))
    return;

  msg.purpose = (char *)purpose;
  msg.kind = (char *)BB_PROTOCOL_KIND_KEYSTORE;
  msg.action = (char *)action;
  msg.action_fields_hash = (char *)action_fields_hash;

  req = request_new ("POST", "/v1/auth/challenge", g_strdup ("/v1/auth/challenge"), FALSE,
                     handle_challenge, (GDestroyNotify)bb_challenge_unref);
  request_take_body (req, bb_msg_challenge_request_to_json (&msg));
  request_send (self, req, bb_client_request_challenge_async, cancellable, callback, user_data);
}

/**
 * bb_client_request_challenge_finish:
 * @self: a #BbClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the challenge, or %NULL on error
 *
 * Since: 0.1
 */
BbChallenge *
bb_client_request_challenge_finish (BbClient *self, GAsyncResult *result, GError **error)
{
  return request_finish (self, result, bb_client_request_challenge_async, G_STRFUNC, error);
}

static gpointer
handle_login (const Expect *expect, const char *body, gsize len, GError **error)
{
  BbMsgLoginResponse msg = { 0 };
  BbLoginResult *login = NULL;

  if (!bb_msg_login_response_parse (&msg, body, len, error))
    return NULL;
  if (check_equal ("kind", "kind", msg.kind, expect->kind, error)
      && check_access_token (msg.access_token, error)
      && (msg.default_namespace_id == NULL
          || validate_lower_hex_field (msg.default_namespace_id, BB_PROTOCOL_NAMESPACE_ID_SIZE,
                                       "defaultNamespaceId", error)))
    {
      login = bb_login_result_new ();
      login->kind = g_steal_pointer (&msg.kind);
      login->access_token = g_steal_pointer (&msg.access_token);
      login->expires_at = g_steal_pointer (&msg.expires_at);
      login->default_namespace_id = g_steal_pointer (&msg.default_namespace_id);
    }
  if (msg.access_token != NULL)
    bb_crypto_wipe (msg.access_token, strlen (msg.access_token));
  bb_msg_login_response_clear (&msg);
  return login;
}

/* The client-state half of login and refresh, on the caller's context. */
static void
apply_new_token (BbClient *self, gpointer value)
{
  BbLoginResult *login = value;

  bb_client_set_access_token (self, login->access_token);
}

static char *
hex_or_null (GBytes *bytes)
{
  return bytes != NULL ? bb_protocol_hex_encode (bytes) : NULL;
}

/**
 * bb_client_login_async:
 * @self: a #BbClient
 * @kind: the identity kind, `keystore`
 * @key_id: the key ID (lower-case hex)
 * @auth_public_key: the 32-byte Ed25519 public key
 * @wrap_public_key: the 32-byte X25519 public key
 * @challenge: a `login` challenge
 * @intent_signature: the 64-byte signature of the login intent
 * @attestation: (nullable): the attestation, when the challenge asks for one
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the request completes
 * @user_data: data for @callback
 *
 * Logs in (`POST /v1/auth/login`). On success the new token becomes
 * [property@Client:access-token]. See [method@Client.login_with_identity_async] for
 * the whole exchange in one call.
 *
 * Since: 0.1
 */
void
bb_client_login_async (BbClient *self, const char *kind, const char *key_id,
                       GBytes *auth_public_key, GBytes *wrap_public_key, BbChallenge *challenge,
                       GBytes *intent_signature, GBytes *attestation, GCancellable *cancellable,
                       GAsyncReadyCallback callback, gpointer user_data)
{
  BbMsgLoginRequest msg = { 0 };
  g_autofree char *auth_hex = NULL;
  g_autofree char *wrap_hex = NULL;
  g_autofree char *signature_hex = NULL;
  g_autofree char *attestation_b64 = NULL;
  GError *error = NULL;
  Request *req;

  g_return_if_fail (BB_IS_CLIENT (self));
  g_return_if_fail (kind != NULL);
  g_return_if_fail (challenge != NULL);

  check_id_arg (key_id, BB_PROTOCOL_KEY_ID_SIZE, "keyId", &error);
  check_key_arg (auth_public_key, "authPublicKey", &error);
  check_key_arg (wrap_public_key, "wrapPublicKey", &error);
  check_signature_arg (intent_signature, &error);
  if (report_bad_arguments (self, bb_client_login_async, callback, user_data, error))
    return;

  auth_hex = hex_or_null (auth_public_key);
  wrap_hex = hex_or_null (wrap_public_key);
  signature_hex = hex_or_null (intent_signature);
  attestation_b64 = attestation != NULL ? bb_protocol_base64_encode (attestation) : NULL;
  msg.kind = (char *)kind;
  msg.key_id = (char *)key_id;
  msg.auth_public_key = auth_hex;
  msg.wrap_public_key = wrap_hex;
  msg.challenge = challenge->challenge;
  msg.intent_signature = signature_hex;
  msg.attestation = attestation_b64;

  req = request_new ("POST", "/v1/auth/login", g_strdup ("/v1/auth/login"), FALSE, handle_login,
                     (GDestroyNotify)bb_login_result_unref);
  req->apply = apply_new_token;
  req->expect.kind = g_strdup (kind);
  request_take_body (req, bb_msg_login_request_to_json (&msg));
  request_send (self, req, bb_client_login_async, cancellable, callback, user_data);
}

/**
 * bb_client_login_finish:
 * @self: a #BbClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the token, its expiry and the default namespace, or %NULL
 *   on error
 *
 * Since: 0.1
 */
BbLoginResult *
bb_client_login_finish (BbClient *self, GAsyncResult *result, GError **error)
{
  return request_finish (self, result, bb_client_login_async, G_STRFUNC, error);
}

static gpointer
handle_refresh (const Expect *expect, const char *body, gsize len, GError **error)
{
  BbMsgRefreshResponse msg = { 0 };
  BbLoginResult *login = NULL;

  if (!bb_msg_refresh_response_parse (&msg, body, len, error))
    return NULL;
  if (check_equal ("kind", "kind", msg.kind, expect->kind, error)
      && check_access_token (msg.access_token, error))
    {
      login = bb_login_result_new ();
      login->kind = g_steal_pointer (&msg.kind);
      login->access_token = g_steal_pointer (&msg.access_token);
      login->expires_at = g_steal_pointer (&msg.expires_at);
    }
  if (msg.access_token != NULL)
    bb_crypto_wipe (msg.access_token, strlen (msg.access_token));
  bb_msg_refresh_response_clear (&msg);
  return login;
}

/**
 * bb_client_refresh_async:
 * @self: a #BbClient
 * @kind: the identity kind, `keystore`
 * @key_id: the key ID (lower-case hex)
 * @challenge: a `refresh` challenge
 * @intent_signature: the 64-byte signature of the refresh intent
 * @attestation: (nullable): the attestation, when the challenge asks for one
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the request completes
 * @user_data: data for @callback
 *
 * Exchanges the current token for a fresh one (`POST /v1/auth/refresh`). On success
 * the new token becomes [property@Client:access-token].
 *
 * Since: 0.1
 */
void
bb_client_refresh_async (BbClient *self, const char *kind, const char *key_id,
                         BbChallenge *challenge, GBytes *intent_signature, GBytes *attestation,
                         GCancellable *cancellable, GAsyncReadyCallback callback,
                         gpointer user_data)
{
  BbMsgRefreshRequest msg = { 0 };
  g_autofree char *signature_hex = NULL;
  g_autofree char *attestation_b64 = NULL;
  GError *error = NULL;
  Request *req;

  g_return_if_fail (BB_IS_CLIENT (self));
  g_return_if_fail (kind != NULL);
  g_return_if_fail (challenge != NULL);

  check_id_arg (key_id, BB_PROTOCOL_KEY_ID_SIZE, "keyId", &error);
  check_signature_arg (intent_signature, &error);
  if (report_bad_arguments (self, bb_client_refresh_async, callback, user_data, error))
    return;

  signature_hex = hex_or_null (intent_signature);
  attestation_b64 = attestation != NULL ? bb_protocol_base64_encode (attestation) : NULL;
  msg.kind = (char *)kind;
  msg.key_id = (char *)key_id;
  msg.challenge = challenge->challenge;
  msg.intent_signature = signature_hex;
  msg.attestation = attestation_b64;

  req = request_new ("POST", "/v1/auth/refresh", g_strdup ("/v1/auth/refresh"), TRUE,
                     handle_refresh, (GDestroyNotify)bb_login_result_unref);
  req->apply = apply_new_token;
  req->expect.kind = g_strdup (kind);
  request_take_body (req, bb_msg_refresh_request_to_json (&msg));
  request_send (self, req, bb_client_refresh_async, cancellable, callback, user_data);
}

/**
 * bb_client_refresh_finish:
 * @self: a #BbClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the new token and its expiry (no default namespace), or
 *   %NULL on error
 *
 * Since: 0.1
 */
BbLoginResult *
bb_client_refresh_finish (BbClient *self, GAsyncResult *result, GError **error)
{
  return request_finish (self, result, bb_client_refresh_async, G_STRFUNC, error);
}

static gpointer
handle_revoke_all (const Expect *expect, const char *body, gsize len, GError **error)
{
  /* Any 2xx will do; the body is ignored. */
  return GINT_TO_POINTER (TRUE);
}

static void
apply_revoke_all (BbClient *self, gpointer value)
{
  /* The token is now worthless. */
  bb_client_set_access_token (self, NULL);
}

/**
 * bb_client_revoke_all_tokens_async:
 * @self: a #BbClient
 * @kind: the identity kind, `keystore`
 * @key_id: the key ID (lower-case hex)
 * @challenge: a sensitive-action challenge for `revoke-all-tokens`
 * @intent_signature: the 64-byte signature of the revoke-all-tokens intent
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the request completes
 * @user_data: data for @callback
 *
 * Revokes every token of the identity, the current one included
 * (`DELETE /v1/auth/tokens`). On success [property@Client:access-token] is cleared.
 *
 * Since: 0.1
 */
void
bb_client_revoke_all_tokens_async (BbClient *self, const char *kind, const char *key_id,
                                   BbChallenge *challenge, GBytes *intent_signature,
                                   GCancellable *cancellable, GAsyncReadyCallback callback,
                                   gpointer user_data)
{
  BbMsgRevokeTokensRequest msg = { 0 };
  g_autofree char *signature_hex = NULL;
  GError *error = NULL;
  Request *req;

  g_return_if_fail (BB_IS_CLIENT (self));
  g_return_if_fail (kind != NULL);
  g_return_if_fail (challenge != NULL);

  check_id_arg (key_id, BB_PROTOCOL_KEY_ID_SIZE, "keyId", &error);
  check_signature_arg (intent_signature, &error);
  if (report_bad_arguments (self, bb_client_revoke_all_tokens_async, callback, user_data, error))
    return;

  signature_hex = hex_or_null (intent_signature);
  msg.kind = (char *)kind;
  msg.key_id = (char *)key_id;
  msg.challenge = challenge->challenge;
  msg.intent_signature = signature_hex;

  req = request_new ("DELETE", "/v1/auth/tokens", g_strdup ("/v1/auth/tokens"), TRUE,
                     handle_revoke_all, NULL);
  req->apply = apply_revoke_all;
  request_take_body (req, bb_msg_revoke_tokens_request_to_json (&msg));
  request_send (self, req, bb_client_revoke_all_tokens_async, cancellable, callback, user_data);
}

/**
 * bb_client_revoke_all_tokens_finish:
 * @self: a #BbClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: %TRUE if the server revoked the tokens
 *
 * Since: 0.1
 */
gboolean
bb_client_revoke_all_tokens_finish (BbClient *self, GAsyncResult *result, GError **error)
{
  return request_finish (self, result, bb_client_revoke_all_tokens_async, G_STRFUNC, error) != NULL;
}

/* ------------------------------------------------------------------------------------ */
/* Authentication with an identity                                                       */

typedef enum
{
  FLOW_LOGIN,
  FLOW_REFRESH,
  FLOW_REVOKE_ALL,
  FLOW_CREATE_INVITE,
} FlowKind;

typedef struct
{
  FlowKind kind;
  BbIdentity *identity;
  char *identity_kind;
  char *key_id;
  GBytes *auth_public_key;
  GBytes *wrap_public_key;
  BbChallenge *challenge;
  GBytes *signature;
  GBytes *attestation;
  /* create invite */
  BbInvite *invite;
  GBytes *server_secret_hash;
  guint max_pending;
  guint max_accepted;
} Flow;

static void
flow_free (Flow *flow)
{
  g_clear_object (&flow->identity);
  g_free (flow->identity_kind);
  g_free (flow->key_id);
  g_clear_pointer (&flow->auth_public_key, g_bytes_unref);
  g_clear_pointer (&flow->wrap_public_key, g_bytes_unref);
  g_clear_pointer (&flow->challenge, bb_challenge_unref);
  g_clear_pointer (&flow->signature, g_bytes_unref);
  g_clear_pointer (&flow->attestation, g_bytes_unref);
  g_clear_pointer (&flow->invite, bb_invite_unref);
  g_clear_pointer (&flow->server_secret_hash, g_bytes_unref);
  g_free (flow);
}

static void flow_challenge_cb (GObject *source, GAsyncResult *result, gpointer user_data);
static void flow_signed_cb (GObject *source, GAsyncResult *result, gpointer user_data);
static void flow_attested_cb (GObject *source, GAsyncResult *result, gpointer user_data);
static void flow_sent_cb (GObject *source, GAsyncResult *result, gpointer user_data);

/* Starts a flow: reads the identity's public material, then asks for the challenge. */
static void
flow_start (BbClient *self, Flow *flow, gpointer source_tag, const char *purpose,
            const char *action, const char *action_fields_hash, GCancellable *cancellable,
            GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, flow, (GDestroyNotify)flow_free);

  flow->identity_kind = bb_identity_get_kind (flow->identity);
  flow->key_id = bb_identity_get_key_id (flow->identity);
  flow->auth_public_key = bb_identity_get_auth_public_key (flow->identity);
  flow->wrap_public_key = bb_identity_get_wrap_public_key (flow->identity);
  if (flow->identity_kind == NULL || flow->key_id == NULL || flow->auth_public_key == NULL
      || flow->wrap_public_key == NULL)
    {
      g_task_return_new_error (task, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                               _ ("identity: kind, key ID and public keys are required"));
      return;
    }

  bb_client_request_challenge_async (self, purpose, action, action_fields_hash, cancellable,
                                     flow_challenge_cb, g_steal_pointer (&task));
}

static void
flow_challenge_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  Flow *flow = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  GError *error = NULL;
  GBytes *bytes;

  flow->challenge = bb_client_request_challenge_finish (BB_CLIENT (source), result, &error);
  if (flow->challenge == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  bytes = flow->challenge->bytes;

  /* Sensitive actions cannot carry an attestation, so any spam control but none is a
   * dead end (the reference client refuses it too). */
  if ((flow->kind == FLOW_REVOKE_ALL || flow->kind == FLOW_CREATE_INVITE)
      && g_strcmp0 (flow->challenge->spam_control_kind, BB_PROTOCOL_SPAM_CONTROL_NONE) != 0)
    {
      g_task_return_new_error (
          task, BB_SYNC_ERROR, BB_SYNC_ERROR_UNSUPPORTED,
          _ ("spamControl: unsupported spam control kind “%s” for a sensitive action"),
          flow->challenge->spam_control_kind);
      return;
    }

  switch (flow->kind)
    {
      case FLOW_LOGIN:
        bb_identity_sign_login_async (flow->identity, bytes, cancellable, flow_signed_cb,
                                      g_steal_pointer (&task));
        break;
      case FLOW_REFRESH:
        bb_identity_sign_refresh_async (flow->identity, bytes, cancellable, flow_signed_cb,
                                        g_steal_pointer (&task));
        break;
      case FLOW_REVOKE_ALL:
        bb_identity_sign_revoke_all_tokens_async (flow->identity, bytes, cancellable,
                                                  flow_signed_cb, g_steal_pointer (&task));
        break;
      case FLOW_CREATE_INVITE:
        bb_identity_sign_create_invite_async (
            flow->identity, bytes, bb_invite_get_namespace_id (flow->invite),
            bb_invite_get_invite_id (flow->invite), flow->server_secret_hash,
            bb_invite_get_expires_at (flow->invite), flow->max_pending, flow->max_accepted,
            cancellable, flow_signed_cb, g_steal_pointer (&task));
        break;
      default:
        g_assert_not_reached ();
    }
}

static GBytes *
flow_sign_finish (Flow *flow, GAsyncResult *result, GError **error)
{
  switch (flow->kind)
    {
      case FLOW_LOGIN:
        return bb_identity_sign_login_finish (flow->identity, result, error);
      case FLOW_REFRESH:
        return bb_identity_sign_refresh_finish (flow->identity, result, error);
      case FLOW_REVOKE_ALL:
        return bb_identity_sign_revoke_all_tokens_finish (flow->identity, result, error);
      case FLOW_CREATE_INVITE:
        return bb_identity_sign_create_invite_finish (flow->identity, result, error);
      default:
        g_assert_not_reached ();
    }
  return NULL;
}

static void
flow_send (GTask *task)
{
  BbClient *self = g_task_get_source_object (task);
  Flow *flow = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);

  switch (flow->kind)
    {
      case FLOW_LOGIN:
        bb_client_login_async (self, flow->identity_kind, flow->key_id, flow->auth_public_key,
                               flow->wrap_public_key, flow->challenge, flow->signature,
                               flow->attestation, cancellable, flow_sent_cb, task);
        break;
      case FLOW_REFRESH:
        bb_client_refresh_async (self, flow->identity_kind, flow->key_id, flow->challenge,
                                 flow->signature, flow->attestation, cancellable, flow_sent_cb,
                                 task);
        break;
      case FLOW_REVOKE_ALL:
        bb_client_revoke_all_tokens_async (self, flow->identity_kind, flow->key_id, flow->challenge,
                                           flow->signature, cancellable, flow_sent_cb, task);
        break;
      case FLOW_CREATE_INVITE:
        bb_client_create_invite_async (
            self, bb_invite_get_namespace_id (flow->invite), flow->identity_kind, flow->key_id,
            bb_invite_get_invite_id (flow->invite), flow->server_secret_hash, flow->challenge,
            flow->signature, bb_invite_get_expires_at (flow->invite), flow->max_pending,
            flow->max_accepted, cancellable, flow_sent_cb, task);
        break;
      default:
        g_assert_not_reached ();
    }
}

static void
flow_signed_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  Flow *flow = g_task_get_task_data (task);
  GError *error = NULL;

  flow->signature = flow_sign_finish (flow, result, &error);
  if (flow->signature == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  /* Login and refresh attach an attestation only when the server asks for one; any
   * other kind, even an unknown one, means none. */
  if ((flow->kind == FLOW_LOGIN || flow->kind == FLOW_REFRESH)
      && g_strcmp0 (flow->challenge->spam_control_kind, BB_PROTOCOL_SPAM_CONTROL_ATTEST) == 0)
    {
      bb_identity_attest_async (flow->identity, flow->challenge->bytes,
                                g_task_get_cancellable (task), flow_attested_cb,
                                g_steal_pointer (&task));
      return;
    }
  flow_send (g_steal_pointer (&task));
}

static void
flow_attested_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  Flow *flow = g_task_get_task_data (task);
  GError *error = NULL;

  flow->attestation = bb_identity_attest_finish (flow->identity, result, &error);
  if (flow->attestation == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  flow_send (g_steal_pointer (&task));
}

static void
flow_sent_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  Flow *flow = g_task_get_task_data (task);
  BbClient *self = BB_CLIENT (source);
  GError *error = NULL;
  gpointer value = NULL;
  GDestroyNotify free_func = NULL;

  switch (flow->kind)
    {
      case FLOW_LOGIN:
        value = bb_client_login_finish (self, result, &error);
        free_func = (GDestroyNotify)bb_login_result_unref;
        break;
      case FLOW_REFRESH:
        value = bb_client_refresh_finish (self, result, &error);
        free_func = (GDestroyNotify)bb_login_result_unref;
        break;
      case FLOW_REVOKE_ALL:
        value = bb_client_revoke_all_tokens_finish (self, result, &error) ? GINT_TO_POINTER (TRUE)
                                                                          : NULL;
        break;
      case FLOW_CREATE_INVITE:
        value = bb_client_create_invite_finish (self, result, &error);
        free_func = (GDestroyNotify)bb_invite_info_unref;
        break;
      default:
        g_assert_not_reached ();
    }
  if (value == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, value, free_func);
}

/**
 * bb_client_login_with_identity_async:
 * @self: a #BbClient
 * @identity: the identity to log in with
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the login completes
 * @user_data: data for @callback
 *
 * Logs in with @identity in one call: asks for a `login` challenge, has the identity
 * sign the login intent (and attest, if the server asks for it), and logs in. On
 * success the new token becomes [property@Client:access-token].
 *
 * Since: 0.1
 */
void
bb_client_login_with_identity_async (BbClient *self, BbIdentity *identity,
                                     GCancellable *cancellable, GAsyncReadyCallback callback,
                                     gpointer user_data)
{
  Flow *flow;

  g_return_if_fail (BB_IS_CLIENT (self));
  g_return_if_fail (BB_IS_IDENTITY (identity));

  flow = g_new0 (Flow, 1);
  flow->kind = FLOW_LOGIN;
  flow->identity = g_object_ref (identity);
  flow_start (self, flow, bb_client_login_with_identity_async, BB_PROTOCOL_PURPOSE_LOGIN, NULL,
              NULL, cancellable, callback, user_data);
}

/**
 * bb_client_login_with_identity_finish:
 * @self: a #BbClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the token, its expiry and the default namespace, or %NULL
 *   on error
 *
 * Since: 0.1
 */
BbLoginResult *
bb_client_login_with_identity_finish (BbClient *self, GAsyncResult *result, GError **error)
{
  return request_finish (self, result, bb_client_login_with_identity_async, G_STRFUNC, error);
}

/**
 * bb_client_refresh_with_identity_async:
 * @self: a #BbClient
 * @identity: the identity the current token belongs to
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the refresh completes
 * @user_data: data for @callback
 *
 * Refreshes the current token with @identity in one call (challenge, signature,
 * attestation if asked for, refresh).
 *
 * Since: 0.1
 */
void
bb_client_refresh_with_identity_async (BbClient *self, BbIdentity *identity,
                                       GCancellable *cancellable, GAsyncReadyCallback callback,
                                       gpointer user_data)
{
  Flow *flow;

  g_return_if_fail (BB_IS_CLIENT (self));
  g_return_if_fail (BB_IS_IDENTITY (identity));

  flow = g_new0 (Flow, 1);
  flow->kind = FLOW_REFRESH;
  flow->identity = g_object_ref (identity);
  flow_start (self, flow, bb_client_refresh_with_identity_async, BB_PROTOCOL_PURPOSE_REFRESH, NULL,
              NULL, cancellable, callback, user_data);
}

/**
 * bb_client_refresh_with_identity_finish:
 * @self: a #BbClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the new token and its expiry, or %NULL on error
 *
 * Since: 0.1
 */
BbLoginResult *
bb_client_refresh_with_identity_finish (BbClient *self, GAsyncResult *result, GError **error)
{
  return request_finish (self, result, bb_client_refresh_with_identity_async, G_STRFUNC, error);
}

/**
 * bb_client_revoke_all_tokens_with_identity_async:
 * @self: a #BbClient
 * @identity: the identity whose tokens to revoke
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the revocation completes
 * @user_data: data for @callback
 *
 * Revokes every token of @identity in one call: a sensitive-action challenge for
 * `revoke-all-tokens`, the identity's signature, and the revocation.
 *
 * Since: 0.1
 */
void
bb_client_revoke_all_tokens_with_identity_async (BbClient *self, BbIdentity *identity,
                                                 GCancellable *cancellable,
                                                 GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GBytes) no_fields = g_bytes_new (NULL, 0);
  g_autofree char *fields_hash = bb_protocol_action_fields_hash (no_fields);
  Flow *flow;

  g_return_if_fail (BB_IS_CLIENT (self));
  g_return_if_fail (BB_IS_IDENTITY (identity));

  flow = g_new0 (Flow, 1);
  flow->kind = FLOW_REVOKE_ALL;
  flow->identity = g_object_ref (identity);
  flow_start (self, flow, bb_client_revoke_all_tokens_with_identity_async,
              BB_PROTOCOL_PURPOSE_SENSITIVE, BB_PROTOCOL_ACTION_REVOKE_ALL, fields_hash,
              cancellable, callback, user_data);
}

/**
 * bb_client_revoke_all_tokens_with_identity_finish:
 * @self: a #BbClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: %TRUE if the server revoked the tokens
 *
 * Since: 0.1
 */
gboolean
bb_client_revoke_all_tokens_with_identity_finish (BbClient *self, GAsyncResult *result,
                                                  GError **error)
{
  return request_finish (self, result, bb_client_revoke_all_tokens_with_identity_async, G_STRFUNC,
                         error)
         != NULL;
}

/**
 * bb_client_create_invite_with_identity_async:
 * @self: a #BbClient
 * @identity: the identity of a member of the invite's namespace
 * @invite: the invite to register (its namespace, ID, expiry and secret)
 * @max_pending: the pending-request limit (1 to 20), or 0 to send the variant without
 *   one, which the BitBox02 firmware signs
 * @max_accepted: how many requests the invite may admit (1 to 10)
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the invite is registered
 * @user_data: data for @callback
 *
 * Registers @invite with the server in one call: derives the invite server secret
 * hash, asks for a sensitive-action challenge bound to the action fields, has the
 * identity sign the intent, and creates the invite. The invite secret never leaves
 * this process.
 *
 * Since: 0.1
 */
void
bb_client_create_invite_with_identity_async (BbClient *self, BbIdentity *identity, BbInvite *invite,
                                             guint max_pending, guint max_accepted,
                                             GCancellable *cancellable,
                                             GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GBytes) server_secret = NULL;
  g_autoptr (GBytes) fields = NULL;
  g_autofree char *fields_hash = NULL;
  GError *error = NULL;
  Flow *flow;

  g_return_if_fail (BB_IS_CLIENT (self));
  g_return_if_fail (BB_IS_IDENTITY (identity));
  g_return_if_fail (invite != NULL);

  flow = g_new0 (Flow, 1);
  flow->kind = FLOW_CREATE_INVITE;
  flow->identity = g_object_ref (identity);
  flow->invite = bb_invite_ref (invite);
  flow->max_pending = max_pending;
  flow->max_accepted = max_accepted;

  server_secret = bb_protocol_invite_server_secret (bb_invite_get_secret (invite), &error);
  if (server_secret != NULL)
    flow->server_secret_hash = bb_protocol_invite_server_secret_hash (server_secret, &error);
  if (flow->server_secret_hash != NULL)
    fields = bb_protocol_create_invite_fields (
        bb_invite_get_namespace_id (invite), bb_invite_get_invite_id (invite),
        flow->server_secret_hash, bb_invite_get_expires_at (invite), max_pending, max_accepted,
        &error);
  if (report_bad_arguments (self, bb_client_create_invite_with_identity_async, callback, user_data,
                            error))
    {
      flow_free (flow);
      return;
    }
  fields_hash = bb_protocol_action_fields_hash (fields);
  flow_start (self, flow, bb_client_create_invite_with_identity_async,
              BB_PROTOCOL_PURPOSE_SENSITIVE, BB_PROTOCOL_ACTION_CREATE_INVITE, fields_hash,
              cancellable, callback, user_data);
}

/**
 * bb_client_create_invite_with_identity_finish:
 * @self: a #BbClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the invite as the server registered it, or %NULL on error
 *
 * Since: 0.1
 */
BbInviteInfo *
bb_client_create_invite_with_identity_finish (BbClient *self, GAsyncResult *result, GError **error)
{
  return request_finish (self, result, bb_client_create_invite_with_identity_async, G_STRFUNC,
                         error);
}

/* ------------------------------------------------------------------------------------ */
/* Namespaces                                                                            */

static gpointer
handle_default_namespace (const Expect *expect, const char *body, gsize len, GError **error)
{
  BbMsgDefaultNamespaceResponse msg = { 0 };
  BbNamespaceInfo *info = NULL;

  if (!bb_msg_default_namespace_response_parse (&msg, body, len, error))
    return NULL;
  if (validate_lower_hex_field (msg.namespace_id, BB_PROTOCOL_NAMESPACE_ID_SIZE, "namespaceId",
                                error)
      && check_equal ("kind", "kind", msg.kind, BB_PROTOCOL_NAMESPACE_KIND_DEFAULT, error))
    {
      info = bb_namespace_info_new ();
      info->namespace_id = g_steal_pointer (&msg.namespace_id);
      info->kind = g_steal_pointer (&msg.kind);
    }
  bb_msg_default_namespace_response_clear (&msg);
  return info;
}

/**
 * bb_client_get_default_namespace_async:
 * @self: a #BbClient
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the request completes
 * @user_data: data for @callback
 *
 * Asks for the caller's default namespace (`GET /v1/namespaces/default`). A server
 * answers 404 (%BB_SYNC_ERROR_API) when there is none yet.
 *
 * Since: 0.1
 */
void
bb_client_get_default_namespace_async (BbClient *self, GCancellable *cancellable,
                                       GAsyncReadyCallback callback, gpointer user_data)
{
  Request *req;

  g_return_if_fail (BB_IS_CLIENT (self));

  req = request_new ("GET", "/v1/namespaces/default", g_strdup ("/v1/namespaces/default"), TRUE,
                     handle_default_namespace, (GDestroyNotify)bb_namespace_info_unref);
  request_send (self, req, bb_client_get_default_namespace_async, cancellable, callback, user_data);
}

/**
 * bb_client_get_default_namespace_finish:
 * @self: a #BbClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the default namespace, or %NULL on error
 *
 * Since: 0.1
 */
BbNamespaceInfo *
bb_client_get_default_namespace_finish (BbClient *self, GAsyncResult *result, GError **error)
{
  return request_finish (self, result, bb_client_get_default_namespace_async, G_STRFUNC, error);
}

static gpointer
handle_ensure_default (const Expect *expect, const char *body, gsize len, GError **error)
{
  BbMsgEnsureDefaultResponse msg = { 0 };
  BbNamespaceInfo *info = NULL;
  g_autoptr (GBytes) wrapped_dek = NULL;

  if (!bb_msg_ensure_default_response_parse (&msg, body, len, error))
    return NULL;
  if (validate_lower_hex_field (msg.namespace_id, BB_PROTOCOL_NAMESPACE_ID_SIZE, "namespaceId",
                                error)
      && check_equal ("kind", "kind", msg.kind, BB_PROTOCOL_NAMESPACE_KIND_DEFAULT, error)
      && (!msg.created
          || check_equal ("namespaceId", "namespace", msg.namespace_id, expect->namespace_id,
                          error))
      && (wrapped_dek = decode_base64_field (msg.wrapped_dek, BB_PROTOCOL_WRAPPED_DEK_SIZE,
                                             "wrappedDek", error))
             != NULL)
    {
      info = bb_namespace_info_new ();
      info->namespace_id = g_steal_pointer (&msg.namespace_id);
      info->kind = g_steal_pointer (&msg.kind);
      info->wrapped_dek = g_steal_pointer (&wrapped_dek);
      info->created = msg.created;
    }
  bb_msg_ensure_default_response_clear (&msg);
  return info;
}

/**
 * bb_client_ensure_default_namespace_async:
 * @self: a #BbClient
 * @proposed_namespace_id: the ID to create the namespace under if there is none
 *   (lower-case hex of 16 bytes)
 * @wrapped_dek: the 97-byte DEK for a new namespace, wrapped to the caller
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the request completes
 * @user_data: data for @callback
 *
 * Creates the caller's default namespace, or returns the existing one
 * (`PUT /v1/namespaces/default`). When the result is not
 * [method@NamespaceInfo.get_created], unwrap its wrapped DEK: the proposed one was
 * not used.
 *
 * Since: 0.1
 */
void
bb_client_ensure_default_namespace_async (BbClient *self, const char *proposed_namespace_id,
                                          GBytes *wrapped_dek, GCancellable *cancellable,
                                          GAsyncReadyCallback callback, gpointer user_data)
{
  BbMsgEnsureDefaultRequest msg = { 0 };
  g_autofree char *wrapped_b64 = NULL;
  GError *error = NULL;
  Request *req;

  g_return_if_fail (BB_IS_CLIENT (self));
  g_return_if_fail (wrapped_dek != NULL);

  check_id_arg (proposed_namespace_id, BB_PROTOCOL_NAMESPACE_ID_SIZE, "proposedNamespaceId",
                &error);
  if (report_bad_arguments (self, bb_client_ensure_default_namespace_async, callback, user_data,
                            error))
    return;

  wrapped_b64 = bb_protocol_base64_encode (wrapped_dek);
  msg.proposed_namespace_id = (char *)proposed_namespace_id;
  msg.wrapped_dek = wrapped_b64;

  req = request_new ("PUT", "/v1/namespaces/default", g_strdup ("/v1/namespaces/default"), TRUE,
                     handle_ensure_default, (GDestroyNotify)bb_namespace_info_unref);
  req->expect.namespace_id = g_strdup (proposed_namespace_id);
  request_take_body (req, bb_msg_ensure_default_request_to_json (&msg));
  request_send (self, req, bb_client_ensure_default_namespace_async, cancellable, callback,
                user_data);
}

/**
 * bb_client_ensure_default_namespace_finish:
 * @self: a #BbClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the default namespace with the caller's wrapped DEK, or
 *   %NULL on error
 *
 * Since: 0.1
 */
BbNamespaceInfo *
bb_client_ensure_default_namespace_finish (BbClient *self, GAsyncResult *result, GError **error)
{
  return request_finish (self, result, bb_client_ensure_default_namespace_async, G_STRFUNC, error);
}

static gpointer
handle_mine (const Expect *expect, const char *body, gsize len, GError **error)
{
  BbMsgMineResponse msg = { 0 };
  GPtrArray *infos;

  if (!bb_msg_mine_response_parse (&msg, body, len, error))
    return NULL;
  infos = namespace_infos_from_summaries (msg.namespaces);
  bb_msg_mine_response_clear (&msg);
  return infos;
}

/**
 * bb_client_list_namespaces_async:
 * @self: a #BbClient
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the request completes
 * @user_data: data for @callback
 *
 * Lists every namespace the caller belongs to, with its head
 * (`GET /v1/namespaces/mine`).
 *
 * Since: 0.1
 */
void
bb_client_list_namespaces_async (BbClient *self, GCancellable *cancellable,
                                 GAsyncReadyCallback callback, gpointer user_data)
{
  Request *req;

  g_return_if_fail (BB_IS_CLIENT (self));

  req = request_new ("GET", "/v1/namespaces/mine", g_strdup ("/v1/namespaces/mine"), TRUE,
                     handle_mine, (GDestroyNotify)g_ptr_array_unref);
  request_send (self, req, bb_client_list_namespaces_async, cancellable, callback, user_data);
}

/**
 * bb_client_list_namespaces_finish:
 * @self: a #BbClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer container) (element-type BbNamespaceInfo): the namespaces, or
 *   %NULL on error; the array frees its elements, release it with g_ptr_array_unref()
 *
 * Since: 0.1
 */
GPtrArray *
bb_client_list_namespaces_finish (BbClient *self, GAsyncResult *result, GError **error)
{
  return request_finish (self, result, bb_client_list_namespaces_async, G_STRFUNC, error);
}

static gpointer
handle_watch (const Expect *expect, const char *body, gsize len, GError **error)
{
  BbMsgWatchResponse msg = { 0 };
  BbWatchResult *watch = NULL;

  if (!bb_msg_watch_response_parse (&msg, body, len, error))
    return NULL;
  if (!msg.timed_out && (msg.namespaces == NULL || msg.namespaces->len == 0))
    g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_PROTOCOL,
                 _ ("namespaces: the server reported no changes without timing out"));
  else
    {
      watch = bb_watch_result_new ();
      watch->namespaces = namespace_infos_from_summaries (msg.namespaces);
      watch->timed_out = msg.timed_out;
    }
  bb_msg_watch_response_clear (&msg);
  return watch;
}

/**
 * bb_client_watch_async:
 * @self: a #BbClient
 * @known_heads: (nullable): a `a{st}` dictionary from namespace ID to the head the
 *   caller has reconciled, or %NULL for none
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the long poll ends
 * @user_data: data for @callback
 *
 * Waits until one of the caller's namespaces differs from @known_heads, or until the
 * server's wait times out (`POST /v1/namespaces/watch`, a long poll). Cancelling
 * @cancellable ends the wait at once with %G_IO_ERROR_CANCELLED. A @known_heads of
 * another type, or with a key that is not a namespace ID, fails the call with
 * %BB_SYNC_ERROR_INVALID_INPUT.
 *
 * A server without watch support answers 404, 405 or 501 (%BB_SYNC_ERROR_API).
 *
 * Since: 0.1
 */
void
bb_client_watch_async (BbClient *self, GVariant *known_heads, GCancellable *cancellable,
                       GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GVariant) heads = NULL;
  BbMsgWatchRequest msg = { 0 };
  GVariantIter iter;
  const char *namespace_id;
  guint64 head;
  GError *error = NULL;
  Request *req;

  g_return_if_fail (BB_IS_CLIENT (self));

  /* A binding can pass a variant of any type. */
  if (known_heads != NULL)
    heads = g_variant_ref_sink (known_heads);
  if (heads != NULL && !g_variant_is_of_type (heads, G_VARIANT_TYPE ("a{st}")))
    g_set_error (&error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                 _ ("knownHeads: expected a dictionary of type a{st}, not %s"),
                 g_variant_get_type_string (heads));

  msg.known_heads = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  if (heads != NULL && error == NULL)
    {
      g_variant_iter_init (&iter, heads);
      while (error == NULL && g_variant_iter_next (&iter, "{&st}", &namespace_id, &head))
        {
          check_id_arg (namespace_id, BB_PROTOCOL_NAMESPACE_ID_SIZE, "knownHeads", &error);
          g_hash_table_replace (msg.known_heads, g_strdup (namespace_id),
                                g_memdup2 (&head, sizeof head));
        }
    }
  if (report_bad_arguments (self, bb_client_watch_async, callback, user_data, error))
    {
      g_hash_table_unref (msg.known_heads);
      return;
    }

  req = request_new ("POST", "/v1/namespaces/watch", g_strdup ("/v1/namespaces/watch"), TRUE,
                     handle_watch, (GDestroyNotify)bb_watch_result_unref);
  request_take_body (req, bb_msg_watch_request_to_json (&msg));
  g_hash_table_unref (msg.known_heads);
  request_send (self, req, bb_client_watch_async, cancellable, callback, user_data);
}

/**
 * bb_client_watch_finish:
 * @self: a #BbClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the changed namespaces, or %NULL on error
 *
 * Since: 0.1
 */
BbWatchResult *
bb_client_watch_finish (BbClient *self, GAsyncResult *result, GError **error)
{
  return request_finish (self, result, bb_client_watch_async, G_STRFUNC, error);
}

static gpointer
handle_create_namespace (const Expect *expect, const char *body, gsize len, GError **error)
{
  BbMsgCreateNamespaceResponse msg = { 0 };
  BbNamespaceInfo *info = NULL;

  if (!bb_msg_create_namespace_response_parse (&msg, body, len, error))
    return NULL;
  /* `created` is deliberately not checked: servers may leave it out on a repeat. */
  if (validate_lower_hex_field (msg.namespace_id, BB_PROTOCOL_NAMESPACE_ID_SIZE, "namespaceId",
                                error)
      && check_equal ("kind", "kind", msg.kind, BB_PROTOCOL_NAMESPACE_KIND_SHARED, error)
      && check_equal ("namespaceId", "namespace", msg.namespace_id, expect->namespace_id, error))
    {
      info = bb_namespace_info_new ();
      info->namespace_id = g_steal_pointer (&msg.namespace_id);
      info->kind = g_steal_pointer (&msg.kind);
      info->created = msg.created;
    }
  bb_msg_create_namespace_response_clear (&msg);
  return info;
}

/**
 * bb_client_create_namespace_async:
 * @self: a #BbClient
 * @namespace_id: the new namespace's ID (lower-case hex of 16 bytes)
 * @wrapped_dek: the 97-byte namespace DEK wrapped to the caller
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the request completes
 * @user_data: data for @callback
 *
 * Creates a shared namespace with the caller as its only member
 * (`POST /v1/namespaces`).
 *
 * Since: 0.1
 */
void
bb_client_create_namespace_async (BbClient *self, const char *namespace_id, GBytes *wrapped_dek,
                                  GCancellable *cancellable, GAsyncReadyCallback callback,
                                  gpointer user_data)
{
  BbMsgCreateNamespaceRequest msg = { 0 };
  g_autofree char *wrapped_b64 = NULL;
  GError *error = NULL;
  Request *req;

  g_return_if_fail (BB_IS_CLIENT (self));
  g_return_if_fail (wrapped_dek != NULL);

  check_id_arg (namespace_id, BB_PROTOCOL_NAMESPACE_ID_SIZE, "namespaceId", &error);
  if (report_bad_arguments (self, bb_client_create_namespace_async, callback, user_data, error))
    return;

  wrapped_b64 = bb_protocol_base64_encode (wrapped_dek);
  msg.namespace_id = (char *)namespace_id;
  msg.wrapped_dek = wrapped_b64;

  req = request_new ("POST", "/v1/namespaces", g_strdup ("/v1/namespaces"), TRUE,
                     handle_create_namespace, (GDestroyNotify)bb_namespace_info_unref);
  req->expect.namespace_id = g_strdup (namespace_id);
  request_take_body (req, bb_msg_create_namespace_request_to_json (&msg));
  request_send (self, req, bb_client_create_namespace_async, cancellable, callback, user_data);
}

/**
 * bb_client_create_namespace_finish:
 * @self: a #BbClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the new namespace, or %NULL on error
 *
 * Since: 0.1
 */
BbNamespaceInfo *
bb_client_create_namespace_finish (BbClient *self, GAsyncResult *result, GError **error)
{
  return request_finish (self, result, bb_client_create_namespace_async, G_STRFUNC, error);
}

static gpointer
handle_members (const Expect *expect, const char *body, gsize len, GError **error)
{
  BbMsgMembersResponse msg = { 0 };
  GPtrArray *members = NULL;

  if (!bb_msg_members_response_parse (&msg, body, len, error))
    return NULL;
  if (check_equal ("namespaceId", "namespace", msg.namespace_id, expect->namespace_id, error))
    {
      members = g_ptr_array_new_with_free_func ((GDestroyNotify)bb_member_unref);
      for (guint i = 0; msg.members != NULL && i < msg.members->len; i++)
        {
          BbMsgMember *m = g_ptr_array_index (msg.members, i);
          BbMember *member = bb_member_new ();

          member->kind = g_strdup (m->kind);
          member->key_id = g_strdup (m->key_id);
          g_ptr_array_add (members, member);
        }
    }
  bb_msg_members_response_clear (&msg);
  return members;
}

static char *
namespace_path (const char *namespace_id, const char *suffix)
{
  return g_strconcat ("/v1/namespaces/", namespace_id, suffix, NULL);
}

/**
 * bb_client_list_members_async:
 * @self: a #BbClient
 * @namespace_id: the namespace (lower-case hex of 16 bytes)
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the request completes
 * @user_data: data for @callback
 *
 * Lists the members of a namespace (`GET /v1/namespaces/{ns}/members`).
 *
 * Since: 0.1
 */
void
bb_client_list_members_async (BbClient *self, const char *namespace_id, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data)
{
  GError *error = NULL;
  Request *req;

  g_return_if_fail (BB_IS_CLIENT (self));

  check_id_arg (namespace_id, BB_PROTOCOL_NAMESPACE_ID_SIZE, "namespaceId", &error);
  if (report_bad_arguments (self, bb_client_list_members_async, callback, user_data, error))
    return;
  req = request_new ("GET", "/v1/namespaces/{ns}/members",
                     namespace_path (namespace_id, "/members"), TRUE, handle_members,
                     (GDestroyNotify)g_ptr_array_unref);
  req->expect.namespace_id = g_strdup (namespace_id);
  request_send (self, req, bb_client_list_members_async, cancellable, callback, user_data);
}

/**
 * bb_client_list_members_finish:
 * @self: a #BbClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer container) (element-type BbMember): the members, or %NULL on
 *   error; the array frees its elements, release it with g_ptr_array_unref()
 *
 * Since: 0.1
 */
GPtrArray *
bb_client_list_members_finish (BbClient *self, GAsyncResult *result, GError **error)
{
  return request_finish (self, result, bb_client_list_members_async, G_STRFUNC, error);
}

static gpointer
handle_wrapped_dek (const Expect *expect, const char *body, gsize len, GError **error)
{
  BbMsgWrappedDekResponse msg = { 0 };
  GBytes *wrapped_dek = NULL;

  if (!bb_msg_wrapped_dek_response_parse (&msg, body, len, error))
    return NULL;
  if (check_equal ("namespaceId", "namespace", msg.namespace_id, expect->namespace_id, error)
      && check_equal ("keyId", "key", msg.key_id, expect->key_id, error))
    wrapped_dek
        = decode_base64_field (msg.wrapped_dek, BB_PROTOCOL_WRAPPED_DEK_SIZE, "wrappedDek", error);
  bb_msg_wrapped_dek_response_clear (&msg);
  return wrapped_dek;
}

/**
 * bb_client_get_wrapped_dek_async:
 * @self: a #BbClient
 * @namespace_id: the namespace (lower-case hex of 16 bytes)
 * @key_id: the member's key ID, normally the caller's own (lower-case hex of 32 bytes)
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the request completes
 * @user_data: data for @callback
 *
 * Fetches the namespace DEK wrapped to a member
 * (`GET /v1/namespaces/{ns}/wrapped-deks/{keyId}`); unwrap it with
 * [method@Identity.unwrap_dek_async].
 *
 * Since: 0.1
 */
void
bb_client_get_wrapped_dek_async (BbClient *self, const char *namespace_id, const char *key_id,
                                 GCancellable *cancellable, GAsyncReadyCallback callback,
                                 gpointer user_data)
{
  GError *error = NULL;
  g_autofree char *suffix = NULL;
  Request *req;

  g_return_if_fail (BB_IS_CLIENT (self));

  check_id_arg (namespace_id, BB_PROTOCOL_NAMESPACE_ID_SIZE, "namespaceId", &error);
  check_id_arg (key_id, BB_PROTOCOL_KEY_ID_SIZE, "keyId", &error);
  if (report_bad_arguments (self, bb_client_get_wrapped_dek_async, callback, user_data, error))
    return;
  suffix = g_strconcat ("/wrapped-deks/", key_id, NULL);
  req = request_new ("GET", "/v1/namespaces/{ns}/wrapped-deks/{keyId}",
                     namespace_path (namespace_id, suffix), TRUE, handle_wrapped_dek,
                     (GDestroyNotify)g_bytes_unref);
  req->expect.namespace_id = g_strdup (namespace_id);
  req->expect.key_id = g_strdup (key_id);
  request_send (self, req, bb_client_get_wrapped_dek_async, cancellable, callback, user_data);
}

/**
 * bb_client_get_wrapped_dek_finish:
 * @self: a #BbClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the 97-byte wrapped DEK, or %NULL on error
 *
 * Since: 0.1
 */
GBytes *
bb_client_get_wrapped_dek_finish (BbClient *self, GAsyncResult *result, GError **error)
{
  return request_finish (self, result, bb_client_get_wrapped_dek_async, G_STRFUNC, error);
}

/* ------------------------------------------------------------------------------------ */
/* Invites and join requests                                                             */

static BbInviteInfo *
invite_info_from_summary (const char *namespace_id, const BbMsgInviteSummary *summary)
{
  BbInviteInfo *info = bb_invite_info_new ();

  info->namespace_id = g_strdup (namespace_id);
  info->invite_id = g_strdup (summary->invite_id);
  info->created_by_key_id = g_strdup (summary->created_by_key_id);
  info->created_at = summary->created_at != NULL ? g_date_time_ref (summary->created_at) : NULL;
  info->expires_at = summary->expires_at;
  info->has_max_pending = summary->has_max_pending;
  info->max_pending = (guint)CLAMP (summary->max_pending, 0, G_MAXUINT);
  info->max_accepted = (guint)CLAMP (summary->max_accepted, 0, G_MAXUINT);
  info->active_request_count = (guint)CLAMP (summary->active_request_count, 0, G_MAXUINT);
  info->accepted_count = (guint)CLAMP (summary->accepted_count, 0, G_MAXUINT);
  info->revoked_at = summary->revoked_at != NULL ? g_date_time_ref (summary->revoked_at) : NULL;
  return info;
}

static gpointer
handle_create_invite (const Expect *expect, const char *body, gsize len, GError **error)
{
  BbMsgCreateInviteResponse msg = { 0 };
  BbInviteInfo *info = NULL;
  gboolean ok;

  if (!bb_msg_create_invite_response_parse (&msg, body, len, error))
    return NULL;
  ok = check_equal ("namespaceId", "namespace", msg.namespace_id, expect->namespace_id, error)
       && check_equal ("inviteId", "invite", msg.invite_id, expect->invite_id, error)
       && check_equal_int ("expiresAt", "expiry", msg.expires_at, expect->expires_at, error);
  if (ok && expect->has_max_pending)
    ok = check_equal_int ("maxPending", "maxPending", msg.has_max_pending ? msg.max_pending : -1,
                          expect->max_pending, error);
  if (ok)
    ok = check_equal_int ("maxAccepted", "maxAccepted", msg.max_accepted, expect->max_accepted,
                          error);
  if (ok)
    {
      info = bb_invite_info_new ();
      info->namespace_id = g_steal_pointer (&msg.namespace_id);
      info->invite_id = g_steal_pointer (&msg.invite_id);
      info->expires_at = msg.expires_at;
      info->has_max_pending = expect->has_max_pending;
      info->max_pending = expect->max_pending;
      info->max_accepted = expect->max_accepted;
    }
  bb_msg_create_invite_response_clear (&msg);
  return info;
}

/**
 * bb_client_create_invite_async:
 * @self: a #BbClient
 * @namespace_id: the shared namespace (lower-case hex of 16 bytes)
 * @kind: the identity kind, `keystore`
 * @key_id: the caller's key ID
 * @invite_id: the new invite's ID (lower-case hex of 16 bytes)
 * @invite_server_secret_hash: the 32-byte SHA-256 of the invite server secret
 * @challenge: a sensitive-action challenge for `create-namespace-invite`, bound to the
 *   hash of the action fields
 * @intent_signature: the 64-byte signature of the create-invite intent
 * @expires_at: the invite expiry, Unix seconds
 * @max_pending: the pending-request limit, or 0 to send the variant without one
 * @max_accepted: how many requests the invite may admit
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the request completes
 * @user_data: data for @callback
 *
 * Registers an invite (`POST /v1/namespaces/{ns}/invites`). The answer must echo the
 * invite ID, expiry and limits. See
 * [method@Client.create_invite_with_identity_async] for the whole exchange.
 *
 * Since: 0.1
 */
void
bb_client_create_invite_async (BbClient *self, const char *namespace_id, const char *kind,
                               const char *key_id, const char *invite_id,
                               GBytes *invite_server_secret_hash, BbChallenge *challenge,
                               GBytes *intent_signature, gint64 expires_at, guint max_pending,
                               guint max_accepted, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data)
{
  BbMsgCreateInviteRequest msg = { 0 };
  g_autofree char *hash_hex = NULL;
  g_autofree char *signature_hex = NULL;
  GError *error = NULL;
  Request *req;

  g_return_if_fail (BB_IS_CLIENT (self));
  g_return_if_fail (kind != NULL);
  g_return_if_fail (challenge != NULL);

  check_id_arg (namespace_id, BB_PROTOCOL_NAMESPACE_ID_SIZE, "namespaceId", &error);
  check_id_arg (key_id, BB_PROTOCOL_KEY_ID_SIZE, "keyId", &error);
  check_id_arg (invite_id, BB_PROTOCOL_INVITE_ID_SIZE, "inviteId", &error);
  check_key_arg (invite_server_secret_hash, "inviteServerSecretHash", &error);
  check_signature_arg (intent_signature, &error);
  if (report_bad_arguments (self, bb_client_create_invite_async, callback, user_data, error))
    return;

  hash_hex = bb_protocol_hex_encode (invite_server_secret_hash);
  signature_hex = bb_protocol_hex_encode (intent_signature);
  msg.kind = (char *)kind;
  msg.key_id = (char *)key_id;
  msg.invite_id = (char *)invite_id;
  msg.invite_server_secret_hash = hash_hex;
  msg.challenge = challenge->challenge;
  msg.intent_signature = signature_hex;
  msg.expires_at = expires_at;
  msg.has_max_pending = max_pending != 0;
  msg.max_pending = max_pending;
  msg.max_accepted = max_accepted;

  req = request_new ("POST", "/v1/namespaces/{ns}/invites",
                     namespace_path (namespace_id, "/invites"), TRUE, handle_create_invite,
                     (GDestroyNotify)bb_invite_info_unref);
  req->expect.namespace_id = g_strdup (namespace_id);
  req->expect.invite_id = g_strdup (invite_id);
  req->expect.expires_at = expires_at;
  req->expect.has_max_pending = max_pending != 0;
  req->expect.max_pending = max_pending;
  req->expect.max_accepted = max_accepted;
  request_take_body (req, bb_msg_create_invite_request_to_json (&msg));
  request_send (self, req, bb_client_create_invite_async, cancellable, callback, user_data);
}

/**
 * bb_client_create_invite_finish:
 * @self: a #BbClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the registered invite, or %NULL on error
 *
 * Since: 0.1
 */
BbInviteInfo *
bb_client_create_invite_finish (BbClient *self, GAsyncResult *result, GError **error)
{
  return request_finish (self, result, bb_client_create_invite_async, G_STRFUNC, error);
}

static gpointer
handle_list_invites (const Expect *expect, const char *body, gsize len, GError **error)
{
  BbMsgListInvitesResponse msg = { 0 };
  GPtrArray *invites = NULL;

  if (!bb_msg_list_invites_response_parse (&msg, body, len, error))
    return NULL;
  if (check_equal ("namespaceId", "namespace", msg.namespace_id, expect->namespace_id, error))
    {
      invites = g_ptr_array_new_with_free_func ((GDestroyNotify)bb_invite_info_unref);
      for (guint i = 0; msg.invites != NULL && i < msg.invites->len; i++)
        g_ptr_array_add (invites, invite_info_from_summary (msg.namespace_id,
                                                            g_ptr_array_index (msg.invites, i)));
    }
  bb_msg_list_invites_response_clear (&msg);
  return invites;
}

/**
 * bb_client_list_invites_async:
 * @self: a #BbClient
 * @namespace_id: the namespace (lower-case hex of 16 bytes)
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the request completes
 * @user_data: data for @callback
 *
 * Lists the active and recently revoked invites of a namespace
 * (`GET /v1/namespaces/{ns}/invites`).
 *
 * Since: 0.1
 */
void
bb_client_list_invites_async (BbClient *self, const char *namespace_id, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data)
{
  GError *error = NULL;
  Request *req;

  g_return_if_fail (BB_IS_CLIENT (self));

  check_id_arg (namespace_id, BB_PROTOCOL_NAMESPACE_ID_SIZE, "namespaceId", &error);
  if (report_bad_arguments (self, bb_client_list_invites_async, callback, user_data, error))
    return;
  req = request_new ("GET", "/v1/namespaces/{ns}/invites",
                     namespace_path (namespace_id, "/invites"), TRUE, handle_list_invites,
                     (GDestroyNotify)g_ptr_array_unref);
  req->expect.namespace_id = g_strdup (namespace_id);
  request_send (self, req, bb_client_list_invites_async, cancellable, callback, user_data);
}

/**
 * bb_client_list_invites_finish:
 * @self: a #BbClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer container) (element-type BbInviteInfo): the invites, or %NULL on
 *   error; the array frees its elements, release it with g_ptr_array_unref()
 *
 * Since: 0.1
 */
GPtrArray *
bb_client_list_invites_finish (BbClient *self, GAsyncResult *result, GError **error)
{
  return request_finish (self, result, bb_client_list_invites_async, G_STRFUNC, error);
}

static gpointer
handle_revoke_invite (const Expect *expect, const char *body, gsize len, GError **error)
{
  BbMsgRevokeInviteResponse msg = { 0 };
  gpointer ok = NULL;

  if (!bb_msg_revoke_invite_response_parse (&msg, body, len, error))
    return NULL;
  if (check_equal ("namespaceId", "namespace", msg.namespace_id, expect->namespace_id, error)
      && check_equal ("inviteId", "invite", msg.invite_id, expect->invite_id, error))
    {
      if (msg.revoked)
        ok = GINT_TO_POINTER (TRUE);
      else
        g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_PROTOCOL,
                     _ ("revoked: the revoke invite response must report revoked"));
    }
  bb_msg_revoke_invite_response_clear (&msg);
  return ok;
}

/**
 * bb_client_revoke_invite_async:
 * @self: a #BbClient
 * @namespace_id: the namespace (lower-case hex of 16 bytes)
 * @invite_id: the invite (lower-case hex of 16 bytes)
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the request completes
 * @user_data: data for @callback
 *
 * Revokes an invite (`DELETE /v1/namespaces/{ns}/invites/{inviteId}`); its pending
 * requests can no longer be approved.
 *
 * Since: 0.1
 */
void
bb_client_revoke_invite_async (BbClient *self, const char *namespace_id, const char *invite_id,
                               GCancellable *cancellable, GAsyncReadyCallback callback,
                               gpointer user_data)
{
  GError *error = NULL;
  g_autofree char *suffix = NULL;
  Request *req;

  g_return_if_fail (BB_IS_CLIENT (self));

  check_id_arg (namespace_id, BB_PROTOCOL_NAMESPACE_ID_SIZE, "namespaceId", &error);
  check_id_arg (invite_id, BB_PROTOCOL_INVITE_ID_SIZE, "inviteId", &error);
  if (report_bad_arguments (self, bb_client_revoke_invite_async, callback, user_data, error))
    return;
  suffix = g_strconcat ("/invites/", invite_id, NULL);
  req = request_new ("DELETE", "/v1/namespaces/{ns}/invites/{inviteId}",
                     namespace_path (namespace_id, suffix), TRUE, handle_revoke_invite, NULL);
  req->expect.namespace_id = g_strdup (namespace_id);
  req->expect.invite_id = g_strdup (invite_id);
  request_send (self, req, bb_client_revoke_invite_async, cancellable, callback, user_data);
}

/**
 * bb_client_revoke_invite_finish:
 * @self: a #BbClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: %TRUE if the server revoked the invite
 *
 * Since: 0.1
 */
gboolean
bb_client_revoke_invite_finish (BbClient *self, GAsyncResult *result, GError **error)
{
  return request_finish (self, result, bb_client_revoke_invite_async, G_STRFUNC, error) != NULL;
}

static gpointer
handle_submit_join (const Expect *expect, const char *body, gsize len, GError **error)
{
  BbMsgSubmitJoinResponse msg = { 0 };
  BbJoinRequestInfo *info = NULL;

  if (!bb_msg_submit_join_response_parse (&msg, body, len, error))
    return NULL;
  /* The invite ID may differ from the request's: a server may answer with the
   * requester's earlier pending request. */
  if (check_equal ("namespaceId", "namespace", msg.namespace_id, expect->namespace_id, error)
      && validate_lower_hex_field (msg.invite_id, BB_PROTOCOL_INVITE_ID_SIZE, "inviteId", error)
      && validate_lower_hex_field (msg.join_request_hash, 32, "joinRequestHash", error)
      && check_equal ("requesterKind", "kind", msg.requester_kind, expect->kind, error)
      && check_equal ("requesterKeyId", "key", msg.requester_key_id, expect->key_id, error)
      && check_equal ("status", "status", msg.status, BB_PROTOCOL_JOIN_STATUS_PENDING, error))
    {
      info = bb_join_request_info_new ();
      info->namespace_id = g_steal_pointer (&msg.namespace_id);
      info->invite_id = g_steal_pointer (&msg.invite_id);
      info->join_request_hash = g_steal_pointer (&msg.join_request_hash);
      info->status = g_steal_pointer (&msg.status);
      info->requester_kind = g_steal_pointer (&msg.requester_kind);
      info->requester_key_id = g_steal_pointer (&msg.requester_key_id);
    }
  bb_msg_submit_join_response_clear (&msg);
  return info;
}

/**
 * bb_client_submit_join_request_async:
 * @self: a #BbClient
 * @request: the signed join request (see [method@Identity.build_join_request_async])
 * @invite_server_secret: the 32-byte invite server secret derived from the invite
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the request completes
 * @user_data: data for @callback
 *
 * Submits a join request through an invite
 * (`POST /v1/namespaces/{ns}/invites/{inviteId}/join-requests`). The answer may name
 * an earlier pending request of the caller instead of this one.
 *
 * Since: 0.1
 */
void
bb_client_submit_join_request_async (BbClient *self, BbJoinRequest *request,
                                     GBytes *invite_server_secret, GCancellable *cancellable,
                                     GAsyncReadyCallback callback, gpointer user_data)
{
  BbMsgSubmitJoinRequest msg = { 0 };
  GError *error = NULL;
  g_autofree char *suffix = NULL;
  Request *req;

  g_return_if_fail (BB_IS_CLIENT (self));
  g_return_if_fail (request != NULL);

  check_id_arg (request->msg.namespace_id, BB_PROTOCOL_NAMESPACE_ID_SIZE, "namespaceId", &error);
  check_id_arg (request->msg.invite_id, BB_PROTOCOL_INVITE_ID_SIZE, "inviteId", &error);
  check_key_arg (invite_server_secret, "inviteServerSecret", &error);
  if (report_bad_arguments (self, bb_client_submit_join_request_async, callback, user_data, error))
    return;

  msg.invite_server_secret = bb_protocol_base64url_encode (invite_server_secret);
  msg.join_request = request->msg;

  suffix = g_strconcat ("/invites/", request->msg.invite_id, "/join-requests", NULL);
  req = request_new ("POST", "/v1/namespaces/{ns}/invites/{inviteId}/join-requests",
                     namespace_path (request->msg.namespace_id, suffix), TRUE, handle_submit_join,
                     (GDestroyNotify)bb_join_request_info_unref);
  req->expect.namespace_id = g_strdup (request->msg.namespace_id);
  req->expect.kind = g_strdup (request->msg.kind);
  req->expect.key_id = g_strdup (request->msg.key_id);
  request_take_body (req, bb_msg_submit_join_request_to_json (&msg));
  wipe_and_free_string (msg.invite_server_secret);
  request_send (self, req, bb_client_submit_join_request_async, cancellable, callback, user_data);
}

/**
 * bb_client_submit_join_request_finish:
 * @self: a #BbClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the pending request as the server recorded it, or %NULL on
 *   error
 *
 * Since: 0.1
 */
BbJoinRequestInfo *
bb_client_submit_join_request_finish (BbClient *self, GAsyncResult *result, GError **error)
{
  return request_finish (self, result, bb_client_submit_join_request_async, G_STRFUNC, error);
}

static gpointer
handle_list_join_requests (const Expect *expect, const char *body, gsize len, GError **error)
{
  BbMsgListJoinRequestsResponse msg = { 0 };
  GPtrArray *requests = NULL;

  if (!bb_msg_list_join_requests_response_parse (&msg, body, len, error))
    return NULL;
  if (check_equal ("namespaceId", "namespace", msg.namespace_id, expect->namespace_id, error))
    {
      requests = g_ptr_array_new_with_free_func ((GDestroyNotify)bb_join_request_info_unref);
      for (guint i = 0; msg.requests != NULL && i < msg.requests->len; i++)
        {
          BbMsgJoinRequestEntry *entry = g_ptr_array_index (msg.requests, i);
          BbJoinRequestInfo *info = bb_join_request_info_new ();

          info->namespace_id = g_strdup (msg.namespace_id);
          info->invite_id = g_strdup (entry->invite_id);
          info->join_request_hash = g_strdup (entry->join_request_hash);
          info->status = g_strdup (entry->status);
          info->requester_kind = g_strdup (entry->join_request.kind);
          info->requester_key_id = g_strdup (entry->join_request.key_id);
          info->created_at = entry->created_at != NULL ? g_date_time_ref (entry->created_at) : NULL;
          info->request = bb_join_request_new ();
          bb_msg_join_request_copy (&entry->join_request, &info->request->msg);
          g_ptr_array_add (requests, info);
        }
    }
  bb_msg_list_join_requests_response_clear (&msg);
  return requests;
}

/**
 * bb_client_list_join_requests_async:
 * @self: a #BbClient
 * @namespace_id: the namespace (lower-case hex of 16 bytes)
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the request completes
 * @user_data: data for @callback
 *
 * Lists the pending join requests of a namespace
 * (`GET /v1/namespaces/{ns}/join-requests`). Listing verifies nothing: verify an entry
 * against its invite before approving it.
 *
 * Since: 0.1
 */
void
bb_client_list_join_requests_async (BbClient *self, const char *namespace_id,
                                    GCancellable *cancellable, GAsyncReadyCallback callback,
                                    gpointer user_data)
{
  GError *error = NULL;
  Request *req;

  g_return_if_fail (BB_IS_CLIENT (self));

  check_id_arg (namespace_id, BB_PROTOCOL_NAMESPACE_ID_SIZE, "namespaceId", &error);
  if (report_bad_arguments (self, bb_client_list_join_requests_async, callback, user_data, error))
    return;
  req = request_new ("GET", "/v1/namespaces/{ns}/join-requests",
                     namespace_path (namespace_id, "/join-requests"), TRUE,
                     handle_list_join_requests, (GDestroyNotify)g_ptr_array_unref);
  req->expect.namespace_id = g_strdup (namespace_id);
  request_send (self, req, bb_client_list_join_requests_async, cancellable, callback, user_data);
}

/**
 * bb_client_list_join_requests_finish:
 * @self: a #BbClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer container) (element-type BbJoinRequestInfo): the pending requests,
 *   or %NULL on error; the array frees its elements, release it with g_ptr_array_unref()
 *
 * Since: 0.1
 */
GPtrArray *
bb_client_list_join_requests_finish (BbClient *self, GAsyncResult *result, GError **error)
{
  return request_finish (self, result, bb_client_list_join_requests_async, G_STRFUNC, error);
}

static gpointer
handle_approve (const Expect *expect, const char *body, gsize len, GError **error)
{
  BbMsgApproveResponse msg = { 0 };
  BbMember *member = NULL;

  if (!bb_msg_approve_response_parse (&msg, body, len, error))
    return NULL;
  /* memberKind is not checked, as in the reference client. */
  if (check_equal ("namespaceId", "namespace", msg.namespace_id, expect->namespace_id, error)
      && check_equal ("memberKeyId", "key", msg.member_key_id, expect->key_id, error)
      && check_equal ("joinRequestHash", "hash", msg.join_request_hash, expect->join_request_hash,
                      error))
    {
      member = bb_member_new ();
      member->kind = g_steal_pointer (&msg.member_kind);
      member->key_id = g_steal_pointer (&msg.member_key_id);
    }
  bb_msg_approve_response_clear (&msg);
  return member;
}

static char *
join_request_path (const char *namespace_id, const char *key_id, const char *join_request_hash,
                   const char *suffix)
{
  return g_strconcat ("/v1/namespaces/", namespace_id, "/join-requests/", key_id, "/",
                      join_request_hash, suffix, NULL);
}

/**
 * bb_client_approve_join_request_async:
 * @self: a #BbClient
 * @namespace_id: the namespace (lower-case hex of 16 bytes)
 * @key_id: the requester's key ID (lower-case hex of 32 bytes)
 * @join_request_hash: the verified join-request hash (lower-case hex of 32 bytes)
 * @invite_server_secret: the 32-byte invite server secret, which proves the approver
 *   holds the invite
 * @wrapped_dek: the 97-byte namespace DEK wrapped to the requester's wrap key
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the request completes
 * @user_data: data for @callback
 *
 * Approves a pending join request
 * (`PUT /v1/namespaces/{ns}/join-requests/{keyId}/{hash}/approve`).
 *
 * Since: 0.1
 */
void
bb_client_approve_join_request_async (BbClient *self, const char *namespace_id, const char *key_id,
                                      const char *join_request_hash, GBytes *invite_server_secret,
                                      GBytes *wrapped_dek, GCancellable *cancellable,
                                      GAsyncReadyCallback callback, gpointer user_data)
{
  BbMsgApproveRequest msg = { 0 };
  g_autofree char *wrapped_b64 = NULL;
  GError *error = NULL;
  Request *req;

  g_return_if_fail (BB_IS_CLIENT (self));
  g_return_if_fail (wrapped_dek != NULL);

  check_id_arg (namespace_id, BB_PROTOCOL_NAMESPACE_ID_SIZE, "namespaceId", &error);
  check_id_arg (key_id, BB_PROTOCOL_KEY_ID_SIZE, "keyId", &error);
  check_id_arg (join_request_hash, 32, "joinRequestHash", &error);
  check_key_arg (invite_server_secret, "inviteServerSecret", &error);
  if (report_bad_arguments (self, bb_client_approve_join_request_async, callback, user_data, error))
    return;

  msg.invite_server_secret = bb_protocol_base64url_encode (invite_server_secret);
  wrapped_b64 = bb_protocol_base64_encode (wrapped_dek);
  msg.wrapped_dek = wrapped_b64;

  req = request_new ("PUT", "/v1/namespaces/{ns}/join-requests/{keyId}/{hash}/approve",
                     join_request_path (namespace_id, key_id, join_request_hash, "/approve"), TRUE,
                     handle_approve, (GDestroyNotify)bb_member_unref);
  req->expect.namespace_id = g_strdup (namespace_id);
  req->expect.key_id = g_strdup (key_id);
  req->expect.join_request_hash = g_strdup (join_request_hash);
  request_take_body (req, bb_msg_approve_request_to_json (&msg));
  wipe_and_free_string (msg.invite_server_secret);
  request_send (self, req, bb_client_approve_join_request_async, cancellable, callback, user_data);
}

/**
 * bb_client_approve_join_request_finish:
 * @self: a #BbClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the new member, or %NULL on error
 *
 * Since: 0.1
 */
BbMember *
bb_client_approve_join_request_finish (BbClient *self, GAsyncResult *result, GError **error)
{
  return request_finish (self, result, bb_client_approve_join_request_async, G_STRFUNC, error);
}

static gpointer
handle_reject (const Expect *expect, const char *body, gsize len, GError **error)
{
  BbMsgRejectResponse msg = { 0 };
  gpointer ok = NULL;

  if (!bb_msg_reject_response_parse (&msg, body, len, error))
    return NULL;
  if (check_equal ("namespaceId", "namespace", msg.namespace_id, expect->namespace_id, error)
      && check_equal ("requesterKeyId", "key", msg.requester_key_id, expect->key_id, error)
      && check_equal ("joinRequestHash", "hash", msg.join_request_hash, expect->join_request_hash,
                      error))
    {
      if (msg.rejected)
        ok = GINT_TO_POINTER (TRUE);
      else
        g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_PROTOCOL,
                     _ ("rejected: the reject join request response must report rejected"));
    }
  bb_msg_reject_response_clear (&msg);
  return ok;
}

/**
 * bb_client_reject_join_request_async:
 * @self: a #BbClient
 * @namespace_id: the namespace (lower-case hex of 16 bytes)
 * @key_id: the requester's key ID (lower-case hex of 32 bytes)
 * @join_request_hash: the join-request hash as listed (lower-case hex of 32 bytes)
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the request completes
 * @user_data: data for @callback
 *
 * Rejects a pending join request
 * (`DELETE /v1/namespaces/{ns}/join-requests/{keyId}/{hash}`).
 *
 * Since: 0.1
 */
void
bb_client_reject_join_request_async (BbClient *self, const char *namespace_id, const char *key_id,
                                     const char *join_request_hash, GCancellable *cancellable,
                                     GAsyncReadyCallback callback, gpointer user_data)
{
  GError *error = NULL;
  Request *req;

  g_return_if_fail (BB_IS_CLIENT (self));

  check_id_arg (namespace_id, BB_PROTOCOL_NAMESPACE_ID_SIZE, "namespaceId", &error);
  check_id_arg (key_id, BB_PROTOCOL_KEY_ID_SIZE, "keyId", &error);
  check_id_arg (join_request_hash, 32, "joinRequestHash", &error);
  if (report_bad_arguments (self, bb_client_reject_join_request_async, callback, user_data, error))
    return;
  req = request_new ("DELETE", "/v1/namespaces/{ns}/join-requests/{keyId}/{hash}",
                     join_request_path (namespace_id, key_id, join_request_hash, ""), TRUE,
                     handle_reject, NULL);
  req->expect.namespace_id = g_strdup (namespace_id);
  req->expect.key_id = g_strdup (key_id);
  req->expect.join_request_hash = g_strdup (join_request_hash);
  request_send (self, req, bb_client_reject_join_request_async, cancellable, callback, user_data);
}

/**
 * bb_client_reject_join_request_finish:
 * @self: a #BbClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: %TRUE if the server rejected the request
 *
 * Since: 0.1
 */
gboolean
bb_client_reject_join_request_finish (BbClient *self, GAsyncResult *result, GError **error)
{
  return request_finish (self, result, bb_client_reject_join_request_async, G_STRFUNC, error)
         != NULL;
}

/* ------------------------------------------------------------------------------------ */
/* Items                                                                                 */

static gpointer
handle_items (const Expect *expect, const char *body, gsize len, GError **error)
{
  BbMsgItemsResponse msg = { 0 };
  BbNamespaceItems *items = NULL;

  if (!bb_msg_items_response_parse (&msg, body, len, error))
    return NULL;
  if (check_equal ("namespaceId", "namespace", msg.namespace_id, expect->namespace_id, error))
    {
      items = bb_namespace_items_new ();
      items->namespace_id = g_steal_pointer (&msg.namespace_id);
      items->head = msg.namespace_head;
      items->items = g_steal_pointer (&msg.items);
      if (items->items == NULL)
        items->items = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
    }
  bb_msg_items_response_clear (&msg);
  return items;
}

/**
 * bb_client_get_items_async:
 * @self: a #BbClient
 * @namespace_id: the namespace (lower-case hex of 16 bytes)
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the request completes
 * @user_data: data for @callback
 *
 * Fetches the authoritative snapshot of a namespace: its head and the version of every
 * item (`GET /v1/namespaces/{ns}/items`).
 *
 * Since: 0.1
 */
void
bb_client_get_items_async (BbClient *self, const char *namespace_id, GCancellable *cancellable,
                           GAsyncReadyCallback callback, gpointer user_data)
{
  GError *error = NULL;
  Request *req;

  g_return_if_fail (BB_IS_CLIENT (self));

  check_id_arg (namespace_id, BB_PROTOCOL_NAMESPACE_ID_SIZE, "namespaceId", &error);
  if (report_bad_arguments (self, bb_client_get_items_async, callback, user_data, error))
    return;
  req = request_new ("GET", "/v1/namespaces/{ns}/items", namespace_path (namespace_id, "/items"),
                     TRUE, handle_items, (GDestroyNotify)bb_namespace_items_unref);
  req->expect.namespace_id = g_strdup (namespace_id);
  request_send (self, req, bb_client_get_items_async, cancellable, callback, user_data);
}

/**
 * bb_client_get_items_finish:
 * @self: a #BbClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the snapshot, or %NULL on error
 *
 * Since: 0.1
 */
BbNamespaceItems *
bb_client_get_items_finish (BbClient *self, GAsyncResult *result, GError **error)
{
  return request_finish (self, result, bb_client_get_items_async, G_STRFUNC, error);
}

/* A server must not hand out more than the protocol lets anyone store. */
static gboolean
check_ciphertext_size (GBytes *ciphertext, GError **error)
{
  if (g_bytes_get_size (ciphertext) <= BB_PROTOCOL_MAX_CIPHERTEXT_SIZE)
    return TRUE;
  g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_PROTOCOL,
               _ ("ciphertext: %zu bytes, more than the protocol maximum of %d"),
               g_bytes_get_size (ciphertext), BB_PROTOCOL_MAX_CIPHERTEXT_SIZE);
  return FALSE;
}

static gpointer
handle_item (const Expect *expect, const char *body, gsize len, GError **error)
{
  BbMsgItemResponse msg = { 0 };
  BbItemEnvelope *item = NULL;
  g_autoptr (GBytes) nonce = NULL;
  g_autoptr (GBytes) aad = NULL;
  g_autoptr (GBytes) ciphertext = NULL;
  g_autoptr (GBytes) expected_aad = NULL;

  if (!bb_msg_item_response_parse (&msg, body, len, error))
    return NULL;
  if (check_equal ("namespaceId", "namespace", msg.namespace_id, expect->namespace_id, error)
      && check_equal ("itemId", "item", msg.item_id, expect->item_id, error)
      && (nonce = decode_base64_field (msg.nonce, BB_PROTOCOL_NONCE_SIZE, "nonce", error)) != NULL
      && (aad = decode_base64_field (msg.aad, -1, "aad", error)) != NULL
      && (ciphertext = decode_base64_field (msg.ciphertext, -1, "ciphertext", error)) != NULL
      && check_ciphertext_size (ciphertext, error))
    {
      /* The AAD names namespace, item and version: a server that answers with another
       * version (or replays another item's blob) is caught here, before decryption. */
      expected_aad = bb_protocol_item_aad (msg.namespace_id, msg.item_id, msg.version, error);
      if (expected_aad != NULL && !g_bytes_equal (expected_aad, aad))
        g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_PROTOCOL,
                     _ ("aad: does not match namespace, item and version %llu"),
                     (unsigned long long)msg.version);
      else if (expected_aad != NULL)
        {
          item = bb_item_envelope_new ();
          item->namespace_id = g_steal_pointer (&msg.namespace_id);
          item->item_id = g_steal_pointer (&msg.item_id);
          item->version = msg.version;
          item->nonce = g_steal_pointer (&nonce);
          item->aad = g_steal_pointer (&aad);
          item->ciphertext = g_steal_pointer (&ciphertext);
        }
      else
        as_protocol_error (error);
    }
  bb_msg_item_response_clear (&msg);
  return item;
}

static char *
item_path (const char *namespace_id, const char *item_id)
{
  return g_strconcat ("/v1/kv/", namespace_id, "/", item_id, NULL);
}

/**
 * bb_client_get_item_async:
 * @self: a #BbClient
 * @namespace_id: the namespace (lower-case hex of 16 bytes)
 * @item_id: the item (lower-case hex of 32 bytes)
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the request completes
 * @user_data: data for @callback
 *
 * Fetches one encrypted item (`GET /v1/kv/{ns}/{itemId}`). The answer's IDs, nonce
 * size, encodings and AAD are checked; decrypt the result with
 * [func@protocol_decrypt_item].
 *
 * Since: 0.1
 */
void
bb_client_get_item_async (BbClient *self, const char *namespace_id, const char *item_id,
                          GCancellable *cancellable, GAsyncReadyCallback callback,
                          gpointer user_data)
{
  GError *error = NULL;
  Request *req;

  g_return_if_fail (BB_IS_CLIENT (self));

  check_id_arg (namespace_id, BB_PROTOCOL_NAMESPACE_ID_SIZE, "namespaceId", &error);
  check_id_arg (item_id, BB_PROTOCOL_ITEM_ID_SIZE, "itemId", &error);
  if (report_bad_arguments (self, bb_client_get_item_async, callback, user_data, error))
    return;
  req = request_new ("GET", "/v1/kv/{ns}/{itemId}", item_path (namespace_id, item_id), TRUE,
                     handle_item, (GDestroyNotify)bb_item_envelope_unref);
  req->expect.namespace_id = g_strdup (namespace_id);
  req->expect.item_id = g_strdup (item_id);
  request_send (self, req, bb_client_get_item_async, cancellable, callback, user_data);
}

/**
 * bb_client_get_item_finish:
 * @self: a #BbClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the item, or %NULL on error
 *
 * Since: 0.1
 */
BbItemEnvelope *
bb_client_get_item_finish (BbClient *self, GAsyncResult *result, GError **error)
{
  return request_finish (self, result, bb_client_get_item_async, G_STRFUNC, error);
}

static gpointer
handle_put_item (const Expect *expect, const char *body, gsize len, GError **error)
{
  BbMsgPutItemResponse msg = { 0 };
  guint64 *version = NULL;

  if (!bb_msg_put_item_response_parse (&msg, body, len, error))
    return NULL;
  if (check_equal ("namespaceId", "namespace", msg.namespace_id, expect->namespace_id, error)
      && check_equal ("itemId", "item", msg.item_id, expect->item_id, error))
    {
      if (msg.version != expect->version)
        g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_PROTOCOL,
                     _ ("version: version mismatch: the server answered %llu, expected %llu"),
                     (unsigned long long)msg.version, (unsigned long long)expect->version);
      else
        version = g_memdup2 (&msg.version, sizeof msg.version);
    }
  bb_msg_put_item_response_clear (&msg);
  return version;
}

/**
 * bb_client_put_item_async:
 * @self: a #BbClient
 * @namespace_id: the namespace (lower-case hex of 16 bytes)
 * @item_id: the item (lower-case hex of 32 bytes)
 * @known_version: the version the caller updates (sent as `If-Match`), or 0 to create
 *   the item (no `If-Match`)
 * @nonce: the 24-byte nonce
 * @aad: the AAD, which must name version @known_version + 1
 * @ciphertext: the ciphertext with its tag
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the request completes
 * @user_data: data for @callback
 *
 * Creates or updates one encrypted item (`PUT /v1/kv/{ns}/{itemId}`). The server must
 * answer with version @known_version + 1. A stale @known_version, or a create of an
 * existing item, fails with %BB_SYNC_ERROR_API and status 412 (or 428).
 *
 * Since: 0.1
 */
void
bb_client_put_item_async (BbClient *self, const char *namespace_id, const char *item_id,
                          guint64 known_version, GBytes *nonce, GBytes *aad, GBytes *ciphertext,
                          GCancellable *cancellable, GAsyncReadyCallback callback,
                          gpointer user_data)
{
  BbMsgPutItemRequest msg = { 0 };
  GError *error = NULL;
  Request *req;

  g_return_if_fail (BB_IS_CLIENT (self));
  g_return_if_fail (nonce != NULL);
  g_return_if_fail (aad != NULL);
  g_return_if_fail (ciphertext != NULL);

  check_id_arg (namespace_id, BB_PROTOCOL_NAMESPACE_ID_SIZE, "namespaceId", &error);
  check_id_arg (item_id, BB_PROTOCOL_ITEM_ID_SIZE, "itemId", &error);
  if (error == NULL && known_version == G_MAXUINT64)
    g_set_error (&error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                 _ ("known_version: out of range"));
  if (report_bad_arguments (self, bb_client_put_item_async, callback, user_data, error))
    return;

  msg.nonce = bb_protocol_base64_encode (nonce);
  msg.aad = bb_protocol_base64_encode (aad);
  msg.ciphertext = bb_protocol_base64_encode (ciphertext);

  req = request_new ("PUT", "/v1/kv/{ns}/{itemId}", item_path (namespace_id, item_id), TRUE,
                     handle_put_item, g_free);
  req->expect.namespace_id = g_strdup (namespace_id);
  req->expect.item_id = g_strdup (item_id);
  req->expect.version = known_version + 1;
  if (known_version != 0)
    req->if_match = bb_protocol_etag (known_version);
  request_take_body (req, bb_msg_put_item_request_to_json (&msg));
  bb_msg_put_item_request_clear (&msg);
  request_send (self, req, bb_client_put_item_async, cancellable, callback, user_data);
}

/**
 * bb_client_put_item_finish:
 * @self: a #BbClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: the item's new version, or 0 on error
 *
 * Since: 0.1
 */
guint64
bb_client_put_item_finish (BbClient *self, GAsyncResult *result, GError **error)
{
  g_autofree guint64 *version
      = request_finish (self, result, bb_client_put_item_async, G_STRFUNC, error);

  return version != NULL ? *version : 0;
}

/* ------------------------------------------------------------------------------------ */
/* Server status                                                                         */

static gpointer
handle_health (const Expect *expect, const char *body, gsize len, GError **error)
{
  BbMsgHealthResponse msg = { 0 };
  char *status;

  if (!bb_msg_health_response_parse (&msg, body, len, error))
    return NULL;
  status = g_steal_pointer (&msg.status);
  bb_msg_health_response_clear (&msg);
  if (status == NULL)
    g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_PROTOCOL, _ ("status: missing"));
  return status;
}

/**
 * bb_client_health_async:
 * @self: a #BbClient
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the request completes
 * @user_data: data for @callback
 *
 * Asks whether the server is ready (`GET /health`, an endpoint of the bbsync reference
 * server; the protocol does not fix its path).
 *
 * Since: 0.1
 */
void
bb_client_health_async (BbClient *self, GCancellable *cancellable, GAsyncReadyCallback callback,
                        gpointer user_data)
{
  Request *req;

  g_return_if_fail (BB_IS_CLIENT (self));

  req = request_new ("GET", "/health", g_strdup ("/health"), FALSE, handle_health, g_free);
  request_send (self, req, bb_client_health_async, cancellable, callback, user_data);
}

/**
 * bb_client_health_finish:
 * @self: a #BbClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the server's status, `ok` when ready, or %NULL on error
 *
 * Since: 0.1
 */
char *
bb_client_health_finish (BbClient *self, GAsyncResult *result, GError **error)
{
  return request_finish (self, result, bb_client_health_async, G_STRFUNC, error);
}
