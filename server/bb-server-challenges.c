/* bb-server-challenges.c: the reference server's outstanding challenges (in memory: they
 * live two minutes, a restart may forget them), kept apart as a store with its own caps.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bb-server-private.h"

#include <string.h>

#include "bb-protocol.h"

/* Outstanding challenges are in self->challenges by text, and in two queues in issue
 * order: self->challenge_queue, and the queue of the address they were issued to in
 * self->challenge_sources. When a cap is reached the oldest challenge goes, so a flood
 * never refuses anyone a challenge, and the per-source cap keeps one address from
 * pushing out everybody else's challenges (a user may take a while to sign one). */

void
bb_server_challenge_free (BbServerChallenge *challenge)
{
  g_free (challenge->text);
  g_free (challenge->source);
  g_free (challenge->purpose);
  g_free (challenge->action);
  g_free (challenge->action_fields_hash);
  g_free (challenge);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BbServerChallenge, bb_server_challenge_free)

/* Removes @text from the outstanding challenges and returns it, or NULL if unknown. */
static BbServerChallenge *
take_challenge (BbServer *self, const char *text)
{
  BbServerChallenge *challenge = g_hash_table_lookup (self->challenges, text);
  GQueue *source_queue;

  if (challenge == NULL)
    return NULL;
  g_hash_table_steal (self->challenges, text);
  g_queue_unlink (&self->challenge_queue, &challenge->queue_link);
  source_queue = g_hash_table_lookup (self->challenge_sources, challenge->source);
  g_queue_unlink (source_queue, &challenge->source_link);
  if (g_queue_is_empty (source_queue))
    g_hash_table_remove (self->challenge_sources, challenge->source);
  return challenge;
}

static void
evict_challenge (BbServer *self, BbServerChallenge *challenge)
{
  bb_server_challenge_free (take_challenge (self, challenge->text));
}

/* Makes room for one more challenge from @source: the expired ones at the head of the
 * queue go (it is in issue order, so nearly in expiry order), then the oldest of
 * @source, then the oldest of all, down to the caps. */
static void
make_room_for_challenge (BbServer *self, const char *source, gint64 now)
{
  guint64 per_source = MAX (self->limits[BB_SERVER_LIMIT_CHALLENGES_PER_SOURCE], 1);
  guint64 total = MAX (self->limits[BB_SERVER_LIMIT_CHALLENGES], 1);
  BbServerChallenge *oldest;
  GQueue *source_queue;

  while ((oldest = g_queue_peek_head (&self->challenge_queue)) != NULL && oldest->expires_at <= now)
    evict_challenge (self, oldest);
  while ((source_queue = g_hash_table_lookup (self->challenge_sources, source)) != NULL
         && source_queue->length >= per_source)
    evict_challenge (self, g_queue_peek_head (source_queue));
  while (g_hash_table_size (self->challenges) >= total)
    evict_challenge (self, g_queue_peek_head (&self->challenge_queue));
}

static void
add_challenge (BbServer *self, BbServerChallenge *challenge)
{
  GQueue *source_queue = g_hash_table_lookup (self->challenge_sources, challenge->source);

  if (source_queue == NULL)
    {
      source_queue = g_queue_new ();
      g_hash_table_insert (self->challenge_sources, g_strdup (challenge->source), source_queue);
    }
  challenge->queue_link.data = challenge;
  challenge->source_link.data = challenge;
  g_queue_push_tail_link (&self->challenge_queue, &challenge->queue_link);
  g_queue_push_tail_link (source_queue, &challenge->source_link);
  g_hash_table_insert (self->challenges, challenge->text, challenge);
}

void
bb_server_add_challenge (BbServer *self, BbServerChallenge *challenge, gint64 now)
{
  make_room_for_challenge (self, challenge->source, now);
  add_challenge (self, challenge);
}

/* The address a request came from, as challenges are counted: an IPv4 address, or the /64
 * of an IPv6 address (one host commonly has a whole /64). */
char *
bb_server_request_source (BbServerRequest *req)
{
  GSocketAddress *address = soup_server_message_get_remote_address (req->msg);
  GInetAddress *inet;
  guint8 bytes[16];

  if (!G_IS_INET_SOCKET_ADDRESS (address))
    return g_strdup ("");
  inet = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address));
  if (g_inet_address_get_family (inet) == G_SOCKET_FAMILY_IPV6)
    {
      g_autoptr (GInetAddress) prefix = NULL;
      g_autofree char *text = NULL;

      memcpy (bytes, g_inet_address_to_bytes (inet), sizeof bytes);
      memset (bytes + 8, 0, 8);
      prefix = g_inet_address_new_from_bytes (bytes, G_SOCKET_FAMILY_IPV6);
      text = g_inet_address_to_string (prefix);
      return g_strconcat (text, "/64", NULL);
    }
  return g_inet_address_to_string (inet);
}

/* Consumes @text (single use, whether or not the rest of the request is valid) and checks
 * it was issued for @purpose and @action. Returns its 32 bytes, or NULL after answering
 * 400. A failure here is never 401: logging in again cannot fix it. */
GBytes *
bb_server_consume_challenge (BbServer *self, BbServerRequest *req, const char *text,
                             const char *purpose, const char *action, char **out_fields_hash)
{
  g_autoptr (BbServerChallenge) challenge = text != NULL ? take_challenge (self, text) : NULL;

  if (challenge == NULL)
    {
      bb_server_respond_error (req, 400, "challenge: unknown or already used");
      return NULL;
    }
  if (challenge->expires_at <= req->now)
    {
      bb_server_respond_error (req, 400, "challenge: expired");
      return NULL;
    }
  if (!g_str_equal (challenge->purpose, purpose))
    {
      bb_server_respond_error (req, 400, "challenge: issued for purpose %s, not %s",
                               challenge->purpose, purpose);
      return NULL;
    }
  if (g_strcmp0 (challenge->action, action) != 0)
    {
      bb_server_respond_error (req, 400, "challenge: issued for another action");
      return NULL;
    }
  if (out_fields_hash != NULL)
    *out_fields_hash = g_steal_pointer (&challenge->action_fields_hash);
  return bb_server_decode_or_respond (req, bb_protocol_base64_decode, text,
                                      BB_PROTOCOL_CHALLENGE_SIZE, "challenge");
}

void
bb_server_clear_challenges (BbServer *self)
{
  /* The queues link the challenges in place: take each out of them before freeing it. */
  while (!g_queue_is_empty (&self->challenge_queue))
    evict_challenge (self, g_queue_peek_head (&self->challenge_queue));
}
