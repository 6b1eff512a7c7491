/* bb-client-transport.c: how every endpoint's request runs (spec §5, §7): sent under a
 * deadline, its answer read up to a bound, an error status turned into a GError, a big body
 * parsed in a worker thread. Apart from the endpoints so that a change to how requests run
 * is made once, for all of them
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bb-i18n-private.h"
#include <libsoup/soup.h>
#include <string.h>

#include "bb-client-private.h"
#include "bb-crypto-private.h"
#include "bb-error.h"
#include "bb-protocol-messages-private.h"

/* Answers at least this big are parsed and checked in a worker thread. The strict JSON
 * reader needs about 40 ms for a 10 000-item snapshot (~840 KB), a visible stall of the
 * caller's main loop; handing a body to a thread and back costs more than parsing a
 * few kilobytes, and nearly every answer is that small. */
#define BB_CLIENT_THREADED_PARSE_MIN_SIZE (64 * 1024)

static void
request_stop_deadline (BbClientRequest *req)
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
expect_clear (BbClientExpect *expect)
{
  g_free (expect->namespace_id);
  g_free (expect->item_id);
  g_free (expect->invite_id);
  g_free (expect->key_id);
  g_free (expect->join_request_hash);
  g_free (expect->kind);
}

static void
expect_copy (BbClientExpect *dest, const BbClientExpect *src)
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
request_close_stream (BbClientRequest *req)
{
  if (req->stream == NULL)
    return;
  g_input_stream_close (req->stream, NULL, NULL);
  g_clear_object (&req->stream);
}

static void
request_free (BbClientRequest *req)
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

/* The path of @endpoint with each `{name}` in it replaced by the next of @segments,
 * URI-escaped. */
static char *
request_path (const char *endpoint, va_list segments)
{
  GString *path = g_string_new (NULL);
  const char *rest = endpoint;
  const char *open;

  while ((open = strchr (rest, '{')) != NULL)
    {
      const char *close = strchr (open, '}');
      const char *segment = va_arg (segments, const char *);

      g_assert (close != NULL && segment != NULL);
      g_string_append_len (path, rest, open - rest);
      g_string_append_uri_escaped (path, segment, NULL, FALSE);
      rest = close + 1;
    }
  g_string_append (path, rest);
  /* As many segments as placeholders. */
  g_assert (va_arg (segments, const char *) == NULL);
  return g_string_free (path, FALSE);
}

/* @endpoint is the request path as a template (`/v1/kv/{ns}/{itemId}`): logs show it as
 * is, and the path sent is made from it and the IDs that follow, one for each `{name}`,
 * then NULL. */
BbClientRequest *
bb_client_request_new (const char *method, const char *endpoint, gboolean authenticated,
                       BbClientResponseHandler handler, GDestroyNotify result_free, ...)
{
  BbClientRequest *req = g_new0 (BbClientRequest, 1);
  va_list segments;

  req->method = method;
  req->endpoint = endpoint;
  va_start (segments, result_free);
  req->path = request_path (endpoint, segments);
  va_end (segments);
  req->authenticated = authenticated;
  req->handler = handler;
  req->result_free = result_free;
  return req;
}

/* Takes @json. Request bodies may carry signatures and invite server secrets, so the
 * buffer is wiped when libsoup lets go of it. */
void
bb_client_request_take_body (BbClientRequest *req, char *json)
{
  req->body = bb_crypto_secret_bytes_new_take ((guint8 *)json, strlen (json));
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

/* Runs @check or, when it is NULL, @handler on @body: FALSE when the answer is refused,
 * else TRUE with the handler's result (NULL for a check) in @value. */
static gboolean
run_handler (BbClientResponseHandler handler, BbClientResponseCheck check,
             const BbClientExpect *expect, GBytes *body, gpointer *value, GError **error)
{
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (body, &len);
  const char *text = (const char *)(data != NULL ? data : (const guint8 *)"");

  call_parse_hook (BB_CLIENT_PARSE_STARTED, len);
  *value = NULL;
  if (check != NULL)
    return check (expect, text, len, error);
  *value = handler (expect, text, len, error);
  return *value != NULL;
}

/* Ends @task with an accepted answer: TRUE after a check, else @value (taken). */
static void
return_answer (GTask *task, BbClientResponseCheck check, gpointer value, GDestroyNotify result_free)
{
  if (check != NULL)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_pointer (task, value, result_free);
}

/* A cancellation of the request's own cancellable that the caller did not ask for was
 * the deadline. */
static void
request_check_timed_out (BbClientRequest *req, GError **error)
{
  if (req->timed_out && g_error_matches (*error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
      && !g_cancellable_is_cancelled (req->caller_cancellable))
    {
      g_clear_error (error);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                   _ ("timeout: no complete answer within %u s"), req->timeout);
    }
}

/* Ends @task with the accepted answer (@value, taken) or, unless @accepted, with @error
 * (taken), on the caller's context. */
static void
request_complete (GTask *task, gboolean accepted, gpointer value, GError *error)
{
  BbClient *self = g_task_get_source_object (task);
  BbClientRequest *req = g_task_get_task_data (task);

  request_stop_deadline (req);
  if (!accepted)
    {
      g_debug ("%s %s: rejected answer: %s", req->method, req->endpoint, error->message);
      g_task_return_error (task, error);
      return;
    }
  if (req->apply != NULL)
    req->apply (self, value);
  return_answer (task, req->check, value, req->result_free);
}

/* What a worker thread needs to parse one answer; it owns copies of everything, because
 * after a cancellation the thread may outlive the request. */
typedef struct
{
  BbClientResponseHandler handler;
  BbClientResponseCheck check;
  GDestroyNotify result_free;
  BbClientExpect expect;
  GBytes *body;
} ParseJob;

static void
parse_job_free (ParseJob *job)
{
  gsize len = g_bytes_get_size (job->body);

  expect_clear (&job->expect);
  g_bytes_unref (job->body);
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

  if (run_handler (job->handler, job->check, &job->expect, job->body, &value, &error))
    return_answer (parse_task, job->check, value, job->result_free);
  else
    g_task_return_error (parse_task, error);
}

static void
parse_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  BbClientRequest *req = g_task_get_task_data (task);
  GError *error = NULL;
  gpointer value = NULL;
  gboolean accepted;

  if (req->check != NULL)
    accepted = g_task_propagate_boolean (G_TASK (result), &error);
  else
    {
      value = g_task_propagate_pointer (G_TASK (result), &error);
      accepted = value != NULL;
    }
  if (!accepted)
    request_check_timed_out (req, &error);
  request_complete (task, accepted, value, error);
}

/* Parses @body (taken) in a worker thread; the result comes back on the context of @task. The
 * job runs on the request's own cancellable, so the caller's cancellable and the
 * deadline (still armed) end it at once, without waiting for the parse. */
static void
request_parse_in_thread (GTask *task, BbClientRequest *req, GBytes *body)
{
  g_autoptr (GTask) parse_task = NULL;
  ParseJob *job = g_new0 (ParseJob, 1);

  job->handler = req->handler;
  job->check = req->check;
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
  BbClientRequest *req = g_task_get_task_data (task);

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
  BbClientRequest *req = g_task_get_task_data (task);
  g_autoptr (GBytes) body = NULL;
  GError *error = NULL;
  gpointer value;
  gboolean accepted;
  guint status = soup_message_get_status (req->message);
  const guint8 *data;
  gsize len;

  /* Response bodies can carry secrets (the bearer token of a login or refresh answer):
   * the buffer is wiped before it goes back to the allocator. */
  body = bb_crypto_secret_bytes_new_take (g_steal_pointer (&req->body_data), req->body_len);
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

  accepted = run_handler (req->handler, req->check, &req->expect, body, &value, &error);
  call_parse_hook (BB_CLIENT_PARSE_FINISHED, len);
  request_complete (task, accepted, value, error);
}

static void request_read_cb (GObject *source, GAsyncResult *result, gpointer user_data);

/* Reads the next piece of the answer. The buffer grows by copying and wiping, never by
 * g_realloc(), which could leave a copy of a token behind. */
static void
request_read_more (GTask *task)
{
  BbClientRequest *req = g_task_get_task_data (task);

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
  BbClientRequest *req = g_task_get_task_data (task);
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
      request_complete (task, FALSE, NULL,
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
  BbClientRequest *req = g_task_get_task_data (task);
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
          request_complete (task, FALSE, NULL, error);
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
  BbClientRequest *req = user_data;

  req->timed_out = TRUE;
  g_clear_pointer (&req->deadline, g_source_unref);
  g_cancellable_cancel (req->cancellable);
  return G_SOURCE_REMOVE;
}

/* Arms the deadline of @req on the context of @task (the caller's thread-default one,
 * where libsoup runs the request and the callback), and chains the caller's
 * cancellable to the request's own. */
static void
request_start_deadline (BbClient *self, BbClientRequest *req, GTask *task,
                        GCancellable *cancellable)
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
void
bb_client_request_send (BbClient *self, BbClientRequest *req, gpointer source_tag,
                        GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
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

/* Whether @result is a task of @source_tag for @self; if not, warns in the name of the
 * public @finish_name (its G_STRFUNC), as a g_return_val_if_fail() in that function
 * would. */
static gboolean
request_finish_is_valid (BbClient *self, GAsyncResult *result, gpointer source_tag,
                         const char *finish_name)
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
      return FALSE;
    }
  return TRUE;
}

/* Finishes a task of @source_tag for the public @finish_name (its G_STRFUNC). */
gpointer
bb_client_request_finish (BbClient *self, GAsyncResult *result, gpointer source_tag,
                          const char *finish_name, GError **error)
{
  if (!request_finish_is_valid (self, result, source_tag, finish_name))
    return NULL;
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* The same for a call that returns a boolean: an answer checked by a
 * BbClientResponseCheck, or a flow that ends in one. */
gboolean
bb_client_request_finish_boolean (BbClient *self, GAsyncResult *result, gpointer source_tag,
                                  const char *finish_name, GError **error)
{
  return request_finish_is_valid (self, result, source_tag, finish_name)
         && g_task_propagate_boolean (G_TASK (result), error);
}
