/* bb-invite-private.h: library-internal access to the invite secret
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "bb-invite.h"

G_BEGIN_DECLS

/* The 32-byte invite secret (transfer none). Never log it. */
GBytes *bb_invite_get_secret (BbInvite *self);

G_END_DECLS
