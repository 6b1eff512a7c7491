/* bb-test-identity-private.h: the test identity's keys for the library and its tests: borrowed
 * getters, signing and unwrapping (the BbIdentity interface exposes them publicly).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "bb-test-identity.h"

G_BEGIN_DECLS

/* Borrowed twins of the BbIdentity getters. They are not public API: the same names on the
 * class, with other ownership, would shadow the interface methods in the bindings (vapigen
 * refuses them as incompatible overrides). */
GBytes     *bb_test_identity_get_auth_public_key (BbTestIdentity *self);
GBytes     *bb_test_identity_get_wrap_public_key (BbTestIdentity *self);
const char *bb_test_identity_get_key_id          (BbTestIdentity *self);

/* Ed25519 signature (64 bytes) over @message with the auth key. */
GBytes *bb_test_identity_sign        (BbTestIdentity *self, GBytes *message);
/* The demo attestation (257 bytes) of spec §3.2 for @challenge. */
GBytes *bb_test_identity_attest      (BbTestIdentity *self, GBytes *challenge);
/* Unwraps a wrapped DEK with the wrap private key. */
GBytes *bb_test_identity_unwrap_dek  (BbTestIdentity *self, const char *namespace_id,
                                      GBytes *wrapped_dek, GError **error);

G_END_DECLS
