/* bb-client-private.h: BbClient internals that tests need to see.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "bb-client.h"

G_BEGIN_DECLS

#ifndef BBSYNC_COMPILATION
#error "bb-client-private.h is private to bbsync and its tests"
#endif

typedef enum
{
  /* About to parse and check a 2xx answer, on the thread that does it. */
  BB_CLIENT_PARSE_STARTED,
  /* Done with the answer (its buffer is gone), on the same thread. */
  BB_CLIENT_PARSE_FINISHED,
} BbClientParseStage;

/* Called on whichever thread parses an answer, so a test can tell a worker-thread
 * parse of a big answer from an inline one of a small answer without timing anything.
 * @body_len is the size of the answer body. */
typedef void (*BbClientParseHook) (BbClientParseStage stage, gsize body_len, gpointer user_data);

/* Process-wide; %NULL removes it. Set it only while no request is in flight. */
void bb_client_set_parse_hook_for_testing (BbClientParseHook hook, gpointer user_data);

gboolean bb_client_is_loopback (BbClient *self);

G_END_DECLS
