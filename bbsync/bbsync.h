/* bbsync.h: the umbrella header of bbsync
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#define BBSYNC_INSIDE

#include "bb-version.h"
#include "bb-version-macros.h"
#include "bb-enum-types.h"
#include "bb-error.h"
#include "bb-protocol.h"
#include "bb-invite.h"
#include "bb-protocol-types.h"
#include "bb-identity.h"
#include "bb-client.h"
#include "bb-keystore-identity.h"
#include "bb-test-identity.h"
#include "bb-identity-state.h"
#include "bb-namespace-state.h"
#include "bb-item-state.h"
#include "bb-store.h"
#include "bb-value-backend.h"
#include "bb-memory-value-backend.h"
#include "bb-sqlite-store.h"
#include "bb-codec.h"
#include "bb-conflict.h"
#include "bb-collection.h"
#include "bb-namespace.h"
#include "bb-pending-join-request.h"
#include "bb-open-invite.h"
#include "bb-sync-engine.h"

#undef BBSYNC_INSIDE
